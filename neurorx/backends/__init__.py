"""Simulation backends: ``"torch"`` (discrete steps), ``"brian2"`` (continuous-time SDE) and ``"brian2-spiking"``
(spiking populations).
"""

from neurorx.backends.base import BACKENDS, Backend, Chunk, Segment, SimulationError

__all__ = ["BACKENDS", "Backend", "Chunk", "Segment", "SimulationError", "all_backends", "backend_names",
           "get_backend"]


def _shipped_modules() -> list[str]:
    """Names ``X`` of the modules ``neurorx.backends.X_backend`` (found on disk, not imported)."""
    import pkgutil

    import neurorx.backends as package

    return [i.name[: -len("_backend")] for i in pkgutil.iter_modules(package.__path__) if i.name.endswith("_backend")]


def backend_names() -> list[str]:
    """Every backend name: the registered ones and the shipped ones not imported yet (Brian2 before its import)."""
    return sorted(set(BACKENDS.names()) | {m.replace("_", "-") for m in _shipped_modules()})


def get_backend(name: str):
    """Return the backend registered as ``name`` (importing it on first use).

    Raises
    ------
    ConfigurationError
        For an unknown name, listing every backend (also those whose module is not imported yet).
    """
    if name not in BACKENDS:
        import importlib

        module = str(name).replace("-", "_")
        if module in _shipped_modules():
            try:
                importlib.import_module(f"neurorx.backends.{module}_backend")
            except ModuleNotFoundError:
                pass
    if name not in BACKENDS:
        from neurorx.errors import ConfigurationError
        from neurorx.registry import suggest

        names = backend_names()
        raise ConfigurationError(f"unknown backend {name!r}; choose one of {names}." + suggest(str(name), names))
    return BACKENDS.get(name)


def all_backends() -> dict:
    """Every backend shipped with neurorx (importing each module ``neurorx.backends.<name>_backend``)."""
    import importlib
    import pkgutil

    import neurorx.backends as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name.endswith("_backend"):
            importlib.import_module(f"neurorx.backends.{info.name}")
    return dict(BACKENDS.items())
