"""Simulation backends: ``"torch"`` (discrete steps), ``"brian2"`` (continuous-time SDE) and ``"brian2-spiking"``
(spiking populations).
"""

from neurorx.backends.base import BACKENDS, Backend, Chunk, Segment, SimulationError

__all__ = ["BACKENDS", "Backend", "Chunk", "Segment", "SimulationError", "all_backends", "get_backend"]


def get_backend(name: str):
    """Return the backend registered as ``name`` (importing it on first use)."""
    if name not in BACKENDS:
        import importlib

        try:
            importlib.import_module(f"neurorx.backends.{str(name).replace('-', '_')}_backend")
        except ModuleNotFoundError:
            pass
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
