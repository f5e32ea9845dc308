"""The Gaussian increment and Brian2 terms of white noise with an optional drift, shared by the noise models
whose steps are Gaussian (:class:`~neurorx.noise.WhiteNoise`, :class:`~neurorx.noise.DriftWhiteNoise` and the
continuous analogue of :class:`~neurorx.noise.ReferenceUniformNoise`).
"""

from __future__ import annotations

import math

import torch

from neurorx.noise.base import Brian2Terms

__all__ = ["gaussian_increment", "gaussian_terms"]


def gaussian_increment(shape, dt: float, generator: torch.Generator | None, sigma: float, drift: float | None = None,
                       dtype=torch.float64, device=None) -> torch.Tensor:
    r"""One Euler–Maruyama increment of :math:`dN_t = \mu\,dt + \sigma\,dW_t` over a step ``dt``, of ``shape``.

    Notes
    -----
    :math:`\sigma\sqrt{\Delta t}\,\xi + \mu\Delta t` with :math:`\xi\sim\mathcal N(0,1)` drawn from
    ``generator``; ``drift=None`` (white noise) adds no drift term at all.
    """
    z = torch.randn(shape, generator=generator, dtype=dtype, device=device).mul_(sigma * math.sqrt(dt))
    return z if drift is None else z.add_(drift * dt)


def gaussian_terms(prefix: str, sigma: float, drift: float | None = None) -> Brian2Terms:
    """Brian2 terms of the noise of :func:`gaussian_increment`: ``+ sigma*xi`` (``+ mu`` with a ``drift``)."""
    noise = {f"{prefix}sigma": (sigma, "second**-0.5")}
    if drift is None:
        return Brian2Terms(rhs=f"{prefix}sigma*xi_{prefix}", parameters=noise)
    return Brian2Terms(rhs=f"{prefix}mu + {prefix}sigma*xi_{prefix}",
                       parameters={f"{prefix}mu": (drift, "Hz"), **noise})
