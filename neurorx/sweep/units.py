"""The units of a sweep's results: one per variable, or one per condition where the conditions' tasks differ.

A statistic's unit can depend on the task of the network it describes: ``{u}`` in a registered statistic's unit
is ``m`` for positions and ``rad`` for angles (:meth:`neurorx.analysis.Statistic.unit_for`), and the test
decoding error is in cm or deg (:data:`neurorx.analysis.run_statistics.TEST_ERROR_UNITS`). A sweep whose
conditions mix a spatial and a head-direction task therefore holds, in one variable, numbers in several units.
:func:`neurorx.sweep.gather.gather` writes a variable's units as attributes (NetCDF attributes are strings,
so both forms survive ``to_netcdf`` / ``xarray.open_dataset`` unchanged):

- every condition in one unit: the CF attribute ``units`` (``"m^2"``), as any single-unit variable;
- conditions in several units: no ``units`` attribute, and :data:`UNITS_BY_CONDITION`, a JSON object
  condition -> unit (``'{"Us": "m^2", "Hs": "rad^2"}'``). A reader that assumes one unit then finds none,
  rather than a wrong one. A condition whose unit is not known yet (none of its jobs finished, and no
  finished condition of a task of its kind tells it) is left out of the object, and the form is this one.

:func:`condition_units`, :func:`unit_of` and :func:`common_unit` read either form back; a results file with
one ``units`` attribute (every file written before per-condition units) reads as that unit for every
condition.
"""

from __future__ import annotations

import json

import numpy as np

__all__ = ["UNITS_BY_CONDITION", "common_unit", "condition_units", "unit_attrs", "unit_of"]

#: The attribute of a variable whose conditions are in different units: JSON, condition -> unit.
UNITS_BY_CONDITION = "units_by_condition"


def unit_attrs(units: dict, conditions=None) -> dict[str, str]:
    """The unit attributes of a variable whose conditions have the units ``units`` (condition -> unit).

    ``{"units": u}`` when every condition of ``conditions`` (default: those of ``units``) has the unit ``u``,
    else ``{UNITS_BY_CONDITION: JSON}`` of ``units`` in its order: conditions in different units, or a
    condition whose unit is not known (left out of the mapping; :func:`unit_of` gives it ``""``). Nothing
    known gives ``{"units": ""}``.
    """
    distinct = list(dict.fromkeys(units.values()))
    complete = conditions is None or all(c in units for c in conditions)
    if len(distinct) <= 1 and (complete or not distinct):
        return {"units": distinct[0] if distinct else ""}
    return {UNITS_BY_CONDITION: json.dumps({str(c): u for c, u in units.items()}, ensure_ascii=False)}


def condition_units(da) -> dict[str, str]:
    """Condition -> unit of a results variable (a DataArray with or without a ``condition`` coordinate).

    A condition the :data:`UNITS_BY_CONDITION` attribute does not name has the unit ``""``; without that
    attribute every condition has the ``units`` attribute's unit. A variable without a ``condition``
    coordinate (a statistic across conditions) gives ``{}``: read :func:`common_unit`.
    """
    conditions = [str(c) for c in np.atleast_1d(da["condition"].values)] if "condition" in da.coords else []
    by = da.attrs.get(UNITS_BY_CONDITION)
    if by is None:
        unit = str(da.attrs.get("units", ""))
        return {c: unit for c in conditions}
    mapping = json.loads(by)
    return {c: str(mapping.get(c, "")) for c in conditions}


def unit_of(da, condition) -> str:
    """The unit of ``da``'s values of one condition (the ``units`` attribute when it holds one for all)."""
    by = da.attrs.get(UNITS_BY_CONDITION)
    if by is None:
        return str(da.attrs.get("units", ""))
    return str(json.loads(by).get(str(condition), ""))


def common_unit(da) -> str | None:
    """The one unit of every condition of ``da``, or None when its conditions are in different units."""
    if UNITS_BY_CONDITION not in da.attrs:
        return str(da.attrs.get("units", ""))
    distinct = set(condition_units(da).values()) if "condition" in da.coords else \
        set(json.loads(da.attrs[UNITS_BY_CONDITION]).values())
    return distinct.pop() if len(distinct) == 1 else None
