"""Principal components of hidden states: dimensionality (Fig. 1c) and projections (Fig. 1, 3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._validate import as_array, check_finite, check_int

if TYPE_CHECKING:  # pragma: no cover
    from sklearn.decomposition import PCA

__all__ = ["explained_variance", "fit_pca", "project"]


def _as_rows(states, name: str = "states") -> tuple[np.ndarray, tuple[int, ...]]:
    """Flatten ``(..., N)`` to ``(M, N)``; return the rows and the leading shape."""
    arr = as_array(states, name)
    if arr.ndim < 2:
        raise ValueError(
            f"{name} must have shape (..., N) with N units in the last axis and at least one leading axis, "
            f"e.g. (B, T, N) or (M, N); got shape {arr.shape}. For a single state use {name}[None]."
        )
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}).")
    check_finite(arr, name)
    lead = arr.shape[:-1]
    return arr.reshape(-1, arr.shape[-1]), lead


def fit_pca(states, n_components: int | None = None, **pca_kwargs) -> PCA:
    r"""Fit a scikit-learn PCA to states pooled over all leading axes.

    Parameters
    ----------
    states : array_like, shape (..., N)
        E.g. hidden states ``(B, T, N)``; reshaped to ``(B*T, N)`` samples.
    n_components : int, optional
        Components to keep (default: all, ``min(B*T, N)``).
    **pca_kwargs
        Passed to :class:`sklearn.decomposition.PCA` (e.g. ``svd_solver``, ``random_state``).

    Returns
    -------
    sklearn.decomposition.PCA
        The fitted object; ``components_`` has shape ``(n_components, N)``.

    Notes
    -----
    The data are centred (:math:`X - \bar X`) but not scaled, as in the reference notebooks
    (``PCA().fit(h.reshape(-1, n_rec))``).
    """
    from sklearn.decomposition import PCA

    x, _ = _as_rows(states)
    m, n = x.shape
    if m < 2:
        raise ValueError(f"PCA needs at least 2 samples; states pool to {m} row(s) of {n} units.")
    if n_components is not None:
        n_components = check_int(n_components, "n_components", minimum=1)
        if n_components > min(m, n):
            raise ValueError(
                f"n_components = {n_components} exceeds min(samples, units) = min({m}, {n}); ask for at most "
                f"{min(m, n)}."
            )
    return PCA(n_components=n_components, **pca_kwargs).fit(x)


def explained_variance(states, n_components: int = 10) -> np.ndarray:
    r"""Cumulative explained-variance ratio of the leading principal components.

    Parameters
    ----------
    states : array_like, shape (..., N)
        Hidden states, pooled over all leading axes (e.g. ``(B, T, N)`` -> ``(B*T, N)``).
    n_components : int, default 10
        How many leading components to report (the paper plots 1..10).

    Returns
    -------
    numpy.ndarray, shape (n_components,)
        Non-decreasing values in (0, 1]; entry ``k-1`` is the fraction of the total variance captured by
        the first ``k`` components.

    Notes
    -----
    With the eigenvalues :math:`\lambda_1 \ge \dots \ge \lambda_N` of the sample covariance,

    .. math:: c_k = \frac{\sum_{i \le k} \lambda_i}{\sum_{i=1}^{N} \lambda_i},

    the reference notebook's ``pca.explained_variance_ratio_.cumsum()[:10]`` with a full, exact PCA fit
    per condition (active and quiescent each get their own PCA).
    """
    n_components = check_int(n_components, "n_components", minimum=1)
    x, _ = _as_rows(states)
    m, n = x.shape
    if n_components > min(m, n):
        raise ValueError(
            f"n_components = {n_components} exceeds min(samples, units) = min({m}, {n}); ask for at most {min(m, n)}."
        )
    pca = fit_pca(x)
    if not np.all(np.isfinite(pca.explained_variance_ratio_)):
        raise ValueError("states have zero total variance (every sample identical): explained variance is undefined.")
    return np.cumsum(pca.explained_variance_ratio_)[:n_components]


def project(states, pca: PCA, n_components: int | None = None) -> np.ndarray:
    r"""Project states onto the principal axes of a fitted PCA, keeping the leading shape.

    Parameters
    ----------
    states : array_like, shape (..., N)
        States to project, e.g. quiescent hidden states ``(B, T, N)``.
    pca : sklearn.decomposition.PCA
        A PCA fitted on ``N`` features, e.g. ``fit_pca(active_states)``: quiescent activity is shown in the
        *active* PC basis, as in the paper.
    n_components : int, optional
        Keep only the first ``n_components`` coordinates (default: all fitted components).

    Returns
    -------
    numpy.ndarray, shape (..., n_components)
        PC coordinates.

    Notes
    -----
    .. math:: z = (x - \mu_{\text{fit}})\, V_k^{\top},

    where :math:`\mu_{\text{fit}}` is the mean of the data the PCA was fitted on (not of ``states``) and
    the rows of :math:`V_k` are the first k principal axes; identical to ``pca.transform`` (with
    ``whiten=False``).
    """
    if not hasattr(pca, "components_") or not hasattr(pca, "transform"):
        raise TypeError(
            f"pca must be a fitted sklearn.decomposition.PCA (e.g. from fit_pca(active_states)); got "
            f"{type(pca).__name__}."
        )
    x, lead = _as_rows(states)
    n_feat = pca.components_.shape[1]
    if x.shape[1] != n_feat:
        raise ValueError(
            f"states have {x.shape[1]} units in the last axis but the PCA was fitted on {n_feat}; project "
            f"states of the same network (shape (..., {n_feat}))."
        )
    k_max = pca.components_.shape[0]
    k = k_max if n_components is None else check_int(n_components, "n_components", minimum=1)
    if k > k_max:
        raise ValueError(f"n_components = {k} exceeds the {k_max} component(s) the PCA was fitted with.")
    z = pca.transform(x)[:, :k]
    return z.reshape(*lead, k)
