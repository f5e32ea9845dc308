"""Argument checks shared by every module: one check, one exception type, one message per mistake."""

from __future__ import annotations

import numbers

from neurorx.errors import ArgumentTypeError, ConfigurationError

__all__ = ["positive_int"]


def positive_int(value, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as an ``int`` if it is an integer ``>= minimum``; otherwise raise.

    Booleans, floats (even integral ones such as ``3.0``) and strings are refused: they usually signal a
    mix-up. Every such mistake is a :class:`~neurorx.errors.ConfigurationError` (a ``ValueError``) with the
    same message, whatever the function that checks it.

    Parameters
    ----------
    value : object
        The value to check (``int`` or numpy integer).
    name : str
        How the message names the argument (``"trials"``, ``"trainer.batch_size"``).
    minimum : int, default 1
        Smallest accepted value (``0`` for counts that may be empty).

    Raises
    ------
    ConfigurationError
        ``"<name> must be an integer >= <minimum> (a positive integer); got <value> (<type>)"``; an
        :class:`~neurorx.errors.ArgumentTypeError` (also a ``TypeError``) when ``value`` is not an integer.
    """
    wrong_type = isinstance(value, bool) or not isinstance(value, numbers.Integral)
    if wrong_type or value < minimum:
        kind = "a positive integer" if minimum == 1 else "a non-negative integer" if minimum == 0 else "an integer"
        error = ArgumentTypeError if wrong_type else ConfigurationError
        raise error(f"{name} must be an integer >= {minimum} ({kind}); got {value!r} ({type(value).__name__})")
    return int(value)
