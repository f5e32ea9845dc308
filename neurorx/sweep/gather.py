"""Gather a sweep's statistics into one labelled ``xarray.Dataset`` and save it as NetCDF.

One data variable per statistic output (``total_variance``, ``total_variance_per_trajectory``,
``explained_variance``, ``kl_matrix``, ``test_loss``, ...). Dimensions by scope:

- statistics of recordings: ``condition, seed, backend, run_seed`` (+ ``phase`` when several phases);
- statistics across conditions (``kl_matrix``): ``seed, backend, run_seed``;
- statistics of the training: ``condition, seed``;

followed by the statistic's own dimensions (``component``, ``trajectory``, ``active``, ``quiescent``,
``estimator``, ``eval_batch``). Every variable has a ``units`` attribute and its statistic, run, phases and
parameters (JSON); the Dataset's attributes hold the spec (JSON) and the neurorx version. A job that did not
finish leaves NaN, and its id is listed in the variable's ``missing_jobs`` attribute.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from neurorx.errors import OutputPathError
from neurorx.sweep.jobs import SWEEP_STATISTICS, read_result

__all__ = ["gather", "save_netcdf"]

_SCOPE_DIMS = {"recording": ("condition", "seed", "backend", "run_seed"),
               "conditions": ("seed", "backend", "run_seed"),
               "training": ("condition", "seed")}


def _axes(spec, st) -> dict[str, list]:
    stat = SWEEP_STATISTICS.get(st.statistic)
    if stat.scope == "training":
        return {"condition": spec.train.names, "seed": list(spec.train.seeds)}
    run = spec.run(st.of)
    # every condition of the spec, also for a run of some of them (the others stay NaN): one Dataset has one
    # coordinate per dimension name
    axes = {"condition": spec.train.names, "seed": list(spec.train.seeds),
            "backend": list(run.backends), "run_seed": list(run.seeds)}
    return {d: axes[d] for d in _SCOPE_DIMS[stat.scope]}


def gather(spec, store, jobs=None):
    """The statistics of a sweep's finished jobs as an ``xarray.Dataset``.

    Parameters
    ----------
    spec : SweepSpec
    store : Store
    jobs : list of Job, optional
        The spec's jobs (:func:`neurorx.sweep.jobs.expand`; computed when not given).
    """
    import xarray as xr

    from neurorx._version import __version__
    from neurorx.sweep.jobs import expand

    jobs = jobs if jobs is not None else expand(spec)
    stat_jobs = [j for j in jobs if j.kind == "statistic"]
    data_vars, coords = {}, {}
    for st in spec.statistics:
        stat = SWEEP_STATISTICS.get(st.statistic)
        axes = _axes(spec, st)
        mine = [j for j in stat_jobs if j.labels["statistic"] == st.name]
        results, missing = {}, []
        for j in mine:
            if store.is_done(j.id):
                results[tuple(j.labels[d] for d in axes)] = read_result(store.path(j.id))
            else:
                missing.append(j.id)
        first = next(iter(results.values()), None)
        if first is None:
            continue
        for suffix, o in first.items():
            var = f"{st.name}_{suffix}" if suffix else st.name
            own_dims = []
            for d in o.dims:
                labels = list(stat.resolve_phases(st.phases)) if d == "phase" else o.coords.get(d)
                name = d
                if d in coords and list(coords[d]) != list(labels):
                    name = f"{var}_{d}"   # same dimension name, other labels (e.g. trials of another run)
                coords.setdefault(name, labels)
                own_dims.append(name)
            shape = [len(v) for v in axes.values()] + list(np.shape(o.values))
            arr = np.full(shape, np.nan)
            for key, res in results.items():
                idx = tuple(axes[d].index(v) for d, v in zip(axes, key, strict=True))
                arr[idx] = res[suffix].values
            for d, labels in axes.items():
                coords.setdefault(d, labels)
            attrs = {"units": o.unit, "statistic": st.statistic, "of": st.of or "training",
                     "phases": json.dumps(list(stat.resolve_phases(st.phases))),
                     "params": json.dumps(st.params, sort_keys=True),
                     "missing_jobs": json.dumps(sorted(missing))}
            data_vars[var] = ((*axes, *own_dims), arr, attrs)
    labels = _condition_labels(spec, jobs)
    ds = xr.Dataset(data_vars, coords={k: np.asarray(v) for k, v in coords.items()})
    if "condition" in ds.coords:
        ds = ds.assign_coords(condition_label=("condition", [labels.get(c, c) for c in ds.condition.values]))
    unit_of = {"seed": "training seed", "run_seed": "protocol seed"}
    for d, what in unit_of.items():
        if d in ds.coords:
            ds[d].attrs["long_name"] = what
    ds.attrs.update({"title": f"neurorx sweep {spec.name}", "spec": spec.to_json(), "neurorx_version": __version__,
                     "description": spec.description})
    return ds


def _condition_labels(spec, jobs) -> dict[str, str]:
    out = {}
    for j in jobs:
        if j.kind == "train":
            out.setdefault(j.labels["condition"], j.config["config"].get("label") or j.labels["condition"])
    return out


def save_netcdf(ds, path: str | Path) -> Path:
    """Write ``ds`` to ``path`` (NetCDF-4) via a temporary file and a rename: never a half-written file.

    The file is derived from the job folders, so rewriting it after more jobs finished loses nothing.
    """
    import os
    import tempfile

    path = Path(path)
    if path.is_dir():
        raise OutputPathError(f"{path} is a folder; give a .nc file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        ds.to_netcdf(tmp, engine=_engine())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _engine() -> str:
    try:
        import netCDF4  # noqa: F401
    except ImportError:
        return "h5netcdf"
    return "netcdf4"
