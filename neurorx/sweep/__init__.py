"""Sweeps: grids of train -> run -> statistics jobs on Dask, with nothing recomputed and nothing lost.

>>> import neurorx as nrx
>>> result = nrx.sweep("protocols/sweeps/paper_five_seeds.yaml", workers=2)     # doctest: +SKIP
>>> result.dataset()["total_variance"].mean("seed")                              # doctest: +SKIP

``neurorx.sweep`` is this module and also callable: ``neurorx.sweep(spec, ...)`` is :func:`sweep`.

Modules, one job each: :mod:`~neurorx.sweep.spec` (the YAML spec and its validation),
:mod:`~neurorx.sweep.jobs` (job kinds and statistics, expanding a spec into jobs),
:mod:`~neurorx.sweep.store` (content-addressed job folders with completion records),
:mod:`~neurorx.sweep.runner` (Dask), :mod:`~neurorx.sweep.gather` (results as an ``xarray.Dataset``/NetCDF).
"""

import sys
import types

from neurorx.sweep.jobs import JOB_KINDS, SWEEP_STATISTICS, Job, Output, SweepStatistic, expand
from neurorx.sweep.runner import SweepResult, format_plan, plan, sweep
from neurorx.sweep.spec import SpecError, SweepSpec, load_spec
from neurorx.sweep.store import Store, execute, job_id

__all__ = [
    "JOB_KINDS",
    "SWEEP_STATISTICS",
    "Job",
    "Output",
    "SpecError",
    "Store",
    "SweepResult",
    "SweepSpec",
    "SweepStatistic",
    "execute",
    "expand",
    "format_plan",
    "job_id",
    "load_spec",
    "plan",
    "sweep",
]


class _CallableModule(types.ModuleType):
    """The ``neurorx.sweep`` module, callable as :func:`sweep` (the package stays importable)."""

    def __call__(self, spec, **kwargs) -> SweepResult:
        return sweep(spec, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
