"""Writing a :class:`~neurorx.Recording` to an NWB file (:func:`write`) and checking it (:func:`inspect`).

The layout is in :mod:`neurorx.io.nwb`.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from neurorx.errors import ConfigurationError
from neurorx.io.extras import require
from neurorx.io.files import check_output_file
from neurorx.io.nwb.spikes import UnitSpikes, _step

__all__ = ["inspect", "write"]


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
    spikes : UnitSpikes, neurorx.spike_trains.SpikeTrains or object with ``t``, ``i``, ``trial``, optional
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
        _add_units(nwbfile, UnitSpikes.coerce(spikes, b), b, dur, rec.t[0] - dt, dt)
    return nwbfile


def _add_units(nwbfile, spikes: UnitSpikes, trials: int, dur: float, t0: float, dt: float) -> None:
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


def inspect(path: str | Path, importance: str = "BEST_PRACTICE_VIOLATION") -> list:
    """The messages of nwbinspector about ``path`` at ``importance`` or above (``CRITICAL`` first)."""
    nwbinspector = require("nwbinspector", "inspecting NWB files")
    from nwbinspector import Importance

    return list(nwbinspector.inspect_nwbfile(nwbfile_path=str(path), importance_threshold=Importance[importance]))
