import matplotlib as mpl
import numpy as np
import pytest

import neurorx.plotting as nplt


def test_compare_panels_one_axes_per_backend(sp_pair):
    rt, rb = sp_pair
    axes = nplt.compare_panels(nplt.decoded_trajectories, rt, rb, phase="quiescent")
    assert axes.shape == (2,)
    assert [a.get_title() for a in axes] == ["quiescent (torch)", "quiescent (brian2)"]
    assert axes[0].figure is axes[1].figure


def test_panel_functions_accept_lists_and_dicts(sp_pair, hd_pair):
    rt, rb = sp_pair
    axes = nplt.kde_panel([rt, rb], phase="active", n=20)
    assert len(axes) == 2 and all("active" in a.get_title() for a in axes)
    assert "brian2" in axes[1].get_title()
    axes = nplt.polar_histogram_panel({"discrete": hd_pair[0], "continuous": hd_pair[1]}, phase="quiescent")
    assert [a.name for a in axes] == ["polar", "polar"]
    assert [a.get_title() for a in axes] == ["quiescent (discrete)", "quiescent (continuous)"]
    axes = nplt.explained_variance_curve([rt, rb])
    assert ["torch" in axes[0].get_title(), "brian2" in axes[1].get_title()] == [True, True]


def test_compare_panels_phase_grid(hd_pair):
    grid = nplt.decoded_trajectories(list(hd_pair), phases=("active", "quiescent"), steps=40)
    assert grid.shape == (2, 2)
    assert grid[0, 1].get_title() == "active (brian2)" and grid[1, 0].get_title() == "quiescent (torch)"
    assert all(a.name == "polar" for a in grid.ravel())
    single = nplt.angular_velocity_histogram(hd_pair[0], phases=("active", "quiescent"))
    assert single.shape == (2, 1)


def test_compare_panels_custom_function_and_given_axes(sp_pair):
    import matplotlib.pyplot as plt

    def my_panel(rec, ax=None):
        ax.plot(rec.decoded[0, :, 0])
        return ax

    _, axes = plt.subplots(1, 2)
    out = nplt.compare_panels(my_panel, list(sp_pair), axes=axes, labels=["A", "B"])
    assert [a.get_title() for a in out] == ["A", "B"]
    with pytest.raises(ValueError, match="Axes"):
        nplt.compare_panels(my_panel, *sp_pair, axes=axes[:1])
    with pytest.raises(TypeError, match="Recording"):
        nplt.compare_panels(my_panel, {"x": np.zeros(3)})


def test_style_does_not_leak_into_rcparams(sp_pair):
    before = dict(mpl.rcParams)
    nplt.decoded_trajectories(sp_pair[0])
    assert dict(mpl.rcParams) == before


def test_save_figure_writes_png_and_refuses_overwrite(tmp_path, sp_pair):
    ax = nplt.decoded_trajectories(sp_pair[0], n=3)
    out = nplt.save_figure(ax, tmp_path / "sub" / "traj")
    assert out.suffix == ".png" and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    before = out.read_bytes()
    with pytest.raises(FileExistsError):
        nplt.save_figure(ax.figure, out)
    assert out.read_bytes() == before
    ax.plot([0, 1], [0, 1])
    nplt.save_figure(ax.figure, out, overwrite=True, dpi=50)
    assert out.read_bytes() != before
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temporary file left
    axes = nplt.kde_panel(list(sp_pair), n=20, phase="active")
    assert nplt.save_figure(axes, tmp_path / "kde.pdf").read_bytes()[:4] == b"%PDF"
    with pytest.raises(ValueError, match="format"):
        nplt.save_figure(axes, tmp_path / "kde.xyz")
