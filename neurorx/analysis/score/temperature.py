r"""The quiescent stationary law against the temperature prediction of its noise scale."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import logsumexp

from .._validate import as_array
from ..density import kde

__all__ = ["tempered_comparison"]


def tempered_comparison(active, quiescent, k: float, *, grid: int = 120, pad: float = 0.5,
                        bw_method="scott") -> dict:
    r"""Compare a quiescent cloud with the temperature prediction :math:`p^{2/k^2}` of the active one (2-D).

    Parameters
    ----------
    active, quiescent : array_like, shape (n, 2)
        Points in the same plane (e.g. PC1–PC2 of the active states).
    k : float
        Quiescent noise scale relative to training (:math:`\sqrt2`: the paper's doubled variance).

    Returns
    -------
    dict
        ``kl_quiescent_active`` :math:`KL(q\|p)`, ``kl_tempered_active`` :math:`KL(p_\beta\|p)` (what the theory
        predicts for the first), ``kl_quiescent_tempered`` :math:`KL(q\|p_\beta)`, ``variance_ratio``
        (total variance of q over that of p) and ``predicted_variance_ratio`` (that of :math:`p_\beta` over p;
        :math:`k^2/2` for a Gaussian), all in nats on a grid.

    Notes
    -----
    Densities are Gaussian KDEs evaluated on a ``grid x grid`` box around both clouds and normalised there;
    :math:`p_\beta \propto \hat p^{\beta}` with :math:`\beta = 2/k^2`.
    """
    a, b = as_array(active, "active"), as_array(quiescent, "quiescent")
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != 2 or b.shape[1] != 2:
        raise ValueError(f"active and quiescent must be (n, 2) point clouds; got {a.shape}, {b.shape}")
    if not (isinstance(k, int | float) and k > 0):
        raise ValueError(f"k must be a positive noise scale; got {k!r}")
    both = np.concatenate([a, b])
    lo, hi = both.min(0), both.max(0)
    span = hi - lo
    axes = [np.linspace(lo[i] - pad * span[i], hi[i] + pad * span[i], grid) for i in range(2)]
    gx, gy = np.meshgrid(*axes, indexing="ij")
    pts = np.vstack([gx.ravel(), gy.ravel()])
    cell = (axes[0][1] - axes[0][0]) * (axes[1][1] - axes[1][0])

    def norm(logp):
        return logp - logsumexp(logp) - math.log(cell)

    lp = norm(kde(a, bw_method=bw_method).logpdf(pts))
    lq = norm(kde(b, bw_method=bw_method).logpdf(pts))
    beta = 2.0 / k**2
    lt = norm(beta * lp)

    def kl(l1, l2):
        return float(np.sum(np.exp(l1) * (l1 - l2)) * cell)

    def total_var(logp):
        w = np.exp(logp) * cell
        m = pts @ w / w.sum()
        return float(((pts - m[:, None]) ** 2 * w).sum() / w.sum())

    return {"k": float(k), "beta": beta, "kl_quiescent_active": kl(lq, lp), "kl_tempered_active": kl(lt, lp),
            "kl_quiescent_tempered": kl(lq, lt), "variance_ratio": total_var(lq) / total_var(lp),
            "predicted_variance_ratio": total_var(lt) / total_var(lp), "gaussian_prediction": k**2 / 2,
            "sample_variance_ratio": float(b.var(0).sum() / a.var(0).sum())}
