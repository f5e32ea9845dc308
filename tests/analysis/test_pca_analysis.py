"""explained_variance (Fig. 1c), fit_pca and project on data with a known spectrum."""

import numpy as np
import pytest
from sklearn.decomposition import PCA

from neurorx.analysis import explained_variance, fit_pca, project

EIGENVALUES = 4.0 * 0.5 ** np.arange(12)  # 4, 2, 1, 0.5, ...


def known_spectrum_states(batch=40, steps=500, seed=0):
    """(B, T, N) states whose covariance has eigenvalues EIGENVALUES along a random orthonormal basis."""
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.normal(size=(12, 12)))
    z = rng.normal(size=(batch * steps, 12)) * np.sqrt(EIGENVALUES)
    return (z @ basis.T + 3.0).reshape(batch, steps, 12)


def test_explained_variance_recovers_a_known_spectrum():
    states = known_spectrum_states()
    expected = np.cumsum(EIGENVALUES) / EIGENVALUES.sum()  # 0.50, 0.75, 0.875, ...
    # 20000 samples: each eigenvalue to ~1 % (sqrt(2/n)), so the ratios to < 0.01.
    np.testing.assert_allclose(explained_variance(states, n_components=10), expected[:10], atol=0.01)


def test_explained_variance_equals_the_reference_notebook():
    states = np.random.default_rng(1).normal(size=(20, 30, 8)) @ np.diag(np.arange(1.0, 9.0))
    reference = PCA().fit(states.reshape(-1, 8)).explained_variance_ratio_.cumsum()[:5]
    np.testing.assert_allclose(explained_variance(states, n_components=5), reference, rtol=1e-10)


def test_fit_pca_pools_leading_axes():
    states = known_spectrum_states(batch=10, steps=100)
    pca = fit_pca(states, n_components=3)
    assert pca.components_.shape == (3, 12)
    np.testing.assert_allclose(pca.mean_, states.reshape(-1, 12).mean(axis=0))


def test_project_keeps_the_leading_shape_and_equals_sklearn_transform():
    active = known_spectrum_states(batch=10, steps=100, seed=2)
    quiescent = known_spectrum_states(batch=4, steps=30, seed=3) * 0.5
    pca = fit_pca(active)
    z = project(quiescent, pca, n_components=2)
    assert z.shape == (4, 30, 2)
    manual = (quiescent.reshape(-1, 12) - pca.mean_) @ pca.components_[:2].T  # active mean, active axes
    np.testing.assert_allclose(z.reshape(-1, 2), manual, atol=1e-12)
    np.testing.assert_allclose(z.reshape(-1, 2), pca.transform(quiescent.reshape(-1, 12))[:, :2], atol=1e-12)


def test_projecting_the_fitted_data_gives_its_principal_variances():
    active = known_spectrum_states(batch=10, steps=200, seed=4)
    pca = fit_pca(active)
    z = project(active, pca)
    assert z.shape == (10, 200, 12)
    np.testing.assert_allclose(z.reshape(-1, 12).var(axis=0, ddof=1), pca.explained_variance_, rtol=1e-8)
    np.testing.assert_allclose(z.reshape(-1, 12).mean(axis=0), 0, atol=1e-10)
    # All components: an orthonormal change of basis, so the original is recovered.
    np.testing.assert_allclose(z.reshape(-1, 12) @ pca.components_ + pca.mean_, active.reshape(-1, 12), atol=1e-9)


def test_project_accepts_a_single_state_with_a_leading_axis():
    active = known_spectrum_states(batch=2, steps=50)
    pca = fit_pca(active, n_components=4)
    assert project(active[0, :1], pca).shape == (1, 4)


def test_explained_variance_is_nondecreasing_and_at_most_one():
    ev = explained_variance(np.random.default_rng(5).normal(size=(300, 6)), n_components=6)
    assert np.all(np.diff(ev) >= 0) and ev[-1] == pytest.approx(1.0)
