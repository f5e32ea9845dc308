"""``WhiteNoise``: Gaussian white noise."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

from neurorx.noise.base import NOISE_MODELS, Brian2Terms, MemorylessNoise, diffusion_value, with_changes
from neurorx.noise.gaussian import gaussian_increment, gaussian_terms
from neurorx.units import parse_time

__all__ = ["WhiteNoise"]


@NOISE_MODELS.register("white")
@dataclass(frozen=True)
class WhiteNoise(MemorylessNoise):
    """Gaussian white noise with diffusion coefficient ``sigma``.

    Parameters
    ----------
    sigma : float or brian2.Quantity
        Diffusion coefficient in :math:`s^{-1/2}`.
    placement : str
        ``"recurrent"``, ``"input"`` or ``"output"``.

    Notes
    -----
    Continuous time: :math:`dN_t = \\sigma\\,dW_t`. One Euler–Maruyama step of size :math:`\\Delta t` adds
    :math:`\\sigma\\sqrt{\\Delta t}\\,\\xi`, :math:`\\xi\\sim\\mathcal N(0,1)`. In Brian2: ``+ sigma*xi``.
    The paper's per-step standard deviation :math:`s` at training step :math:`D` is
    :math:`\\sigma = s/\\sqrt{D}` (see :meth:`from_step_std`).
    """

    name: ClassVar[str] = "white"
    sigma: float = 0.0

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "sigma", diffusion_value(self.sigma, "WhiteNoise.sigma"))

    @classmethod
    def from_step_std(cls, std: float, dt, placement: str = "recurrent") -> WhiteNoise:
        """White noise whose increment over one step ``dt`` has standard deviation ``std``."""
        dt_s = parse_time(dt, "dt")
        return cls(sigma=float(std) / math.sqrt(dt_s), placement=placement)

    @property
    def is_zero(self) -> bool:
        return self.sigma == 0.0

    def scaled(self, k: float) -> WhiteNoise:
        return with_changes(self, sigma=self.sigma * abs(float(k)))

    def sample(self, shape, dt, generator, state=None, dtype=torch.float64, device=None):
        if self.is_zero:
            return None, state
        return gaussian_increment(shape, dt, generator, self.sigma, dtype=dtype, device=device), state

    def step_moments(self, dt: float) -> tuple[float, float]:
        return 0.0, self.sigma**2 * dt

    def brian2_terms(self, prefix: str, **run) -> Brian2Terms:
        return gaussian_terms(prefix, self.sigma)

    @classmethod
    def example(cls, steps, shape, dt, *, placement="recurrent", seed=0) -> WhiteNoise:
        return cls(sigma=0.5, placement=placement)
