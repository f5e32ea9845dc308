import matplotlib as mpl
import numpy as np
import pytest
from matplotlib.collections import PolyCollection

import neurorx.plotting as nplt
from neurorx.analysis import explained_variance

BATCHES = np.arange(100, 2501, 100)


def _run(seed, batches=BATCHES):
    rng = np.random.default_rng(seed)
    decay = np.exp(-batches / 800)
    return {"batch": batches, "test_loss": 1e-5 + 3.5e-5 * decay + 1e-7 * rng.normal(size=batches.size),
            "test_error": 1e-3 + 0.6 * decay + 1e-3 * rng.normal(size=batches.size)}


def test_learning_curve_single_run_draws_loss_and_error_on_twin():
    ax = nplt.learning_curve(_run(0))
    assert isinstance(ax, mpl.axes.Axes)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), _run(0)["test_loss"])
    twins = [a for a in ax.figure.axes if a is not ax]
    assert len(twins) == 1 and len(twins[0].lines) == 1
    np.testing.assert_allclose(twins[0].lines[0].get_ydata(), _run(0)["test_error"])
    assert "batches" in ax.get_xlabel()
    assert not any(isinstance(c, PolyCollection) for c in ax.collections)  # no band for one run


def test_learning_curve_several_runs_mean_and_sd_band():
    runs = [_run(s) for s in range(5)]
    ax = nplt.learning_curve(runs)
    losses = np.stack([r["test_loss"] for r in runs])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), losses.mean(axis=0))
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 1
    verts = bands[0].get_paths()[0].vertices
    assert verts[:, 1].max() == pytest.approx((losses.mean(0) + losses.std(0)).max())
    assert "5" in ax.get_title()


def test_learning_curve_accepts_reference_layout_and_network_metrics():
    ref = {str(b): {"loss": 1e-5 * b / 100, "pos_mse": 0.1} for b in (300, 100, 200)}
    ax = nplt.learning_curve(ref)
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [100, 200, 300])
    twin = next(a for a in ax.figure.axes if a is not ax)
    assert "position" in twin.get_ylabel()

    class Net:
        def __init__(self):
            self.metrics = {"test": {"step": [1, 2, 3], "loss": [3.0, 2.0, 1.0]}}

    ax = nplt.learning_curve([Net(), Net()])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [3, 2, 1])


def test_learning_curve_errors():
    with pytest.raises(ValueError, match="evaluation grid"):
        nplt.learning_curve([_run(0), _run(1, batches=np.arange(50, 2451, 100))])
    with pytest.raises(KeyError, match="loss"):
        nplt.learning_curve({"batch": [1, 2], "foo": [1, 2]})


def test_explained_variance_curve_mean_sd_over_seeds():
    rng = np.random.default_rng(0)
    act = np.sort(rng.uniform(0.4, 0.9, size=(5, 10)), axis=1)
    qui = np.sort(rng.uniform(0.4, 0.9, size=(5, 10)), axis=1)
    ax = nplt.explained_variance_curve(act, qui)
    assert len(ax.containers) == 2  # two errorbar containers
    np.testing.assert_allclose(ax.lines[0].get_ydata(), act.mean(axis=0))
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), np.arange(1, 11))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["active", "quiescent"]
    assert [c.lines[0].get_linestyle() for c in ax.containers] == ["-", "--"]   # one colour would still do


def test_explained_variance_curve_non_cumulative_input():
    ratios = np.full(12, 1 / 12)
    ax = nplt.explained_variance_curve(ratios, cumulative=False)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), np.arange(1, 11) / 12)


def test_explained_variance_from_recordings(make_recording):
    rec = make_recording()
    ax = nplt.explained_variance_curve(rec)
    want = explained_variance(rec.select("quiescent").h, 10)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), want)
    assert "torch" in ax.get_title()
    ratios = nplt.explained_variance_ratios([make_recording(seed=s) for s in range(3)])
    assert ratios["active"].shape == (3, 10)
    ax = nplt.explained_variance_curve(ratios["active"], ratios["quiescent"])
    assert len(ax.containers) == 2


def test_explained_variance_curve_recording_curves_and_compare_rows(sp_pair):
    ax = nplt.explained_variance_curve(sp_pair[0], curves=("quiescent",))
    assert len(ax.containers) == 1
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["quiescent"]
    axes = nplt.explained_variance_curve({"torch": sp_pair[0], "brian2": sp_pair[1]}, n_components=5)
    assert len(axes) == 2 and "brian2" in axes[1].get_title()
    assert len(axes[1].lines[0].get_xdata()) == 5


def test_learning_curve_reads_a_trained_networks_metrics():
    from pathlib import Path

    import neurorx as nrx
    from neurorx.plotting import learning_curve

    path = Path(__file__).resolve().parents[2] / "models/spatial_navigation/noisy_unbiased.npz"
    if not path.exists():
        pytest.skip("shipped network not present")
    net = nrx.load(path)
    ax = learning_curve(net)
    assert len(ax.lines) >= 1
    assert len(ax.lines[0].get_xdata()) == len(net.metrics["curve"]["batch"])
