"""Every figure function renders a paper-ready panel (issue 27, trap 8).

The test iterates over the plotting module's public functions: a new panel function must get a case in
``CASES`` (the test fails naming it), and then it is held to the same rules: a title, labelled axes with units
where the quantity has one, no data outside the drawn limits, no literal caret in a condition label.
"""

import numpy as np
import pytest
from synthetic import synthetic_recording

import neurorx.plotting as nplt
from neurorx.analysis import angular_velocity

#: Public callables that draw no figure (helpers, styles, data builders).
NOT_FIGURES = {"compare_panels", "explained_variance_ratios", "kl_table", "phase_cmap", "phase_color",
               "reference_pca", "save_figure", "style", "use_house_style"}

SP = synthetic_recording("torch", seed=0)
HD = synthetic_recording("torch", circular=True, seed=0)
METRICS = {"batch": [0, 100, 200], "test_loss": [1.0, 0.1, 0.01], "test_error": [0.5, 0.2, 0.1]}



def _spiking_run():
    """A tiny run of the spiking backend with its spikes (for spike_raster)."""
    from netfactory import make_network

    import neurorx as nrx

    net = make_network(n_rec=6, activation="relu", seed=3)
    return nrx.Protocol([nrx.Active(steps=10), nrx.Quiescent(steps=10)]).run(
        net, backend="brian2-spiking", trials=1, seed=0, record=("spikes",), per_unit=4, spike_trials=[0],
        target="numpy")


def _replay():
    """A lab-layout head-direction file with replay bursts in sleep, decoded, and its scored events."""
    import tempfile
    from pathlib import Path

    pytest.importorskip("pynapple", reason="decoding an NWB file needs neurorx[data]")
    from lab_nwb import make_hd_lab_file

    import neurorx as nrx
    from neurorx.analysis.replay import replay_events

    path, _ = make_hd_lab_file(Path(tempfile.mkdtemp()) / "hd.nwb", bursts=(10.0, 0.2, 2.0), n_units=16)
    rec = nrx.io.nwb.read(path)
    return nplt.replay_posteriors(rec, replay_events(rec, min_duration=0.06, n_shuffles=20), max_events=3)


#: name -> (call, unit that must appear in the x / y labels (None: a count or a fraction, no unit)).
CASES = {
    "angular_velocity_histogram": (lambda: nplt.angular_velocity_histogram(HD, phase="quiescent"),
                                   ("rad/step", None)),
    "decoded_trajectories": (lambda: nplt.decoded_trajectories(SP, phase="active"), ("m", "m")),
    "explained_variance_curve": (lambda: nplt.explained_variance_curve(SP, label="U^σ"),
                                 (None, None)),
    "kde_panel": (lambda: nplt.kde_panel(SP, phase="quiescent"), ("m", "m")),
    "kl_matrix": (lambda: nplt.kl_matrix([[0.3, 0.1], [1.2, 0.02]], ["A U^σ", "A B^σ"], ["Q U^σ", "Q 𝒰"],
                                         flagged_cols=["Q 𝒰"]), (None, None)),
    "kl_matrix_from_recordings": (lambda: nplt.kl_matrix_from_recordings({"U^σ": SP}, n_mc=50), (None, None)),
    "learning_curve": (lambda: nplt.learning_curve(METRICS, chance=0.8, error_scale=100), (None, None)),
    "pc_projection": (lambda: nplt.pc_projection(SP, phase="active"), (None, None)),
    "pc_ring": (lambda: nplt.pc_ring(HD, phase="active"), (None, None)),
    "polar_histogram_panel": (lambda: nplt.polar_histogram_panel(HD, phase="quiescent"), (None, None)),
    "replay_posteriors": (_replay, ("s", None)),
    "spike_raster": (lambda: nplt.spike_raster(_spiking_run()), (None, None)),
    "statistic_boxplot": (lambda: nplt.statistic_boxplot({"U^σ": SP, "B^σ": synthetic_recording(seed=2)},
                                                         "stepwise distance"), (None, "m/step")),
}


def figure_functions() -> list[str]:
    return sorted(n for n in nplt.__all__ if callable(getattr(nplt, n)) and n not in NOT_FIGURES)


def test_every_figure_function_has_a_case():
    missing = set(figure_functions()) - set(CASES)
    assert not missing, f"add a case to CASES for the new figure function(s) {sorted(missing)}"


def _main_axes(result):
    axes = result if isinstance(result, np.ndarray | list | tuple) else [result]
    axes = list(np.ravel(np.asarray(axes, dtype=object)))
    fig = axes[0].figure
    fig.canvas.draw()
    return fig, [a for a in fig.axes if a.get_label() != "<colorbar>"]


@pytest.mark.parametrize("name", figure_functions())
def test_figure_is_titled_labelled_and_unclipped(name):
    call, (xunit, yunit) = CASES[name]
    fig, axes = _main_axes(call())
    texts = [t.get_text() for a in axes for t in (a.title, a.xaxis.label, a.yaxis.label, *a.get_xticklabels())]
    texts += [fig._suptitle.get_text()] if fig._suptitle is not None else []
    assert not [t for t in texts if "^" in t and "$" not in t], "a literal caret: use mathtext ($U^{\\sigma}$)"
    main = axes[0]
    assert main.get_title() or (fig._suptitle is not None and fig._suptitle.get_text()), f"{name}: no title"
    for ax in axes:
        if ax.name == "polar":
            assert ax.get_xlabel(), f"{name}: the polar panel says what it shows"
            continue
        if not ax.get_visible() or not ax.has_data():
            continue
        twin = ax is not main and ax.get_position().bounds == main.get_position().bounds
        if twin:                        # a twinx shares the main axes' x label
            assert ax.get_ylabel(), f"{name}: unlabelled twin y axis"
            continue
        categorical = all(t.get_text() and not t.get_text().lstrip("−-").replace(".", "").isdigit()
                          for t in ax.get_xticklabels())          # named groups label themselves
        assert (ax.get_xlabel() or categorical) and ax.get_ylabel(), \
            f"{name}: unlabelled axis ({ax.get_xlabel()!r}, {ax.get_ylabel()!r})"
        (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
        lim = ax.dataLim
        if lim.width and np.isfinite(lim.x0):
            tol = 1e-6 * max(1.0, x1 - x0)
            assert x0 - tol <= lim.x0 and lim.x1 <= x1 + tol, f"{name}: data outside the x limits"
        if lim.height and np.isfinite(lim.y0) and ax.get_yscale() == "linear":
            tol = 1e-6 * max(1.0, y1 - y0)
            assert y0 - tol <= lim.y0 and lim.y1 <= y1 + tol, f"{name}: data outside the y limits"
    if xunit:
        assert f"({xunit})" in main.get_xlabel(), f"{name}: x label {main.get_xlabel()!r} lacks its unit"
    if yunit:
        assert f"({yunit})" in main.get_ylabel(), f"{name}: y label {main.get_ylabel()!r} lacks its unit"


def test_the_angular_velocity_histogram_draws_every_step():
    ax = nplt.angular_velocity_histogram(HD, phase="quiescent")
    assert sum(p.get_height() for p in ax.patches) == pytest.approx(1.0)
    av = angular_velocity(HD.select("quiescent").decoded[..., 0]).ravel()
    assert ax.patches[0].get_x() <= av.min() and ax.patches[-1].get_x() + ax.patches[-1].get_width() >= av.max()


def test_the_polar_histograms_dashed_circle_is_explained():
    ax = nplt.polar_histogram_panel(HD, phase="quiescent")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["uniform bearings"]


def test_the_learning_curves_chance_line_and_both_axes_are_labelled():
    import matplotlib.pyplot as plt

    _, (a, b) = plt.subplots(1, 2)
    nplt.learning_curve(METRICS, ax=a, error_ax=b, chance=0.8, error_scale=100)
    assert a.get_xlabel() == b.get_xlabel() == "training batches"
    assert any(t.get_text().startswith("chance") for t in b.texts)


def test_the_training_figure_title_shows_overrides():
    from neurorx.plotting.training import config_title
    from neurorx.training import apply_overrides, load_card

    card = load_card("head_direction/noisy_unbiased")
    assert "N=64" in config_title(apply_overrides(card, ["rnn.n_rec=64"]))
    assert config_title(card) != config_title(apply_overrides(card, ["seed=3"]))
