r"""The health flags of a sweep's runs: which quiescent runs collapsed or move like noise.

A spec's ``reactivation_health`` statistic (:func:`neurorx.analysis.recording_health`) stores, per run, the
health measures and ``NAME_flagged`` (1 flagged, 0 healthy, NaN not computed). This module reads them back:

- :func:`annotate_health` gives each ``NAME_flagged`` variable the reasons of its flagged runs, in the
  variable's attributes (``reasons``: JSON, run -> list of reasons), from the one rule
  :func:`neurorx.analysis.health_flags` applied to the stored measures; :func:`neurorx.sweep.gather.gather`
  calls it;
- :func:`flagged_runs` and :func:`flagged_conditions` are what the sweep's table and figures
  (:mod:`neurorx.sweep.figures`) mark: a flagged run's KL(Q‖A) is not evidence of reactivation.
"""

from __future__ import annotations

import functools
import json
import operator

import numpy as np
import xarray as xr

from neurorx.analysis import health_flags
from neurorx.analysis.run_statistics import HEALTH_OUTPUTS, health_of_outputs
from neurorx.sweep.units import unit_of

__all__ = ["HEALTH_STATISTIC", "annotate_health", "flagged_conditions", "flagged_runs", "health_variables"]

#: The key of the registered statistic whose outputs carry the health flags.
HEALTH_STATISTIC = "reactivation_health"


def health_variables(ds: xr.Dataset, of: str | None = None) -> list[str]:
    """The ``NAME_flagged`` variables of ``ds`` (of the run ``of`` when given and any reads it)."""
    names = [v for v in ds.data_vars if ds[v].attrs.get("statistic") == HEALTH_STATISTIC and v.endswith("_flagged")]
    mine = [v for v in names if ds[v].attrs.get("of") == of]
    return mine if of is not None and mine else names


def _cell(labels: dict) -> str:
    return " ".join(f"{d}={v}" for d, v in labels.items())


def annotate_health(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with the reasons of every flagged run in the attributes of its ``NAME_flagged`` variables.

    Attributes added: ``reasons`` (JSON: ``"condition=Hs seed=0 backend=torch run_seed=0"`` -> list of
    reasons, only flagged runs), ``flag_values`` ``[0, 1]`` and ``flag_meanings`` ``"healthy flagged"`` (the
    CF convention for flags), and ``rule`` (the function that flags).
    """
    for var in health_variables(ds):
        prefix = var[:-len("flagged")]
        flag = ds[var]
        stepwise = ds.get(f"{prefix}stepwise_active", flag)
        reasons = {}
        for idx in zip(*np.nonzero(flag.values == 1), strict=True):
            labels = {d: flag[d].values[i].item() for d, i in zip(flag.dims, idx, strict=True)}
            circular = "rad" in unit_of(stepwise, labels.get("condition"))
            values = {name: ds[f"{prefix}{name}"].sel(labels).item() if f"{prefix}{name}" in ds else np.nan
                      for name in HEALTH_OUTPUTS}
            reasons[_cell(labels)] = health_flags(health_of_outputs(values), circular=circular)
        flag.attrs.update({"reasons": json.dumps(reasons, ensure_ascii=False), "flag_values": np.array([0, 1]),
                           "flag_meanings": "healthy flagged", "rule": "neurorx.analysis.health_flags"})
    return ds


def flagged_runs(ds: xr.Dataset, of: str | None = None) -> xr.DataArray | None:
    """Boolean over ``condition, seed, backend, run_seed``: the runs flagged by any health variable (of ``of``).

    None when the sweep collected no ``reactivation_health``. A run not checked (NaN) counts as not flagged.
    """
    names = health_variables(ds, of)
    if not names:
        return None
    return functools.reduce(operator.or_, [ds[v] == 1 for v in names])


def flagged_conditions(ds: xr.Dataset, backend, of: str | None = None) -> dict[str, list[str]]:
    """Conditions with a flagged run on ``backend`` (any training seed, first protocol seed): condition -> reasons.

    The reasons are those of :func:`annotate_health`, each once.
    """
    flags = flagged_runs(ds, of)
    if flags is None:
        return {}
    out = {}
    for var in health_variables(ds, of):
        reasons = json.loads(ds[var].attrs.get("reasons", "{}"))
        sel = flags.sel(backend=backend).isel(run_seed=0)
        for c in sel.condition.values.tolist():
            for s in sel.seed.values.tolist():
                if bool(sel.sel(condition=c, seed=s)):
                    key = _cell({"condition": c, "seed": s, "backend": backend,
                                 "run_seed": flags.run_seed.values[0].item()})
                    out.setdefault(c, [])
                    out[c] += [r for r in reasons.get(key, ["flagged"]) if r not in out[c]]
    return out
