"""``DriftWhiteNoise``: Gaussian white noise with a drift, and :func:`matched_noise`, the moment-matched swap."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from brian2.units.allunits import hertz

from neurorx.noise.base import NOISE_MODELS, Brian2Terms, MemorylessNoise, NoiseModel, diffusion_value, with_changes
from neurorx.noise.gaussian import gaussian_increment, gaussian_terms
from neurorx.noise.white import WhiteNoise
from neurorx.units import parse_time, quantity_value

__all__ = ["DriftWhiteNoise", "matched_noise"]


def _drift_value(value, name: str) -> float:
    """A drift in 1/second from a Brian2 quantity (``2.5*Hz``) or a float."""
    return quantity_value(value, name, hertz, unit_name="1/second", short="1/second", example="2.5*Hz")


@NOISE_MODELS.register("drift_white")
@dataclass(frozen=True)
class DriftWhiteNoise(MemorylessNoise):
    """Gaussian white noise with a constant drift: the Gaussian with any per-step mean and variance.

    Parameters
    ----------
    drift : float or brian2.Quantity
        :math:`\\mu` in 1/second (may be negative).
    sigma : float or brian2.Quantity
        Diffusion coefficient in :math:`s^{-1/2}`.
    placement : str
        ``"recurrent"``, ``"input"`` or ``"output"``.

    Notes
    -----
    Continuous time: :math:`dN_t = \\mu\\,dt + \\sigma\\,dW_t`. One Euler–Maruyama step of size
    :math:`\\Delta t` adds :math:`\\mu\\Delta t + \\sigma\\sqrt{\\Delta t}\\,\\xi`, :math:`\\xi\\sim\\mathcal N(0,1)`:
    mean :math:`\\mu\\Delta t`, variance :math:`\\sigma^2\\Delta t`. In Brian2: ``+ mu + sigma*xi``.
    :func:`matched_noise` builds the one whose step at :math:`D` has the mean :math:`m` and variance :math:`v`
    of another model: :math:`\\mu = m/D`, :math:`\\sigma = \\sqrt{v/D}`.
    """

    name: ClassVar[str] = "drift_white"
    drift: float = 0.0
    sigma: float = 0.0

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "drift", _drift_value(self.drift, "DriftWhiteNoise.drift"))
        object.__setattr__(self, "sigma", diffusion_value(self.sigma, "DriftWhiteNoise.sigma"))

    @property
    def is_zero(self) -> bool:
        return self.drift == 0.0 and self.sigma == 0.0

    def scaled(self, k: float) -> DriftWhiteNoise:
        """Both the mean and the standard deviation of every increment times ``k``."""
        k = abs(float(k))
        return with_changes(self, drift=self.drift * k, sigma=self.sigma * k)

    def sample(self, shape, dt, generator, state=None, dtype=torch.float64, device=None):
        if self.is_zero:
            return None, state
        return gaussian_increment(shape, dt, generator, self.sigma, self.drift, dtype, device), state

    def step_moments(self, dt: float) -> tuple[float, float]:
        return self.drift * dt, self.sigma**2 * dt

    def brian2_terms(self, prefix: str, **run) -> Brian2Terms:
        return gaussian_terms(prefix, self.sigma, self.drift)

    @classmethod
    def example(cls, steps, shape, dt, *, placement="recurrent", seed=0) -> DriftWhiteNoise:
        return cls(drift=2.5, sigma=0.5, placement=placement)


def matched_noise(model: NoiseModel, dt, *, placement: str | None = None) -> NoiseModel:
    """The Gaussian white noise whose increment over ``dt`` has ``model``'s per-step mean and variance.

    Parameters
    ----------
    model : NoiseModel
        The noise to match, e.g. the one a network was trained with (``net.recurrent_noise``).
    dt : float, str or brian2.Quantity
        The step at which the moments are matched: the training step ``net.dt`` for a swap of training noise.
    placement : str, optional
        Default: ``model``'s.

    Returns
    -------
    NoiseModel
        :class:`~neurorx.noise.WhiteNoise` when the mean is 0, else :class:`DriftWhiteNoise`; ``model`` itself
        is not changed.

    Notes
    -----
    With :math:`(m, v)` = ``model.step_moments(dt)``: :math:`\\mu = m/\\Delta t`, :math:`\\sigma =
    \\sqrt{v/\\Delta t}`, so one step of :math:`\\Delta t` = ``dt`` has mean :math:`m` and variance :math:`v`
    (both moments scale linearly with the step, as the training noise's continuous analogue does). A white swap
    that matches the variance alone, :meth:`WhiteNoise.from_step_std(sqrt(v), dt)
    <neurorx.noise.WhiteNoise.from_step_std>`, removes the mean: for the reference code's ``scale·U[0,1)``, a
    constant positive drive the network may rely on (see the docs' *Noise swaps*).

    Examples
    --------
    >>> from neurorx.noise import ReferenceUniformNoise
    >>> swap = matched_noise(ReferenceUniformNoise(scale=0.1, dt_train=0.02), 0.02)
    >>> [round(v, 6) for v in swap.step_moments(0.02)]
    [0.05, 0.000833]
    """
    dt_s = parse_time(dt, "dt")
    mean, var = (float(v) for v in model.step_moments(dt_s))
    placement = placement or model.placement
    if mean == 0.0:
        return WhiteNoise(sigma=math.sqrt(var / dt_s), placement=placement)
    return DriftWhiteNoise(drift=mean / dt_s, sigma=math.sqrt(var / dt_s), placement=placement)
