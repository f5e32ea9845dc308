"""``ReferenceUniformNoise``: the reference code's uniform noise and its continuous-time analogue."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from brian2.units.allunits import second

from neurorx.noise.base import DT_RTOL, NOISE_MODELS, Brian2Terms, MemorylessNoise, time_field, with_changes
from neurorx.noise.gaussian import gaussian_increment, gaussian_terms

__all__ = ["ReferenceUniformNoise"]


@NOISE_MODELS.register("reference_uniform")
@dataclass(frozen=True)
class ReferenceUniformNoise(MemorylessNoise):
    """The reference code's noise: ``scale * U[0, 1)`` added once per training step ``dt_train``.

    Parameters
    ----------
    scale : float
        The reference code's ``sqrt(sigma2_rec)`` (0.01 spatial, 0.1 head direction).
    dt_train : float or brian2.Quantity
        The training step (seconds) the reference noise was drawn at (0.02 s in the paper).
    exact_uniform : bool
        When a simulation step equals ``dt_train``, draw the uniform numbers themselves (the trained
        dynamics, bit-for-bit in distribution). Otherwise, and at any other step, use the continuous analogue.
        Only the torch backend draws uniforms; the Brian2 backend always integrates the continuous analogue
        (an SDE), so at ``dt_factor=1`` the two backends agree in the mean and variance of every increment,
        not in its distribution.

    Notes
    -----
    Per training step the increment :math:`s\\,U[0,1)` has mean :math:`s/2` and variance :math:`s^2/12`: it is
    mostly a constant positive drive. Its continuous-time analogue, matching both moments at
    :math:`\\Delta t = D` (``dt_train``), is a drift plus a diffusion,

    .. math:: dN_t = \\mu\\,dt + c\\,dW_t, \\qquad \\mu = \\frac{s}{2D},\\qquad c = \\frac{s}{\\sqrt{12D}}.

    Both depend on the training step :math:`D`: the same network trained at another step would have another
    analogue. At a simulation step :math:`\\Delta t \\neq D` the increment is
    :math:`\\mu\\Delta t + c\\sqrt{\\Delta t}\\,\\xi`. :meth:`scaled` multiplies :math:`s` (so both the mean and the
    standard deviation), as the reference's quiescent ``sigma_rec *= sqrt(2)`` does.
    """

    name: ClassVar[str] = "reference_uniform"
    scale: float = 0.0
    dt_train: float = time_field(0.02, "the training step the uniform numbers were drawn at")
    exact_uniform: bool = True

    def __post_init__(self):
        super().__post_init__()
        scale = float(self.scale)
        if not math.isfinite(scale) or scale < 0:
            raise ValueError(f"ReferenceUniformNoise.scale must be finite and >= 0, got {self.scale!r}")
        object.__setattr__(self, "scale", scale)

    @property
    def is_zero(self) -> bool:
        return self.scale == 0.0

    @property
    def drift(self) -> float:
        """Continuous drift :math:`\\mu = s/(2D)` in 1/second."""
        return self.scale / (2.0 * self.dt_train)

    @property
    def diffusion(self) -> float:
        """Continuous diffusion :math:`c = s/\\sqrt{12D}` in :math:`s^{-1/2}`."""
        return self.scale / math.sqrt(12.0 * self.dt_train)

    def uses_uniform(self, dt: float) -> bool:
        """Whether a step of ``dt`` draws the reference's uniform numbers themselves."""
        return self.exact_uniform and abs(dt - self.dt_train) <= DT_RTOL * self.dt_train

    def scaled(self, k: float) -> ReferenceUniformNoise:
        return with_changes(self, scale=self.scale * abs(float(k)))

    def sample(self, shape, dt, generator, state=None, dtype=torch.float64, device=None):
        if self.is_zero:
            return None, state
        if self.uses_uniform(dt):
            return torch.rand(shape, generator=generator, dtype=dtype, device=device).mul_(self.scale), state
        return gaussian_increment(shape, dt, generator, self.diffusion, self.drift, dtype, device), state

    def step_moments(self, dt: float) -> tuple[float, float]:
        return self.drift * dt, self.diffusion**2 * dt

    def brian2_terms(self, prefix: str, **run) -> Brian2Terms:
        return gaussian_terms(prefix, self.diffusion, self.drift)

    @classmethod
    def example(cls, steps, shape, dt, *, placement="recurrent", seed=0) -> ReferenceUniformNoise:
        return cls(scale=0.05, dt_train=dt * second, placement=placement)   # at its own step: the uniform draws
