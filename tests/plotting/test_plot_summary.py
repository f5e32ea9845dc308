import numpy as np
import pytest
from matplotlib.patches import PathPatch

import neurorx.plotting as nplt
from neurorx.analysis import stepwise_distance, total_variance


def test_kl_matrix_annotations_equal_formatted_values():
    m = np.arange(24, dtype=float).reshape(4, 6) / 3 + 0.123
    ax = nplt.kl_matrix(m, nplt.KL_ROWS, nplt.KL_COLS)
    texts = [t.get_text() for t in ax.texts]
    assert texts == [f"{v:.2f}" for v in m.ravel()]
    np.testing.assert_allclose(ax.images[0].get_array(), m)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(nplt.KL_COLS)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(nplt.KL_ROWS)
    assert ax.get_xlabel() == "quiescent" and ax.get_ylabel() == "active"
    cbar = next(a for a in ax.figure.axes if a is not ax)
    assert "nats" in cbar.get_ylabel()


def test_kl_matrix_mean_over_seeds_nan_and_format():
    rng = np.random.default_rng(0)
    m = rng.uniform(0, 10, size=(5, 2, 3))
    m[:, 0, 2] = np.nan
    ax = nplt.kl_matrix(m, fmt="{:.1f}", show_sd=True)
    mean = m.mean(axis=0)
    assert ax.texts[0].get_text().splitlines()[0] == f"{mean[0, 0]:.1f}"
    assert ax.texts[0].get_text().splitlines()[1].startswith("±")
    assert ax.texts[2].get_text() == "–"
    with pytest.raises(ValueError, match="labels"):
        nplt.kl_matrix(np.ones((2, 2)), ["a"], ["b", "c"])


def test_kl_matrix_from_recordings(sp_pair):
    rt, rb = sp_pair
    runs = {"torch": rt, "brian2": rb}
    table = nplt.kl_table(runs, runs, n_mc=200)
    assert table.shape == (2, 2) and np.all(np.isfinite(table))
    ax = nplt.kl_matrix_from_recordings(runs, n_mc=200)
    assert [t.get_text() for t in ax.texts] == [f"{v:.2f}" for v in table.ravel()]


def test_variance_boxplot_one_box_per_group():
    groups = {"noiseless\nunbiased": [0.001, 0.002, 0.0015], "noisy\nunbiased": [0.01, 0.012, 0.011],
              "noisy\nbiased": [0.008, 0.009, 0.007, 0.0085]}
    ax = nplt.variance_boxplot(groups, show_points=True)
    boxes = [p for p in ax.patches if isinstance(p, PathPatch)]
    assert len(boxes) == 3
    assert [t.get_text() for t in ax.get_xticklabels()] == list(groups)
    assert "m²" in ax.get_ylabel()


def test_variance_boxplot_from_recordings(make_recording):
    seeds = [make_recording(seed=s) for s in range(3)]
    ax = nplt.variance_boxplot({"seeds": seeds, "one run": seeds[0]}, burn_in=10)
    assert len([p for p in ax.patches if isinstance(p, PathPatch)]) == 2
    medians = [ln for ln in ax.lines if ln.get_color() == "black" and len(ln.get_xdata()) == 2]
    per_seed = [total_variance(r.select("quiescent").decoded, burn_in=10) for r in seeds]
    assert any(np.isclose(ln.get_ydata()[0], np.median(per_seed)) for ln in medians)


def test_stepwise_distance_boxplot(make_recording):
    rec = make_recording()
    groups = {"NT\nactive": rec.select("active"), "NT\nquiescent": rec.select("quiescent"),
              "DT\nnoisy": np.random.default_rng(0).uniform(0, 0.5, 50)}
    ax = nplt.stepwise_distance_boxplot(groups)
    assert len([p for p in ax.patches if isinstance(p, PathPatch)]) == 3
    assert ax.get_ylabel() == "mean step distance (m)"
    hd = make_recording(circular=True)
    ax = nplt.stepwise_distance_boxplot({"a": [hd, hd]}, phase="active")
    assert "rad" in ax.get_ylabel()
    assert stepwise_distance(hd.select("active").decoded, circular=True).shape == (hd.trials,)
    with pytest.raises(ValueError, match="no values"):
        nplt.stepwise_distance_boxplot({"empty": []})
