"""Energy distance, BCa bootstrap intervals and permutation p-values for two-sample statistics."""

import numpy as np
import pytest
from scipy import stats

from neurorx.analysis import BootstrapInterval, bootstrap_interval, energy_distance, permutation_p_value


def test_energy_distance_equals_scipy_in_one_dimension():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=300), rng.normal(0.4, 1.5, size=200)
    assert energy_distance(a[:, None], b[:, None]) == pytest.approx(stats.energy_distance(a, b), rel=1e-10)


def test_energy_distance_is_zero_for_identical_samples_and_small_for_one_distribution():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(800, 2))
    assert energy_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    same = energy_distance(a, rng.normal(size=(800, 2)))
    shifted = energy_distance(a, rng.normal(size=(800, 2)) + np.array([1.0, 0.0]))
    assert same < 0.15  # D^2 = O(1/n): ~0.08 at n = 800
    assert shifted > 0.5  # ~0.67 for a 1-SD shift
    assert shifted > 4 * same


def test_energy_distance_is_symmetric_and_translation_invariant():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(200, 3)), rng.normal(size=(150, 3)) * 2
    assert energy_distance(a, b) == pytest.approx(energy_distance(b, a), rel=1e-12)
    assert energy_distance(a + 5, b + 5) == pytest.approx(energy_distance(a, b), rel=1e-9)


def test_energy_distance_subsamples_large_inputs_reproducibly():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(3000, 2)), rng.normal(size=(3000, 2)) + 0.5
    sub = energy_distance(a, b, max_points=500, seed=4)
    assert sub == energy_distance(a, b, max_points=500, seed=4)
    assert sub == pytest.approx(energy_distance(a, b, max_points=None), abs=0.08)


def test_bootstrap_interval_contains_the_true_mean_difference():
    rng = np.random.default_rng(5)
    a, b = rng.normal(0.5, 1.0, size=400), rng.normal(0.0, 1.0, size=300)
    res = bootstrap_interval(lambda x, y: x.mean() - y.mean(), a, b, n_boot=400, seed=0)
    assert isinstance(res, BootstrapInterval)
    assert res.low < res.estimate < res.high
    assert res.contains(0.5)
    # Width ~ 2 * 1.96 * sqrt(1/400 + 1/300) = 0.30.
    assert res.high - res.low == pytest.approx(0.30, rel=0.2)
    assert res.stderr == pytest.approx(np.sqrt(1 / 400 + 1 / 300), rel=0.2)


def test_bootstrap_interval_has_roughly_nominal_coverage():
    hits = 0
    for rep in range(60):
        rng = np.random.default_rng(100 + rep)
        a, b = rng.normal(1.0, 1.0, size=60), rng.normal(0.0, 2.0, size=80)
        res = bootstrap_interval(lambda x, y: x.mean() - y.mean(), a, b, n_boot=200, seed=rep, ci=0.9)
        hits += res.contains(1.0)
    assert 0.75 <= hits / 60 <= 1.0  # nominal 0.9; binomial SD ~0.04


def test_bootstrap_resamples_whole_trajectories_along_axis_0():
    decoded = np.random.default_rng(6).normal(size=(30, 50, 2))
    seen = []

    def stat(x):
        seen.append(x.shape)
        return float(x.mean())

    res = bootstrap_interval(stat, decoded, n_boot=5, seed=0)
    # every call sees whole trials: resamples of 30, and BCa's jackknife leaving one trial out (29), 30 times
    assert {s[1:] for s in seen} == {(50, 2)} and seen.count((29, 50, 2)) == 30
    assert seen.count((30, 50, 2)) >= 6 and res.replicates.shape == (5,)
    n = len(seen)
    pct = bootstrap_interval(stat, decoded, n_boot=5, seed=0, method="percentile")
    assert pct.method == "percentile" and set(seen[n:]) == {(30, 50, 2)}


def test_bootstrap_with_energy_distance():
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(150, 2)), rng.normal(size=(150, 2)) + np.array([1.0, 0.0])
    res = bootstrap_interval(energy_distance, a, b, n_boot=50, seed=1)
    assert 0 < res.low < res.estimate < res.high


def test_bootstrap_is_reproducible_with_a_seed():
    a = np.arange(20.0)
    r1 = bootstrap_interval(np.mean, a, n_boot=30, seed=3)
    r2 = bootstrap_interval(np.mean, a, n_boot=30, seed=3)
    np.testing.assert_array_equal(r1.replicates, r2.replicates)


def test_permutation_p_value_resolves_to_the_requested_floor():
    rng = np.random.default_rng(8)
    a, b = rng.normal(size=(40, 2)), rng.normal(size=(40, 2)) + 2.0
    res = permutation_p_value(energy_distance, a, b, n_resamples=999, seed=0)
    assert res.min_p == pytest.approx(1 / 1000) and res.p_value == pytest.approx(res.min_p) and not res.exact
    same = permutation_p_value(energy_distance, a, rng.normal(size=(40, 2)), n_resamples=199, seed=0)
    assert same.p_value > 0.05 and same.min_p == pytest.approx(1 / 200)


def test_paired_permutations_swap_pair_members():
    # pairs (x, x + 1): swapping members within pairs is the only permutation; 2^4 = 16 are enumerated
    x = np.arange(4.0)[:, None]
    res = permutation_p_value(lambda u, v: float(np.mean(v - u)), x, x + 1.0, n_resamples=999, paired=True)
    assert res.exact and res.n_resamples == 16 and res.p_value == pytest.approx(1 / 16)


def test_bca_interval_is_second_order_where_percentile_is_biased():
    # a skewed statistic (the variance of an exponential sample): BCa moves the interval up
    a = np.random.default_rng(9).exponential(size=200)
    bca = bootstrap_interval(np.var, a, n_boot=2000, seed=0)
    pct = bootstrap_interval(np.var, a, n_boot=2000, seed=0, method="percentile")
    assert bca.method == "BCa" and bca.high > pct.high and bca.low > pct.low


def test_trial_energy_leaves_out_pairs_within_a_trial():
    from scipy.spatial.distance import cdist

    from neurorx.analysis import TrialEnergy

    rng = np.random.default_rng(10)
    a, b = rng.normal(size=(5, 1, 2)), rng.normal(size=(6, 1, 2)) + 3.0   # one point per trial
    x, y = a[:, 0], b[:, 0]
    off = ~np.eye(5, dtype=bool), ~np.eye(6, dtype=bool)
    d2 = 2 * cdist(x, y).mean() - cdist(x, x)[off[0]].mean() - cdist(y, y)[off[1]].mean()
    energy = TrialEnergy(a, b)
    assert d2 > 0 and energy(*energy.ids()) == pytest.approx(np.sqrt(d2))
    # two runs of the same trials, compared as pairs: exactly 0
    same = TrialEnergy(a, a, paired=True)
    assert same(*same.ids()) == 0.0


def test_trial_energy_bootstrap_interval_brackets_its_estimate_for_paired_runs():
    # the V-statistic's resamples all exceed its estimate (duplicated trials add zero distances); by trials they do not
    from neurorx.analysis import TrialEnergy

    rng = np.random.default_rng(11)
    walk = np.cumsum(rng.normal(0, 0.05, size=(60, 40, 2)), axis=1)
    energy = TrialEnergy(walk, walk + rng.normal(0, 0.02, size=walk.shape), paired=True)
    ids = [i[:, None].astype(float) for i in energy.ids()]
    res = bootstrap_interval(lambda ia, ib: energy(ia[:, 0], ib[:, 0]), *ids, n_boot=999, seed=0, paired=True)
    assert res.low <= res.estimate <= res.high
