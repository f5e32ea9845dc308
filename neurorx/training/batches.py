"""Training batches: the seeded streams of each batch and its time-major tensors.

Batch ``i`` (0-based) draws its trajectories from ``SeedSequence(seed, spawn_key=(0, i))`` and its noise from a
torch generator seeded by ``SeedSequence(seed, spawn_key=(1, i))``; the fixed test batch uses streams 2 and 3.
A batch therefore depends only on ``(seed, i)`` and can be drawn ahead, in a background thread, while the
previous one trains.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from neurorx.seeds import numpy_rng, torch_generator

__all__ = ["STREAM_DATA", "STREAM_NOISE", "STREAM_TEST_DATA", "STREAM_TEST_NOISE", "Batch", "batch_generator",
           "batch_rng", "make_batch"]

#: The seed streams: training data, training noise, the test batch's data and its noise.
STREAM_DATA, STREAM_NOISE, STREAM_TEST_DATA, STREAM_TEST_NOISE = 0, 1, 2, 3


def batch_rng(seed: int, index: int, stream: int = STREAM_DATA) -> np.random.Generator:
    """The numpy generator of batch ``index`` (stream 0: training data; 2: the test batch)."""
    return numpy_rng(seed, stream, index)


def batch_generator(seed: int, index: int, stream: int = STREAM_NOISE) -> torch.Generator:
    """The torch generator of batch ``index``'s noise (stream 1: training; 3: the test batch)."""
    return torch_generator(seed, stream, index)


@dataclass(frozen=True)
class Batch:
    """One batch as time-major tensors (``T, B, ...``) plus the true states (numpy, ``B, T, d``).

    ``increments`` optionally holds the batch's noise, drawn ahead
    (:func:`neurorx.training.fused.draw_increments`).
    """

    inputs: torch.Tensor
    init_code: torch.Tensor
    targets: torch.Tensor
    states: np.ndarray
    increments: dict | None = None

    def to(self, device: torch.device) -> Batch:
        """The same batch with its tensors on ``device`` (the true states stay in numpy)."""
        incs = None if self.increments is None else {k: v.to(device) for k, v in self.increments.items()}
        return Batch(self.inputs.to(device), self.init_code.to(device), self.targets.to(device), self.states, incs)


def make_batch(task, batch_size: int, steps: int, rng, dtype=torch.float32) -> Batch:
    """Sample ``task`` and convert to time-major tensors of ``dtype``."""
    b = task.sample(batch_size, steps, rng)
    return Batch(
        inputs=_time_major(b.inputs, dtype),
        init_code=torch.from_numpy(b.init_code).to(dtype),
        targets=_time_major(b.targets, dtype),
        states=b.states,
    )


def _time_major(x: np.ndarray, dtype) -> torch.Tensor:
    """``(B, T, ...)`` numpy -> a contiguous ``(T, B, ...)`` tensor of ``dtype``, converted and moved in one copy."""
    src = torch.from_numpy(x).transpose(0, 1)
    return torch.empty(src.shape, dtype=dtype).copy_(src)
