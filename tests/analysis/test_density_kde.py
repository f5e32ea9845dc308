"""kde / kde_grid: thin wrappers of scipy's gaussian_kde taking (n, d) points."""

import numpy as np
import pytest
from scipy import stats

from neurorx.analysis import kde, kde_grid


def test_kde_is_scipys_gaussian_kde_on_transposed_points():
    pts = np.random.default_rng(0).normal(size=(300, 2))
    ours = kde(pts)
    theirs = stats.gaussian_kde(pts.T)
    probe = np.random.default_rng(1).normal(size=(2, 50))
    np.testing.assert_allclose(ours.pdf(probe), theirs.pdf(probe), rtol=1e-12)
    assert ours.factor == pytest.approx(300 ** (-1 / 6))  # Scott, d = 2


def test_kde_bandwidth_rules_are_passed_through():
    pts = np.random.default_rng(0).normal(size=(300, 2))
    assert kde(pts, bw_method="silverman").factor == pytest.approx(stats.gaussian_kde(pts.T, "silverman").factor)
    assert kde(pts, bw_method=0.3).factor == pytest.approx(0.3)


def test_kde_grid_2d_integrates_to_one_and_is_oriented_like_meshgrid():
    pts = np.random.default_rng(0).normal(size=(1000, 2)) * 0.2 + [0.5, -0.3]
    x, y, z = kde_grid(pts, extent=(-1.25, 1.25), n=100)
    assert x.shape == y.shape == z.shape == (100, 100)
    assert x[0, 0] == -1.25 and x[0, -1] == 1.25 and y[-1, 0] == 1.25  # X varies along columns
    dx = x[0, 1] - x[0, 0]
    dy = y[1, 0] - y[0, 0]
    assert z.sum() * dx * dy == pytest.approx(1.0, abs=0.01)
    i, j = np.unravel_index(np.argmax(z), z.shape)
    assert x[i, j] == pytest.approx(0.5, abs=0.1) and y[i, j] == pytest.approx(-0.3, abs=0.1)


def test_kde_grid_accepts_a_rectangular_extent_and_a_fitted_kde():
    pts = np.random.default_rng(0).normal(size=(500, 2))
    fitted = kde(pts)
    x, y, z = kde_grid(fitted, extent=(-2, 2, -1, 1), n=20)
    assert x.min() == -2 and x.max() == 2 and y.min() == -1 and y.max() == 1
    np.testing.assert_allclose(z, kde_grid(pts, extent=(-2, 2, -1, 1), n=20)[2])


def test_kde_grid_1d():
    pts = np.random.default_rng(0).normal(size=(500, 1))
    x, dens = kde_grid(pts, extent=(-6, 6), n=400)
    assert x.shape == dens.shape == (400,)
    assert np.trapezoid(dens, x) == pytest.approx(1.0, abs=1e-3)
