"""Side-by-side reactivation statistics of two recordings (e.g. the torch and the Brian2 backend).

:func:`compare` computes, for every phase the two recordings share, the same statistics on both
(stepwise distance, total variance, coverage, angular velocity for head direction, explained variance of the
hidden states when recorded), the divergence between the two decoded distributions (energy distance with
a bootstrap interval over trials; KDE-based KL or circular KL), the divergence between the hidden-state
distributions when both recorded them, and, within each recording, the paper's reactivation measure
KL(quiescent ‖ active).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from neurorx.analysis import (
    bootstrap_interval,
    circular_kl,
    energy_distance,
    explained_variance,
    kl_divergence,
    mean_angular_velocity,
    stepwise_distance,
    subsample_points,
    total_variance,
)
from neurorx.io import atomic_write_bytes
from neurorx.recording import Recording

__all__ = ["Comparison", "compare"]


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
    """A divergence between (or within) recordings with an optional bootstrap interval."""

    phase: str
    statistic: str
    estimate: float
    low: float | None = None
    high: float | None = None
    between: str = "a vs b"
    p_value: float | None = None


@dataclass
class Comparison:
    """The result of :func:`compare`; print it for a table, save it with :meth:`to_json`."""

    names: tuple[str, str]
    rows: list[Row] = field(default_factory=list)
    divergences: list[Divergence] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-able dictionary."""
        return {"names": list(self.names), "rows": [asdict(r) for r in self.rows],
                "divergences": [asdict(d) for d in self.divergences], "meta": self.meta}

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

    def table(self) -> str:
        """The comparison as a Markdown table."""
        a, b = self.names
        lines = [f"| phase | statistic | {a} | {b} |", "|---|---|---|---|"]
        for r in self.rows:
            lines.append(f"| {r.phase} | {r.statistic} [{r.unit}] | {r.a:.4g} | {r.b:.4g} |")
        lines += ["", "| phase | divergence | between | estimate | bootstrap 95% | permutation p |",
                  "|---|---|---|---|---|---|"]
        for d in self.divergences:
            ci = f"[{d.low:.3g}, {d.high:.3g}]" if d.low is not None else "–"
            pv = f"{d.p_value:.3g}" if d.p_value is not None else "–"
            lines.append(f"| {d.phase} | {d.statistic} | {d.between} | {d.estimate:.4g} | {ci} | {pv} |")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _phase_stats(rec: Recording, circular: bool, burn_in: float) -> dict[str, tuple[float, str]]:
    dec = rec.decoded
    unit = "rad" if circular else "m"
    stats = {
        "stepwise distance": (float(np.mean(stepwise_distance(dec, circular=circular))), f"{unit}/step"),
        "total variance": (float(total_variance(dec, burn_in=int(dec.shape[1] * burn_in), circular=circular)),
                           f"{unit}²"),
    }
    if circular:
        stats["mean angular velocity"] = (float(mean_angular_velocity(dec[..., 0])), "rad/step")
    else:
        stats["mean distance from centre"] = (float(np.linalg.norm(dec, axis=-1).mean()), "m")
    if rec.h is not None and rec.h.shape[1] >= 2 and rec.h.shape[0] * rec.h.shape[1] > 3:
        k = min(3, rec.h.shape[-1], rec.h.shape[0] * rec.h.shape[1] - 1)
        stats[f"h variance explained by {k} PCs"] = (float(explained_variance(rec.h, n_components=k)[-1]), "1")
    return stats


def _permutation_p(stat, a: np.ndarray, b: np.ndarray, observed: float, n_perm: int,
                   rng: np.random.Generator, paired: bool) -> float:
    """Permutation p-value of ``stat(a, b) >= observed``.

    Paired trials (same inputs and start states, e.g. two backends run with one seed) are permuted by
    swapping the two members of random pairs; independent trials by reassigning pooled trials (or points).
    """
    if paired:
        draws = []
        for _ in range(n_perm):
            swap = rng.random(a.shape[0]) < 0.5
            draws.append(stat(np.where(swap[:, None, None], b, a), np.where(swap[:, None, None], a, b)))
    else:
        if a.shape[1:] == b.shape[1:]:
            pooled, n_a = np.concatenate([a, b]), a.shape[0]
        else:
            pooled = np.concatenate([a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])])[:, None, :]
            n_a = a.shape[0] * a.shape[1]
        draws = []
        for _ in range(n_perm):
            idx = rng.permutation(len(pooled))
            draws.append(stat(pooled[idx[:n_a]], pooled[idx[n_a:]]))
    hits = sum(d >= observed - 1e-15 for d in draws)
    return (hits + 1) / (n_perm + 1)


def _interval(stat, a: np.ndarray, b: np.ndarray, n_boot: int, seed: int, paired: bool) -> tuple[float, float, float]:
    """Estimate and bias-shifted 95% bootstrap interval of a two-sample distance (trials resampled).

    A resampled cloud holds duplicated trials, which inflates a distance; the percentile interval is therefore
    shifted by the bootstrap estimate of that bias (mean of the replicates minus the estimate) and clipped at 0.
    Paired trials are resampled jointly.
    """
    if paired:
        bi = bootstrap_interval(lambda ab: stat(ab[:, 0], ab[:, 1]), np.stack([a, b], axis=1), n_boot=n_boot,
                                seed=seed)
    else:
        bi = bootstrap_interval(stat, a, b, n_boot=n_boot, seed=seed)
    bias = float(np.mean(bi.replicates)) - bi.estimate
    return bi.estimate, max(0.0, bi.low - bias), max(0.0, bi.high - bias)


def _decoded_divergence(p: np.ndarray, q: np.ndarray, circular: bool, seed: int, n_mc: int) -> float:
    if circular:
        return circular_kl(p[..., 0], q[..., 0])
    return kl_divergence(p.reshape(-1, p.shape[-1]), q.reshape(-1, q.shape[-1]), method="corrected",
                         n_mc=n_mc, seed=seed)


def compare(rec_a: Recording, rec_b: Recording, *, names: tuple[str, str] | None = None, burn_in: float = 0.5,
            n_boot: int = 50, max_points: int = 2000, n_mc: int = 2500, seed: int = 0) -> Comparison:
    """Compare two recordings phase by phase.

    Parameters
    ----------
    rec_a, rec_b : Recording
        Runs of the same protocol shape (e.g. ``backend="torch"`` and ``backend="brian2"``).
    names : (str, str), optional
        Column names; the backends by default.
    burn_in : float
        Fraction of each phase dropped before the total variance (the paper drops 1000 of 2000 steps).
    n_boot : int
        Bootstrap resamples (over trials) for the energy-distance interval.
    max_points : int
        Points subsampled per cloud for the energy distance.
    n_mc : int
        Monte-Carlo samples of the KL estimator.
    seed : int

    Returns
    -------
    Comparison

    Raises
    ------
    ValueError
        If the recordings decode different quantities (task mismatch), share no phase, or a phase is empty.

    Notes
    -----
    The energy distance :math:`D^2 = 2E\\|X-Y\\| - E\\|X-X'\\| - E\\|Y-Y'\\|` is zero iff the two decoded
    distributions are equal. Its bootstrap interval resamples whole trials (trajectories are
    autocorrelated); resampled duplicates inflate a distance, so the percentile interval is shifted by the
    bootstrap bias estimate. Whether the two recordings differ at all is answered by the permutation p-value.
    Recordings with identical inputs (one protocol run with one seed on two backends) have *paired* trials:
    then pairs are resampled jointly and the permutation swaps the members of random pairs; otherwise trials
    are pooled and reassigned at random. KL uses
    :func:`neurorx.analysis.kl_divergence` (``method="corrected"``) for positions and
    :func:`neurorx.analysis.circular_kl` for angles. Within each recording, ``KL(quiescent‖active)`` is the
    paper's Fig. 2e reactivation measure.
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
    phases = [p for p in rec_a.labels if p in rec_b.labels]
    if not phases:
        raise ValueError(f"the recordings share no phase: {rec_a.labels} vs {rec_b.labels}")
    circular = bool(rec_a.meta.get("circular", False))
    names = names or (str(rec_a.meta.get("backend", "a")), str(rec_b.meta.get("backend", "b")))
    if names[0] == names[1]:
        names = (f"{names[0]} (a)", f"{names[1]} (b)")
    rng = np.random.default_rng(seed)
    out = Comparison(names=tuple(names), meta={"a": rec_a.meta.get("network"), "b": rec_b.meta.get("network"),
                                               "burn_in": burn_in, "seed": seed, "circular": circular})

    def dist(x, y):
        return energy_distance(subsample_points(x, max_points, rng), subsample_points(y, max_points, rng),
                               max_points=None)

    # same protocol, same seed: the trials share inputs and start states, so they come in pairs
    paired = rec_a.inputs.shape == rec_b.inputs.shape and np.array_equal(rec_a.inputs, rec_b.inputs) \
        and np.array_equal(rec_a.states, rec_b.states, equal_nan=True)
    out.meta["paired_trials"] = bool(paired)
    for phase in phases:
        a, b = rec_a.select(phase), rec_b.select(phase)
        for rec, nm in ((a, names[0]), (b, names[1])):
            if rec.decoded.shape[1] < 2 or rec.decoded.shape[0] < 1:
                raise ValueError(f"phase {phase!r} of {nm} has {rec.decoded.shape[1]} steps; at least 2 are needed")
        sa, sb = _phase_stats(a, circular, burn_in), _phase_stats(b, circular, burn_in)
        for key, (va, unit) in sa.items():
            if key in sb:
                out.rows.append(Row(phase, key, unit, va, sb[key][0]))
        est, low, high = _interval(dist, a.decoded, b.decoded, n_boot, seed, paired)
        pval = _permutation_p(dist, a.decoded, b.decoded, est, n_boot, rng, paired)
        out.divergences.append(Divergence(phase, "energy distance (decoded)", est, low, high, p_value=pval,
                                          between="a vs b (paired trials)" if paired else "a vs b"))
        kl = _decoded_divergence(a.decoded, b.decoded, circular, seed, n_mc)
        out.divergences.append(Divergence(phase, "KL(a‖b) decoded", float(kl)))
        if a.h is not None and b.h is not None and a.h.shape[1] and b.h.shape[1]:
            out.divergences.append(Divergence(phase, "energy distance (hidden states)", float(dist(a.h, b.h))))
    for rec, nm in ((rec_a, names[0]), (rec_b, names[1])):
        if "quiescent" in rec.labels and "active" in rec.labels:
            q, act = rec.select("quiescent").decoded, rec.select("active").decoded
            kl = _decoded_divergence(q, act, circular, seed, n_mc)
            out.divergences.append(Divergence("quiescent", "KL(quiescent‖active) decoded", float(kl), between=nm))
    return out
