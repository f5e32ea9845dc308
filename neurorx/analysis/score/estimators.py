r"""Score estimators: the registry :data:`SCORE_ESTIMATORS` of ``f(points, at, **options) -> score``.

``"kde"`` is the analytic gradient of a Gaussian KDE's log density (:func:`kde_score`), ``"dsm"`` denoising
score matching with a small MLP (:func:`~neurorx.analysis.score.dsm.dsm_score`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import logsumexp

from neurorx.registry import Registry

from .._validate import as_array
from ..density import kde
from .dsm import dsm_score

__all__ = ["SCORE_ESTIMATORS", "kde_score", "score_bandwidth"]


#: Score estimators ``f(points (n, d), at (m, d), **options) -> (m, d)``; each ignores the others' options.
SCORE_ESTIMATORS: Registry[Callable[..., np.ndarray]] = Registry("score estimator")


def score_bandwidth(estimate) -> float:
    r"""Bandwidth factor :math:`n^{-1/(d+6)}` for KDE gradients (a ``bw_method`` callable).

    The rate-optimal factor for estimating a density's first derivatives is wider than Scott's
    :math:`n^{-1/(d+4)}` (which is tuned for the density itself): the score of a narrow KDE is dominated by
    its nearest kernels and is noisy.
    """
    return float(estimate.n ** (-1.0 / (estimate.d + 6)))


def kde_score(points, at, *, bw_method=score_bandwidth, max_points: int = 20000, seed: int = 0, **_) -> np.ndarray:
    r"""Score :math:`\nabla\log\hat p` of a Gaussian KDE of ``points (n, d)``, evaluated at ``at (m, d)``.

    Notes
    -----
    With kernels :math:`\mathcal N(x_i, C)` (``C = gaussian_kde.covariance``: the data covariance times
    :func:`score_bandwidth` squared by default; ``bw_method="scott"`` for the density's rule),

    .. math:: \nabla\log\hat p(x) = \sum_i w_i(x)\, C^{-1}(x_i - x),\qquad
              w_i(x) \propto \exp\!\left(-\tfrac12 (x-x_i)^\top C^{-1}(x-x_i)\right),

    the exact gradient of the estimate's log density. It is the score of :math:`p * \mathcal N(0, C)`,
    i.e. of the active law smoothed by the kernel. At most ``max_points`` kernels (a random subset).
    Every estimator in :data:`SCORE_ESTIMATORS` takes ``(points, at, **options)`` and ignores the options of
    the others (``sigma``, ``steps``), so one call can try them all.
    """
    x = as_array(points, "points")
    q = as_array(at, "at")
    if x.ndim != 2 or q.ndim != 2 or x.shape[1] != q.shape[1]:
        raise ValueError(f"points (n, d) and at (m, d) must share d; got {x.shape} and {q.shape}")
    if x.shape[0] > max_points:
        x = x[np.random.default_rng(seed).choice(x.shape[0], max_points, replace=False)]
    est = kde(x, bw_method=bw_method)
    prec = np.linalg.inv(np.atleast_2d(est.covariance))
    xp = x @ prec                                   # (n, d)
    quad_x = np.einsum("nd,nd->n", xp, x)
    out = np.empty_like(q)
    for s in range(0, q.shape[0], 1024):
        qb = q[s:s + 1024]
        qp = qb @ prec
        # -0.5 (q - x)^T P (q - x) = -0.5 q'Pq + q'Px - 0.5 x'Px
        logits = qp @ x.T - 0.5 * quad_x[None, :] - 0.5 * np.einsum("md,md->m", qp, qb)[:, None]
        w = np.exp(logits - logsumexp(logits, axis=1, keepdims=True))
        out[s:s + 1024] = w @ xp - qp
    return out


SCORE_ESTIMATORS.register("kde")(kde_score)
SCORE_ESTIMATORS.register("dsm")(dsm_score)
