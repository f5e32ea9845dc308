r"""How much of a drift the score explains: :math:`R^2` of drift against a fitted multiple of the score.

The plain cosine of drift and score has a generic positive part: any contracting drift and the score of any
roughly unimodal law both point to the mean. This module measures instead the fraction of the drift's
variance, among the densest states, that :math:`c\,\nabla\log p` accounts for (:func:`explained_drift`), and
its bootstrap over trials (:func:`explained_drift_interval`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import as_array

__all__ = ["AFFINE_TOLERANCE", "DriftFitSums", "affine_residual", "dense_mask", "drift_fit_sums", "explained_drift",
           "explained_drift_interval"]

#: Relative size below which a drift's residual from its affine fit is rounding error (an affine drift).
AFFINE_TOLERANCE = 1e-6


def affine_residual(vectors, points) -> np.ndarray:
    r"""``vectors (..., k)`` minus their least-squares affine fit :math:`[z, 1]\beta` in ``points (..., k)``."""
    v, z = as_array(vectors, "vectors"), as_array(points, "points")
    k = v.shape[-1]
    flat = v.reshape(-1, k)
    design = np.concatenate([z.reshape(-1, z.shape[-1]), np.ones((flat.shape[0], 1))], axis=1)
    return (flat - design @ np.linalg.lstsq(design, flat, rcond=None)[0]).reshape(v.shape)


def dense_mask(log_density, top: float) -> np.ndarray:
    """The samples whose log density lies in the top fraction ``top`` (``1``: all samples)."""
    ld = as_array(log_density, "log_density")
    if not (isinstance(top, int | float) and 0 < top <= 1):
        raise ValueError(f"top is the fraction of densest samples kept, in (0, 1]; got {top!r}")
    if top == 1:
        return np.ones(ld.shape, dtype=bool)
    return ld >= np.quantile(ld, 1 - top)


@dataclass(frozen=True)
class DriftFitSums:
    r"""Per-trial sums from which :math:`R^2` is computed (so a bootstrap over trials re-adds them).

    Attributes
    ----------
    n : ndarray (B,)
        Samples kept per trial.
    dd, ds, ss : ndarray (B,)
        :math:`\sum\|d\|^2`, :math:`\sum d\cdot s`, :math:`\sum\|s\|^2` over the kept samples of each trial.
    d_sum : ndarray (B, k)
        :math:`\sum d` over the kept samples of each trial.
    """

    n: np.ndarray
    dd: np.ndarray
    ds: np.ndarray
    ss: np.ndarray
    d_sum: np.ndarray

    def r2(self, trials=None) -> float:
        r""":math:`R^2` over the trials ``trials`` (indices, repeats allowed; default all)."""
        idx = slice(None) if trials is None else np.asarray(trials, dtype=np.intp)
        n, dd, ds, ss = (float(a[idx].sum()) for a in (self.n, self.dd, self.ds, self.ss))
        d_sum = self.d_sum[idx].sum(axis=0)
        total = dd - float(d_sum @ d_sum) / n if n else 0.0
        if total <= 0 or ss <= 0:
            return float("nan")
        return 1.0 - (dd - ds * ds / ss) / total

    def scale(self) -> float:
        r"""The fitted :math:`c = \sum d\cdot s/\sum\|s\|^2`."""
        ss = float(self.ss.sum())
        return float(self.ds.sum()) / ss if ss > 0 else float("nan")


def drift_fit_sums(drift, score, mask=None) -> DriftFitSums:
    """The per-trial sums of :class:`DriftFitSums` for ``drift``, ``score`` ``(B, T, k)`` over ``mask (B, T)``."""
    d, s = as_array(drift, "drift"), as_array(score, "score")
    if d.shape != s.shape or d.ndim != 3:
        raise ValueError(f"drift and score must share a (trials, samples, k) shape; got {d.shape} and {s.shape}")
    m = np.ones(d.shape[:2], dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if m.shape != d.shape[:2]:
        raise ValueError(f"mask has shape {m.shape}; it must be (trials, samples) = {d.shape[:2]}")
    w = m[..., None].astype(np.float64)
    return DriftFitSums(n=m.sum(axis=1).astype(np.float64), dd=np.einsum("btk,btk->b", w * d, d),
                        ds=np.einsum("btk,btk->b", w * d, s), ss=np.einsum("btk,btk->b", w * s, s),
                        d_sum=(w * d).sum(axis=1))


def explained_drift(drift, score, *, log_density=None, top: float = 0.5, points=None) -> float:
    r"""Fraction of the drift's variance among the densest samples explained by a fitted multiple of the score.

    Parameters
    ----------
    drift, score : array_like, shape (B, T, k)
        Drift per step and score at the samples (trials, samples, coordinates).
    log_density : array_like, shape (B, T), optional
        Log density of the law at the samples; with it only the top fraction ``top`` is used.
    top : float
        Fraction of the densest samples kept (0.5: the densest half; 1: all).
    points : array_like, shape (B, T, k), optional
        The samples' coordinates. Given, drift and score are first replaced by their residuals from their
        best affine fits in the coordinates over all samples (:func:`affine_residual`): the non-linear part.

    Returns
    -------
    float
        :math:`R^2`; 1 when the drift is exactly :math:`c\,s`, about 0 when the score does not predict it,
        negative when :math:`c\,s` predicts it worse than the drift's mean (e.g. a constant offset). ``nan``
        when the kept drift does not vary, or (with ``points``) when the drift is affine in the coordinates
        (its residual below :data:`AFFINE_TOLERANCE` of its size: there is no non-linear part to explain).

    Notes
    -----
    Over the kept set :math:`S` (log density :math:`\geq` its :math:`1-` ``top`` quantile),

    .. math:: R^2 = 1 - \frac{\sum_{i\in S}\|d_i - c\,s_i\|^2}{\sum_{i\in S}\|d_i - \bar d\|^2},
              \qquad c = \frac{\sum_S d_i\cdot s_i}{\sum_S\|s_i\|^2},

    where :math:`c` minimises the numerator, which is then :math:`\sum\|d\|^2 - (\sum d\cdot s)^2/\sum\|s\|^2`.
    The model has no intercept, as the theory (:math:`d = \sigma^2\Delta t\,\nabla\log p`) has none.

    *Why it is well posed where the cosine is not.* A linear contraction :math:`d = -a(x-\mu)` and the score
    of a unimodal law both point to the mean, so their cosine is positive whatever the law's shape. Among the
    densest states of a multimodal law the score points to the nearest mode and is small, while the
    contraction points to the global mean with a size that differs between modes: most of the drift's
    variance there is left unexplained (:math:`R^2 \ll 1`), though the cosine over all samples is positive.
    A drift that *is* :math:`c\,\nabla\log p` (a Langevin sampler) gives :math:`R^2 \approx 1` up to the
    error of the score estimate; a drift unrelated to the score gives :math:`R^2 \approx 0`. Restricting to
    the dense region keeps the tails, where every inward drift agrees with every score, from dominating the
    sums. With ``points``, the best affine fits are removed first, so the affine part that a Gaussian law's
    score shares with any linear contraction is excluded entirely.

    *Fisher divergence.* With the same :math:`c`, the normalised Fisher-type divergence
    :math:`\sum_S\|d/c - s\|^2/\sum_S\|s\|^2 = 1/\rho^2 - 1` with
    :math:`\rho^2 = (\sum d\cdot s)^2/(\sum\|d\|^2\sum\|s\|^2)`, the uncentred :math:`R^2`: it carries the same
    information as :math:`R^2` without the centring, which is why only :math:`R^2` is reported.
    """
    d, s = _residuals(drift, score, points)
    if d is None:
        return float("nan")
    mask = None if log_density is None else dense_mask(log_density, top)
    return drift_fit_sums(d, s, mask).r2()


def _residuals(drift, score, points):
    """Drift and score, or their affine residuals with ``points``; ``(None, None)`` for an affine drift."""
    d, s = as_array(drift, "drift"), as_array(score, "score")
    if points is None:
        return d, s
    rd = affine_residual(d, points)
    if np.sum(rd * rd) <= AFFINE_TOLERANCE**2 * np.sum(d * d):
        return None, None
    return rd, affine_residual(s, points)


def explained_drift_interval(drift, score, *, log_density=None, top: float = 0.5, points=None,
                             n_resamples: int = 2000, confidence: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of :func:`explained_drift`, resampling whole trials (axis 0).

    The score, the affine fits and the density threshold are held fixed: the interval covers the spread over
    trials, not the estimator's own error (as :func:`~neurorx.analysis.score.alignment_intervals`).
    """
    from scipy.stats import bootstrap

    d = as_array(drift, "drift")
    if d.ndim != 3 or d.shape[0] < 2:
        raise ValueError(f"a bootstrap over trials needs (trials >= 2, samples, k) arrays; got shape {d.shape}")
    d, s = _residuals(d, score, points)
    if d is None:
        return float("nan"), float("nan")
    sums = drift_fit_sums(d, s, None if log_density is None else dense_mask(log_density, top))
    ci = bootstrap((np.arange(d.shape[0]),), sums.r2, vectorized=False, n_resamples=n_resamples,
                   confidence_level=confidence, method="percentile", rng=np.random.default_rng(seed)
                   ).confidence_interval
    return float(ci.low), float(ci.high)
