"""Conversion of Brian2 quantities at the API boundary.

Internally neurorx stores times in seconds as plain floats. Public functions that take a time
(``tau``, ``dt``, a phase duration) accept a :mod:`brian2.units` quantity with the dimension of time,
and refuse bare numbers, which are ambiguous (seconds? milliseconds? steps?).
"""

from __future__ import annotations

import math
import re

from brian2.units.fundamentalunits import DimensionMismatchError, Quantity, fail_for_dimension_mismatch
from brian2.units.stdunits import ms

from neurorx.errors import ConfigurationError

__all__ = ["as_seconds", "check_bare_seconds", "parse_time", "quantity_value", "seconds_to_quantity"]

_TIME_UNITS = {"s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0, "ms": 1e-3, "msecond": 1e-3,
               "msec": 1e-3, "us": 1e-6, "µs": 1e-6, "usecond": 1e-6, "min": 60.0, "minute": 60.0,
               "minutes": 60.0}
_TIME_RE = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*\*?\s*([a-zA-Zµ]*)\s*$")


def quantity_value(value, name: str, unit: Quantity, *, unit_name: str, short: str, example: str,
                   nonnegative: bool = False) -> float:
    """Return ``value`` (a Brian2 quantity with the dimensions of ``unit``, or a number in it) as a float.

    Parameters
    ----------
    unit : brian2.Quantity
        The SI unit the float is in (e.g. ``second**-0.5``, ``hertz``).
    unit_name, short, example : str
        How the messages name the unit (``"second**-0.5"``, ``"s^-1/2"``) and give an example quantity.
    nonnegative : bool
        Refuse negative values.

    Raises
    ------
    TypeError
        A quantity of other dimensions.
    ConfigurationError
        Not a number.
    ValueError
        Not finite, or negative where ``nonnegative``.
    """
    if isinstance(value, Quantity):
        if value.dim != unit.dim:
            raise TypeError(f"{name} must have units of {unit_name} (e.g. {example}); got {value!r}")
        value = float(value / unit)
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name} must be a number ({short}) or a Brian2 quantity such as "
                                 f"{example}; got {value!r}") from None
    if not math.isfinite(value) or (nonnegative and value < 0):
        kind = "finite, non-negative number" if nonnegative else "finite number"
        raise ValueError(f"{name} must be a {kind} ({short}); got {value!r}")
    return value


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


def parse_time(value, name: str = "time", *, trusted: bool = False) -> float:
    """The one parser of time values: a positive time in seconds from any accepted form.

    Accepted: a Brian2 quantity (``100*ms``), a string with a unit (``"100 ms"``, ``"0.1 s"``, ``"100*ms"``) or
    a plain number of seconds. A plain number of one second or more is refused unless ``trusted`` (time steps
    and constants here are ms to a few hundred ms, so a bare ``20`` almost surely meant ms); ``trusted=True``
    is for values neurorx wrote itself (files, metadata), which are seconds already.

    Parameters
    ----------
    value : brian2.Quantity, str, int or float
    name : str
        The argument's name, used in error messages.
    trusted : bool
        Skip the one-second guard on bare numbers.

    Raises
    ------
    ConfigurationError
        A ``ValueError`` naming ``name`` and the form to write, if the value is not a positive, finite time.
    """
    if isinstance(value, Quantity):
        try:
            return as_seconds(value, name)
        except (TypeError, ValueError) as err:
            raise ConfigurationError(str(err)) from None
    m = None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigurationError(f"{name} must be a time such as '100 ms', 100*ms or a number of seconds; "
                                 f"got {value!r}")
    if isinstance(value, str):
        m = _TIME_RE.match(value)
        unit = m.group(2) if m else None
        if m is None or (unit and unit not in _TIME_UNITS):
            raise ConfigurationError(
                f"{name}: cannot read {value!r} as a time; write e.g. '100 ms', '0.1 s' or a number of seconds"
            )
        seconds = float(m.group(1)) * _TIME_UNITS.get(unit, 1.0)
    else:
        seconds = float(value)
    if not math.isfinite(seconds) or seconds <= 0:
        raise ConfigurationError(f"{name} must be a positive, finite time; got {value!r}")
    bare = not isinstance(value, str) or not m.group(2)
    if bare and not trusted and seconds >= 1.0:
        raise ConfigurationError(
            f"{name}={value!r} has no unit and would read as {seconds:g} seconds; give it with units from "
            f"brian2.units, e.g. {value}*ms, or write '{value} ms' in a card (or '{value} s' if you mean seconds)")
    return seconds
