"""Side-by-side reactivation statistics of two recordings (e.g. the torch and the Brian2 backend).

:func:`compare` computes, for every phase the two recordings share, the same statistics on both
(every registered statistic of :data:`neurorx.analysis.STATISTICS` that applies), the divergence between the
two decoded distributions (energy distance with a BCa bootstrap interval over trials and a permutation
p-value, both from scipy; KDE-based KL or circular KL), the divergence between the hidden-state
distributions when both recorded them, and, within each recording, the paper's reactivation measure
KL(quiescent ‖ active) with the null it must beat (the same KL for a uniform reference) and the health of the
quiescent activity (:func:`neurorx.analysis.health.reactivation_health`): a run whose activity collapsed to the
noise floor, or whose decoded path moves like noise, is flagged in the table.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from neurorx.analysis import (
    STATISTICS,
    BootstrapInterval,
    PermutationResult,
    TrialEnergy,
    applicable_statistics,
    bootstrap_interval,
    circular_kl,
    kl_divergence,
    permutation_p_value,
)
from neurorx.analysis._validate import check_recording_values, check_seed
from neurorx.analysis.health import ReactivationHealth, recording_health, uniform_reference
from neurorx.io import atomic_write_bytes
from neurorx.recording import Recording
from neurorx.resources import check_resamples

__all__ = ["Comparison", "compare", "format_nonnegative", "recording_health"]


@dataclass
class Row:
    """One statistic of one phase for both recordings."""

    phase: str
    statistic: str
    unit: str
    a: float
    b: float


@dataclass
class Divergence:
    """A divergence between (or within) recordings, with its bootstrap interval and permutation test when drawn.

    Attributes
    ----------
    phase, statistic : str
    estimate : float
        The divergence (clipped at 0 for a quantity that cannot be negative, e.g. a KL estimate).
    interval : BootstrapInterval, optional
        Its bootstrap interval (:func:`neurorx.analysis.bootstrap_interval`); :attr:`low` and :attr:`high` read it.
    test : PermutationResult, optional
        Its permutation test (:func:`neurorx.analysis.permutation_p_value`); :attr:`p_value` and :attr:`min_p`
        read it.
    between : str
        The recordings compared (``"a vs b"``), or the one recording a within-recording divergence belongs to.
    stderr : float, optional
        Monte-Carlo standard error of the estimate (the KDE-based KL).
    nonnegative : bool
    null : bool
        Whether this is a null reference (e.g. KL of a uniform reference), not a measurement.
    """

    phase: str
    statistic: str
    estimate: float
    interval: BootstrapInterval | None = None
    test: PermutationResult | None = None
    between: str = "a vs b"
    stderr: float | None = None
    nonnegative: bool = True
    null: bool = False

    @property
    def low(self) -> float | None:
        """Lower end of the bootstrap interval (None without one)."""
        return None if self.interval is None else self.interval.low

    @property
    def high(self) -> float | None:
        """Upper end of the bootstrap interval (None without one)."""
        return None if self.interval is None else self.interval.high

    @property
    def p_value(self) -> float | None:
        """Permutation p-value (None without a test)."""
        return None if self.test is None else self.test.p_value

    @property
    def min_p(self) -> float | None:
        """The smallest p-value the test can report (None without a test)."""
        return None if self.test is None else self.test.min_p

    def to_dict(self) -> dict:
        """JSON-able dictionary (the interval as ``low``/``high``, the test as ``p_value``/``min_p``)."""
        return {"phase": self.phase, "statistic": self.statistic, "estimate": self.estimate, "low": self.low,
                "high": self.high, "between": self.between, "p_value": self.p_value, "min_p": self.min_p,
                "stderr": self.stderr, "nonnegative": self.nonnegative, "null": self.null}

    @property
    def resolved(self) -> bool:
        """Whether the estimate is distinguishable from zero.

        Above twice its standard error, or its interval's lower end above 0; true without either.
        """
        if self.stderr is not None and math.isfinite(self.stderr):
            return self.estimate > 2 * self.stderr
        if self.low is not None and math.isfinite(self.low):
            return self.low > 0
        return True


def format_nonnegative(estimate: float, stderr: float | None = None, upper: float | None = None) -> str:
    """Format a quantity that cannot be negative (a KL, a distance), with its estimation error.

    ``0.32 ± 0.01`` when resolved; ``≈ 0 (< 0.0041)`` when the estimate is within two standard errors of zero
    (the bound is ``estimate + 2 stderr``, or ``upper`` when given: the upper end of an interval).
    """
    est = max(float(estimate), 0.0)
    if stderr is not None and math.isfinite(stderr):
        if est > 2 * stderr:
            return f"{est:.3g} ± {stderr:.1g}"
        return f"≈ 0 (< {est + 2 * stderr:.2g})"
    if upper is not None and math.isfinite(upper) and est == 0.0:
        return "0" if upper == 0 else f"≈ 0 (< {upper:.2g})"
    return f"{est:.4g}"


@dataclass
class Comparison:
    """The result of :func:`compare`; print it for a table, save it with :meth:`to_json`."""

    names: tuple[str, str]
    rows: list[Row] = field(default_factory=list)
    divergences: list[Divergence] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    health: dict[str, ReactivationHealth] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-able dictionary."""
        return {"names": list(self.names), "rows": [asdict(r) for r in self.rows],
                "divergences": [d.to_dict() for d in self.divergences], "meta": self.meta,
                "health": {k: h.to_dict() for k, h in self.health.items()}}

    def flagged(self, name: str) -> bool:
        """Whether the quiescent activity of recording ``name`` was flagged (collapsed, or moving like noise)."""
        return name in self.health and self.health[name].flagged

    def to_json(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write :meth:`to_dict` as JSON (atomically; refuses to overwrite by default)."""
        return atomic_write_bytes(path, json.dumps(self.to_dict(), indent=2).encode(), overwrite=overwrite)

    def value(self, phase: str, statistic: str, which: str = "a") -> float:
        """Look up one statistic (``which`` "a" or "b")."""
        for r in self.rows:
            if r.phase == phase and r.statistic == statistic:
                return getattr(r, which)
        raise KeyError(f"no statistic {statistic!r} for phase {phase!r}")

    def divergence(self, phase: str, statistic: str, between: str | None = None) -> Divergence:
        """Look up one divergence."""
        for d in self.divergences:
            if d.phase == phase and d.statistic == statistic and (between is None or d.between == between):
                return d
        raise KeyError(f"no divergence {statistic!r} for phase {phase!r}")

    def table(self, *, style: str = "python") -> str:
        """The comparison as Markdown tables.

        ``style="cli"`` spells options as the command line does (``--n-perm 999``), ``"python"`` as
        :func:`compare`'s keywords (``n_perm=999``).
        """
        if style not in ("python", "cli"):
            raise ValueError(f"style must be 'python' or 'cli'; got {style!r}")
        a, b = self.names
        lines = [f"| phase | statistic | {a} | {b} |", "|---|---|---|---|"]
        for r in self.rows:
            lines.append(f"| {r.phase} | {r.statistic} [{r.unit}] | {r.a:.4g} | {r.b:.4g} |")
        ci = self.meta.get("ci", 0.95)
        lines += ["", f"| phase | divergence | between | estimate | BCa bootstrap {100 * ci:g}% | permutation p |",
                  "|---|---|---|---|---|---|"]
        unresolved = False
        for d in self.divergences:
            interval = f"[{d.low:.3g}, {d.high:.3g}]" if d.low is not None else "–"
            pv = "–" if d.p_value is None else (f"≤ {d.min_p:.2g}" if d.min_p is not None and d.p_value <= d.min_p
                                                 else f"{d.p_value:.3g}")
            est = format_nonnegative(d.estimate, d.stderr, d.high) if d.nonnegative else f"{d.estimate:.4g}"
            if not d.resolved and not (d.estimate == 0 and d.high == 0):   # identical samples: 0 is exact
                unresolved = True
                interval, pv = "–", "not resolved" if d.p_value is not None else pv
            name = d.statistic + (" (null)" if d.null else "")
            if d.between in self.health and self.health[d.between].flagged and not d.null:
                name += " ⚠ flagged"
            lines.append(f"| {d.phase} | {name} | {d.between} | {est} | {interval} | {pv} |")
        if unresolved:
            lines += ["", "≈ 0 (< x): the estimate is within its estimation error of zero (x: two Monte-Carlo "
                          "standard errors above it, or the bootstrap interval's upper end); these trials cannot "
                          "resolve a difference, so no p-value is claimed."]
        min_p = [d.min_p for d in self.divergences if d.min_p is not None]
        if min_p:
            n_perm = self.meta.get("n_perm")
            option = f"--n-perm {999}" if style == "cli" else "n_perm=999"
            why = ("every permutation of the trials enumerated; more trials lower it"
                   if n_perm and max(min_p) > 1.5 / (n_perm + 1)
                   else f"{n_perm} permutations" + (f"; pass {option} to resolve p down to 0.001"
                                                     if n_perm and n_perm < 999 else ""))
            lines += ["", f"Smallest reportable permutation p: {max(min_p):.2g} ({why})."]
        if self.health:
            lines += ["", "Health of the quiescent activity (null: KL of a uniform reference against the same "
                          "active phase; a reactivation KL must beat it):", "",
                      "| recording | mean abs(h) active → quiescent | noise-floor fraction | stepwise active → "
                      "quiescent | stepwise / shuffled | verdict |", "|---|---|---|---|---|---|"]
            unit = "rad" if self.meta.get("circular") else "m"
            for nm, h in self.health.items():
                act = ("–" if h.mean_abs_h_active is None
                       else f"{h.mean_abs_h_active:.3g} → {h.mean_abs_h_quiescent:.3g}")
                nf = "–" if h.noise_fraction_quiescent is None else f"{h.noise_fraction_quiescent:.2f}"
                verdict = "FLAGGED: " + "; ".join(h.flags) if h.flagged else "ok"
                lines.append(f"| {nm} | {act} | {nf} | {h.stepwise_active:.3g} → {h.stepwise_quiescent:.3g} "
                             f"{unit}/step | {h.path_noise_quiescent:.2f} | {verdict} |")
            if any(h.flagged for h in self.health.values()):
                lines += ["", "A flagged run's KL(quiescent‖active) is not evidence of reactivation: collapsed or "
                              "noise-like activity decoded on a near-uniform active distribution gives a small KL. "
                              "See docs/getting-started.md, \"Noise swaps\"."]
        for which, labels in self.meta.get("dropped_phases", {}).items():
            name = self.names[0 if which == "a" else 1]
            lines += ["", f"Not compared: phase{'s' if len(labels) > 1 else ''} {', '.join(map(repr, labels))} of "
                          f"{name} (absent from the other recording)."]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _trial_points(x: np.ndarray, max_points: int) -> np.ndarray:
    """Every k-th step of every trial, k the smallest stride keeping ``B * T/k <= max_points`` (deterministic)."""
    stride = max(1, math.ceil(x.shape[0] * x.shape[1] / max(1, max_points)))
    return x[:, ::stride]


def _distance_test(a: np.ndarray, b: np.ndarray, paired: bool, n_boot: int, n_perm: int, seed: int,
                   ci: float) -> tuple[BootstrapInterval, PermutationResult | None]:
    """BCa interval (trials resampled) and permutation p-value of the trial-level energy distance.

    Phases of different lengths are not exchangeable trial by trial: no p-value then.
    """
    energy = TrialEnergy(a, b, paired=paired)
    ids_a, ids_b = (i[:, None].astype(np.float64) for i in energy.ids())

    def stat(ia, ib):
        return energy(ia[:, 0], ib[:, 0])

    bi = bootstrap_interval(stat, ids_a, ids_b, n_boot=n_boot, seed=seed, ci=ci, paired=paired)
    if a.shape[1] != b.shape[1]:
        return bi, None
    return bi, permutation_p_value(stat, ids_a, ids_b, n_resamples=n_perm, seed=seed, paired=paired)


def _decoded_divergence(p: np.ndarray, q: np.ndarray, circular: bool, seed: int,
                        n_mc: int) -> tuple[float, float | None]:
    """KL(p‖q) of decoded points and its Monte-Carlo standard error (None for the histogram estimate)."""
    if circular:
        return float(circular_kl(p[..., 0], q[..., 0])), None
    est, se = kl_divergence(p.reshape(-1, p.shape[-1]), q.reshape(-1, q.shape[-1]), method="corrected",
                            n_mc=n_mc, seed=seed, return_stderr=True)
    return float(est), float(se)


def compare(rec_a: Recording, rec_b: Recording, *, names: tuple[str, str] | None = None, burn_in: float = 0.5,
            n_boot: int = 1999, n_perm: int = 999, max_points: int = 2000, n_mc: int = 2500, seed: int = 0,
            ci: float = 0.95) -> Comparison:
    """Compare two recordings phase by phase.

    Parameters
    ----------
    rec_a, rec_b : Recording
        Runs of the same protocol shape (e.g. ``backend="torch"`` and ``backend="brian2"``).
    names : (str, str), optional
        Column names; the backends by default.
    burn_in : float
        Fraction of each phase dropped before the statistics that use a burn-in, e.g. the total variance (the
        paper drops 1000 of 2000 steps).
    n_boot : int
        Bootstrap resamples (over trials) for the BCa interval of the energy distance.
    n_perm : int
        Permutations for the p-value; the smallest reportable p is ``1/(n_perm+1)`` (999 -> 0.001), stated
        in the table.
    max_points : int
        Points per cloud for the energy distance (every k-th step of every trial).
    n_mc : int
        Monte-Carlo samples of the KL estimator.
    seed : int
    ci : float
        Coverage of the bootstrap interval.

    Returns
    -------
    Comparison

    Raises
    ------
    ValueError
        If the recordings decode different quantities (task mismatch), share no phase, or a phase is empty.

    Notes
    -----
    The rows are every statistic of :data:`neurorx.analysis.STATISTICS` defined for the data (angles or
    positions; hidden-state statistics when both recorded ``h``), except those that read the trained network
    too (``ie_correlation``: a comparison holds recordings only). The energy distance
    :math:`D^2 = 2E\\|X-Y\\| - E\\|X-X'\\| - E\\|Y-Y'\\|` is zero iff the two decoded distributions are equal;
    it is computed over pairs of points from different trials (:class:`neurorx.analysis.TrialEnergy`), on every
    k-th step so that a cloud has at most ``max_points`` points. Its interval is :func:`scipy.stats.bootstrap`'s
    BCa interval over whole trials (trajectories are autocorrelated), and whether
    the two recordings differ at all is answered by :func:`scipy.stats.permutation_test`.
    Recordings with identical inputs (one protocol run with one seed on two backends) have *paired* trials:
    then pairs are resampled jointly and the permutation swaps the members of random pairs; otherwise trials
    are pooled and reassigned at random. KL uses
    :func:`neurorx.analysis.kl_divergence` (``method="corrected"``) for positions and
    :func:`neurorx.analysis.circular_kl` for angles. Within each recording, every registered statistic of
    several phases (scope ``"run"``) is reported, e.g. ``KL(quiescent‖active)``, the paper's Fig. 2e
    reactivation measure.
    """
    for rec, nm in ((rec_a, "rec_a"), (rec_b, "rec_b")):
        if not isinstance(rec, Recording):
            raise TypeError(f"{nm} must be a Recording, got {type(rec).__name__}")
    if rec_a.decoded.shape[-1] != rec_b.decoded.shape[-1] or rec_a.meta.get("task") != rec_b.meta.get("task"):
        raise ValueError(
            f"the recordings decode different quantities (task {rec_a.meta.get('task')!r} with d="
            f"{rec_a.decoded.shape[-1]} vs {rec_b.meta.get('task')!r} with d={rec_b.decoded.shape[-1]}); "
            "compare runs of networks trained on the same task"
        )
    for rec, nm in ((rec_a, "rec_a"), (rec_b, "rec_b")):
        check_recording_values(rec, f"{nm} ({rec.meta.get('backend', 'recording')})")
    check_seed(seed)
    check_resamples(n_boot, rec_a.trials + rec_b.trials, "compare's bootstrap (n_boot)")
    check_resamples(n_perm, rec_a.trials + rec_b.trials, "compare's permutation test (n_perm)")
    phases = [p for p in rec_a.labels if p in rec_b.labels]
    if not phases:
        raise ValueError(f"the recordings share no phase: {rec_a.labels} vs {rec_b.labels}")
    dropped = {nm: [p for p in rec.labels if p not in phases] for rec, nm in ((rec_a, "a"), (rec_b, "b"))}
    if rec_a.h is not None and rec_b.h is not None and rec_a.h.shape[-1] != rec_b.h.shape[-1]:
        raise ValueError(
            f"the recordings' hidden states have different sizes ({rec_a.h.shape[-1]} vs {rec_b.h.shape[-1]} "
            "units), so their hidden-state statistics cannot be compared; compare networks of the same size, or "
            "recordings without h (record=()) to compare decoded outputs only")
    circular = bool(rec_a.meta.get("circular", False))
    names = names or (str(rec_a.meta.get("backend", "a")), str(rec_b.meta.get("backend", "b")))
    if names[0] == names[1]:
        names = (f"{names[0]} (a)", f"{names[1]} (b)")
    out = Comparison(names=tuple(names), meta={"a": rec_a.meta.get("network"), "b": rec_b.meta.get("network"),
                                               "burn_in": burn_in, "seed": seed, "circular": circular,
                                               "ci": ci, "n_boot": n_boot, "n_perm": n_perm,
                                               "dropped_phases": {k: v for k, v in dropped.items() if v}})
    # same protocol, same seed: the trials share inputs and start states, so they come in pairs
    paired = rec_a.inputs.shape == rec_b.inputs.shape and np.array_equal(rec_a.inputs, rec_b.inputs) \
        and np.array_equal(rec_a.states, rec_b.states, equal_nan=True)
    out.meta["paired_trials"] = bool(paired)
    both_h = rec_a.h is not None and rec_b.h is not None
    for phase in phases:
        a, b = rec_a.select(phase), rec_b.select(phase)
        for rec, nm in ((a, names[0]), (b, names[1])):
            if rec.decoded.shape[1] < 2 or rec.decoded.shape[0] < 1:
                raise ValueError(f"phase {phase!r} of {nm} has {rec.decoded.shape[1]} steps; at least 2 are needed")
        h_ok = both_h and min(a.h.shape[1], b.h.shape[1]) >= 2 and min(a.h.shape[0] * a.h.shape[1],
                                                                     b.h.shape[0] * b.h.shape[1]) > 3
        for stat in applicable_statistics(circular, has_h=h_ok):
            out.rows.append(Row(phase, stat.name, stat.unit_for(circular), stat.value(a, circular, burn_in),
                                stat.value(b, circular, burn_in)))
        pa, pb = _trial_points(a.decoded, max_points), _trial_points(b.decoded, max_points)
        bi, perm = _distance_test(pa, pb, paired, n_boot, n_perm, seed, ci)
        out.divergences.append(Divergence(phase, "energy distance (decoded)", bi.estimate, bi, perm,
                                          between="a vs b (paired trials)" if paired else "a vs b"))
        kl, se = _decoded_divergence(a.decoded, b.decoded, circular, seed, n_mc)
        out.divergences.append(Divergence(phase, "KL(a‖b) decoded", max(kl, 0.0), stderr=se))
        if both_h and a.h.shape[1] and b.h.shape[1]:
            ha, hb = _trial_points(a.h, max_points), _trial_points(b.h, max_points)
            energy = TrialEnergy(ha, hb, paired=paired)
            out.divergences.append(Divergence(phase, "energy distance (hidden states)", energy(*energy.ids())))
    for stat in run_statistics(circular):      # within each recording: KL(quiescent‖active), ...
        options = {k: v for k, v in (("n_mc", n_mc), ("mc_seed", seed)) if k in stat.params}
        for rec, nm in ((rec_a, names[0]), (rec_b, names[1])):
            if not all(p in rec.labels for p in stat.phases):
                continue
            if stat.key != "kl_quiescent_active":
                value = stat.outputs(rec, phases=stat.phases, **options)[""].values
                out.divergences.append(Divergence(stat.phases[-1], stat.name, float(value), between=nm))
                continue
            # the registry's estimate, with its Monte-Carlo error, reported as what it estimates: KL >= 0
            act, q = (rec.select(p).decoded for p in stat.phases)
            kl, se = _decoded_divergence(q, act, circular, seed, n_mc)
            out.divergences.append(Divergence(stat.phases[-1], stat.name, max(kl, 0.0), between=nm, stderr=se))
            ref = uniform_reference(act, max(q.shape[0] * q.shape[1], 100), circular=circular, seed=seed)
            kl0, se0 = _decoded_divergence(ref[None], act, circular, seed, n_mc)
            out.divergences.append(Divergence(stat.phases[-1], "KL(uniform‖active) decoded", max(kl0, 0.0),
                                              between=nm, stderr=se0, null=True))
            health = recording_health(rec, burn_in=burn_in, seed=seed)
            if health is not None:
                out.health[nm] = health
    return out


def run_statistics(circular: bool) -> list:
    """The registered statistics of one recording's phases with one number (:data:`neurorx.analysis.STATISTICS`,
    scope ``"run"``) defined for this kind of data; ``reactivation_health``, whose measures and flags the
    comparison reports itself (:attr:`Comparison.health`), and those that read the trained network
    (:attr:`~neurorx.analysis.Statistic.needs_network`) left out.
    """
    return [s for _, s in STATISTICS.items()
            if s.scope == "run" and s.applies_to(circular) and s.key != "reactivation_health" and not s.needs_network]
