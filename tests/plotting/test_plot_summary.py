import numpy as np
import pytest
from matplotlib.patches import PathPatch

import neurorx.plotting as nplt
from neurorx.analysis import STATISTICS, stepwise_distance, total_variance
from neurorx.errors import ConfigurationError


def test_kl_matrix_annotations_equal_formatted_values():
    m = np.arange(24, dtype=float).reshape(4, 6) / 3 + 0.123
    ax = nplt.kl_matrix(m, nplt.KL_ROWS, nplt.KL_COLS)
    texts = [t.get_text() for t in ax.texts]
    assert texts == [f"{v:.2f}" for v in m.ravel()]
    np.testing.assert_allclose(ax.images[0].get_array(), m)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(nplt.KL_COLS)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(nplt.KL_ROWS)
    assert ax.get_xlabel() == "quiescent distribution" and ax.get_ylabel() == "active distribution"
    cbar = next(a for a in ax.figure.axes if a is not ax)
    assert "nats" in cbar.get_ylabel()


def test_kl_matrix_uses_a_sequential_colormap_from_zero_and_marks_flagged_columns():
    m = np.array([[0.3, 0.02, 1.5]])
    ax = nplt.kl_matrix(m, ["A U^σ"], ["Q U^σ", "Q white", "Q 𝒰"], flagged_cols=["Q white"])
    im = ax.images[0]
    assert im.get_cmap().name == "viridis" and im.norm.vmin == 0.0          # KL >= 0: no diverging map
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["Q $\\mathregular{U}^{\\sigma}$", "Q white\n(flagged)", "Q $\\mathcal{U}$"]
    assert [p.get_hatch() for p in ax.patches] == ["///"]
    with pytest.raises(ValueError, match="not column labels"):
        nplt.kl_matrix(m, ["A"], ["a", "b", "c"], flagged_cols=["d"])


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


def test_statistic_boxplot_one_box_per_group_of_values():
    groups = {"noiseless\nunbiased": [0.001, 0.002, 0.0015], "noisy\nunbiased": [0.01, 0.012, 0.011],
              "noisy\nbiased": [0.008, 0.009, 0.007, 0.0085]}
    ax = nplt.statistic_boxplot(groups, "total variance", show_points=True)
    boxes = [p for p in ax.patches if isinstance(p, PathPatch)]
    assert len(boxes) == 3
    assert [t.get_text() for t in ax.get_xticklabels()] == list(groups)
    assert ax.get_ylabel() == "total variance (m^2)"


def test_statistic_boxplot_of_recordings_draws_the_registry_values(make_recording):
    seeds = [make_recording(seed=s) for s in range(3)]
    ax = nplt.statistic_boxplot({"seeds": seeds, "one run": seeds[0]}, "total variance", burn_in=0.25)
    assert len([p for p in ax.patches if isinstance(p, PathPatch)]) == 2
    medians = [ln for ln in ax.lines if ln.get_color() == "black" and len(ln.get_xdata()) == 2]
    per_seed = [total_variance(r.select("quiescent").decoded, burn_in=20) for r in seeds]   # 80 steps x 0.25
    assert any(np.isclose(ln.get_ydata()[0], np.median(per_seed)) for ln in medians)


@pytest.mark.parametrize("name", [n for n, s in STATISTICS.items() if s.linear and s.scalar])
def test_every_registered_statistic_draws_one_box_per_group(make_recording, name):
    groups = {"seed 0": make_recording(seed=0), "seed 1": make_recording(seed=1)}
    if STATISTICS.get(name).needs_network:          # the recordings alone cannot give it: its values as numbers
        with pytest.raises(ConfigurationError, match="reads each recording's trained network"):
            nplt.statistic_boxplot(groups, name, phase="quiescent")
        groups = {"seed 0": [0.5, 0.6], "seed 1": [0.7, 0.9]}
    ax = nplt.statistic_boxplot(groups, name, phase="quiescent")
    assert len([p for p in ax.patches if isinstance(p, PathPatch)]) == 2
    assert ax.get_ylabel().startswith(name)


def test_stepwise_distance_box_plot_pools_seeds_and_names_radians(make_recording):
    rec = make_recording()
    groups = {"NT\nactive": rec.select("active"), "NT\nquiescent": rec.select("quiescent"),
              "DT\nnoisy": np.random.default_rng(0).uniform(0, 0.5, 50)}
    ax = nplt.statistic_boxplot(groups, "stepwise distance", phase=None)
    assert len([p for p in ax.patches if isinstance(p, PathPatch)]) == 3
    assert ax.get_ylabel() == "stepwise distance (m/step)"
    hd = make_recording(circular=True)
    ax = nplt.statistic_boxplot({"a": [hd, hd]}, "stepwise distance", phase="active", pool=True)
    assert "rad" in ax.get_ylabel()
    assert stepwise_distance(hd.select("active").decoded, circular=True).shape == (hd.trials,)
    with pytest.raises(ValueError, match="no values"):
        nplt.statistic_boxplot({"empty": []}, "stepwise distance")
    with pytest.raises(ValueError, match="unknown statistic 'stepwise'"):
        nplt.statistic_boxplot({"a": [1.0]}, "stepwise")


def test_a_statistic_that_is_not_one_number_per_trial_of_a_phase_is_refused(make_recording):
    for name in [n for n, s in STATISTICS.items() if not s.scalar]:
        with pytest.raises(ValueError, match="one number per phase"):
            nplt.statistic_boxplot({"seed 0": make_recording(seed=0)}, name)
