"""Conversion of Brian2 quantities at the API boundary.

Internally neurorx stores times in seconds as plain floats. Public functions that take a time
(``tau``, ``dt``, a phase duration) accept a :mod:`brian2.units` quantity with the dimension of time,
and refuse bare numbers, which are ambiguous (seconds? milliseconds? steps?).
"""

from __future__ import annotations

from brian2.units.fundamentalunits import DimensionMismatchError, Quantity, fail_for_dimension_mismatch
from brian2.units.stdunits import ms

__all__ = ["as_seconds", "check_bare_seconds", "seconds_to_quantity"]


def as_seconds(value, name: str, *, positive: bool = True) -> float:
    """Return ``value`` (a Brian2 time quantity) as a float number of seconds.

    Parameters
    ----------
    value : brian2.Quantity
        A time, e.g. ``100*ms``.
    name : str
        Name of the argument, used in error messages.
    positive : bool
        If true, zero and negative values are refused.

    Raises
    ------
    TypeError
        If ``value`` is a bare number or carries no time dimension.
    ValueError
        If ``value`` is not finite, or not positive when ``positive`` is set.
    """
    if not isinstance(value, Quantity):
        raise TypeError(
            f"{name} must be a time with units from brian2.units, e.g. {name}=100*ms; got the bare "
            f"number {value!r}. Write it as {value!r}*ms or {value!r}*second."
        )
    try:
        fail_for_dimension_mismatch(value, ms, f"{name} must be a time")
    except DimensionMismatchError as err:
        raise TypeError(f"{name} must be a time (e.g. 100*ms), got {value!r}: {err}") from None
    seconds = float(value / (1000 * ms))
    if not seconds == seconds or seconds in (float("inf"), float("-inf")):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if positive and seconds <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return seconds


def check_bare_seconds(seconds: float, name: str) -> float:
    """Return ``seconds``, a time given as a plain number, unless it is one second or more.

    The time steps and constants here are milliseconds to a few hundred milliseconds, so a bare ``20`` was
    almost surely meant in ms; such times must carry their unit.

    Raises
    ------
    ValueError
        If ``seconds >= 1``, naming ``name`` and the unit to write.
    """
    if seconds >= 1.0:
        raise ValueError(f"{name}={seconds!r} has no unit and would read as {seconds:g} seconds; give it with units "
                         f"from brian2.units, e.g. {seconds!r}*ms (or {seconds!r}*second if you mean seconds)")
    return seconds


def seconds_to_quantity(seconds: float) -> Quantity:
    """Return a float number of seconds as a Brian2 quantity."""
    return seconds * 1000 * ms
