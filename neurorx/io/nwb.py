r"""Neurodata Without Borders (NWB) files: write a :class:`~neurorx.Recording`, read a lab's recording.

:func:`write` (also :meth:`neurorx.Recording.to_nwb`) stores a run in the layout labs use, with pynwb;
:func:`read` turns an NWB file from any lab (units, position or head direction, epochs) into a
:class:`~neurorx.Recording` of decoded trajectories through pynapple's tuning curves and Bayesian decoder, so
that :mod:`neurorx.analysis` and :func:`neurorx.compare` apply to data. :func:`inspect` runs nwbinspector.

Both need the optional extra ``neurorx[data]`` (pynwb, pynapple, nwbinspector); importing this module does
not, and a missing package is one line naming ``pip install 'neurorx[data]'``.

Layout of a written file
------------------------
- **Time.** The ``B`` trials of a run are placed one after another on one time axis: trial ``b`` occupies
  :math:`[bD, (b+1)D)` with :math:`D = T\,\Delta t` (``T`` steps of ``dt`` seconds), and the state after step
  ``k`` is stamped :math:`bD + t_k - t_0 + \Delta t/2` (the recording's ``t`` shifted so that every step sits in
  the middle of its own interval ``[bD + k\Delta t, bD + (k+1)\Delta t)``). All times in seconds.
- **Epochs** (``epochs`` table): one row per trial and phase, tagged with the phase label (``active``,
  ``quiescent``, ...), with the column ``trial_index``; **trials** (``trials`` table): one row per trial.
- **Units**: spike times when the recording has spikes (``rec.spikes``, or ``spikes=``; see
  :class:`SpikeTrains`), one unit per neuron with columns ``rate_unit`` (index of the rate unit it belongs to),
  ``population`` and ``cell_type`` (``E``/``I``); a rate run has no Units table unless spikes are given (e.g.
  drawn with :func:`poisson_spikes`).
- **Processing module** ``network``: the hidden states ``h`` as the TimeSeries ``rates`` (unit ``a.u.``,
  rate units' activations), the raw outputs ``y`` as ``outputs``.
- **Behaviour** (processing module ``behavior``): the true trajectory during the ``active`` phases, as
  ``Position/position`` (metres, 2-D) or ``CompassDirection/head_direction`` (radians in
  :math:`[-\pi, \pi)`).
- **Processing module** ``decoded``: the network's decoded outputs over the whole run, as
  ``DecodedPosition/decoded_position`` or ``DecodedDirection/decoded_head_direction``.
- **Metadata**: ``notes`` holds the run's ``meta`` as JSON (network, protocol, seeds, versions);
  ``experiment_description`` the network; the subject is the simulated network (``subject_id`` from the
  network, ``date_of_birth`` its training date, species the modelled animal, sex ``U``).
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from neurorx.errors import ConfigurationError, FileFormatError
from neurorx.io.extras import require
from neurorx.io.files import check_output_file

__all__ = ["SpikeTrains", "inspect", "poisson_spikes", "read", "write"]

#: Names of epochs read as the awake (tuning) and the sleep (decoding) epoch when none is given.
WAKE_NAMES = ("wake", "awake", "active", "run", "running", "maze", "explore", "exploration", "task")
SLEEP_NAMES = ("sleep", "quiescent", "rest", "sws", "nrem", "rem", "post_sleep", "pre_sleep", "presleep",
               "postsleep", "home")


@dataclass(frozen=True)
class SpikeTrains:
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
    def coerce(cls, obj, trials: int) -> SpikeTrains:
        """A :class:`SpikeTrains` from itself or any object/mapping with ``t``, ``i`` (and ``trial``) arrays."""
        if isinstance(obj, cls):
            return obj

        def get(name, default=None):
            if isinstance(obj, dict):
                return obj.get(name, default)
            return getattr(obj, name, default)

        t, i = get("t"), get("i")
        if t is None or i is None:
            raise ConfigurationError(f"spikes must have spike times 't' (s) and neuron indices 'i'; got "
                                     f"{type(obj).__name__}; build a neurorx.io.nwb.SpikeTrains")
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


def poisson_spikes(rec, *, peak_rate: float = 20.0, seed: int = 0) -> SpikeTrains:
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
    return SpikeTrains(t=t[order], i=unit[order], trial=trial[order], n_neurons=h.shape[-1],
                       rate_unit=np.arange(h.shape[-1]), resolution=1e-4,
                       meta={"model": "poisson from h", "peak_rate_hz": peak_rate, "seed": seed})


# -- writing ---------------------------------------------------------------------------------------------------

def _step(rec) -> float:
    """The recording's step in seconds (``meta["dt"]``, else the spacing of ``t``)."""
    if "dt" in rec.meta:
        return float(rec.meta["dt"])
    if len(rec.t) > 1:
        return float(np.median(np.diff(rec.t)))
    raise ConfigurationError("cannot tell the recording's time step: it has one step and no meta['dt']")


def _series_time(times: np.ndarray) -> dict:
    """``rate``/``starting_time`` for a regular time axis, else ``timestamps`` (nwbinspector's best practice)."""
    if len(times) > 2:
        d = np.diff(times)
        if np.allclose(d, d[0], rtol=1e-9, atol=1e-12) and d[0] > 0:
            return {"starting_time": float(times[0]), "rate": float(1.0 / d[0])}
    if len(times) == 2:
        return {"starting_time": float(times[0]), "rate": float(1.0 / (times[1] - times[0]))}
    return {"timestamps": np.asarray(times, dtype=np.float64)}


def write(rec, path: str | Path, *, overwrite: bool = False, spikes=None, session_description: str | None = None,
          identifier: str | None = None, session_start_time: datetime | None = None, subject: dict | None = None,
          experimenter: str | list | None = None, institution: str | None = None, lab: str | None = None) -> Path:
    """Write a run to an NWB file, atomically (a temporary file renamed into place).

    Parameters
    ----------
    rec : Recording
    path : str or Path
        The ``.nwb`` file to write.
    overwrite : bool
        Replace an existing file (by default an existing file is an error and left as it is).
    spikes : SpikeTrains or object with ``t``, ``i``, ``trial``, optional
        Spikes to store in the Units table; by default ``rec.spikes`` when the recording has spikes.
    session_description, identifier, session_start_time, experimenter, institution, lab
        NWB file fields; by default a description of the run, a fresh UUID, the run's creation time.
    subject : dict, optional
        Fields of :class:`pynwb.file.Subject` replacing the defaults (the simulated network as subject).

    Returns
    -------
    Path

    Notes
    -----
    The layout (time axis, tables, modules) is in the module's documentation.
    """
    pynwb = require("pynwb", "writing NWB files")
    path = check_output_file(path, overwrite=overwrite)
    nwbfile = _build_nwbfile(pynwb, rec, spikes, session_description, identifier, session_start_time, subject,
                             experimenter, institution, lab)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp.nwb")
    os.close(fd)
    try:
        with pynwb.NWBHDF5IO(tmp, "w") as io:
            io.write(nwbfile)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _build_nwbfile(pynwb, rec, spikes, session_description, identifier, session_start_time, subject, experimenter,
                   institution, lab):
    from pynwb.behavior import CompassDirection, Position, SpatialSeries
    from pynwb.file import Subject

    meta = rec.meta
    b, n_steps = rec.trials, len(rec.t)
    if n_steps == 0:
        raise ConfigurationError("the recording has no steps; nothing to write")
    dt = _step(rec)
    dur = n_steps * dt
    rel = rec.t - rec.t[0] + dt / 2                     # step k in the middle of [k dt, (k+1) dt)
    stamp = (np.arange(b)[:, None] * dur + rel[None, :])  # (B, T) absolute times
    created = _parse_time((meta.get("versions") or {}).get("created"))
    born = _parse_time((meta.get("network_provenance") or {}).get("created")) or created
    start = session_start_time or created or datetime.now(UTC)
    network = str(meta.get("network", "a neurorx network"))
    circular = bool(meta.get("circular", False))
    subject_fields = {"subject_id": f"neurorx-{meta.get('task', 'network')}-seed{meta.get('seed', 0)}",
                      "description": f"simulated subject: {network} (no animal; species names the modelled one)",
                      "species": "Rattus norvegicus", "sex": "U"}
    if born is not None and born <= start:
        subject_fields["date_of_birth"] = born
    else:
        subject_fields["age"] = "P0D/"
    subject_fields.update(subject or {})
    nwbfile = pynwb.NWBFile(
        session_description=session_description or (
            f"neurorx {meta.get('backend', '')} run of {network}: phases "
            + ", ".join(f"{p['label']} ({p['stop'] - p['start']} steps)" for p in rec.phases)
            + f"; {b} trials placed one after another"),
        identifier=identifier or str(uuid.uuid4()), session_start_time=start,
        experiment_description=f"simulation of {network}", notes=json.dumps(meta, default=str),
        experimenter=experimenter, institution=institution, lab=lab,
        keywords=["neurorx", "simulation", "recurrent neural network", "reactivation"],
        source_script="neurorx", source_script_file_name="neurorx", subject=Subject(**subject_fields))
    # epochs and trials
    nwbfile.add_trial_column(name="trial_index", description="index of the trial in the run (placed in order)")
    nwbfile.add_epoch_column(name="trial_index", description="index of the trial the epoch belongs to")
    for i in range(b):
        nwbfile.add_trial(start_time=float(i * dur), stop_time=float((i + 1) * dur), trial_index=i)
        for p in rec.phases:
            if p["stop"] > p["start"]:
                nwbfile.add_epoch(start_time=float(i * dur + p["start"] * dt),
                                  stop_time=float(i * dur + p["stop"] * dt), tags=[p["label"]], trial_index=i)
    # rates and outputs
    net_mod = nwbfile.create_processing_module("network", f"rate-unit activity of {network}")
    if rec.h is not None or rec.y is not None:
        rec_t = stamp[:, rec.record_index].ravel()
        for name, arr, desc in (("rates", rec.h, "hidden states h (rate units' activations)"),
                                ("outputs", rec.y, "raw network outputs y (cell-code readout)")):
            if arr is not None and arr.shape[1]:
                net_mod.add(pynwb.TimeSeries(name=name, data=arr.reshape(-1, arr.shape[-1]), unit="a.u.",
                                             description=desc, **_series_time(rec_t)))
    if not len(net_mod.data_interfaces):
        nwbfile.processing.pop("network")
    # behaviour: the true trajectory of the active phases; decoded outputs over the whole run
    unit, frame = ("radians", "0 rad along the arena's x axis, counterclockwise positive") if circular else (
        "meters", "(0, 0) is the centre of the arena; x to the right, y up")
    active = rec.phase == "active"
    beh = nwbfile.create_processing_module("behavior", "true trajectory of the simulated animal (active phases)")
    dec = nwbfile.create_processing_module("decoded", "trajectory decoded from the network's outputs")
    container, dcontainer = (CompassDirection(name="CompassDirection"), CompassDirection(name="DecodedDirection")) \
        if circular else (Position(name="Position"), Position(name="DecodedPosition"))
    sname = "head_direction" if circular else "position"

    def data_of(x):
        return x[..., 0] if circular else x

    if active.any():
        states = data_of(rec.states[:, active]).reshape((-1,) if circular else (-1, rec.states.shape[-1]))
        container.add_spatial_series(SpatialSeries(
            name=sname, data=states, unit=unit, reference_frame=frame,
            description=f"true {sname.replace('_', ' ')} during the active phases", **_series_time(
                stamp[:, active].ravel())))
        beh.add(container)
    else:
        nwbfile.processing.pop("behavior")
    dcontainer.add_spatial_series(SpatialSeries(
        name=f"decoded_{sname}", data=data_of(rec.decoded).reshape((-1,) if circular else (-1, rec.decoded.shape[-1])),
        unit=unit, reference_frame=frame, description=f"{sname.replace('_', ' ')} decoded from the network's outputs",
        **_series_time(stamp.ravel())))
    dec.add(dcontainer)
    # spikes
    spikes = spikes if spikes is not None else getattr(rec, "spikes", None)
    if spikes is not None:
        _add_units(nwbfile, SpikeTrains.coerce(spikes, b), b, dur, rec.t[0] - dt, dt)
    return nwbfile


def _add_units(nwbfile, spikes: SpikeTrains, trials: int, dur: float, t0: float, dt: float) -> None:
    spikes.check(trials)
    absolute = spikes.trial * dur + (spikes.t - t0)
    order = np.lexsort((absolute, spikes.i))
    i_sorted, t_sorted = spikes.i[order], absolute[order]
    bounds = np.searchsorted(i_sorted, np.arange(spikes.n_neurons + 1))
    from pynwb.misc import Units

    units = Units(name="units", description="spike times of the simulated neurons (all trials, placed one after "
                  "another)", resolution=spikes.resolution or dt)
    nwbfile.units = units
    cols = {"rate_unit": ("index of the rate unit the neuron belongs to", spikes.rate_unit, int),
            "population": ("population of the neuron", spikes.population, str),
            "cell_type": ("E (excitatory), I (inhibitory) or empty", spikes.cell_type, str)}
    for name, (desc, _, _) in cols.items():
        units.add_column(name=name, description=desc)
    for n in range(spikes.n_neurons):
        row = {name: (kind(val[n]) if val is not None else (n if kind is int else "")) for name, (_, val, kind)
               in cols.items()}
        units.add_unit(spike_times=t_sorted[bounds[n]:bounds[n + 1]], **row)


def _parse_time(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        out = datetime.fromisoformat(value)
    except ValueError:
        return None
    return out if out.tzinfo else out.replace(tzinfo=UTC)


# -- inspecting ------------------------------------------------------------------------------------------------

def inspect(path: str | Path, importance: str = "BEST_PRACTICE_VIOLATION") -> list:
    """The messages of nwbinspector about ``path`` at ``importance`` or above (``CRITICAL`` first)."""
    nwbinspector = require("nwbinspector", "inspecting NWB files")
    from nwbinspector import Importance

    return list(nwbinspector.inspect_nwbfile(nwbfile_path=str(path), importance_threshold=Importance[importance]))


def read(path, **kwargs):
    """Read an NWB file into a Recording of decoded trajectories (see :mod:`neurorx.io.nwb_read`)."""
    from neurorx.io.nwb_read import read as _read

    return _read(path, **kwargs)
