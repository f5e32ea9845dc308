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
    # the labels of the whole spec on every dimension (every condition, every run's backends and protocol
    # seeds), also for a run of some of them: one Dataset has one coordinate per dimension name, and the cells
    # a statistic's run does not cover stay NaN
    axes = {"condition": spec.train.names, "seed": list(spec.train.seeds),
            "backend": _union(r.backends for r in spec.runs), "run_seed": _union(r.seeds for r in spec.runs)}
    return {d: axes[d] for d in _SCOPE_DIMS[stat.scope]}


def _union(lists) -> list:
    """The labels of several lists, each once: in order of appearance, or sorted when all are numbers."""
    out = list(dict.fromkeys(v for labels in lists for v in labels))
    numeric = all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in out)
    return sorted(out) if numeric else out


def _labels(stat, st, out) -> list[list]:
    """The labels of each own dimension of one output (the spec's phases on ``phase``)."""
    return [list(stat.resolve_phases(st.phases)) if d == "phase"
            else list(out.coords.get(d, range(np.shape(out.values)[axis]))) for axis, d in enumerate(out.dims)]


def _own_dims(dims, per_output, var, coords) -> tuple[list[str], list[list]]:
    """Names and labels of an output's own dimensions ``dims``.

    The labels are the union over every finished job's output (``per_output``: each one's :func:`_labels`;
    learning curves of other lengths, other trial counts); a name already used with other labels becomes
    ``<var>_<dim>``.
    """
    labels_of = [_union(lists) for lists in zip(*per_output, strict=True)]
    names = [d if d not in coords or list(coords[d]) == labels else f"{var}_{d}"
             for d, labels in zip(dims, labels_of, strict=True)]
    return names, labels_of


def gather(spec, store):
    """The statistics of a sweep's finished jobs as an ``xarray.Dataset``.

    Parameters
    ----------
    spec : SweepSpec
    store : Store

    Notes
    -----
    Every grid cell is filled from its job, listed as ``expand(spec, unique=False)`` lists them: a job that
    serves two cells (the same statistic of the same recordings, named twice in the spec) fills both.
    """
    import xarray as xr

    from neurorx._version import __version__
    from neurorx.sweep.jobs import expand

    jobs = expand(spec, unique=False)
    stat_jobs = [j for j in jobs if j.kind == "statistic"]
    data_vars, coords = {}, {}
    for st in spec.statistics:
        stat = SWEEP_STATISTICS.get(st.statistic)
        axes = _axes(spec, st)
        mine = [j for j in stat_jobs if j.labels["statistic"] == st.name]
        results, missing, read = {}, [], {}
        for j in mine:
            if store.is_done(j.id):
                if j.id not in read:
                    read[j.id] = read_result(store.path(j.id))
                results[tuple(j.labels[d] for d in axes)] = read[j.id]
            else:
                missing.append(j.id)
        first = next(iter(results.values()), None)
        if first is None:
            continue
        for suffix, o in first.items():
            var = f"{st.name}_{suffix}" if suffix else st.name
            per_output = [_labels(stat, st, res[suffix]) for res in results.values()]
            own_dims, own_labels = _own_dims(o.dims, per_output, var, coords)
            for name, labels in zip(own_dims, own_labels, strict=True):
                coords.setdefault(name, labels)
            arr = np.full([len(v) for v in axes.values()] + [len(v) for v in own_labels], np.nan)
            positions = [{v: k for k, v in enumerate(labels)} for labels in own_labels]
            for (key, res), labels in zip(results.items(), per_output, strict=True):
                idx = tuple(axes[d].index(v) for d, v in zip(axes, key, strict=True))
                where = [[index[v] for v in mine] for mine, index in zip(labels, positions, strict=True)]
                arr[idx + (np.ix_(*where) if where else ())] = res[suffix].values
            for d, labels in axes.items():
                coords.setdefault(d, labels)
            attrs = {"units": o.unit, "statistic": st.statistic, "of": st.of or "training",
                     "phases": json.dumps(list(stat.resolve_phases(st.phases))),
                     "params": json.dumps(st.params, sort_keys=True),
                     "missing_jobs": json.dumps(sorted(set(missing)))}
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
    from neurorx.staging import staged_file

    path = Path(path)
    if path.is_dir():
        raise OutputPathError(f"{path} is a folder; give a .nc file name")
    with staged_file(path) as tmp:
        ds.to_netcdf(tmp, engine=_engine())
    return path


def _engine() -> str:
    try:
        import netCDF4  # noqa: F401
    except ImportError:
        return "h5netcdf"
    return "netcdf4"
