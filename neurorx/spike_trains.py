"""Spike trains of a spiking run, stored sparsely: :class:`SpikeTrains` (one entry per neuron and spike bin)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["SpikeCollector", "SpikeTrains"]

_FIELDS = ("t", "trial", "neuron", "count")


@dataclass(eq=False)
class SpikeTrains:
    """Spikes of the recorded trials, sorted by trial then time.

    Attributes
    ----------
    t : ndarray (S,) float
        Spike time in physical seconds from the run's start (the start of the spike bin).
    trial : ndarray (S,) int
        Trial of the spike.
    neuron : ndarray (S,) int
        Neuron within the trial: ``unit * per_unit + k``.
    count : ndarray (S,) int
        Spikes in that neuron's bin (Poisson counts can exceed 1; LIF neurons: 1).
    trials : ndarray (R,) int
        The trials recorded (a trial with no spike is still listed).
    per_unit : int
        Neurons per unit ``M``.
    n_units : int
        Units ``N`` (neurons per trial: ``N*M``).
    bin : float
        Spike bin (the spike step, physical seconds).
    step : float
        Physical duration of one network step (spikes at ``t`` belong to step ``floor(t/step)``).
    stats : dict
        Counters of the run (e.g. ``rate_over_limit``: unit-steps whose fastest neuron's rate reached the
        model's limit, out of ``unit_steps``).
    """

    t: np.ndarray
    trial: np.ndarray
    neuron: np.ndarray
    count: np.ndarray
    trials: np.ndarray
    per_unit: int
    n_units: int
    bin: float
    step: float
    stats: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.count.sum())

    def __repr__(self) -> str:
        return (f"SpikeTrains({len(self)} spikes, {len(self.trials)} trials, {self.n_units} units x "
                f"{self.per_unit} neurons)")

    def of_trial(self, trial: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(t, neuron, count)`` of one recorded trial."""
        if trial not in set(self.trials.tolist()):
            raise ValueError(f"trial {trial} was not recorded; recorded trials: {self.trials.tolist()[:10]}"
                             f"{' ...' if len(self.trials) > 10 else ''} (choose them with spike_trials=)")
        sel = self.trial == trial
        return self.t[sel], self.neuron[sel], self.count[sel]

    def subset(self, keep: np.ndarray) -> SpikeTrains:
        """The spikes where the boolean mask ``keep`` is true (same trials and layout)."""
        return SpikeTrains(self.t[keep], self.trial[keep], self.neuron[keep], self.count[keep], self.trials,
                           self.per_unit, self.n_units, self.bin, self.step, self.stats)

    def in_steps(self, steps: np.ndarray) -> SpikeTrains:
        """The spikes of the given network steps."""
        return self.subset(np.isin(np.floor(self.t / self.step + 1e-9).astype(np.int64), steps))

    def counts(self, edges: np.ndarray, *, per: str = "neuron") -> np.ndarray:
        """Spike counts in time bins ``edges`` (seconds): ``(R, N*M, bins)`` or, ``per="unit"``, ``(R, N, bins)``."""
        size = self.n_units * (self.per_unit if per == "neuron" else 1)
        row = np.searchsorted(self.trials, self.trial)
        col = self.neuron if per == "neuron" else self.neuron // self.per_unit
        b = np.searchsorted(edges, self.t + 1e-12, side="right") - 1
        ok = (b >= 0) & (b < len(edges) - 1)
        out = np.zeros((len(self.trials), size, len(edges) - 1))
        np.add.at(out, (row[ok], col[ok], b[ok]), self.count[ok])
        return out

    # -- files ---------------------------------------------------------------------------------------------
    def arrays(self) -> dict[str, np.ndarray]:
        """Plain arrays for a ``.npz`` file (keys ``spikes/<field>``)."""
        out = {f"spikes/{k}": getattr(self, k) for k in _FIELDS}
        out["spikes/trials"] = self.trials
        return out

    def meta(self) -> dict:
        """JSON metadata for a ``.npz`` file."""
        return {"per_unit": int(self.per_unit), "n_units": int(self.n_units), "bin": float(self.bin),
                "step": float(self.step), "stats": {k: float(v) for k, v in self.stats.items()}}

    @classmethod
    def from_arrays(cls, arrays: dict, meta: dict) -> SpikeTrains:
        """Rebuild from :meth:`arrays` and :meth:`meta` (raises ``KeyError``/``TypeError`` if incomplete)."""
        return cls(**{k: np.asarray(arrays[f"spikes/{k}"]) for k in _FIELDS},
                   trials=np.asarray(arrays["spikes/trials"]), per_unit=int(meta["per_unit"]),
                   n_units=int(meta["n_units"]), bin=float(meta["bin"]), step=float(meta["step"]),
                   stats=dict(meta.get("stats", {})))


class SpikeCollector:
    """Gathers the spikes that a backend's chunks carry (``chunk.spikes``), passing the chunks on unchanged."""

    def __init__(self):
        self.parts: dict[str, list] = {k: [] for k in _FIELDS}
        self.stats: dict[str, float] = {}

    def collect(self, chunks):
        """Yield ``chunks`` unchanged, keeping their spikes and summing their counters."""
        for ch in chunks:
            spikes = getattr(ch, "spikes", None) or {}
            for k in _FIELDS:
                if k in spikes:
                    self.parts[k].append(np.asarray(spikes[k]))
            for key, value in (getattr(ch, "stats", None) or {}).items():
                self.stats[key] = self.stats.get(key, 0) + value
            yield ch

    def result(self, trials, per_unit: int, n_units: int, bin: float, step: float) -> SpikeTrains:
        """The collected spikes, sorted by trial then time."""
        cat = {k: np.concatenate(v) if v else np.zeros(0) for k, v in self.parts.items()}
        order = np.lexsort((cat["neuron"], cat["t"], cat["trial"]))
        return SpikeTrains(t=cat["t"][order].astype(np.float64), trial=cat["trial"][order].astype(np.int32),
                           neuron=cat["neuron"][order].astype(np.int32), count=cat["count"][order].astype(np.int32),
                           trials=np.asarray(sorted(trials), dtype=np.int32), per_unit=per_unit, n_units=n_units,
                           bin=bin, step=step, stats=dict(self.stats))
