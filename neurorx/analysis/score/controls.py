r"""The drift-score measures of one network against their controls: what a sweep or a training curve records.

:func:`drift_score_measures` gives the four measures of a drift against a score with bootstrap intervals over
trials; :func:`network_score_measures` records a network's active states and returns them for the network and
two controls (shuffled score, untrained network's drift), as the ``score_measures`` sweep statistic does.
"""

from __future__ import annotations

import numpy as np

from .alignment import cosine_similarity, score_alignment
from .drift import quiescent_drift
from .explained import affine_residual, explained_drift, explained_drift_interval

__all__ = ["CONTROLS", "MEASURES", "drift_score_measures", "network_score_measures"]

#: The measures: mean cosine, mean non-linear cosine, explained drift R^2 (densest half) and its non-linear form.
MEASURES = ("mean_cosine", "nonlinear_cosine", "explained_drift", "explained_drift_nonlinear")
#: The network itself and its controls (see :func:`network_score_measures`).
CONTROLS = ("network", "permuted", "random")


def drift_score_measures(drift, score, points, log_density, *, top: float = 0.5, n_resamples: int = 500,
                         seed: int = 0) -> dict[str, tuple[float, float, float]]:
    r"""The :data:`MEASURES` of ``drift`` against ``score`` ``(B, T, k)``: ``name -> (value, low, high)``.

    Parameters
    ----------
    drift, score, points : array_like, shape (B, T, k)
        Drift, score and the samples' coordinates (trials, samples, subspace coordinates).
    log_density : array_like, shape (B, T)
        Log density at the samples (the explained drift keeps the densest fraction ``top``).
    n_resamples : int
        Bootstrap resamples of whole trials for the 95 % percentile intervals (``0``: no intervals, ``nan``).

    Notes
    -----
    Mean cosine :math:`\langle d\cdot s/\|d\|\|s\|\rangle`; non-linear cosine, the same after removing from
    drift and score their best affine fits in the coordinates
    (:func:`~neurorx.analysis.score.explained.affine_residual`); explained drift, :math:`R^2` of
    :math:`d \approx c\,s` in the densest ``top`` (:func:`~neurorx.analysis.score.explained.explained_drift`),
    plain and after the affine fits. The cosine intervals resample per-trial means, the :math:`R^2` intervals
    per-trial sums (:func:`~neurorx.analysis.score.explained.explained_drift_interval`).
    """
    from scipy.stats import bootstrap

    cos = cosine_similarity(drift, score)
    nl = cosine_similarity(affine_residual(drift, points), affine_residual(score, points))
    rng = np.random.default_rng(seed)
    out = {}
    for name, per_sample in (("mean_cosine", cos), ("nonlinear_cosine", nl)):
        low = high = float("nan")
        if n_resamples:
            ci = bootstrap((per_sample.mean(axis=1),), np.mean, n_resamples=n_resamples, method="percentile",
                           rng=rng).confidence_interval
            low, high = float(ci.low), float(ci.high)
        out[name] = (float(per_sample.mean()), low, high)
    for name, pts in (("explained_drift", None), ("explained_drift_nonlinear", points)):
        value = explained_drift(drift, score, log_density=log_density, top=top, points=pts)
        low, high = (explained_drift_interval(drift, score, log_density=log_density, top=top, points=pts,
                                              n_resamples=n_resamples, seed=seed)
                     if n_resamples else (float("nan"), float("nan")))
        out[name] = (value, low, high)
    return out


def network_score_measures(network, *, trials: int = 30, steps: int = 150, every: int = 2, burn_in_steps: int = 20,
                           top: float = 0.5, n_resamples: int = 500, seed: int = 0) -> dict:
    """The :data:`MEASURES` of a network's quiescent drift against the KDE score of its active states, and controls.

    Parameters
    ----------
    network : RateNetwork
    trials, steps, every, burn_in_steps : int
        Active recording: ``trials`` trials of ``steps`` steps, every ``every``-th step after ``burn_in_steps``
        steps.
    top, n_resamples, seed
        As :func:`drift_score_measures` (``seed`` also seeds the recording, the shuffle and the untrained net).

    Returns
    -------
    dict
        ``{"network" | "permuted" | "random": {measure: (value, low, high)}}``, plus ``scale`` (the fitted
        :math:`c`), ``theory_scale`` (:math:`v`), ``n_components`` and ``explained_variance`` of the subspace.

    Notes
    -----
    ``network``: the drift (:func:`~neurorx.analysis.score.quiescent_drift`, the noise mean included) against
    the KDE score of the active law in its leading PCs (:func:`~neurorx.analysis.score.score_alignment`).
    ``permuted``: the same drift against the scores shuffled across samples (drift at one state, score at
    another): what any drift gets from the score's marginal distribution alone. ``random``: the drift of an
    untrained network (:func:`~neurorx.analysis.random_network`, same shapes and noise) at the same states
    against the same score: what an arbitrary contraction gets.
    """
    import neurorx as nrx
    from neurorx.analysis.baselines import random_network

    if burn_in_steps >= steps:
        raise ValueError(f"burn_in_steps ({burn_in_steps}) must be shorter than the {steps} recorded steps")
    rec = nrx.Protocol([nrx.Active(steps=steps)]).run(network, trials=trials, seed=seed, record=("h",), every=every)
    h = np.asarray(rec.h[:, burn_in_steps // every:], dtype=np.float64)
    r = score_alignment(network, h, estimator="kde", seed=seed)
    k = r.subspace.n_components
    shuffled = r.score.reshape(-1, k)[np.random.default_rng(seed).permutation(r.score[..., 0].size)]
    d_random = r.subspace.project_vectors(quiescent_drift(random_network(network, seed=seed + 1), h))
    opts = {"top": top, "n_resamples": n_resamples, "seed": seed}
    return {"network": drift_score_measures(r.drift, r.score, r.points, r.log_density, **opts),
            "permuted": drift_score_measures(r.drift, shuffled.reshape(r.score.shape), r.points, r.log_density,
                                             **opts),
            "random": drift_score_measures(d_random, r.score, r.points, r.log_density, **opts),
            "scale": r.scale, "theory_scale": r.theory_scale, "n_components": k,
            "explained_variance": float(r.subspace.explained.sum())}
