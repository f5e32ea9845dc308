"""Spikes as rows of the NWB Units table: :class:`UnitSpikes` (one entry per spike, with per-neuron columns) and
:func:`poisson_spikes` from rates. A spiking run's own record is :class:`neurorx.spike_trains.SpikeTrains`
(one entry per neuron and spike bin, with a count); :meth:`UnitSpikes.coerce` converts it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from neurorx.errors import ConfigurationError

__all__ = ["UnitSpikes", "poisson_spikes"]


@dataclass(frozen=True)
class UnitSpikes:
    """Spikes of a run: one entry per spike, on the recording's clock.

    Attributes
    ----------
    t : ndarray (n_spikes,)
        Spike times in seconds, on the clock of :attr:`neurorx.Recording.t` (within a trial).
    i : ndarray (n_spikes,) of int
        Neuron index of each spike, in ``[0, n_neurons)``.
    trial : ndarray (n_spikes,) of int
        Trial of each spike.
    n_neurons : int
        Number of neurons (neurons that never fire still get a row in the Units table).
    rate_unit : ndarray (n_neurons,) of int, optional
        Index of the rate unit each neuron belongs to (M neurons per rate unit in a spiking backend).
    population : ndarray (n_neurons,) of str, optional
        Population name of each neuron.
    cell_type : ndarray (n_neurons,) of str, optional
        ``"E"`` or ``"I"`` (or ``""``) of each neuron.
    resolution : float
        Time resolution of the spike times in seconds (the simulation step).
    """

    t: np.ndarray
    i: np.ndarray
    trial: np.ndarray
    n_neurons: int
    rate_unit: np.ndarray | None = None
    population: np.ndarray | None = None
    cell_type: np.ndarray | None = None
    resolution: float = 0.0
    meta: dict = field(default_factory=dict)

    @classmethod
    def coerce(cls, obj, trials: int) -> UnitSpikes:
        """A :class:`UnitSpikes` from itself or any object/mapping with ``t``, ``i`` (and ``trial``) arrays."""
        if isinstance(obj, cls):
            return obj

        def get(name, default=None):
            if isinstance(obj, dict):
                return obj.get(name, default)
            return getattr(obj, name, default)

        if all(hasattr(obj, a) for a in ("neuron", "count", "per_unit", "n_units")):
            # the spiking backend's record (neurorx.spike_trains.SpikeTrains): one entry per neuron and bin, with
            # a count (Poisson bins can hold several spikes); neuron = unit * per_unit + k
            reps = np.asarray(obj.count, dtype=np.int64)
            n = int(obj.n_units) * int(obj.per_unit)
            return cls(t=np.repeat(np.asarray(obj.t, dtype=np.float64), reps),
                       i=np.repeat(np.asarray(obj.neuron, dtype=np.int64), reps),
                       trial=np.repeat(np.asarray(obj.trial, dtype=np.int64), reps), n_neurons=n,
                       rate_unit=np.arange(n) // int(obj.per_unit), resolution=float(obj.bin))
        t, i = get("t"), get("i")
        if t is None or i is None:
            raise ConfigurationError(f"spikes must have spike times 't' (s) and neuron indices 'i'; got "
                                     f"{type(obj).__name__}; build a neurorx.io.nwb.UnitSpikes")
        t, i = np.asarray(t, dtype=np.float64).ravel(), np.asarray(i, dtype=np.int64).ravel()
        trial = get("trial")
        trial = np.zeros_like(i) if trial is None else np.asarray(trial, dtype=np.int64).ravel()
        n = get("n_neurons")
        n = int(n) if n is not None else int(i.max()) + 1 if i.size else 0
        return cls(t=t, i=i, trial=trial, n_neurons=n, rate_unit=get("rate_unit"), population=get("population"),
                   cell_type=get("cell_type"), resolution=float(get("resolution", 0.0) or 0.0))

    def check(self, trials: int) -> None:
        """Raise a :class:`~neurorx.errors.ConfigurationError` naming the first inconsistency."""
        if not (self.t.shape == self.i.shape == self.trial.shape):
            raise ConfigurationError(f"spikes: t, i and trial must have one entry per spike; got shapes "
                                     f"{self.t.shape}, {self.i.shape}, {self.trial.shape}")
        if self.t.size and not np.all(np.isfinite(self.t)):
            raise ConfigurationError("spikes: spike times must be finite numbers (seconds)")
        if self.i.size and (self.i.min() < 0 or self.i.max() >= self.n_neurons):
            raise ConfigurationError(f"spikes: neuron indices must lie in [0, {self.n_neurons})")
        if self.trial.size and (self.trial.min() < 0 or self.trial.max() >= trials):
            raise ConfigurationError(f"spikes: trial indices must lie in [0, {trials}) (the recording's trials)")
        for name in ("rate_unit", "population", "cell_type"):
            val = getattr(self, name)
            if val is not None and len(val) != self.n_neurons:
                raise ConfigurationError(f"spikes: {name} must have one entry per neuron ({self.n_neurons}); "
                                         f"got {len(val)}")


def poisson_spikes(rec, *, peak_rate: float = 20.0, seed: int = 0) -> UnitSpikes:
    r"""Spikes drawn from a rate run's hidden states: one inhomogeneous Poisson neuron per rate unit.

    Parameters
    ----------
    rec : Recording
        A run that recorded ``h`` at every step (``record=("h",)``, ``every=1``).
    peak_rate : float
        Firing rate in Hz of a unit at its largest activation in the run.
    seed : int

    Notes
    -----
    Unit :math:`j` fires at :math:`\lambda_j(t) = r_{\max}\,\max(h_j(t), 0)/\max_{b,t} h_j`; in a step of
    length :math:`\Delta t` it emits :math:`n \sim \mathrm{Poisson}(\lambda_j \Delta t)` spikes at uniform times
    within the step, rounded to 0.1 ms (the ``resolution``). A unit that is never positive stays silent.
    """
    h = rec.require("h")
    if len(rec.record_index) != len(rec.t):
        raise ConfigurationError("poisson_spikes needs h at every step: run the protocol with every=1")
    if not (isinstance(peak_rate, int | float) and peak_rate > 0):
        raise ConfigurationError(f"peak_rate must be a positive number of Hz; got {peak_rate!r}")
    dt = _step(rec)
    rates = np.clip(h, 0, None)
    peak = rates.max(axis=(0, 1))
    rates = np.divide(rates, peak, out=np.zeros_like(rates), where=peak > 0) * peak_rate
    rng = np.random.default_rng(seed)
    counts = rng.poisson(rates * dt)
    trial, step, unit = np.nonzero(counts)
    reps = counts[trial, step, unit]
    trial, step, unit = (np.repeat(a, reps) for a in (trial, step, unit))
    t = np.round(rec.t[step] - dt + rng.uniform(0, dt, step.size), 4)   # on a 0.1 ms grid (the resolution)
    order = np.lexsort((t, trial))
    return UnitSpikes(t=t[order], i=unit[order], trial=trial[order], n_neurons=h.shape[-1],
                       rate_unit=np.arange(h.shape[-1]), resolution=1e-4,
                       meta={"model": "poisson from h", "peak_rate_hz": peak_rate, "seed": seed})


def _step(rec) -> float:
    """The recording's step in seconds (``meta["dt"]``, else the spacing of ``t``)."""
    if "dt" in rec.meta:
        return float(rec.meta["dt"])
    if len(rec.t) > 1:
        return float(np.median(np.diff(rec.t)))
    raise ConfigurationError("cannot tell the recording's time step: it has one step and no meta['dt']")
