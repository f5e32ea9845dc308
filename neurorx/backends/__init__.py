"""Simulation backends: ``"torch"`` (discrete steps) and ``"brian2"`` (continuous-time SDE)."""

from neurorx.backends.base import BACKENDS, Backend, Chunk, Segment, SimulationError

__all__ = ["BACKENDS", "Backend", "Chunk", "Segment", "SimulationError", "all_backends", "get_backend"]


def get_backend(name: str):
    """Return the backend registered as ``name`` (importing it on first use)."""
    if name not in BACKENDS:
        import importlib

        try:
            importlib.import_module(f"neurorx.backends.{name}_backend")
        except ModuleNotFoundError:
            pass
    return BACKENDS.get(name)


def all_backends() -> dict:
    """Every backend shipped with neurorx (importing each module ``neurorx.backends.<name>_backend``)."""
    import pkgutil

    import neurorx.backends as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name.endswith("_backend"):
            get_backend(info.name[: -len("_backend")])
    return dict(BACKENDS.items())
