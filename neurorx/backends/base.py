"""What every backend receives and yields.

A protocol is resolved into :class:`Segment` objects (one per phase: its inputs, its noise, where it
starts). A backend simulates the segments in order and yields :class:`Chunk` objects: the hidden state after
consecutive training steps. Decoding, readout, recording and analysis hooks are backend-independent and
happen in :mod:`neurorx.protocols` on these chunks, so both backends share them exactly.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from typing import Protocol as TypingProtocol

import numpy as np

from neurorx.checks import positive_int as check_positive_int
from neurorx.errors import SimulationError
from neurorx.noise import NoiseModel
from neurorx.registry import Registry
from neurorx.seeds import derive_seed

__all__ = [
    "BACKENDS",
    "Backend",
    "Chunk",
    "Segment",
    "SimulationError",
    "check_dt_factor",
    "check_finite",
    "check_positive_int",
    "derive_seed",
]


@dataclass(frozen=True, eq=False)
class Segment:
    """One phase, resolved: everything a backend needs to simulate it.

    Attributes
    ----------
    name : str
        Phase label (e.g. "active", "quiescent").
    steps : int
        Number of training steps (each of length ``network.dt``; a backend may subdivide them).
    inputs : ndarray (B, steps, n_in)
        Inputs per training step (held constant over the step).
    noise : mapping placement -> NoiseModel
        The noise of this segment (already scaled).
    h0 : ndarray (B, N) or None
        Start state; ``None`` continues from the previous segment's final state.
    t0 : float
        Time (seconds) at the segment's start, for error messages.
    """

    name: str
    steps: int
    inputs: np.ndarray
    noise: Mapping[str, NoiseModel] = field(default_factory=dict)
    h0: np.ndarray | None = None
    t0: float = 0.0


@dataclass(frozen=True, eq=False)
class Chunk:
    """States after training steps ``start .. start+n-1`` of segment ``segment``: ``h`` is (B, n, N)."""

    segment: int
    start: int
    h: np.ndarray


class Backend(TypingProtocol):
    """A simulator of a :class:`~neurorx.network.RateNetwork` over resolved segments.

    ``options`` names the keyword options :meth:`simulate` takes besides the common ones; a backend without
    it gets every option :meth:`neurorx.Protocol.run` is given, unchecked.
    """

    name: str
    options: tuple[str, ...]

    def simulate(self, network, segments: list[Segment], *, trials: int, seed: int, dt_factor: int = 1,
                 chunk_steps: int = 100, dtype: str = "float64", **options: Any) -> Iterator[Chunk]:
        """Yield :class:`Chunk` objects covering every step of every segment, in order."""
        ...


BACKENDS: Registry[Any] = Registry("backend")


def check_finite(h: np.ndarray, segment: Segment, row0: int, dt: float, every: int = 1) -> None:
    """Raise :class:`SimulationError` naming the phase and time if ``h`` (B, n, N) holds NaN or inf.

    Row ``j`` of ``h`` is the state after step ``(row0 + j + 1) * every`` of the segment (``row0`` counts
    the rows reported before this chunk; with ``every=1`` it is the chunk's first step).
    """
    if not np.all(np.isfinite(h)):
        bad_steps = np.nonzero(~np.isfinite(h).reshape(h.shape[0], h.shape[1], -1).all(axis=2).all(axis=0))[0] \
            if h.ndim == 3 else np.array([0])
        first = int(bad_steps[0]) if len(bad_steps) else 0
        step = (row0 + first + 1) * every
        t = segment.t0 + step * dt
        raise SimulationError(
            f"the simulation diverged (NaN/inf) in phase {segment.name!r} at step {step} of "
            f"{segment.steps} (t = {t:.4g} s); lower the noise or the input scale, or check the weights"
        )


def check_dt_factor(dt_factor) -> int:
    """Validate ``dt_factor`` (an integer >= 1: the simulation step is ``dt/dt_factor``)."""
    if isinstance(dt_factor, bool) or not isinstance(dt_factor, int | np.integer) or dt_factor < 1:
        raise ValueError(
            f"dt_factor must be an integer >= 1 (the step is the training step divided by it); got {dt_factor!r}."
            " A coarser step than the training step is not supported."
        )
    return int(dt_factor)


