"""Old public names kept as pointers: a module-level ``__getattr__`` for names that were renamed or removed."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["moved_names"]


def moved_names(module: str, *, renamed: Mapping[str, tuple[Any, str]] | None = None,
                gone: Mapping[str, str] | None = None) -> Callable[[str], Any]:
    """A module ``__getattr__`` (PEP 562) for the module's old names.

    Parameters
    ----------
    module : str
        The module's ``__name__`` (for the message of an unknown name).
    renamed : mapping old name -> (object, message), optional
        Names that still work: the object is returned with a :class:`DeprecationWarning` giving the message.
    gone : mapping old name -> message, optional
        Names that no longer exist: an :class:`AttributeError` with the message, which names the replacement.
    """
    renamed, gone = dict(renamed or {}), dict(gone or {})

    def __getattr__(name: str):
        if name in renamed:
            obj, message = renamed[name]
            warnings.warn(message, DeprecationWarning, stacklevel=2)
            return obj
        if name in gone:
            raise AttributeError(gone[name])
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
