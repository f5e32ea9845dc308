"""A tiny name -> object registry with helpful errors, shared by activations, noise models, cells, tasks."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

__all__ = ["Registry", "suggest"]


def suggest(name, options) -> str:
    """Return a ' Did you mean ...?' hint for ``name`` among ``options`` (empty if none is close).

    The one suggestion helper of neurorx (registries, configuration keys, model cards). Dotted names are
    compared section by section: ``trainer.n_epoch`` is matched against the keys of ``trainer``, and a key
    whose last part exists in another section is suggested there (``n_epochs`` -> ``trainer.n_epochs``).
    """
    name, options = str(name), sorted({str(o) for o in options})
    head, _, last = name.rpartition(".")
    same = {o.rpartition(".")[2]: o for o in options if o.rpartition(".")[0] == head}
    close = [same[m] for m in difflib.get_close_matches(last, list(same), n=3, cutoff=0.5)]
    close += [o for o in options if "." in o + name and o.rpartition(".")[2] == last and o != name]
    if not same:  # an unknown section: compare whole names
        close += difflib.get_close_matches(name, options, n=2, cutoff=0.8)
    close = list(dict.fromkeys(close))[:3]
    return f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


class Registry(Generic[T]):
    """Map names to objects (classes or values); unknown names raise a ``KeyError``-like ``ValueError``.

    Parameters
    ----------
    kind : str
        What the registry holds, used in error messages ("activation", "noise model", ...).
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator registering an object under ``name``."""

        def deco(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._items[name] = obj
            return obj

        return deco

    def add(self, name: str, obj: T) -> T:
        """Register ``obj`` under ``name`` and return it."""
        return self.register(name)(obj)

    def replace(self, name: str, obj: T) -> T:
        """Register ``obj`` under ``name``, replacing what was registered there (a re-defined class)."""
        self._items[name] = obj
        return obj

    def remove(self, name: str) -> T:
        """Unregister ``name`` and return what was registered (a temporary entry of a test or notebook)."""
        self.get(name)   # the same error as get() for an unknown name
        return self._items.pop(name)

    def get(self, name: str) -> T:
        """Return the object registered as ``name``, or raise a clear error listing the choices."""
        try:
            return self._items[name]
        except (KeyError, TypeError):
            raise ValueError(
                f"unknown {self.kind} {name!r}; choose one of {sorted(self._items)}."
                + suggest(name, self._items)
            ) from None

    def names(self) -> list[str]:
        """Registered names, in registration order."""
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def items(self):
        """(name, object) pairs."""
        return self._items.items()
