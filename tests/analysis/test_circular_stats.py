"""Head-direction statistics: wrapping, angular velocity, polar histogram, circular KL."""

import numpy as np
import pytest
from scipy import special

from neurorx import analysis as nra


def test_wrap_angle_maps_to_minus_pi_pi():
    np.testing.assert_allclose(
        nra.wrap_angle([0.0, np.pi, -np.pi, 3 * np.pi / 2, 7.0]), [0, -np.pi, -np.pi, -np.pi / 2, 7 - 2 * np.pi]
    )


def test_circular_mean_across_the_cut():
    assert nra.circular_mean([np.pi - 0.1, -np.pi + 0.1]) == pytest.approx(np.pi)
    np.testing.assert_allclose(nra.circular_mean(np.array([[0.1, 0.3], [-0.2, 0.2]]), axis=1), [0.2, 0.0], atol=1e-12)


def test_circular_error_takes_the_short_way_round():
    np.testing.assert_allclose(nra.circular_error([3.0, 0.5, 0.0], [-3.0, -0.5, np.pi]), [2 * np.pi - 6.0, 1.0, np.pi])


def test_angular_velocity_unwraps_jumps_across_pi():
    angles = np.array([[3.0, -3.1, 3.05, 2.95]])  # +0.183, -0.133, -0.1 rad per step
    expected = np.array([[-6.1 + 2 * np.pi, 6.15 - 2 * np.pi, -0.1]])
    np.testing.assert_allclose(nra.angular_velocity(angles), expected)
    np.testing.assert_allclose(nra.angular_velocity(angles, unwrap="wrap"), expected)
    np.testing.assert_allclose(nra.angular_velocity(angles[..., None]), expected)  # (B, T, 1) accepted


def test_angular_velocity_reference_rule_only_corrects_beyond_one_and_a_half_pi():
    angles = np.array([[-1.6, 1.6]])  # delta = 3.2: between pi and 1.5 pi
    assert nra.angular_velocity(angles)[0, 0] == pytest.approx(3.2)  # kept, as in the reference notebook
    assert nra.angular_velocity(angles, unwrap="wrap")[0, 0] == pytest.approx(3.2 - 2 * np.pi)


def test_angular_velocity_matches_the_reference_notebook():
    d = nra.wrap_angle(np.random.default_rng(0).normal(0, 1.0, size=(6, 40)).cumsum(axis=1))
    d_rescaled = d + np.pi
    av = (d_rescaled[:, 1:] - d_rescaled[:, :-1]).flatten()
    av[av > 1.5 * np.pi] -= 2 * np.pi
    av[av < -1.5 * np.pi] += 2 * np.pi
    np.testing.assert_allclose(nra.angular_velocity(d).ravel(), av, atol=1e-12)
    assert nra.mean_angular_velocity(d) == pytest.approx(av.mean())


def test_mean_angular_velocity_of_a_steady_rotation():
    t = np.arange(500)
    angles = nra.wrap_angle(0.0151 * t[None, :] + np.array([[0.0], [2.0]]))  # the paper's CCW quiescent drift
    assert nra.mean_angular_velocity(angles) == pytest.approx(0.0151)


def test_polar_histogram_radius_formula():
    angles = np.array([-3.0, -3.0, 0.0, 1.0, 1.0, 1.0, 3.0])
    edges, radius = nra.polar_histogram(angles, bins=4)
    counts, ref_edges = np.histogram(angles, bins=4)  # reference default: bins span the data range
    np.testing.assert_allclose(edges, ref_edges)
    np.testing.assert_allclose(radius, np.sqrt(counts / angles.size / np.pi))


def test_polar_histogram_full_circle_bins():
    angles = np.array([0.1, 0.2, -0.1, 2 * np.pi + 0.1])  # the last one wraps to 0.1
    edges, radius = nra.polar_histogram(angles, bins=20, full_circle=True)
    np.testing.assert_allclose(edges, np.linspace(-np.pi, np.pi, 21))
    assert radius[10] == pytest.approx(np.sqrt(3 / 4 / np.pi))  # bin [0, pi/10)
    assert radius[9] == pytest.approx(np.sqrt(1 / 4 / np.pi))
    assert radius.sum() == pytest.approx(radius[9] + radius[10])


def test_circular_kl_of_von_mises_against_uniform_matches_the_closed_form():
    kappa = 2.0
    rng = np.random.default_rng(0)
    p = rng.vonmises(0.5, kappa, size=40_000)
    q = rng.uniform(-np.pi, np.pi, size=40_000)
    # KL(VM(kappa) || U) = kappa I1/I0 - log I0 = 0.6978 nats.
    closed = kappa * special.i1(kappa) / special.i0(kappa) - np.log(special.i0(kappa))
    assert nra.circular_kl(p, q, bins=36) == pytest.approx(closed, abs=0.03)


def test_circular_kl_is_zero_for_identical_samples_and_blind_to_full_turns():
    p = np.random.default_rng(1).vonmises(0.0, 1.0, size=5000)
    assert nra.circular_kl(p, p) == pytest.approx(0.0, abs=1e-12)
    assert nra.circular_kl(p + 2 * np.pi, p) == pytest.approx(0.0, abs=1e-9)


def test_circular_kl_stays_finite_with_empty_bins():
    assert np.isfinite(nra.circular_kl(np.zeros(10), np.full(10, 2.0)))
