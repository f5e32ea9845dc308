"""The explained drift (neurorx.analysis.score.explained): R^2 of a drift against a fitted multiple of the score.

Known answers on a 2-D Gaussian mixture with modes at (+-1.5, 0) and SD 0.5, sampled by an exact Langevin
sampler of that mixture:

- the sampler's own drift eps * grad log p IS the score: R^2 = 1 with the exact score, close to 1 with a KDE
  score of the samples (the kernel smooths the score);
- a linear contraction towards the mean on the same law: its plain cosine with the score is positive (both
  point inwards in the tails), but the score explains little of it among the densest states;
- a random field: R^2 about 0.
"""

import numpy as np
import pytest

from neurorx.analysis import score as sc
from neurorx.analysis.density import kde
from neurorx.analysis.score.explained import affine_residual, dense_mask, drift_fit_sums
from neurorx.analysis.score.known_answers import EPS, langevin_samples, mixture_score


@pytest.fixture(scope="module")
def langevin():
    """20 chains of x' = x + eps grad log p(x) + sqrt(2 eps) xi, 100 samples each (every 10th step)."""
    points = langevin_samples()
    flat = points.reshape(-1, 2)
    return {"points": points, "exact": mixture_score(flat).reshape(points.shape),
            "kde": sc.kde_score(flat, flat).reshape(points.shape),
            "log_density": kde(flat).logpdf(flat.T).reshape(points.shape[:2])}


def test_a_langevin_samplers_drift_is_explained_by_the_score(langevin):
    drift = EPS * langevin["exact"]
    ld = langevin["log_density"]
    assert sc.explained_drift(drift, langevin["exact"], log_density=ld) == pytest.approx(1.0, abs=1e-9)
    assert sc.explained_drift(drift, langevin["kde"], log_density=ld) > 0.7
    assert sc.explained_drift(drift, langevin["kde"], log_density=ld, points=langevin["points"]) > 0.7


def test_a_linear_contraction_on_a_bimodal_law_has_a_positive_cosine_but_is_not_explained(langevin):
    points = langevin["points"]
    drift = -0.01 * (points - points.reshape(-1, 2).mean(0))
    cosine = sc.cosine_similarity(drift, langevin["kde"]).mean()
    r2 = sc.explained_drift(drift, langevin["kde"], log_density=langevin["log_density"])
    assert cosine > 0.2
    assert r2 < 0.1 and r2 < cosine - 0.2
    assert np.isnan(sc.explained_drift(drift, langevin["kde"], points=points))     # affine: no non-linear part


def test_a_random_field_explains_nothing(langevin):
    drift = np.random.default_rng(1).standard_normal(langevin["points"].shape)
    assert abs(sc.explained_drift(drift, langevin["kde"], log_density=langevin["log_density"])) < 0.05


def test_the_bootstrap_interval_over_trials_brackets_the_estimate(langevin):
    drift, score, ld = EPS * langevin["exact"], langevin["kde"], langevin["log_density"]
    r2 = sc.explained_drift(drift, score, log_density=ld)
    low, high = sc.explained_drift_interval(drift, score, log_density=ld, n_resamples=200)
    assert low <= r2 <= high and high - low < 0.2


def test_the_fit_has_no_intercept_so_a_constant_offset_lowers_r2(langevin):
    drift = EPS * langevin["exact"]
    shifted = drift + 0.5 * np.abs(drift).mean()
    assert sc.explained_drift(shifted, langevin["exact"]) < sc.explained_drift(drift, langevin["exact"]) - 0.05


def test_the_sums_reproduce_the_formula_and_the_mask_keeps_the_densest_fraction():
    rng = np.random.default_rng(2)
    d, s, ld = rng.normal(size=(3, 40, 2)), rng.normal(size=(3, 40, 2)), rng.normal(size=(3, 40))
    mask = dense_mask(ld, 0.25)
    assert mask.mean() == pytest.approx(0.25, abs=0.01) and ld[mask].min() >= ld[~mask].max()
    dk, sk = d[mask], s[mask]
    c = (dk * sk).sum() / (sk * sk).sum()
    expected = 1 - ((dk - c * sk) ** 2).sum() / ((dk - dk.mean(0)) ** 2).sum()
    sums = drift_fit_sums(d, s, mask)
    assert sums.r2() == pytest.approx(expected) and sums.scale() == pytest.approx(c)
    assert sc.explained_drift(d, s, log_density=ld, top=0.25) == pytest.approx(expected)
    resid = affine_residual(d, s)       # what an affine fit in s leaves is orthogonal to s and to 1
    assert np.allclose(np.einsum("btk,btl->kl", resid, s), 0, atol=1e-9) and np.allclose(resid.sum((0, 1)), 0)


def test_bad_input_names_the_problem():
    x = np.zeros((2, 5, 2))
    with pytest.raises(ValueError, match="top"):
        sc.explained_drift(x, x, log_density=np.zeros((2, 5)), top=0)
    with pytest.raises(ValueError, match="share"):
        sc.explained_drift(x, np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match="trials >= 2"):
        sc.explained_drift_interval(x[:1], x[:1])


def test_a_networks_measures_come_with_their_controls_and_intervals():
    import neurorx as nrx
    from neurorx.analysis import random_network

    net = random_network(nrx.load("head_direction/noisy_unbiased"), seed=3)
    r = sc.network_score_measures(net, trials=4, steps=30, burn_in_steps=10, n_resamples=99)
    assert set(sc.CONTROLS) <= set(r) and r["n_components"] >= 1
    for control in sc.CONTROLS:
        assert set(r[control]) == set(sc.MEASURES)
        for value, low, high in r[control].values():
            assert np.isfinite(value) and low - 1e-9 <= value <= high + 1e-9
    assert abs(r["permuted"]["explained_drift_nonlinear"][0]) < 0.2      # a shuffled score explains ~nothing
    with pytest.raises(ValueError, match="burn_in_steps"):
        sc.network_score_measures(net, steps=10, burn_in_steps=10)
