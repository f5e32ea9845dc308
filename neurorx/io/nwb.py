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
    from hdmf.common import VectorData, VectorIndex
    from pynwb.misc import Units

    n = spikes.n_neurons
    spike_times = VectorData(name="spike_times", description="spike times in seconds", data=t_sorted)
    columns = [spike_times, VectorIndex(name="spike_times_index", data=bounds[1:], target=spike_times)]
    defaults = {"rate_unit": np.arange(n), "population": np.full(n, ""), "cell_type": np.full(n, "")}
    descriptions = {"rate_unit": "index of the rate unit the neuron belongs to",
                    "population": "population of the neuron", "cell_type": "E (excitatory), I (inhibitory) or empty"}
    for name, desc in descriptions.items():
        val = getattr(spikes, name)
        val = defaults[name] if val is None else np.asarray(val)
        columns.append(VectorData(name=name, description=desc, data=val.astype(int if name == "rate_unit" else str)))
    # built column-wise: adding units one by one converts every spike time separately (minutes for 1e6 spikes)
    nwbfile.units = Units(name="units", description="spike times of the simulated neurons (all trials, placed "
                          "one after another)", resolution=spikes.resolution or dt, id=np.arange(n), columns=columns)


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


# -- reading -------------------------------------------------------------------------------------------------

def read(path: str | Path, *, wake: str | None = None, sleep: str | None = None, bin_size=0.02, bins: int | None = None,
         feature: str | None = None, uniform_prior: bool = True, segment=None):
    r"""Decode the trajectories of a lab's NWB recording into a :class:`~neurorx.Recording`.

    Tuning curves of every unit over the measured position or head direction in the awake epoch, then
    Bayesian decoding (pynapple's :func:`~pynapple.compute_tuning_curves` and :func:`~pynapple.decode_bayes`)
    in the awake and the sleep epoch, at ``bin_size``. Bins of the grid never visited awake (NaN tuning curves)
    are excluded from the posterior (:data:`UNVISITED_RATE`).

    Parameters
    ----------
    path : str or Path
        An NWB file with a Units table, a ``Position`` or ``CompassDirection`` SpatialSeries, and epochs (rows
        of the ``epochs`` table by tag, or other interval tables by name).
    wake, sleep : str, optional
        Names of the awake and the sleep epoch; by default the first epoch named like one of
        :data:`WAKE_NAMES` and :data:`SLEEP_NAMES` (``wake``/``sleep``, ``active``/``quiescent``, ...).
    bin_size : float, str or brian2 Quantity
        Decoding bin (a bare number is in seconds, below one second; 20 ms by default).
    bins : int, optional
        Tuning-curve bins: per axis for positions (default 20, a 20 x 20 grid), around the circle for head
        direction (default 36, 10 degrees).
    feature : str, optional
        Name of the SpatialSeries to decode (by default the one under ``Position`` or ``CompassDirection``
        outside the ``decoded`` module that neurorx writes).
    uniform_prior : bool
        Flat prior (default) or the awake occupancy as prior (pynapple's ``uniform_prior``).
    segment : float or brian2 Quantity, optional
        A bare number is in seconds. Cut each epoch (its intervals one after another) into consecutive
        segments of this duration and make the ``i``-th awake and ``i``-th sleep segment trial ``i`` (as
        many trials as the shorter epoch holds; the rest is left out and counted in ``meta["dropped_bins"]``).
        Statistics with intervals over trials (:func:`neurorx.compare`) need two trials or more.

    Returns
    -------
    Recording
        Phases ``active`` (the awake epoch) and ``quiescent`` (the sleep epoch), ``decoded`` the posterior's
        maximum in metres or radians, ``states`` the measured trajectory at the bin centres (NaN where it was
        not measured), ``h`` the binned spike counts (trials, bins, units), ``hooks["decoder"]`` the posterior,
        the tuning curves (Hz) and their bin centres. When every interval of each epoch holds the same number
        of bins and the two epochs have as many intervals (a neurorx run), each pair is one trial; otherwise,
        without ``segment``, one trial holds each epoch's intervals one after another. ``meta["task"]`` is
        ``head_direction`` or ``spatial_navigation``, so :func:`neurorx.compare` accepts it next to a simulated run.

    Raises
    ------
    FileFormatError
        The file is not a readable NWB file, or lacks units, position/head direction, or the epochs, or an
        epoch holds no spikes or no measured trajectory; the message names what is missing.
    MissingExtraError
        pynwb or pynapple is not installed.
    """
    if bins is not None:
        from neurorx.checks import positive_int
        from neurorx.resources import check_memory

        bins = positive_int(bins, "bins (--bins)")
        if bins < 2:
            raise ConfigurationError(f"bins (--bins) must be at least 2: a single tuning-curve bin decodes every "
                                     f"time bin to the same place; got {bins}")
        check_memory(8.0 * float(bins) ** 2, f"a decoding grid of {bins:,} bins per dimension",
                     "use fewer bins (--bins)")
    from neurorx.units import parse_time

    nap = require("pynapple", "reading NWB files")
    pynwb = require("pynwb", "reading NWB files")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such NWB file: {path}")
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory, not an NWB file; give the .nwb file inside it")
    bin_size = parse_time(bin_size, "bin_size")
    segment = None if segment is None else parse_time(segment, "segment", trusted=True)  # seconds-long: no guard
    try:
        io = pynwb.NWBHDF5IO(str(path), "r")
        nwbfile = io.read()
    except Exception as err:   # h5py and hdmf raise many types for a bad file
        raise FileFormatError(f"{path} is not a readable NWB file (truncated or corrupt: "
                              f"{' '.join(str(err).split())[:200]}); re-export or re-download it") from None
    with io:
        return _decode_file(nap, path, nwbfile, wake, sleep, bin_size, bins, feature, uniform_prior, segment)


def _find_feature(path, nwbfile, feature):
    """The SpatialSeries to decode: ``(name, values (n,) or (n, 2), timestamps, circular)`` in SI units."""
    from pynwb.behavior import CompassDirection, Position, SpatialSeries

    candidates = []
    for obj in nwbfile.objects.values():
        if not isinstance(obj, SpatialSeries):
            continue
        parent = obj.parent
        module = getattr(parent, "parent", None)
        if feature is not None:
            if obj.name == feature:
                candidates.append(obj)
        elif isinstance(parent, Position | CompassDirection) and getattr(module, "name", "") != "decoded":
            candidates.append(obj)
    if not candidates:
        names = sorted(o.name for o in nwbfile.objects.values() if isinstance(o, SpatialSeries))
        if feature is not None:
            raise FileFormatError(f"{path} has no SpatialSeries named {feature!r}; it has {names or 'none'}")
        raise FileFormatError(f"{path} has no position or head direction (a SpatialSeries in a Position or "
                              f"CompassDirection, e.g. in processing['behavior']): tuning curves need one; "
                              f"SpatialSeries in the file: {names or 'none'} (pass feature=NAME)")
    candidates.sort(key=lambda o: (getattr(o.parent.parent, "name", "") != "behavior", o.name))
    series = candidates[0]
    circular = isinstance(series.parent, CompassDirection)
    values = np.asarray(series.data[:], dtype=np.float64) * float(series.conversion) + float(series.offset or 0.0)
    unit = (series.unit or "").lower()
    if circular:
        values = values.reshape(len(values), -1)[:, 0]
        if unit.startswith("deg"):
            values = np.deg2rad(values)
        values = np.mod(values + np.pi, 2 * np.pi) - np.pi
    else:
        values = values.reshape(len(values), -1)
        if values.shape[1] not in (1, 2):
            raise FileFormatError(f"{path}: position {series.name!r} has {values.shape[1]} columns; neurorx "
                                  f"decodes 1-D or 2-D positions")
        values = values * {"cm": 0.01, "centimeters": 0.01, "centimetres": 0.01, "mm": 1e-3}.get(unit, 1.0)
    return series.name, values, np.asarray(series.timestamps[:] if series.timestamps is not None
                                           else series.get_timestamps(), dtype=np.float64), circular


def _epochs(nap, nwbfile) -> dict:
    """Every named epoch as an IntervalSet: the ``epochs`` table by tag, other interval tables by name."""
    out: dict[str, list] = {}
    if nwbfile.epochs is not None and len(nwbfile.epochs):
        table = nwbfile.epochs
        starts, stops = table["start_time"][:], table["stop_time"][:]
        tags = table["tags"][:] if "tags" in table.colnames else [[] for _ in starts]
        for start, stop, tag in zip(starts, stops, tags, strict=True):
            for name in ([tag] if isinstance(tag, str) else list(tag)):
                out.setdefault(str(name), []).append((start, stop))
    for name, table in (nwbfile.intervals or {}).items():
        if name not in ("epochs", "trials", "invalid_times") and len(table):
            out.setdefault(name, []).extend(zip(table["start_time"][:], table["stop_time"][:], strict=True))
    return {name: nap.IntervalSet(start=[a for a, _ in iv], end=[b for _, b in iv]) for name, iv in out.items()}


def _pick_epoch(path, epochs: dict, given, names, role):
    if given is not None:
        if given not in epochs:
            raise FileFormatError(f"{path} has no epoch {given!r}; its epochs are {sorted(epochs) or 'none'}")
        return given
    lower = {k.lower(): k for k in epochs}
    for name in names:
        if name in lower:
            return lower[name]
    raise FileFormatError(f"{path} has no {role} epoch (looked for {', '.join(names[:4])}, ...); its epochs are "
                          f"{sorted(epochs) or 'none'}: pass {role}=NAME")


def _decode_file(nap, path, nwbfile, wake, sleep, bin_size, bins, feature, uniform_prior, segment):
    from neurorx.recording import Recording

    if nwbfile.units is None or len(nwbfile.units) == 0:
        raise FileFormatError(f"{path} has no Units table (spike times of sorted cells): neurorx decodes "
                              f"trajectories from spikes, so the file must hold nwbfile.units")
    data = nap.NWBFile(nwbfile)
    units = data["units"]
    name, values, stamps, circular = _find_feature(path, nwbfile, feature)
    epochs = _epochs(nap, nwbfile)
    if not epochs:
        raise FileFormatError(f"{path} has no epochs (an epochs table with tags such as 'wake' and 'sleep'): "
                              f"neurorx needs an awake epoch for the tuning curves and a sleep epoch to decode")
    wake, sleep = (_pick_epoch(path, epochs, wake, WAKE_NAMES, "wake"),
                   _pick_epoch(path, epochs, sleep, SLEEP_NAMES, "sleep"))
    if wake == sleep:
        raise ConfigurationError(f"the awake and the sleep epoch are both {wake!r}: sleep would be compared with "
                                 f"itself; give two different epochs (--wake, --sleep; the file has "
                                 f"{sorted(epochs)})")
    all_spikes = np.concatenate([units[k].t for k in units.keys()]) if len(units) else np.zeros(0)
    span = f"[{all_spikes.min():.6g}, {all_spikes.max():.6g}] s" if all_spikes.size else "nowhere (no spikes)"
    for ep_name in (wake, sleep):
        ep = epochs[ep_name]
        if not np.any((all_spikes[:, None] >= ep.start) & (all_spikes[:, None] <= ep.end)):
            raise FileFormatError(f"{path}: epoch {ep_name!r} ([{ep.start[0]:.6g}, {ep.end[-1]:.6g}] s) holds no spike "
                                  f"(the spikes span {span}): the epochs do not overlap the spikes; check that both "
                                  f"use the session's time base")
    feat = nap.Tsd(t=stamps, d=values) if values.ndim == 1 else nap.TsdFrame(t=stamps, d=values)
    wake_ep = epochs[wake]
    if len(feat.restrict(wake_ep)) < 2:
        raise FileFormatError(f"{path}: the {'head direction' if circular else 'position'} {name!r} has no samples "
                              f"in the wake epoch {wake!r}; tuning curves need the trajectory measured there")
    keep = [k for k in units.keys() if len(units[k].restrict(wake_ep))]
    if not keep:
        raise FileFormatError(f"{path}: no unit fires in the wake epoch {wake!r}")
    units = units[keep]
    if circular:
        n = bins or 36
        tc = nap.compute_tuning_curves(units, nap.Tsd(t=stamps, d=np.mod(values, 2 * np.pi)), bins=n,
                                       range=(0.0, 2 * np.pi), epochs=wake_ep)
    else:
        n = bins or 20
        in_wake = feat.restrict(wake_ep).values.reshape(-1, values.shape[-1])
        rng = [(float(lo), float(hi)) for lo, hi in zip(in_wake.min(axis=0), in_wake.max(axis=0), strict=True)]
        tc = nap.compute_tuning_curves(units, feat, bins=n, range=rng if len(rng) > 1 else rng[0], epochs=wake_ep)
    tc_hz = tc
    tc = tc.fillna(UNVISITED_RATE)     # pynapple's nansum would give unvisited bins the best likelihood
    n_feat = int(np.prod(tc.shape[1:]))
    chunk = max(1, int(_DECODE_BYTES // (8 * n_feat * max(1, len(units)))))   # pynapple holds bins x units x grid
    parts = {}
    for label, ep_name in (("active", wake), ("quiescent", sleep)):
        ep = epochs[ep_name]
        per = []
        for start, end in zip(ep.start, ep.end, strict=True):
            pieces = [_decode_piece(nap, tc, units, a, min(a + chunk * bin_size, end), bin_size, uniform_prior,
                                    circular) for a in np.arange(start, end, chunk * bin_size)]
            pieces = [p for p in pieces if len(p["t"])]
            if pieces:
                per.append({k: np.concatenate([p[k] for p in pieces]) for k in pieces[0]})
        parts[label] = per
        if not per:
            raise FileFormatError(f"{path}: the epoch {ep_name!r} is shorter than one bin of {bin_size:g} s")
    return _assemble(Recording, path, parts, feat, values, circular, tc_hz, units, bin_size, name, wake, sleep,
                     segment)


#: Rate (Hz) given to tuning-curve bins the animal never visited in the awake epoch (NaN in pynapple's tuning
#: curves): an expected count so large that the decoder never places the animal there.
UNVISITED_RATE = 1e6

#: Memory pynapple's decoder may use at once (bytes): longer epochs are decoded piece by piece.
_DECODE_BYTES = 2e8


def _decode_piece(nap, tc, units, start, end, bin_size, uniform_prior, circular) -> dict:
    """Decoded values, posterior and spike counts of the bins of ``[start, end)``."""
    ep = nap.IntervalSet(start=start, end=end)
    counts = units.count(bin_size, ep)
    if len(counts) == 0:
        return {"t": np.zeros(0)}
    decoded, posterior = nap.decode_bayes(tc, units, epochs=ep, bin_size=bin_size, uniform_prior=uniform_prior)
    d = np.asarray(decoded.values, dtype=np.float64)
    d = d.reshape(len(d), -1)
    if circular:
        d = np.mod(d + np.pi, 2 * np.pi) - np.pi
    return {"t": np.asarray(decoded.t), "decoded": d, "posterior": np.asarray(posterior.values, dtype=np.float64),
            "counts": np.asarray(counts.values, dtype=np.float64)}


def _interpolate(feat, t, values, circular):
    """The measured trajectory at times ``t`` (NaN outside its time support)."""
    stamps = np.asarray(feat.t)
    vals = values.reshape(len(values), -1)
    if circular:
        vals = np.unwrap(vals, axis=0)
    out = np.stack([np.interp(t, stamps, vals[:, j]) for j in range(vals.shape[1])], axis=-1)
    inside = np.zeros(len(t), dtype=bool)
    for start, end in zip(feat.time_support.start, feat.time_support.end, strict=True):
        inside |= (t >= start) & (t <= end)
    out[~inside] = np.nan
    return np.mod(out + np.pi, 2 * np.pi) - np.pi if circular else out


def _segments(path, parts: dict, k: int) -> tuple[dict, int]:
    """Each epoch's bins one after another, cut into ``k``-bin pieces, as many of each as the shorter epoch has."""
    merged = {lab: {key: np.concatenate([p[key] for p in per]) for key in per[0]} for lab, per in parts.items()}
    n = min(len(m["t"]) for m in merged.values()) // k
    if n == 0:
        raise FileFormatError(f"{path}: segment is longer than an epoch ({min(len(m['t']) for m in merged.values())} "
                              f"bins); choose a shorter segment")
    dropped = sum(len(m["t"]) - n * k for m in merged.values())
    return {lab: [{key: v[i * k:(i + 1) * k] for key, v in m.items()} for i in range(n)]
            for lab, m in merged.items()}, dropped


def _assemble(recording_cls, path, parts, feat, values, circular, tc, units, bin_size, name, wake, sleep, segment):
    act, qui = parts["active"], parts["quiescent"]
    dropped = 0
    if segment is not None:
        parts, dropped = _segments(path, parts, max(1, round(segment / bin_size)))
        act, qui = parts["active"], parts["quiescent"]
    paired = (len(act) == len(qui) and len({len(p["t"]) for p in act}) == 1 and len({len(p["t"]) for p in qui}) == 1)
    order = ("active", "quiescent") if act[0]["t"][0] <= qui[0]["t"][0] else ("quiescent", "active")
    if paired:
        trials = [[parts[label][i] for label in order] for i in range(len(act))]
    else:
        trials = [[p for label in order for p in parts[label]]]
    labels = np.concatenate([np.full(len(p["t"]), lab) for lab in order
                             for p in (parts[lab][:1] if paired else parts[lab])])

    def stack(key):
        return np.stack([np.concatenate([p[key] for p in tr]) for tr in trials])

    t_centres = stack("t")
    decoded = stack("decoded")
    states = np.stack([_interpolate(feat, tc_t, values, circular) for tc_t in t_centres])
    counts = stack("counts")
    posterior = stack("posterior")
    index = np.array([order.index(lab) for lab in labels])
    phases, start = [], 0
    for i, lab in enumerate(order):
        n = int((index == i).sum())
        phases.append({"kind": lab, "label": lab, "start": start, "stop": start + n,
                       "epoch": wake if lab == "active" else sleep})
        start += n
    coords = [np.asarray(tc.coords[c].values, dtype=np.float64) for c in tc.dims[1:]]
    if circular:
        coords = [np.mod(coords[0] + np.pi, 2 * np.pi) - np.pi]
    hooks = {"decoder": {"posterior": posterior, "tuning_curves": np.asarray(tc.values, dtype=np.float64),
                         "unit_ids": np.asarray(list(units.keys())), "bin_time": t_centres,
                         **{f"bin_centres_{j}": c for j, c in enumerate(coords)}}}
    from importlib.metadata import version

    versions = {pkg: version(pkg) for pkg in ("pynapple", "pynwb")}
    meta = {"network": f"NWB file {Path(path).name}", "backend": "nwb", "source": str(path),
            "task": "head_direction" if circular else "spatial_navigation", "circular": circular,
            "dt": float(bin_size), "every": 1, "trials": len(trials), "seed": 0, "feature": name,
            "epochs": {"active": wake, "quiescent": sleep}, "n_units": len(units),
            "decoder": "pynapple.decode_bayes", "dropped_bins": int(dropped),
            "trials_from": f"segments of {segment:g} s" if segment is not None else "epoch intervals" if paired
            else "concatenated",
            "versions": versions}
    b, t_len = decoded.shape[:2]
    return recording_cls(t=t_centres[0] + bin_size / 2, phase=labels.astype(str), phase_index=index,
                         decoded=decoded, states=states, inputs=np.zeros((b, t_len, 0)), h=counts, y=None,
                         record_index=np.arange(t_len), phases=phases, hooks=hooks, meta=meta)
