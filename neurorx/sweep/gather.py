"""Gather a sweep's statistics into one labelled ``xarray.Dataset`` and save it as NetCDF.

One data variable per statistic output (``total_variance``, ``total_variance_per_trajectory``,
``explained_variance``, ``kl_matrix``, ``test_loss``, ...). Dimensions by scope:

- statistics of recordings: ``condition, seed, backend, run_seed`` (+ ``phase`` when several phases);
- statistics across conditions (``kl_matrix``): ``seed, backend, run_seed``;
- statistics of the training: ``condition, seed``;

followed by the statistic's own dimensions (``component``, ``trajectory``, ``active``, ``quiescent``,
``estimator``, ``eval_batch``). Every variable has its statistic, run, phases and parameters (JSON) as
attributes, and its units (:mod:`neurorx.sweep.units`): the CF ``units`` attribute when every condition is in
one unit, else ``units_by_condition``, a JSON object condition -> unit (a sweep of a head-direction and a
spatial task: ``'{"Hs": "rad^2", "Us": "m^2"}'``), read back by :func:`neurorx.sweep.units.unit_of`. Each
condition's unit is that of its finished jobs; a condition none of whose jobs finished takes the unit of a
finished condition of a task of the same kind (angles or positions), else the statistic's declared unit for its
task when every finished condition has that; else it is not named in ``units_by_condition`` (its values are
all NaN).
The Dataset's attributes hold the spec (JSON) and the neurorx version. A job that did not finish leaves NaN,
and its id is listed in the variable's ``missing_jobs`` attribute. The ``NAME_flagged``
variables of a ``reactivation_health`` statistic carry the reasons of their flagged runs
(:func:`neurorx.sweep.health.annotate_health`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import xarray as xr

from neurorx._version import __version__
from neurorx.analysis import Output
from neurorx.errors import OutputPathError
from neurorx.io import CorruptFileError
from neurorx.progress import get_logger
from neurorx.staging import staged_file
from neurorx.sweep.grid import expand
from neurorx.sweep.health import annotate_health
from neurorx.sweep.kinds import read_result
from neurorx.sweep.units import unit_attrs
from neurorx.tasks import TASKS

__all__ = ["gather", "save_netcdf"]

_log = get_logger("sweep")

_SCOPE_DIMS = {"phase": ("condition", "seed", "backend", "run_seed"),
               "run": ("condition", "seed", "backend", "run_seed"),
               "conditions": ("seed", "backend", "run_seed"),
               "training": ("condition", "seed")}


def _axes(spec, st, stat) -> dict[str, list]:
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
    return [list(st.phases or stat.phases) if d == "phase"
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
    jobs = expand(spec, unique=False)
    circular = _condition_circular(jobs)
    stat_jobs = [j for j in jobs if j.kind == "statistic"]
    data_vars, coords = {}, {}
    for st in spec.statistics:
        stat = st.entry(spec.imports)
        axes = _axes(spec, st, stat)
        mine = [j for j in stat_jobs if j.labels["statistic"] == st.name]
        results, missing, read = {}, [], {}
        for j in mine:
            if store.is_done(j.id) and j.id not in read:
                try:
                    read[j.id] = read_result(store.path(j.id))
                except (CorruptFileError, KeyError, TypeError) as err:     # damaged with its size intact
                    read[j.id] = None
                    store.mark_damaged(j.id, "result.npz damaged")
                    _log.warning(f"job {j.id}: result.npz damaged ({err}); left NaN, the next run recomputes it")
            if read.get(j.id) is not None:
                results[tuple(j.labels[d] for d in axes)] = read[j.id]
            else:
                missing.append(j.id)
        outputs = {}                  # every output of any finished job (an older job may lack a newer output)
        for res in results.values():
            for suffix, o in res.items():
                outputs.setdefault(suffix, o)
        if not outputs:               # no job finished: the variable is NaN over the grid, as promised
            outputs[""] = Output((), np.float64(np.nan), "")
        for suffix, o in outputs.items():
            var = f"{st.name}_{suffix}" if suffix else st.name
            having = {key: res for key, res in results.items() if suffix in res}
            per_output = [_labels(stat, st, res[suffix]) for res in having.values()]
            own_dims, own_labels = _own_dims(o.dims, per_output, var, coords)
            for name, labels in zip(own_dims, own_labels, strict=True):
                coords.setdefault(name, labels)
            arr = np.full([len(v) for v in axes.values()] + [len(v) for v in own_labels], np.nan)
            positions = [{v: k for k, v in enumerate(labels)} for labels in own_labels]
            for (key, res), labels in zip(having.items(), per_output, strict=True):
                idx = tuple(axes[d].index(v) for d, v in zip(axes, key, strict=True))
                where = [[index[v] for v in mine] for mine, index in zip(labels, positions, strict=True)]
                arr[idx + (np.ix_(*where) if where else ())] = res[suffix].values
            for d, labels in axes.items():
                coords.setdefault(d, labels)
            attrs = {**_unit_attrs(stat, axes, having, suffix, circular),
                     "statistic": st.statistic, "of": st.of or "training",
                     "phases": json.dumps(list(st.phases or stat.phases) if stat.scope != "training" else []),
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
    return annotate_health(ds)


def _condition_circular(jobs) -> dict[str, bool]:
    """Condition -> whether its task is circular (angles), from the spec's training jobs."""
    out = {}
    for j in jobs:
        if j.kind == "train":
            task = j.config["config"]["task"]["name"]
            out.setdefault(j.labels["condition"], bool(getattr(TASKS.get(task), "circular", False)))
    return out


def _unit_attrs(stat, axes, having, suffix, circular) -> dict[str, str]:
    """The unit attributes of one output (:func:`neurorx.sweep.units.unit_attrs`; see the module docstring).

    ``having``: grid key -> result of the finished jobs with this output; ``circular``: condition -> circular.
    """
    if "condition" not in axes:       # a statistic across conditions: the unit of its first finished job
        first = next((res[suffix].unit for res in having.values()), None)
        if first is None:
            first = stat.unit_for(next(iter(circular.values()), False))
        return unit_attrs({"": first})
    at = list(axes).index("condition")
    seen = {}
    for key, res in having.items():
        seen.setdefault(key[at], res[suffix].unit)
    units = {}
    for c in axes["condition"]:
        if c in seen:
            units[c] = seen[c]
        elif (alike := next((seen[d] for d in seen if circular.get(d) == circular.get(c)), None)) is not None:
            units[c] = alike
        elif all(u == stat.unit_for(circular.get(d, False)) for d, u in seen.items()):
            units[c] = stat.unit_for(circular.get(c, False))     # the output has the statistic's declared unit
    return unit_attrs(units, axes["condition"])


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
    path = Path(path)
    if path.is_dir():
        raise OutputPathError(f"{path} is a folder; give a .nc file name")
    with staged_file(path, overwrite=True) as tmp:
        ds.to_netcdf(tmp, engine=_engine())
    return path


def _engine() -> str:
    try:
        import netCDF4  # noqa: F401  (optional: h5netcdf writes NetCDF-4 too)
    except ImportError:
        return "h5netcdf"
    return "netcdf4"
