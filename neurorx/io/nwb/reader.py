"""Reading a lab's NWB recording (:func:`read`): pynapple's tuning curves and Bayesian decoder into a Recording."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurorx.analysis.replay import UNVISITED_RATE
from neurorx.errors import ConfigurationError, FileFormatError
from neurorx.io.extras import require

__all__ = ["SLEEP_NAMES", "UNVISITED_RATE", "WAKE_NAMES", "read"]

#: Names of epochs read as the awake (tuning) and the sleep (decoding) epoch when none is given.
WAKE_NAMES = ("wake", "awake", "active", "run", "running", "maze", "explore", "exploration", "task")
SLEEP_NAMES = ("sleep", "quiescent", "rest", "sws", "nrem", "rem", "post_sleep", "pre_sleep", "presleep",
               "postsleep", "home")


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
