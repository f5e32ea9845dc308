"""KL estimators: the reference Monte-Carlo formula, the corrected one, and the uniform baseline.

Tolerances against closed forms. For P = N(0, I), Q = N(mu, I) in 2-D, KL(P||Q) = |mu|^2 / 2. The plug-in
estimate from n samples per cloud has a sampling SD of about |mu| * sqrt(1/n_p + 1/n_q) (0.026 nats at
n = 3000, |mu| = 1; measured over 12 seeds: 0.025-0.06), and the KDEs add a bias: Scott smoothing shrinks it
by 1/(1 + h^2) with h^2 = n^(-1/3) (-0.033 nats here) and finite-sample kernel noise adds about +0.02 nats
(see test_kl_of_two_samples_of_one_distribution_is_small). 0.1 nats covers |bias| + 3 SD.
"""

import numpy as np
import pytest
from scipy import stats

from neurorx.analysis import kl_divergence, kl_uniform_vs, uniform_box_logpdf, uniform_box_samples

N = 3000
MU = np.array([1.0, 0.0])
CLOSED_FORM = 0.5 * MU @ MU  # KL(N(0, I) || N(mu, I)) = 0.5 nats


@pytest.fixture(scope="module")
def gaussian_clouds():
    rng = np.random.default_rng(1)
    return rng.normal(size=(N, 2)), rng.normal(size=(N, 2)) + MU


def test_corrected_estimator_matches_gaussian_closed_form(gaussian_clouds):
    p, q = gaussian_clouds
    est, se = kl_divergence(p, q, n_mc=10_000, return_stderr=True)
    assert se < 0.02  # Monte-Carlo error is small against the tolerance
    assert est == pytest.approx(CLOSED_FORM, abs=0.1)


def test_reference_estimator_matches_gaussian_closed_form(gaussian_clouds):
    p, q = gaussian_clouds
    # 2500 Monte-Carlo points (the reference's n) add an SD of ~0.02 nats.
    assert kl_divergence(p, q, method="reference") == pytest.approx(CLOSED_FORM, abs=0.1)


def test_both_methods_agree_when_nothing_is_clipped(gaussian_clouds):
    """Same seed -> same Monte-Carlo points; log(pdf ratio) and logpdf difference then agree."""
    p, q = gaussian_clouds
    ref = kl_divergence(p, q, method="reference", seed=3)
    cor = kl_divergence(p, q, method="corrected", seed=3)
    assert ref == pytest.approx(cor, abs=1e-9)


def test_kl_of_a_cloud_with_itself_is_exactly_zero(gaussian_clouds):
    p, _ = gaussian_clouds
    assert kl_divergence(p, p) == pytest.approx(0.0, abs=1e-12)
    assert kl_divergence(p, p, method="reference") == pytest.approx(0.0, abs=1e-12)


def test_kl_of_two_samples_of_one_distribution_is_small():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(2000, 2)), rng.normal(size=(2000, 2))
    value = kl_divergence(a, b, n_mc=5000)
    assert abs(value) < 0.06  # finite-sample KDE noise: ~0.025 +- 0.004 nats at n = 2000


def test_kl_grows_with_the_separation(gaussian_clouds):
    p, _ = gaussian_clouds
    rng = np.random.default_rng(4)
    q_near = rng.normal(size=(N, 2)) + np.array([0.5, 0.0])
    q_far = rng.normal(size=(N, 2)) + np.array([1.5, 0.0])
    assert 0 < kl_divergence(p, q_near) < kl_divergence(p, q_far)


def test_reference_formula_written_out_literally():
    """The reference's utils.kl_divergence, line by line, on fixed inputs, with the same resample seed."""
    rng = np.random.default_rng(5)
    quiescent = rng.normal(size=(400, 2)) * 0.3
    active = rng.uniform(-1.1, 1.1, size=(600, 2))
    kde_q = stats.gaussian_kde(quiescent.T)
    kde_a = stats.gaussian_kde(active.T)
    points = kde_q.resample(2500, seed=7)
    kde_q_pdf = kde_q.pdf(points)
    kde_a_pdf = kde_a.pdf(points)
    expected = np.mean(np.log(np.clip(kde_q_pdf / kde_a_pdf, 1e-7, 1e7)))

    got = kl_divergence(quiescent, active, method="reference", n_mc=2500, seed=7)
    assert got == pytest.approx(expected, rel=1e-12)


def test_reference_clips_the_ratio_and_saturates_while_corrected_does_not():
    rng = np.random.default_rng(6)
    p = rng.normal(size=(1000, 2))
    q = rng.normal(size=(1000, 2)) + np.array([12.0, 0.0])  # true KL = 72 nats
    cap = np.log(1e7)
    ref = kl_divergence(p, q, method="reference")
    assert ref == pytest.approx(cap, abs=0.05)  # every term clipped at log(1e7) = 16.1 nats
    assert kl_divergence(p, q, method="reference", clip=(1e-3, 1e3)) == pytest.approx(np.log(1e3), abs=0.05)
    cor = kl_divergence(p, q, method="corrected")
    assert np.isfinite(cor) and cor > 72  # unclipped, finite (kernel tails overshoot the true value)


def test_stderr_shrinks_with_more_monte_carlo_points(gaussian_clouds):
    p, q = (c[:500] for c in gaussian_clouds)
    _, se_small = kl_divergence(p, q, n_mc=500, return_stderr=True)
    _, se_large = kl_divergence(p, q, n_mc=8000, return_stderr=True)
    assert se_large < se_small / 2.5  # ~ 1/sqrt(n_mc): ratio 4 expected


def test_seed_makes_the_estimate_reproducible(gaussian_clouds):
    p, q = (c[:500] for c in gaussian_clouds)
    assert kl_divergence(p, q, seed=11) == kl_divergence(p, q, seed=11)
    assert kl_divergence(p, q, seed=11) != kl_divergence(p, q, seed=12)


# ---------------------------------------------------------------------------------------------- uniform


def test_uniform_box_logpdf_is_minus_log_area_inside_and_minus_inf_outside():
    pts = np.array([[0.0, 0.0], [1.1, -1.1], [1.2, 0.0]])
    logp = uniform_box_logpdf(pts, box=(-1.1, 1.1))
    np.testing.assert_allclose(logp[:2], -np.log(2.2**2))
    assert logp[2] == -np.inf
    rect = uniform_box_logpdf(np.zeros((1, 2)), box=[[0 - 1, 1], [-2, 2]])
    np.testing.assert_allclose(rect, -np.log(2 * 4))


@pytest.fixture(scope="module")
def active_uniform():
    return uniform_box_samples(3000, seed=10)


@pytest.mark.parametrize("method", ["corrected", "reference"])
def test_uniform_quirk_adds_exactly_log_2_2(active_uniform, method):
    fixed = kl_uniform_vs(active_uniform, method=method, seed=0)
    quirky = kl_uniform_vs(active_uniform, method=method, seed=0, reference_quirk=True)
    assert quirky - fixed == pytest.approx(np.log(2.2), abs=1e-9)


def test_uniform_quirk_written_out_literally(active_uniform):
    """The reference's uniform branch: scipy.stats.uniform's 1-D pdf broadcast over a (2, n) array."""
    uniform = stats.uniform(loc=-1.1, scale=2.2)
    kde_a = stats.gaussian_kde(active_uniform.T)
    points = uniform.rvs((2500, kde_a.d), random_state=0).T
    expected = np.log((uniform.pdf(points) / kde_a.pdf(points)).clip(1e-7, 1e7)).mean()

    got = kl_uniform_vs(active_uniform, method="reference", reference_quirk=True, seed=0)
    assert got == pytest.approx(expected, rel=1e-12)


def test_uniform_baseline_of_a_uniform_sample_is_small_once_fixed():
    """paper.md §6: code-style KL(U || KDE of a uniform sample) = 0.89 nats; the correct value is 0.11."""
    sample = uniform_box_samples(20_000, seed=1)
    assert kl_uniform_vs(sample) == pytest.approx(0.11, abs=0.03)
    assert kl_uniform_vs(sample, reference_quirk=True) == pytest.approx(0.89, abs=0.03)


def test_uniform_box_samples_are_the_reference_scipy_draws():
    """uniform_box_samples(n, box, d, seed) is the reference's uniform(loc, scale).rvs((n, d)), seeded."""
    x = uniform_box_samples(2500, box=(-1.1, 1.1), d=2, seed=0)
    ref = stats.uniform(loc=-1.1, scale=2.2).rvs((2500, 2), random_state=0)
    np.testing.assert_array_equal(x, ref)
