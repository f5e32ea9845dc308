"""Kernel density estimates of point clouds (decoded positions, PC projections).

Thin, validated wrappers around :class:`scipy.stats.gaussian_kde`, which the reference code uses for the
KL matrix (Fig. 2e) and the density contour plots (Fig. 1, 2). Points are passed as ``(n, d)`` arrays
(one row per point), the numpy convention, *not* scipy's ``(d, n)``.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy.stats import gaussian_kde

from ._validate import as_array, as_points, check_int

__all__ = ["kde", "kde_grid"]

_BW_NAMES = ("scott", "silverman")
_BW_HELP = "bw_method must be 'scott', 'silverman', a positive number or a callable; got {!r}."


def _check_bw_method(bw_method):
    if bw_method is None or callable(bw_method):
        return bw_method
    if isinstance(bw_method, str):
        if bw_method not in _BW_NAMES:
            raise ValueError(_BW_HELP.format(bw_method))
        return bw_method
    if isinstance(bw_method, numbers.Real) and not isinstance(bw_method, bool):
        if not (np.isfinite(bw_method) and bw_method > 0):
            raise ValueError(f"a numeric bw_method is a scale factor and must be > 0; got {bw_method!r}.")
        return float(bw_method)
    raise TypeError(_BW_HELP.format(bw_method))


def kde(points, bw_method="scott") -> gaussian_kde:
    r"""Fit a Gaussian kernel density estimate to a cloud of points.

    Parameters
    ----------
    points : array_like, shape (n, d)
        One point per row, e.g. decoded positions pooled over trials and time,
        ``decoded.reshape(-1, d)``. Must be finite, with ``n > d`` and a non-degenerate spread in
        every dimension.
    bw_method : {"scott", "silverman"} or float or callable, default "scott"
        Bandwidth rule, passed to :class:`scipy.stats.gaussian_kde`. ``"scott"`` is scipy's default
        and the reference code's choice.

    Returns
    -------
    scipy.stats.gaussian_kde
        The fitted estimator: ``.pdf``, ``.logpdf`` and ``.resample`` take and return ``(d, m)`` arrays
        (scipy's layout).

    Raises
    ------
    ValueError
        If ``points`` is not 2-D, is empty, contains NaN/inf, has too few points, or is degenerate
        (a constant coordinate, or all points on a lower-dimensional subspace).

    Notes
    -----
    The estimate is

    .. math:: \hat p(x) = \frac{1}{n} \sum_{i=1}^{n} \mathcal{N}(x;\, x_i,\, h^2 \hat\Sigma),

    with :math:`\hat\Sigma` the sample covariance of the points and Scott's factor
    :math:`h = n^{-1/(d+4)}`. The expected KDE of a Gaussian cloud is therefore Gaussian with covariance
    :math:`(1 + h^2)\Sigma`, which biases divergences computed from KDEs (see
    :func:`neurorx.analysis.kl_divergence`).

    Examples
    --------
    >>> import numpy as np
    >>> k = kde(np.random.default_rng(0).normal(size=(500, 2)))
    >>> k.pdf(np.zeros((2, 1))).shape
    (1,)
    """
    pts = as_points(points, "points")
    n, d = pts.shape
    bw_method = _check_bw_method(bw_method)
    if n < d + 1:
        hint = ""
        if n < d:
            hint = (
                " If you passed scipy's (d, n) layout, transpose it: this function takes one point per row, "
                "shape (n, d)."
            )
        raise ValueError(
            f"a {d}-D kernel density estimate needs at least {d + 1} points (and many more for a useful "
            f"estimate); got {n} (points has shape {pts.shape}).{hint}"
        )
    spread = pts.std(axis=0)
    flat = np.flatnonzero(spread == 0)
    if flat.size:
        raise ValueError(
            f"points has zero spread in dimension(s) {flat.tolist()} (every point has the same value there), "
            f"so the KDE covariance is singular. Drop the constant column(s), or, if the data are truly "
            f"deterministic (e.g. a noiseless network at a fixed point), a density is not meaningful."
        )
    try:
        if np.linalg.matrix_rank(np.atleast_2d(np.cov(pts.T))) < d:
            raise np.linalg.LinAlgError("rank-deficient covariance")
        return gaussian_kde(pts.T, bw_method=bw_method)
    except np.linalg.LinAlgError:
        raise ValueError(
            f"the covariance of points (shape {pts.shape}) is singular: the points lie on a "
            f"lower-dimensional subspace (e.g. exactly collinear), so a {d}-D Gaussian KDE is undefined. "
            f"Project onto the subspace (e.g. with PCA) before estimating the density."
        ) from None


def kde_grid(points, extent, n: int = 100, bw_method="scott"):
    r"""Evaluate a KDE on a regular grid, for contour plots.

    Parameters
    ----------
    points : array_like, shape (m, d), or scipy.stats.gaussian_kde
        The points (``d`` = 1 or 2), or an already fitted KDE of dimension 1 or 2.
    extent : sequence of float
        Grid limits: ``(low, high)`` (1-D, or the same limits on both axes in 2-D) or
        ``(xmin, xmax, ymin, ymax)`` (2-D, matplotlib's ``extent`` order). The paper's output plots use
        ``(-1.25, 1.25)`` with ``n=100``.
    n : int, default 100
        Grid points per axis, end points included (``np.linspace(low, high, n)``).
    bw_method : {"scott", "silverman"} or float or callable, default "scott"
        Bandwidth rule, used when ``points`` are given.

    Returns
    -------
    tuple of numpy.ndarray
        1-D: ``(x, density)``, both of shape ``(n,)``.
        2-D: ``(X, Y, Z)``, each of shape ``(n, n)``, from ``np.meshgrid(x, y)`` (``X`` varies along
        columns), ready for ``plt.contour(X, Y, Z)``.

    Notes
    -----
    ``Z[i, j]`` is :math:`\hat p(x_j, y_i)`; on a fine enough grid
    :math:`\sum_{ij} Z_{ij}\, \Delta x\, \Delta y \approx` the KDE mass inside the extent.
    """
    if isinstance(points, gaussian_kde):
        est = points
    else:
        est = kde(points, bw_method=bw_method)
    d = est.d
    if d not in (1, 2):
        raise ValueError(f"kde_grid handles 1-D or 2-D densities only; the points have d = {d}: project first.")
    n = check_int(n, "n", minimum=2)
    ext = as_array(extent, "extent").ravel()
    if not np.all(np.isfinite(ext)):
        raise ValueError(f"extent must be finite; got {ext.tolist()}.")
    if ext.size == 2 and d == 2:
        ext = np.concatenate([ext, ext])
    if ext.size != 2 * d:
        raise ValueError(
            f"extent for a {d}-D density must be (low, high)"
            + (" or (xmin, xmax, ymin, ymax)" if d == 2 else "")
            + f"; got {ext.tolist()}."
        )
    if not np.all(ext[1::2] > ext[0::2]):
        raise ValueError(f"extent must have high > low on every axis; got {ext.tolist()}.")
    if d == 1:
        x = np.linspace(ext[0], ext[1], n)
        return x, est.pdf(x[None, :])
    x = np.linspace(ext[0], ext[1], n)
    y = np.linspace(ext[2], ext[3], n)
    xx, yy = np.meshgrid(x, y)
    zz = est.pdf(np.vstack([xx.ravel(), yy.ravel()])).reshape(xx.shape)
    return xx, yy, zz


def subsample_points(x, max_points: int, rng: np.random.Generator) -> np.ndarray:
    """Flatten ``x (..., d)`` to points ``(n, d)`` and keep at most ``max_points`` of them, drawn without replacement.

    Used to bound the cost of KDEs and pairwise distances on long runs (``rng`` makes the choice reproducible).
    """
    pts = np.asarray(x).reshape(-1, np.shape(x)[-1])
    if len(pts) > max_points:
        pts = pts[rng.choice(len(pts), max_points, replace=False)]
    return pts
