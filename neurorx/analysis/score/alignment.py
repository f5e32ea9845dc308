r"""Score alignment of a drift with the score of the active states: per-sample cosine, scale, bootstrap."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._validate import as_array
from ..density import kde
from .drift import noise_step_moments, quiescent_drift
from .estimators import SCORE_ESTIMATORS
from .explained import explained_drift, explained_drift_interval
from .subspace import Subspace, fit_subspace

__all__ = ["ScoreAlignment", "alignment_intervals", "cosine_similarity", "score_alignment"]


def cosine_similarity(a, b) -> np.ndarray:
    """Row-wise cosine of two ``(..., d)`` arrays (0 where either vector is 0)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    na, nb = np.linalg.norm(a, axis=-1), np.linalg.norm(b, axis=-1)
    den = na * nb
    return np.divide(np.einsum("...d,...d->...", a, b), den, out=np.zeros_like(den), where=den > 0)


@dataclass
class ScoreAlignment:
    r"""Drift against score at active samples, in the principal subspace.

    Attributes
    ----------
    drift, score : ndarray (B, T, k)
        Projected drift per training step and estimated score, per trial and sample.
    points : ndarray (B, T, k)
        The samples' coordinates.
    cosine : ndarray (B, T)
        Cosine of drift and score.
    scale : float
        Least-squares :math:`c` in drift :math:`\approx c\cdot` score (:math:`\sum d\cdot s/\sum s\cdot s`).
    theory_scale : float
        The theory's :math:`\sigma^2\Delta t`: the per-step variance of the training noise.
    subspace : Subspace
    estimator : str
    log_density : ndarray (B, T)
        Log density of the active KDE at the samples (where they disagree: see :meth:`by_density`).
    info : dict
        Settings (noise level of the estimator, noise mean included, ...).
    """

    drift: np.ndarray
    score: np.ndarray
    points: np.ndarray
    cosine: np.ndarray
    scale: float
    theory_scale: float
    subspace: Subspace
    estimator: str
    log_density: np.ndarray
    info: dict = field(default_factory=dict)

    @property
    def mean_cosine(self) -> float:
        """Mean cosine over all samples."""
        return float(self.cosine.mean())

    def by_density(self, bins: int = 5) -> dict[str, np.ndarray]:
        """Mean cosine in quantile bins of the active log density (bin 0: the rarest states)."""
        ld = self.log_density.ravel()
        edges = np.quantile(ld, np.linspace(0, 1, bins + 1))
        idx = np.clip(np.searchsorted(edges, ld, side="right") - 1, 0, bins - 1)
        cos = self.cosine.ravel()
        return {"edges": edges, "mean_cosine": np.array([cos[idx == i].mean() for i in range(bins)])}

    def nonlinear_cosine(self) -> np.ndarray:
        r"""Cosine of drift and score after removing from each its best affine fit in the coordinates, (B, T).

        Any contracting network's drift and the score of any unimodal law both point roughly towards the
        mean (a linear, Gaussian-like component): this measures whether the *rest* (the place-specific,
        multi-modal structure) agrees. Least squares :math:`d \approx [z, 1]\,\beta`, :math:`s \approx [z, 1]\,\gamma`
        over all samples; cosine of the residuals.
        """
        k = self.points.shape[-1]
        z = np.concatenate([self.points.reshape(-1, k), np.ones((self.points[..., 0].size, 1))], axis=1)

        def residual(v):
            v = v.reshape(-1, k)
            return v - z @ np.linalg.lstsq(z, v, rcond=None)[0]

        return cosine_similarity(residual(self.drift), residual(self.score)).reshape(self.cosine.shape)

    def explained_drift(self, top: float = 0.5, *, nonlinear: bool = False) -> float:
        r"""Fraction of the drift's variance in the densest ``top`` of the samples explained by :math:`c\cdot` score.

        :func:`~neurorx.analysis.score.explained.explained_drift` with this result's log density; with
        ``nonlinear`` the best affine fits in the coordinates are removed from drift and score first.
        """
        return explained_drift(self.drift, self.score, log_density=self.log_density, top=top,
                               points=self.points if nonlinear else None)

    def summary(self) -> dict:
        """JSON-able numbers."""
        q = np.quantile(self.cosine, [0.1, 0.25, 0.5, 0.75, 0.9])
        return {"estimator": self.estimator, "mean_cosine": self.mean_cosine,
                "cosine_quantiles": dict(zip(("q10", "q25", "q50", "q75", "q90"), map(float, q), strict=True)),
                "fraction_positive": float((self.cosine > 0).mean()), "scale": self.scale,
                "mean_nonlinear_cosine": float(self.nonlinear_cosine().mean()),
                "explained_drift": self.explained_drift(0.5),
                "explained_drift_nonlinear": self.explained_drift(0.5, nonlinear=True),
                "theory_scale": self.theory_scale,
                "scale_over_theory": self.scale / self.theory_scale if self.theory_scale else None,
                "n_components": self.subspace.n_components,
                "explained_variance": float(self.subspace.explained.sum()),
                "cosine_by_density_quintile": self.by_density(5)["mean_cosine"].tolist(), **self.info}


def score_alignment(network, states, *, score_states=None, estimator: str = "kde", subspace: Subspace | None = None,
                    variance: float = 0.9, max_components: int = 8, n_components: int | None = None,
                    noise_mean: float = 1.0, drift=None,
                    sigma: float | None = None, seed: int = 0, **estimator_options) -> ScoreAlignment:
    r"""Cosine alignment and scale of a network's quiescent drift with the score of an active distribution.

    Parameters
    ----------
    network : RateNetwork
        The drift's network (its cell, weights and training noise).
    states : array_like, shape (B, T, N)
        Active hidden states (e.g. ``rec.h`` of an :class:`~neurorx.Active` phase, burn-in dropped); the drift
        and the score are evaluated here. Trials (axis 0) are the bootstrap units of
        :func:`alignment_intervals`.
    score_states : array_like, shape (..., N), optional
        The samples whose distribution is scored (default ``states``): controls score another distribution.
    estimator : {"kde", "dsm"}
        A name in :data:`SCORE_ESTIMATORS`.
    subspace : Subspace, optional
        Default: :func:`fit_subspace` of ``score_states`` with ``variance`` / ``max_components`` /
        ``n_components``.
    noise_mean : float
        Passed to :func:`quiescent_drift` (1: include the training noise's mean).
    drift : array_like (B, T, N), optional
        A drift computed elsewhere (e.g. :func:`continuous_flow`) instead of :func:`quiescent_drift`.
    sigma : float, optional
        Noise level of the DSM estimator; default the SD of the network's per-step training noise.
    seed : int
    **estimator_options
        Passed to the estimator.

    Returns
    -------
    ScoreAlignment

    Notes
    -----
    With the subspace basis :math:`P` (k x N), drift :math:`d_i = P\,d(h_i)` and score
    :math:`s_i = \widehat{\nabla\log p}(P(h_i-\bar h))`: cosine :math:`d_i\cdot s_i/\|d_i\|\|s_i\|` and scale
    :math:`c = \sum_i d_i\cdot s_i/\sum_i\|s_i\|^2`. The theory (Eq. 16) predicts :math:`c = \sigma^2\Delta t`,
    the per-step noise variance :math:`v` (``theory_scale``), against the score of the noisy active law; a
    Langevin sampler of its own stationary law at noise :math:`v` would have :math:`c = v/2`.
    """
    est = SCORE_ESTIMATORS.get(estimator)
    h = as_array(states, "states")
    if h.ndim != 3 or h.shape[-1] != network.n_rec:
        raise ValueError(f"states must have shape (trials, samples, N={network.n_rec}); got {h.shape}. Use "
                         "rec.h[:, burn_in:] of a recording made with record=('h',)")
    ref = h if score_states is None else as_array(score_states, "score_states")
    ref = ref.reshape(-1, ref.shape[-1])
    sub = subspace or fit_subspace(ref, variance=variance, max_components=max_components, n_components=n_components)
    d_full = quiescent_drift(network, h, noise_mean=noise_mean) if drift is None else as_array(drift, "drift")
    if d_full.shape != h.shape:
        raise ValueError(f"drift has shape {d_full.shape}; it must match states {h.shape}")
    z_ref, z = sub.project(ref), sub.project(h)
    d = sub.project_vectors(d_full)
    v = noise_step_moments(network)[1]
    info = {"noise_mean": noise_mean, "noise_variance_per_step": v}
    if estimator == "dsm":
        sigma = sigma if sigma is not None else math.sqrt(v)
        info["dsm_sigma"] = sigma
        estimator_options["sigma"] = sigma
    s = est(z_ref, z.reshape(-1, sub.n_components), seed=seed, **estimator_options).reshape(z.shape)
    log_density = kde(z_ref[np.random.default_rng(seed).choice(len(z_ref), min(len(z_ref), 5000), replace=False)]
                      ).logpdf(z.reshape(-1, sub.n_components).T).reshape(z.shape[:2])
    cos = cosine_similarity(d, s)
    ss = float(np.sum(s * s))
    scale = float(np.sum(d * s)) / ss if ss > 0 else float("nan")
    return ScoreAlignment(drift=d, score=s, points=z, cosine=cos, scale=scale, theory_scale=v, subspace=sub,
                          estimator=estimator, log_density=log_density, info=info)


def alignment_intervals(result: ScoreAlignment, *, n_resamples: int = 2000, confidence: float = 0.95,
                        seed: int = 0, top: float = 0.5) -> dict[str, tuple[float, float]]:
    """Bootstrap intervals over trials of the mean cosine, the scale, the mean non-linear cosine and the
    explained drift (:meth:`ScoreAlignment.explained_drift` in the densest ``top``, plain and non-linear).

    Percentile intervals from :func:`scipy.stats.bootstrap`, resampling whole trials.

    The score estimate is held fixed (not refitted per resample): the intervals cover the spread over trials
    of the drift-score agreement, not the estimator's own error.
    """
    from scipy.stats import bootstrap

    if result.cosine.shape[0] < 2:
        raise ValueError("bootstrap intervals over trials need at least 2 trials")
    per_trial_cos = result.cosine.mean(axis=1)
    ds = np.einsum("btd,btd->b", result.drift, result.score)
    ss = np.einsum("btd,btd->b", result.score, result.score)
    rng = np.random.default_rng(seed)
    ci_cos = bootstrap((per_trial_cos,), np.mean, n_resamples=n_resamples, confidence_level=confidence,
                       method="percentile", rng=rng).confidence_interval
    ci_scale = bootstrap((ds, ss), lambda a, b, axis=-1: a.sum(axis) / b.sum(axis), paired=True,
                         n_resamples=n_resamples, confidence_level=confidence, method="percentile",
                         rng=rng).confidence_interval
    ci_nl = bootstrap((result.nonlinear_cosine().mean(axis=1),), np.mean, n_resamples=n_resamples,
                      confidence_level=confidence, method="percentile", rng=rng).confidence_interval
    explained = {f"explained_drift{suffix}": explained_drift_interval(
        result.drift, result.score, log_density=result.log_density, top=top, points=points,
        n_resamples=n_resamples, confidence=confidence, seed=seed)
        for suffix, points in (("", None), ("_nonlinear", result.points))}
    return {"mean_cosine": (float(ci_cos.low), float(ci_cos.high)),
            "scale": (float(ci_scale.low), float(ci_scale.high)),
            "mean_nonlinear_cosine": (float(ci_nl.low), float(ci_nl.high)), **explained}
