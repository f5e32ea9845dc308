r"""Health of quiescent activity: is there reactivation to measure, or only noise?

A reactivation statistic such as :math:`KL(Q\|A)` compares where the decoded quiescent activity goes with
where the active activity went. It cannot tell reactivation from collapse: when a network that relied on its
training noise's positive mean is given zero-mean noise, its activity falls to the noise floor, the decoded
output becomes noise, and noise decoded on a circle looks like the near-uniform active distribution of a head
direction network, so :math:`KL(Q\|A)` comes out *small* (issue 27). These measures, pure functions on
arrays, say whether the activity is alive:

- :func:`activity_level` -- mean :math:`|h|` per trial;
- :func:`noise_fraction` -- the fraction of the hidden-state variance that noise-driven leaky units would have
  on their own (:func:`noise_floor_variance`);
- :func:`path_noise_ratio` -- the decoded stepwise distance over that of the same points in random order
  (1: consecutive points are as far apart as any two points of the trial, the path moves like noise);
- :func:`uniform_reference` -- the uniform null a reactivation KL must beat (the circle, or the active phase's
  bounding box);
- :func:`reactivation_health` -- all of them for one run's active and quiescent phases, with the flags of
  :class:`HealthThresholds` (:func:`health_flags`, the one rule every report uses);
- :func:`recording_health` -- the same of a :class:`~neurorx.Recording`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from neurorx.noise.spec import noise_from_dict

from ._validate import as_trajectories
from .variance import stepwise_distance

__all__ = [
    "HealthThresholds",
    "ReactivationHealth",
    "activity_level",
    "health_flags",
    "noise_floor_variance",
    "noise_fraction",
    "path_noise_ratio",
    "reactivation_health",
    "recording_health",
    "uniform_reference",
]


def activity_level(h) -> np.ndarray:
    r"""Mean absolute hidden state per trial.

    Parameters
    ----------
    h : array_like, shape (B, T, N)
        Hidden states of one phase.

    Returns
    -------
    numpy.ndarray, shape (B,)
        :math:`\frac{1}{TN}\sum_{t,i} |h_{b,t,i}|` (the hidden state's unit, dimensionless).
    """
    x = as_trajectories(h, "h")
    return np.abs(x).mean(axis=(1, 2))


def noise_floor_variance(step_variance: float, alpha: float) -> float:
    r"""Stationary variance of a unit driven by its noise alone: :math:`v / (1 - (1-a)^2)`.

    Parameters
    ----------
    step_variance : float
        Variance :math:`v` of one step's noise increment (:meth:`NoiseModel.step_moments
        <neurorx.noise.NoiseModel.step_moments>`).
    alpha : float
        The network's :math:`a = \Delta t/\tau`.

    Notes
    -----
    A unit whose recurrent and external drive is below threshold (a ReLU unit of collapsed activity) follows
    :math:`h_{t+1} = (1-a)h_t + \epsilon_t`, an AR(1) process with stationary variance
    :math:`v\sum_k (1-a)^{2k} = v/(1-(1-a)^2) = v/(a(2-a))`.
    """
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha = dt/tau must be in (0, 1]; got {alpha!r}")
    if step_variance < 0:
        raise ValueError(f"step_variance must be >= 0; got {step_variance!r}")
    return float(step_variance) / (1.0 - (1.0 - alpha) ** 2)


def noise_fraction(h, step_variance: float, alpha: float) -> float:
    r"""Fraction of the hidden-state variance that the noise alone would produce (the noise floor).

    Parameters
    ----------
    h : array_like, shape (B, T, N)
        Hidden states of one phase (drop the transient first: the variance is taken as stationary).
    step_variance : float
        Per-step variance of the phase's recurrent noise increment.
    alpha : float
        The network's :math:`a = \Delta t/\tau`.

    Returns
    -------
    float
        In [0, 1]: about 1 when the units vary only as much as noise-driven leaky units would (activity at the
        noise floor), near 0 when the network's own dynamics carry the variance.

    Notes
    -----
    .. math:: f = \min\Big(1, \frac{N\,v_{\text{floor}}}{\sum_i \operatorname{Var}_{b,t}(h_{b,t,i})}\Big),
              \qquad v_{\text{floor}} = \frac{v}{1-(1-a)^2}

    (:func:`noise_floor_variance`), the variances pooled over trials and samples. It does not depend on how
    often ``h`` was recorded. 0 when the noise is off; 1 when the state does not vary but the noise is on.
    """
    x = as_trajectories(h, "h", min_steps=2)
    floor = x.shape[-1] * noise_floor_variance(step_variance, alpha)
    total = float(x.reshape(-1, x.shape[-1]).var(axis=0).sum())
    if floor == 0:
        return 0.0
    return 1.0 if total <= floor else floor / total


def path_noise_ratio(decoded, circular: bool = False, seed: int = 0) -> np.ndarray:
    r"""Stepwise distance of the decoded path over that of its own points in random order, per trial.

    Parameters
    ----------
    decoded : array_like, shape (B, T, d)
        Decoded outputs of one phase (positions, or angles with ``circular=True``).
    circular : bool
        Angles: steps wrapped to :math:`[-\pi, \pi)`.
    seed : int
        Seed of the shuffles (one fixed permutation of the time steps per trial).

    Returns
    -------
    numpy.ndarray, shape (B,)
        :math:`S_b / S_b^{\text{shuffled}}`: small for a continuous path, about 1 for a path whose
        consecutive points are no closer than any two points of the trial (it moves like noise). 0 for a trial
        whose points are all equal (it does not move).

    Notes
    -----
    :math:`S_b` is :func:`~neurorx.analysis.stepwise_distance`. The shuffled path has the same points, hence
    the same occupancy (and the same KL to any reference), but no temporal order: it is the null the
    stepwise distance must beat to call the decoded activity a trajectory.
    """
    x = as_trajectories(decoded, "decoded", min_steps=2)
    rng = np.random.default_rng(seed)
    shuffled = np.stack([xb[rng.permutation(x.shape[1])] for xb in x])
    s, s0 = stepwise_distance(x, circular=circular), stepwise_distance(shuffled, circular=circular)
    return np.divide(s, s0, out=np.zeros_like(s), where=s0 > 0)


def uniform_reference(active, n: int, circular: bool = False, seed: int = 0) -> np.ndarray:
    r"""``n`` points uniform on the circle, or on the bounding box of the active points: the null of a KL.

    Parameters
    ----------
    active : array_like, shape (..., d)
        Decoded active points (only their range is used for positions).
    n : int
    circular : bool
        Angles: uniform on :math:`[-\pi, \pi)`.
    seed : int

    Returns
    -------
    numpy.ndarray, shape (n, d)
        A quiescent phase whose :math:`KL(Q\|A)` is not clearly below :math:`KL(\mathcal U\|A)` of these
        points is no closer to the active distribution than uniform noise is.
    """
    a = np.asarray(active, dtype=np.float64)
    a = a.reshape(-1, a.shape[-1])
    rng = np.random.default_rng(seed)
    if circular:
        return rng.uniform(-np.pi, np.pi, size=(n, a.shape[-1]))
    lo, hi = a.min(axis=0), a.max(axis=0)
    return lo + (hi - lo) * rng.random((n, a.shape[-1]))


@dataclass(frozen=True)
class HealthThresholds:
    r"""When quiescent activity is flagged.

    Attributes
    ----------
    collapse : float
        Collapsed when the quiescent mean :math:`|h|` is below this fraction of the active one.
    noise_fraction : float
        Collapsed when more than this fraction of the quiescent hidden-state variance is noise
        (:func:`noise_fraction`).
    path_noise : float
        The decoded path moves like noise when its stepwise distance exceeds this fraction of its shuffled
        stepwise distance (:func:`path_noise_ratio`).
    step_ratio : float
        ... or when its stepwise distance exceeds this multiple of the active phase's.

    Notes
    -----
    Set from ``python scripts/health_thresholds.py --backends torch brian2`` (50 trials, ``Active(100)`` then
    ``Quiescent(300)``, seed 0). The six shipped noisy networks under their training noise, on both backends:
    quiescent/active mean abs(h) >= 0.63, noise floor <= 0.21, stepwise/shuffled <= 0.35, stepwise
    quiescent/active <= 2.3. The head-direction networks under white noise of the training variance (mean 0):
    <= 0.14, >= 0.76, >= 0.59, >= 4.9. The random-weight baseline R^σ: noise floor >= 0.91.
    """

    collapse: float = 0.25
    noise_fraction: float = 0.5
    path_noise: float = 0.5
    step_ratio: float = 3.5


@dataclass
class ReactivationHealth:
    """The health of one run's quiescent phase against its active phase (:func:`reactivation_health`).

    Attributes
    ----------
    mean_abs_h_active, mean_abs_h_quiescent : float or None
        :func:`activity_level` of the active phase and of the quiescent phase after its burn-in (None without
        hidden states).
    noise_fraction_quiescent : float or None
        :func:`noise_fraction` of the quiescent hidden states after the burn-in (None without the noise's
        variance and the network's :math:`a`).
    stepwise_active, stepwise_quiescent : float
        Mean stepwise distance of the decoded paths (m/step or rad/step).
    path_noise_quiescent : float
        :func:`path_noise_ratio` of the quiescent decoded path.
    flags : list of str
        One short reason per failed check; empty when healthy.
    """

    mean_abs_h_active: float | None
    mean_abs_h_quiescent: float | None
    noise_fraction_quiescent: float | None
    stepwise_active: float
    stepwise_quiescent: float
    path_noise_quiescent: float
    flags: list[str] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        """Whether any check failed: the run's reactivation statistics must not be ranked."""
        return bool(self.flags)

    def to_dict(self) -> dict:
        """JSON-able dictionary (``flagged`` included)."""
        return {**asdict(self), "flagged": self.flagged}


def reactivation_health(active_decoded, quiescent_decoded, *, circular: bool = False, active_h=None,
                        quiescent_h=None, noise_step_variance: float | None = None, alpha: float | None = None,
                        burn_in: float = 0.5, thresholds: HealthThresholds | None = None,
                        seed: int = 0) -> ReactivationHealth:
    r"""Whether a run's quiescent activity is alive enough for its reactivation statistics to mean anything.

    Parameters
    ----------
    active_decoded, quiescent_decoded : array_like, shape (B, T, d)
        Decoded outputs of the two phases.
    circular : bool
        Angles (head direction).
    active_h, quiescent_h : array_like, shape (B, T, N), optional
        Hidden states; without them only the decoded path is checked.
    noise_step_variance, alpha : float, optional
        Per-step variance of the quiescent phase's recurrent noise and the network's :math:`a=\Delta t/\tau`,
        for :func:`noise_fraction` (skipped without them).
    burn_in : float
        Fraction of the quiescent phase dropped before :func:`noise_fraction` (the decay to the stationary
        state is not noise).
    thresholds : HealthThresholds, optional
    seed : int
        Seed of :func:`path_noise_ratio`'s shuffles.

    Returns
    -------
    ReactivationHealth

    Notes
    -----
    The flags are :func:`health_flags` of the measures (the one rule).
    """
    qd = as_trajectories(quiescent_decoded, "quiescent_decoded", min_steps=2)
    ad = as_trajectories(active_decoded, "active_decoded", min_steps=2)
    s_a = float(stepwise_distance(ad, circular=circular).mean())
    s_q = float(stepwise_distance(qd, circular=circular).mean())
    pn = float(path_noise_ratio(qd, circular=circular, seed=seed).mean())
    m_a = m_q = nf = None
    if active_h is not None and quiescent_h is not None:
        qh = as_trajectories(quiescent_h, "quiescent_h")
        qh = qh[:, min(int(qh.shape[1] * burn_in), qh.shape[1] - 2):]
        m_a, m_q = float(activity_level(active_h).mean()), float(activity_level(qh).mean())
        if noise_step_variance is not None and alpha is not None:
            nf = noise_fraction(qh, noise_step_variance, alpha)
    health = ReactivationHealth(m_a, m_q, nf, s_a, s_q, pn)
    health.flags = health_flags(health, circular=circular, thresholds=thresholds)
    return health


def health_flags(health: ReactivationHealth, *, circular: bool = False,
                 thresholds: HealthThresholds | None = None) -> list[str]:
    r"""The one rule: the reasons a run's health measures flag it (empty when healthy).

    Parameters
    ----------
    health : ReactivationHealth
        The measures (its ``flags`` are not read). A measure that is None or NaN (not computed) is not checked.
    circular : bool
        Angles: the stepwise distances are in rad/step (m/step otherwise).
    thresholds : HealthThresholds, optional

    Returns
    -------
    list of str
        One short reason per failed check.

    Notes
    -----
    *Collapsed* when :math:`\overline{|h_Q|} < c\,\overline{|h_A|}`; *at the noise floor* when
    :func:`noise_fraction` exceeds its threshold; *moves like noise* when :func:`path_noise_ratio` exceeds its
    threshold or the quiescent stepwise distance exceeds ``step_ratio`` times the active one. Every report that
    flags runs (:func:`neurorx.compare`, the demo, sweeps) calls this function, so they flag the same runs.
    """
    th = thresholds or HealthThresholds()
    unit = "rad" if circular else "m"

    def known(v) -> bool:
        return v is not None and np.isfinite(v)

    h = health
    flags = []
    if known(h.mean_abs_h_active) and known(h.mean_abs_h_quiescent) \
            and h.mean_abs_h_quiescent < th.collapse * h.mean_abs_h_active:
        flags.append(f"collapsed: mean abs(h) {h.mean_abs_h_quiescent:.3g} quiescent vs {h.mean_abs_h_active:.3g} "
                     "active")
    if known(h.noise_fraction_quiescent) and h.noise_fraction_quiescent > th.noise_fraction:
        flags.append(f"at the noise floor: {100 * h.noise_fraction_quiescent:.0f}% of the quiescent hidden-state "
                     "variance is what the noise alone gives")
    if known(h.path_noise_quiescent) and h.path_noise_quiescent > th.path_noise:
        flags.append(f"moves like noise: stepwise distance {h.path_noise_quiescent:.2f} of the shuffled path's")
    if known(h.stepwise_active) and known(h.stepwise_quiescent) \
            and h.stepwise_quiescent > th.step_ratio * h.stepwise_active:
        flags.append(f"moves like noise: {h.stepwise_quiescent:.3g} {unit}/step quiescent vs "
                     f"{h.stepwise_active:.3g} active")
    return flags


def _phase_noise_variance(rec, phase: str) -> float | None:
    """Per-step variance of a phase's recurrent noise increment, from the recording's protocol (None if unknown)."""
    info = next((p for p in rec.phases if p.get("label") == phase), None)
    if info is None or "dt" not in rec.meta:
        return None
    noise = (info.get("noise") or {}).get("recurrent")
    if not noise:
        return 0.0
    try:
        return float(noise_from_dict(noise, trusted=True).step_moments(float(rec.meta["dt"]))[1])
    except (ValueError, TypeError, KeyError):
        return None


def recording_health(rec, *, phases: tuple[str, str] = ("active", "quiescent"), burn_in: float = 0.5,
                     thresholds: HealthThresholds | None = None, seed: int = 0) -> ReactivationHealth | None:
    """:func:`reactivation_health` of a recording's active and quiescent phases.

    Parameters
    ----------
    rec : Recording
    phases : (str, str)
        The labels of the active and the quiescent phase.
    burn_in, thresholds, seed
        As :func:`reactivation_health`.

    Returns
    -------
    ReactivationHealth or None
        None when the recording lacks either phase (or either has fewer than two samples). The noise-floor
        fraction needs the hidden states (``record=("h",)``) and the network's ``a`` in the recording's
        metadata (recordings made by neurorx 0.1.0 and later runs).
    """
    active, quiescent = phases
    if quiescent not in rec.labels or active not in rec.labels:
        return None
    q, act = rec.select(quiescent), rec.select(active)
    if q.decoded.shape[1] < 2 or act.decoded.shape[1] < 2:
        return None
    has_h = q.h is not None and act.h is not None and q.h.shape[1] >= 2 and act.h.shape[1] >= 1
    return reactivation_health(act.decoded, q.decoded, circular=bool(rec.meta.get("circular", False)),
                               active_h=act.h if has_h else None, quiescent_h=q.h if has_h else None,
                               noise_step_variance=_phase_noise_variance(rec, quiescent),
                               alpha=rec.meta.get("alpha"), burn_in=burn_in, thresholds=thresholds, seed=seed)
