"""``OUNoise``: coloured (Ornstein–Uhlenbeck) noise with a state of its own."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from brian2.units.allunits import second

from neurorx.noise.base import NOISE_MODELS, Brian2Terms, NoiseModel, diffusion_value, time_field, with_changes

__all__ = ["OUNoise"]


@NOISE_MODELS.register("ou")
@dataclass(frozen=True)
class OUNoise(NoiseModel):
    """Coloured (Ornstein–Uhlenbeck) noise: white noise of strength ``sigma`` low-pass filtered at ``tau_noise``.

    Parameters
    ----------
    sigma : float or brian2.Quantity
        Strength in :math:`s^{-1/2}`; as ``tau_noise -> 0`` the model tends to ``WhiteNoise(sigma)``.
    tau_noise : float or brian2.Quantity
        Correlation time (seconds).

    Notes
    -----
    The noise is a state :math:`\\eta` (units 1/second) added to :math:`dh/dt`:

    .. math:: dN_t = \\eta\\,dt,\\qquad d\\eta = -\\frac{\\eta}{\\tau_n}dt + \\frac{\\sigma}{\\tau_n}dW_t .

    The stationary variance of :math:`\\eta` is :math:`\\sigma^2/(2\\tau_n)`. Both backends integrate
    :math:`\\eta` with Euler–Maruyama, whose stationary variance at step :math:`\\Delta t` is
    :math:`\\sigma^2/(2\\tau_n) / (1 - b/2)` with :math:`b = \\Delta t/\\tau_n` (the step must satisfy
    :math:`b < 2`). The increment added to ``h`` over a step is :math:`\\eta\\,\\Delta t` with the value of
    :math:`\\eta` at the start of the step (explicit Euler, as Brian2's ``euler`` method does).
    """

    name: ClassVar[str] = "ou"
    sigma: float = 0.0
    tau_noise: float = time_field(0.05, "the correlation time")

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "sigma", diffusion_value(self.sigma, "OUNoise.sigma"))

    @property
    def is_zero(self) -> bool:
        return self.sigma == 0.0

    def scaled(self, k: float) -> OUNoise:
        return with_changes(self, sigma=self.sigma * abs(float(k)))

    def _check_dt(self, dt: float) -> float:
        b = dt / self.tau_noise
        if b >= 2.0:
            raise ValueError(
                f"OUNoise: the step dt={dt:g} s is unstable for tau_noise={self.tau_noise:g} s (needs "
                f"dt < 2*tau_noise); use a larger tau_noise or a smaller step (dt_factor)."
            )
        return b

    def stationary_variance(self, dt: float | None = None) -> float:
        """Stationary variance of :math:`\\eta`: exact (``dt=None``) or of the Euler scheme at step ``dt``."""
        var = self.sigma**2 / (2.0 * self.tau_noise)
        if dt is None:
            return var
        return var / (1.0 - self._check_dt(dt) / 2.0)

    def initial_state(self, shape, dt, generator, dtype=torch.float64, device=None):
        std = math.sqrt(self.stationary_variance(dt))
        return torch.randn(shape, generator=generator, dtype=dtype, device=device).mul_(std)

    def sample(self, shape, dt, generator, state=None, dtype=torch.float64, device=None):
        b = self._check_dt(dt)
        if state is None:
            state = self.initial_state(shape, dt, generator, dtype, device)
        increment = state * dt
        z = torch.randn(shape, generator=generator, dtype=dtype, device=device)
        new_state = state * (1.0 - b) + z.mul_(self.sigma / self.tau_noise * math.sqrt(dt))
        return increment, new_state

    def step_moments(self, dt: float) -> tuple[float, float]:
        return 0.0, self.stationary_variance(dt) * dt**2

    def brian2_terms(self, prefix: str, **run) -> Brian2Terms:
        return Brian2Terms(
            rhs=f"{prefix}eta",
            parameters={
                f"{prefix}sigma": (self.sigma, "second**-0.5"),
                f"{prefix}tau": (self.tau_noise, "second"),
            },
            equations=f"d{prefix}eta/dt = -{prefix}eta/{prefix}tau + {prefix}sigma/{prefix}tau*xi_{prefix} : Hz",
        )

    @classmethod
    def example(cls, steps, shape, dt, *, placement="recurrent", seed=0) -> OUNoise:
        return cls(sigma=0.5, tau_noise=2.5 * dt * second, placement=placement)
