"""``NoNoise``: the model that adds nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from neurorx.noise.base import NOISE_MODELS, Brian2Terms, MemorylessNoise

__all__ = ["NoNoise"]


@NOISE_MODELS.register("none")
@dataclass(frozen=True)
class NoNoise(MemorylessNoise):
    """No noise: :math:`dN_t = 0`."""

    name: ClassVar[str] = "none"

    @property
    def is_zero(self) -> bool:
        return True

    def scaled(self, k: float) -> NoNoise:
        return self

    def sample(self, shape, dt, generator, state=None, dtype=torch.float64, device=None):
        return None, state

    def step_moments(self, dt: float) -> tuple[float, float]:
        return 0.0, 0.0

    def brian2_terms(self, prefix: str, **run) -> Brian2Terms:
        return Brian2Terms(rhs="0*Hz")

    @classmethod
    def example(cls, steps, shape, dt, *, placement="recurrent", seed=0) -> NoNoise:
        return cls(placement=placement)
