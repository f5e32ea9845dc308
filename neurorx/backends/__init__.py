"""Simulation backends: ``"torch"`` (discrete steps) and ``"brian2"`` (continuous-time SDE)."""

from neurorx.backends.base import BACKENDS, Backend, Chunk, Segment, SimulationError

__all__ = ["BACKENDS", "Backend", "Chunk", "Segment", "SimulationError", "get_backend"]


def get_backend(name: str):
    """Return the backend registered as ``name`` (importing it on first use)."""
    if name not in BACKENDS:
        import importlib

        try:
            importlib.import_module(f"neurorx.backends.{name}_backend")
        except ModuleNotFoundError:
            pass
    return BACKENDS.get(name)
