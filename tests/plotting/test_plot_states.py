import matplotlib as mpl
import numpy as np
import pytest
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.patches import Rectangle

import neurorx.plotting as nplt


# -- decoded trajectories -------------------------------------------------------------------------------------
def test_decoded_trajectories_spatial_arrays(make_recording):
    decoded = make_recording().decoded
    ax = nplt.decoded_trajectories(decoded, n=5)
    assert len(ax.lines) == 5
    boxes = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(boxes) == 1 and boxes[0].get_width() == pytest.approx(2.2)
    assert ax.get_xlim()[1] > 1.1 and ax.get_xlabel() == "x (m)"
    starts = next(c for c in ax.collections if c.get_label() == "start")
    assert len(starts.get_offsets()) == 5


def test_decoded_trajectories_trials_and_steps():
    decoded = np.random.default_rng(0).uniform(-1, 1, size=(6, 30, 2))
    ax = nplt.decoded_trajectories(decoded, trials=[1, 3], steps=10, box=None)
    assert len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[1].get_xdata(), decoded[3, :10, 0])


def test_decoded_trajectories_head_direction_is_polar(make_recording):
    rec = make_recording(circular=True)
    ax = nplt.decoded_trajectories(rec, phase="quiescent", steps=50)
    assert ax.name == "polar"
    assert len(ax.lines) == 1
    np.testing.assert_allclose(ax.lines[0].get_xdata(), rec.select("quiescent").decoded[0, :50, 0])
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), np.arange(50))
    assert ax.get_title() == "quiescent (torch)"


def test_decoded_trajectories_bearing_on_cartesian_axes(make_recording):
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    out = nplt.decoded_trajectories(make_recording(circular=True).decoded, ax=ax)
    assert out is ax and ax.get_ylabel() == "decoded bearing (rad)"


def test_decoded_trajectories_bad_shape():
    with pytest.raises(ValueError, match="decoded"):
        nplt.decoded_trajectories(np.zeros((2, 3, 4)))


# -- PC projection ------------------------------------------------------------------------------------------
def test_pc_projection_reference_subsampling_and_colours():
    rng = np.random.default_rng(0)
    proj = rng.normal(size=(10, 100, 3))
    dist = np.abs(rng.normal(size=(10, 100)))
    ax = nplt.pc_projection(proj, dist)
    (sc,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    n_expected = 5 * len(range(7, 100, 20))  # every 2nd trajectory, steps 7, 27, ...
    assert len(sc.get_offsets()) == n_expected
    np.testing.assert_allclose(sc.get_offsets()[:, 0], proj[::2, 7::20, 0].ravel())
    np.testing.assert_allclose(sc.get_array(), dist[::2, 7::20].ravel())
    assert len(ax.figure.axes) == 2  # with its colour bar
    assert ax.get_xlabel() == "PC 1" and ax.get_ylabel() == "PC 2"


def test_pc_projection_solid_colour_and_flat_points():
    pts = np.random.default_rng(1).normal(size=(40, 2))
    ax = nplt.pc_projection(pts, "tab:green")
    (sc,) = ax.collections
    assert len(sc.get_offsets()) == 40 and len(ax.figure.axes) == 1


def test_pc_projection_recording_spatial_and_ring(make_recording):
    rec = make_recording(every=5)
    ax = nplt.pc_projection(rec, phase="quiescent")
    sc = ax.collections[0]
    assert len(sc.get_offsets()) > 0
    assert sc.norm.vmin == 0 and sc.norm.vmax == 1.5
    assert "quiescent" in ax.get_title() and "torch" in ax.get_title()
    ring = nplt.pc_ring(make_recording(circular=True), phase="active")
    assert ring.collections[0].norm.vmin == pytest.approx(-np.pi)
    ring2 = nplt.pc_ring(np.random.default_rng(0).normal(size=(4, 40, 2)),
                         np.random.default_rng(1).uniform(-np.pi, np.pi, (4, 40)))
    assert ring2.collections[0].norm.vmax == pytest.approx(np.pi)


def test_pc_projection_shared_basis(sp_pair):
    rt, rb = sp_pair
    pca = nplt.reference_pca(rt)
    axes = nplt.pc_projection([rt, rb], phase="active", pca=pca)
    assert [a.get_title() for a in axes] == ["active (torch)", "active (brian2)"]


def test_pc_projection_needs_h(make_recording):
    with pytest.raises(ValueError, match="record"):
        nplt.pc_projection(make_recording(record_h=False))


# -- KDE ----------------------------------------------------------------------------------------------------
def test_kde_panel_arrays_contours():
    pts = np.random.default_rng(0).normal(0, 0.4, size=(400, 2))
    ax = nplt.kde_panel(pts, extent=(-1.25, 1.25), n=40, levels=nplt.OUTPUT_LEVELS)
    assert len(ax.collections) > 0
    cs = ax.collections[0]
    np.testing.assert_allclose(cs.levels, nplt.OUTPUT_LEVELS)
    assert ax.get_xlim() == (-1.25, 1.25)
    assert len(ax.figure.axes) == 2  # colour bar


def test_kde_panel_auto_levels_and_extent():
    pts = np.random.default_rng(0).normal(5, 2, size=(300, 2))
    ax = nplt.kde_panel(pts, extent=None, n=30, colorbar=False, lines=True, space="pc")
    assert len(ax.collections) >= 2
    lo, hi = ax.get_xlim()
    assert lo < pts[:, 0].min() and hi > pts[:, 0].max()
    assert ax.get_xlabel() == "PC 1"


def test_kde_panel_recordings(sp_pair, make_recording):
    rt, _ = sp_pair
    ax = nplt.kde_panel(rt, phase="quiescent", n=30)
    np.testing.assert_allclose(ax.collections[0].levels, nplt.OUTPUT_LEVELS)
    assert ax.get_title() == "quiescent (torch)"
    ax = nplt.kde_panel(rt, phase="quiescent", space="pc", extent=None, n=30)
    assert len(ax.collections) > 0 and ax.get_xlabel() == "PC 1"
    with pytest.raises(ValueError, match="angles"):
        nplt.kde_panel(make_recording(circular=True))


def test_panels_draw_on_given_axes():
    import matplotlib.pyplot as plt

    _, axes = plt.subplots(1, 2)
    pts = np.random.default_rng(0).normal(size=(100, 2)) * 0.3
    assert nplt.kde_panel(pts, ax=axes[1], n=20) is axes[1]
    assert isinstance(axes[1], mpl.axes.Axes)
    assert not any(isinstance(c, LineCollection) for c in axes[0].collections)


def test_pc_projection_coarse_recording_uses_nearest_recorded_steps(make_recording):
    rec = make_recording(every=5)
    ax = nplt.pc_projection(rec, phase="quiescent", trials=slice(None))
    n_steps = len(range(7, 80, 20))  # 80 quiescent steps: 7, 27, 47, 67 -> recorded 5, 25, 45, 65
    assert len(ax.collections[0].get_offsets()) == rec.trials * n_steps
    sub = rec.select("quiescent")
    want = np.linalg.norm(sub.decoded[:, [5, 25, 45, 65]], axis=-1).ravel()
    np.testing.assert_allclose(ax.collections[0].get_array(), want)


def test_quiescent_kde_thins_trials_only_when_enough_remain(make_recording):
    from neurorx.plotting._core import select
    from neurorx.plotting.states import _trials_for

    few = select(make_recording(trials=12), "quiescent")
    many = select(make_recording(trials=100, active=5, quiescent=5), "quiescent")
    assert _trials_for(few, None) == slice(None)                 # 12 trials: all of them
    assert _trials_for(many, None) == slice(None, None, 5)       # the reference's every 5th: 20 remain
    assert _trials_for(select(make_recording(trials=100, active=5, quiescent=5), "active"), None) == slice(None)
