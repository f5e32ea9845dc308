"""The result of a protocol run: :class:`Recording`."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neurorx.io import CorruptFileError, read_npz, write_npz

__all__ = ["FORMAT", "Recording"]

FORMAT = "neurorx.Recording/1"
_ARRAYS = ("t", "phase", "phase_index", "decoded", "states", "inputs", "h", "y", "record_index")
#: Types of the metadata values a loaded recording is checked for.
_META_TYPES = {"trials": (int,), "seed": (int,), "dt": (int, float), "every": (int,), "backend": (str,)}


@dataclass(eq=False)
class Recording:
    """Time series of one protocol run on one backend.

    Attributes
    ----------
    t : ndarray (T,)
        Time in seconds at the end of each training step (the state after the step).
    phase : ndarray (T,) of str
        Phase label of each step (e.g. "active", "quiescent").
    phase_index : ndarray (T,) of int
        Index of the phase in the protocol (distinguishes two phases with the same label).
    decoded : ndarray (B, T, d)
        Decoded readout at every step (positions in metres, or angles in radians).
    states : ndarray (B, T, d)
        True task state (during zero-input phases the animal is still: the last true state is held).
    inputs : ndarray (B, T, n_in)
        Inputs given at each step.
    h, y : ndarray (B, T_rec, N) and (B, T_rec, n_out), or None
        Hidden states and raw outputs at the recorded steps ``record_index`` (when asked for).
    record_index : ndarray (T_rec,) of int
        Steps (indices into ``t``) at which ``h``/``y`` were recorded.
    phases : list of dict
        One entry per phase: label, kind, start/stop step, noise.
    hooks : dict
        Results of analysis hooks, ``name -> dict of arrays``.
    meta : dict
        Network summary, protocol, backend, dt, seed, trials, versions.
    """

    t: np.ndarray
    phase: np.ndarray
    phase_index: np.ndarray
    decoded: np.ndarray
    states: np.ndarray
    inputs: np.ndarray
    h: np.ndarray | None = None
    y: np.ndarray | None = None
    record_index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    phases: list = field(default_factory=list)
    hooks: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    @property
    def trials(self) -> int:
        """Number of trials B."""
        return self.decoded.shape[0]

    @property
    def labels(self) -> list[str]:
        """Distinct phase labels in order of first appearance."""
        return list(dict.fromkeys(p["label"] for p in self.phases))

    def __repr__(self) -> str:
        parts = ", ".join(f"{p['label']}[{p['stop'] - p['start']}]" for p in self.phases)
        rec = [n for n in ("h", "y") if getattr(self, n) is not None]
        return (f"Recording(backend={self.meta.get('backend')!r}, trials={self.trials}, steps={len(self.t)}, "
                f"phases=[{parts}], recorded={rec or 'decoded only'})")

    def select(self, phase: str | int | None = None) -> Recording:
        """The part of the recording in one phase.

        Parameters
        ----------
        phase : str or int
            A phase label (all phases with that label, concatenated in time) or a phase's index.

        Raises
        ------
        ValueError
            If no step belongs to ``phase`` (naming the phases there are).
        """
        if phase is None:
            return self
        if isinstance(phase, bool | np.bool_) or not isinstance(phase, str | int | np.integer):
            raise TypeError(f"select takes a phase label (str) or a phase index (int); got {phase!r}. This "
                            f"recording has phases {[p['label'] for p in self.phases]}")
        if isinstance(phase, int | np.integer):
            mask = self.phase_index == int(phase)
            keep = [p for i, p in enumerate(self.phases) if i == int(phase)]
        else:
            mask = self.phase == phase
            keep = [p for p in self.phases if p["label"] == phase]
        if not mask.any():
            names = [f"{i}: {p['label']}" for i, p in enumerate(self.phases)]
            raise ValueError(f"no steps in phase {phase!r}; this recording has phases {names}")
        steps = np.nonzero(mask)[0]
        rec_mask = np.isin(self.record_index, steps)
        new_index = np.searchsorted(steps, self.record_index[rec_mask])
        remap, offset = [], 0
        for p in keep:
            n = p["stop"] - p["start"]
            remap.append({**p, "start": offset, "stop": offset + n})
            offset += n
        return Recording(
            t=self.t[mask], phase=self.phase[mask], phase_index=self.phase_index[mask],
            decoded=self.decoded[:, mask], states=self.states[:, mask], inputs=self.inputs[:, mask],
            h=None if self.h is None else self.h[:, rec_mask], y=None if self.y is None else self.y[:, rec_mask],
            record_index=new_index, phases=remap, hooks=self.hooks, meta=self.meta,
        )

    def require(self, name: str) -> np.ndarray:
        """Return the recorded array ``name`` ("h" or "y"), or raise a clear error if it was not recorded."""
        arr = getattr(self, name)
        if arr is None:
            raise ValueError(
                f"this recording has no {name!r}: run the protocol with record=({name!r},) (and every=k to "
                f"keep every k-th step) to record it"
            )
        if arr.shape[1] == 0:
            raise ValueError(f"this recording holds no {name!r} samples in the selected phase")
        return arr

    # -- files ------------------------------------------------------------------------------------------
    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Save to ``.npz`` (plain arrays + JSON), atomically; refuses to overwrite by default."""
        arrays = {k: getattr(self, k) for k in _ARRAYS if getattr(self, k) is not None}
        arrays["phase"] = np.asarray(self.phase, dtype=str)
        for name, res in self.hooks.items():
            for key, val in res.items():
                arrays[f"hooks/{name}/{key}"] = np.asarray(val)
        meta = {"format": FORMAT, "phases": self.phases, "meta": self.meta}
        return write_npz(path, arrays, meta, overwrite=overwrite)

    @classmethod
    def load(cls, path: str | Path) -> Recording:
        """Load a recording saved by :meth:`save` (never unpickles)."""
        arrays, meta = read_npz(path, "recording file")
        if meta.get("format") != FORMAT:
            raise CorruptFileError(f"{path} is not a neurorx recording (format {meta.get('format')!r})")
        hooks: dict = {}
        for key in [k for k in arrays if k.startswith("hooks/")]:
            _, name, sub = key.split("/", 2)
            hooks.setdefault(name, {})[sub] = arrays.pop(key)
        try:
            rec = cls(**{k: arrays.get(k) for k in _ARRAYS}, phases=meta["phases"], hooks=hooks,
                      meta=meta["meta"])
        except (KeyError, TypeError) as err:
            raise CorruptFileError(f"{path}: invalid recording file ({err})") from None
        problem = rec._inconsistency()
        if problem:
            raise CorruptFileError(f"{path} is not a valid recording: {problem}; re-run the protocol to re-create it")
        return rec

    def _inconsistency(self) -> str | None:
        """What makes the arrays and metadata inconsistent with each other (``None`` if nothing)."""
        for name in ("t", "phase", "phase_index", "decoded", "states", "inputs"):
            if getattr(self, name) is None:
                return f"the array {name!r} is missing"
        if self.decoded.ndim != 3:
            return f"decoded has shape {self.decoded.shape}; expected (trials, steps, dims)"
        b, t, d = self.decoded.shape
        expected = {"t": (t,), "phase": (t,), "phase_index": (t,), "states": (b, t, d)}
        for name, shape in expected.items():
            if getattr(self, name).shape != shape:
                return f"{name} has shape {getattr(self, name).shape}, but decoded {self.decoded.shape} needs {shape}"
        if self.inputs.ndim != 3 or self.inputs.shape[:2] != (b, t):
            return f"inputs has shape {self.inputs.shape}; expected ({b}, {t}, n_in)"
        if self.record_index.ndim != 1 or (len(self.record_index) and (self.record_index.min() < 0
                                                                       or self.record_index.max() >= t)):
            return f"record_index must hold step indices in [0, {t})"
        for name in ("h", "y"):
            arr = getattr(self, name)
            if arr is not None and (arr.ndim != 3 or arr.shape[:2] != (b, len(self.record_index))):
                return f"{name} has shape {arr.shape}; expected ({b}, {len(self.record_index)}, units)"
        if not isinstance(self.meta, dict) or not isinstance(self.phases, list):
            return "the metadata must hold a 'meta' object and a 'phases' list"
        for i, ph in enumerate(self.phases):
            if not isinstance(ph, dict) or not isinstance(ph.get("label"), str) or not all(
                    isinstance(ph.get(k), int) and not isinstance(ph.get(k), bool) for k in ("start", "stop")):
                return f"phase {i} of the metadata must be an object with a 'label' and integer 'start'/'stop'"
        for key, kinds in _META_TYPES.items():
            value = self.meta.get(key)
            if key in self.meta and (isinstance(value, bool) or not isinstance(value, kinds)):
                return f"meta[{key!r}] = {value!r} is not {' or '.join(k.__name__ for k in kinds)}"
        if "trials" in self.meta and self.meta["trials"] != b:
            return f"meta['trials'] = {self.meta['trials']} but the arrays hold {b} trials"
        return None

    # -- labelled arrays ----------------------------------------------------------------------------------
    def dim_labels(self) -> list[str]:
        """Names of the decoded/state dimensions: ``["x", "y"]`` for positions, ``["theta"]`` for angles."""
        d = self.decoded.shape[-1]
        if self.meta.get("circular"):
            return ["theta"] if d == 1 else [f"theta{i}" for i in range(d)]
        return ["x", "y", "z"][:d] if d <= 3 else [f"x{i}" for i in range(d)]

    def to_xarray(self):
        r"""An ``xarray.Dataset`` with labelled dimensions, units and metadata; needs xarray installed.

        Dimensions: ``trial``, ``time`` (every step), ``dim`` (``x``/``y``, or ``theta`` for head
        direction), ``input``; ``time_rec`` (the recorded steps), ``unit`` and ``output`` when ``h``/``y``
        were recorded; one dimension per axis of each hook result (``hook__<name>__<key>_d<i>``).

        Coordinates: ``time`` in s, ``phase`` (label) and ``phase_index`` along ``time``; ``record_index``
        and ``time_rec`` along ``time_rec``. Variables carry a ``units`` attribute (m or rad for positions
        and angles, 1 for rates, inputs and raw outputs). The Dataset's attributes hold the phases, the
        metadata and the names of the hook variables as JSON, so that :meth:`from_xarray` rebuilds the
        recording exactly.
        """
        try:
            import xarray as xr
        except ImportError:
            raise ImportError("to_xarray needs xarray: pip install xarray (or neurorx[xarray])") from None
        space = "rad" if self.meta.get("circular") else "m"
        coords = {"time": ("time", self.t, {"units": "s", "long_name": "time at the end of the step"}),
                  "phase": ("time", np.asarray(self.phase, dtype=str), {"long_name": "phase label"}),
                  "phase_index": ("time", np.asarray(self.phase_index), {"long_name": "phase index in the protocol"}),
                  "trial": np.arange(self.trials), "dim": self.dim_labels()}
        data = {"decoded": (("trial", "time", "dim"), self.decoded, {"units": space, "long_name": "decoded readout"}),
                "states": (("trial", "time", "dim"), self.states, {"units": space, "long_name": "true task state"}),
                "inputs": (("trial", "time", "input"), self.inputs, {"units": "1", "long_name": "network inputs"})}
        if self.h is not None or self.y is not None:
            coords["time_rec"] = ("time_rec", self.t[self.record_index], {"units": "s"})
            coords["record_index"] = ("time_rec", np.asarray(self.record_index),
                                      {"long_name": "index into time of the recorded steps"})
        if self.h is not None:
            data["h"] = (("trial", "time_rec", "unit"), self.h, {"units": "1", "long_name": "hidden state (rate)"})
        if self.y is not None:
            data["y"] = (("trial", "time_rec", "output"), self.y, {"units": "1", "long_name": "raw outputs"})
        hook_vars: dict = {}
        for name, res in self.hooks.items():
            for key, val in res.items():
                # NetCDF names take no "/": a safe, unique variable name; attrs["hooks"] keeps the real keys
                var = re.sub(r"[^A-Za-z0-9_.-]", "_", f"hook__{name}__{key}")
                while var in data:
                    var += "_"
                val = np.asarray(val)
                data[var] = (tuple(f"{var}_d{i}" for i in range(val.ndim)), val, {"hook": name, "key": key})
                hook_vars.setdefault(name, {})[key] = var
        attrs = {"format": FORMAT, "phases": json.dumps(self.phases), "meta": json.dumps(self.meta),
                 "hooks": json.dumps(hook_vars), "backend": str(self.meta.get("backend", ""))}
        return xr.Dataset(data, coords=coords, attrs=attrs)

    @classmethod
    def from_xarray(cls, ds) -> Recording:
        """Rebuild a recording from :meth:`to_xarray`'s Dataset (e.g. read back from NetCDF)."""
        if ds.attrs.get("format") != FORMAT:
            raise CorruptFileError(f"this Dataset is not a neurorx recording (format {ds.attrs.get('format')!r}; "
                                   f"expected {FORMAT!r}); make it with Recording.to_xarray()")
        hooks = {name: {key: ds[var].values for key, var in keys.items()}
                 for name, keys in json.loads(ds.attrs["hooks"]).items()}
        has = "record_index" in ds.coords
        return cls(t=ds["time"].values, phase=ds["phase"].values.astype(str), phase_index=ds["phase_index"].values,
                   decoded=ds["decoded"].values, states=ds["states"].values, inputs=ds["inputs"].values,
                   h=ds["h"].values if "h" in ds else None, y=ds["y"].values if "y" in ds else None,
                   record_index=ds["record_index"].values if has else np.zeros(0, dtype=np.int64),
                   phases=json.loads(ds.attrs["phases"]), hooks=hooks, meta=json.loads(ds.attrs["meta"]))

    def to_netcdf(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Save :meth:`to_xarray` as NetCDF-4, atomically; refuses to overwrite by default.

        The file opens with plain ``xarray.open_dataset``; :meth:`from_netcdf` reads it back exactly.
        """
        from neurorx.staging import staged_file

        path = Path(path)
        if path.is_dir():
            raise IsADirectoryError(f"{path} is a directory; give a file name inside it, e.g. {path / 'run.nc'}")
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
        with staged_file(path) as tmp:
            self.to_xarray().to_netcdf(tmp, engine=_netcdf_engine())
        return path

    @classmethod
    def from_netcdf(cls, path: str | Path) -> Recording:
        """Read a recording saved by :meth:`to_netcdf`."""
        import xarray as xr

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no such recording file: {path}")
        try:
            with xr.open_dataset(path, engine=_netcdf_engine()) as ds:
                return cls.from_xarray(ds.load())
        except (OSError, ValueError) as err:
            if isinstance(err, CorruptFileError):
                raise CorruptFileError(f"{path}: {err}") from None
            raise CorruptFileError(f"{path} is not a readable NetCDF recording ({err})") from None


def _netcdf_engine() -> str:
    try:
        import netCDF4  # noqa: F401
    except ImportError:
        return "h5netcdf"
    return "netcdf4"
