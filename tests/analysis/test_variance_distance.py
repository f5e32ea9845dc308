"""total_variance (Fig. 2f) and stepwise_distance (Fig. C.4) on processes with known answers."""

import numpy as np
import pytest

from neurorx.analysis import stepwise_distance, total_variance


def reference_output_variance(data, shift):
    """The reference's utils.output_variance, verbatim."""
    b, _, d = data.shape
    covs = np.array([np.cov(data[i, shift:].T) for i in range(b)])
    if d > 1:
        covs = np.trace(covs, axis1=1, axis2=2)
    return covs.mean()


def simulate_ar1(phi, sigma, batch, steps, d, x0, seed):
    """x_{t+1} = phi x_t + sigma eps: the exact discretisation of an OU process (phi = exp(-theta dt))."""
    rng = np.random.default_rng(seed)
    x = np.empty((batch, steps, d))
    x[:, 0] = x0
    eps = rng.normal(size=(batch, steps, d))
    for t in range(1, steps):
        x[:, t] = phi * x[:, t - 1] + sigma * eps[:, t]
    return x


def expected_sample_variance_ar1(phi, var, n):
    """E[s^2] (ddof 1) over n steps of a stationary AR(1): n/(n-1) * (gamma(0) - Var(mean))."""
    lags = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    var_of_mean = var * (phi**lags).sum() / n**2
    return n / (n - 1) * (var - var_of_mean)


def test_total_variance_of_iid_gaussian_is_the_trace_of_its_covariance():
    cov = np.array([[0.02, 0.005], [0.005, 0.01]])
    x = np.random.default_rng(0).multivariate_normal([0.3, -0.2], cov, size=(300, 200))
    per_traj = total_variance(x, per_trajectory=True)
    # ddof = 1 makes each per-trajectory value unbiased for trace(cov) = 0.03.
    assert total_variance(x) == pytest.approx(np.trace(cov), abs=4 * per_traj.std(ddof=1) / np.sqrt(300))


def test_total_variance_of_an_ar1_process_after_burn_in():
    phi, sigma, d, burn_in, keep = 0.9, 0.1, 2, 200, 1000
    stationary = sigma**2 / (1 - phi**2)  # 0.0526 per dimension
    x = simulate_ar1(phi, sigma, batch=300, steps=burn_in + keep, d=d, x0=5.0, seed=1)  # far from stationary
    per_traj = total_variance(x, burn_in=burn_in, per_trajectory=True)
    expected = d * expected_sample_variance_ar1(phi, stationary, keep)  # 2 * 0.0516: ~2 % below stationary
    assert per_traj.mean() == pytest.approx(expected, abs=4 * per_traj.std(ddof=1) / np.sqrt(300))
    # Without the burn-in the decaying transient from x0 = 5 adds ~ 2 * 25 / (1 - phi^2) / 1200 = 0.22.
    assert total_variance(x) > 2.5 * expected


def test_total_variance_equals_the_reference_code():
    x = np.random.default_rng(2).normal(size=(7, 40, 2)).cumsum(axis=1)
    assert total_variance(x, burn_in=10) == pytest.approx(reference_output_variance(x, 10), rel=1e-12)
    x1 = x[..., :1]  # d = 1: np.cov returns a scalar per trajectory
    assert total_variance(x1, burn_in=10) == pytest.approx(reference_output_variance(x1, 10), rel=1e-12)


def test_stepwise_distance_of_constant_velocity_is_the_speed():
    t = np.arange(50)
    velocity = np.array([[0.03, 0.04], [-0.06, 0.08]])  # speeds 0.05 and 0.1 per step
    x = velocity[:, None, :] * t[None, :, None] + np.array([[0.1, 0.2], [0.0, -0.5]])[:, None, :]
    np.testing.assert_allclose(stepwise_distance(x), [0.05, 0.1])


def test_stepwise_distance_equals_the_reference_code():
    x = np.random.default_rng(3).normal(size=(5, 30, 2))
    reference = ((np.diff(x, axis=1) ** 2).sum(axis=-1) ** 0.5).mean(axis=-1)
    np.testing.assert_allclose(stepwise_distance(x), reference, rtol=1e-12)


def test_circular_stepwise_distance_ignores_the_wrap_at_pi():
    omega = 0.1
    angles = np.mod(np.pi - 0.35 + omega * np.arange(40) + np.pi, 2 * np.pi) - np.pi  # crosses +pi
    x = angles[None, :, None]
    np.testing.assert_allclose(stepwise_distance(x, circular=True), [omega])
    assert stepwise_distance(x)[0] > 2 * omega  # the naive distance counts the 2*pi jump


def test_circular_total_variance_ignores_the_wrap_at_pi():
    # A slow drift across +-pi: small on the circle, but wrapped angles jump by 2 pi once.
    t = np.arange(100)
    path = np.pi - 0.3 + 0.006 * t                        # crosses pi at t = 50
    wrapped = (path + np.pi) % (2 * np.pi) - np.pi
    x = wrapped[None, :, None]
    expected = path.var(ddof=1)
    assert total_variance(x, circular=True) == pytest.approx(expected, rel=1e-12)
    assert total_variance(x) > 100 * expected               # the linear statistic sees the jump
    far = (path - np.pi)[None, :, None]                    # away from the wrap: both agree
    assert total_variance(far, circular=True) == pytest.approx(total_variance(far), rel=1e-12)
