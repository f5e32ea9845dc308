"""Sweeps: grids of train -> run -> statistics jobs on Dask, with nothing recomputed and nothing lost.

>>> import neurorx as nrx
>>> result = nrx.sweep("protocols/sweeps/paper_five_seeds.yaml", workers=2)     # doctest: +SKIP
>>> result.dataset()["total_variance"].mean("seed")                              # doctest: +SKIP

``neurorx.sweep`` is this module and also callable: ``neurorx.sweep(spec, ...)`` is :func:`sweep`.

Modules, one job each, each importing only those before it:
:mod:`~neurorx.sweep.job` (a job and its id), :mod:`~neurorx.sweep.store` (job folders with completion
records), :mod:`~neurorx.sweep.worker` (running one job into the store on a worker),
:mod:`~neurorx.sweep.kinds` (the train, run and statistic job kinds), :mod:`~neurorx.sweep.spec` (the YAML
spec and its validation), :mod:`~neurorx.sweep.grid` (expanding a spec into jobs),
:mod:`~neurorx.sweep.units` (a results variable's unit per condition),
:mod:`~neurorx.sweep.gather` (results as an ``xarray.Dataset``/NetCDF), :mod:`~neurorx.sweep.paired` (the
paired report of conditions over seeds, read from the results), :mod:`~neurorx.sweep.migrate` (old
job-id schemes), :mod:`~neurorx.sweep.runner` (Dask). The statistics a sweep collects are the entries of
:data:`neurorx.analysis.STATISTICS`.
"""

import sys
import types

from neurorx.analysis import Output
from neurorx.sweep.grid import expand
from neurorx.sweep.job import ID_SCHEME, JOB_KINDS, Job, JobKind, job_id
from neurorx.sweep.runner import SweepResult, format_plan, plan, sweep
from neurorx.sweep.spec import SpecError, SweepSpec, load_spec
from neurorx.sweep.store import Store
from neurorx.sweep.units import unit_of
from neurorx.sweep.worker import execute

__all__ = [
    "ID_SCHEME",
    "JOB_KINDS",
    "Job",
    "JobKind",
    "Output",
    "SpecError",
    "Store",
    "SweepResult",
    "SweepSpec",
    "execute",
    "expand",
    "format_plan",
    "job_id",
    "load_spec",
    "plan",
    "sweep",
    "unit_of",
]

_MOVED = {"SWEEP_STATISTICS": "neurorx.analysis.STATISTICS (a sweep's statistic is an entry of it, named by its key)",
          "SweepStatistic": "neurorx.analysis.Statistic"}


class _CallableModule(types.ModuleType):
    """The ``neurorx.sweep`` module, callable as :func:`sweep` (the package stays importable)."""

    def __call__(self, spec, **kwargs) -> SweepResult:
        return sweep(spec, **kwargs)

    def __getattr__(self, name: str):
        if name in _MOVED:
            raise AttributeError(f"neurorx.sweep.{name} is gone: the one statistics registry is {_MOVED[name]}")
        raise AttributeError(f"module 'neurorx.sweep' has no attribute {name!r}")


sys.modules[__name__].__class__ = _CallableModule
