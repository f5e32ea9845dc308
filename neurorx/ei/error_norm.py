"""Normalization of back-propagated errors ("GradNorm"): identity forward, a normalizing backward.

The operator sits right after the division of an I-Norm layer. Its forward pass returns the normalized drive
``z`` unchanged; its backward pass replaces the error ``delta = dL/dz`` of each sample by one of the
variants registered in :data:`ERROR_NORMS`.

Notes
-----
For one sample with ``n`` units, ``s = sqrt(Var_k z + 1e-5)`` and ``<.>`` the mean over units:

- ``none``: :math:`\\tilde\\delta = \\delta` (I-Norm with normalization in the forward pass only).
- ``full``: :math:`\\tilde\\delta = (\\delta - \\langle\\delta\\rangle - z \\langle \\delta z\\rangle)/s`, the
  LayerNorm Jacobian, exact when ``z`` already has mean 0 and variance 1.
- ``center``: :math:`\\delta - \\langle\\delta\\rangle`.
- ``scale``: :math:`\\delta / s`.
- ``decorrelate``: :math:`\\delta - z\\langle\\delta z\\rangle`.
- ``lateral``: :math:`\\delta - \\sum_k \\nu_k \\delta_k` with a fixed random positive ``nu`` summing to 1
  (centering by lateral inhibition with unequal weights).

After the operator the error passes the layer's (constant) divisor: :math:`\\delta_{\\hat z} =
\\tilde\\delta/\\gamma`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from neurorx.errors import ConfigurationError
from neurorx.registry import Registry

__all__ = ["ERROR_NORMS", "ErrorNorm", "apply_error_norm", "get_error_norm", "lateral_weights"]

VAR_EPS = 1e-5


@dataclass(frozen=True)
class ErrorNorm:
    """One error-normalization variant.

    Attributes
    ----------
    name : str
        Registry name.
    backward : callable
        ``backward(delta, z, nu) -> delta_tilde`` on (batch, units) tensors; ``nu`` is ``None`` unless
        :attr:`needs_weights`.
    description : str
        One line for docs and ``--help``.
    needs_weights : bool
        Whether the variant needs the fixed lateral weights ``nu`` (see :func:`lateral_weights`).
    """

    name: str
    backward: Callable
    description: str
    needs_weights: bool = False


#: Error-normalization variants by name.
ERROR_NORMS: Registry[ErrorNorm] = Registry("error normalization")


def _scale(z: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(z.var(dim=-1, unbiased=False, keepdim=True) + VAR_EPS)


def _centered(delta):
    return delta - delta.mean(dim=-1, keepdim=True)


def _decorrelated(delta, z):
    return delta - z * (delta * z).mean(dim=-1, keepdim=True)


ERROR_NORMS.add("none", ErrorNorm("none", lambda d, z, nu: d, "identity: errors are not normalized"))
ERROR_NORMS.add("full", ErrorNorm(
    "full", lambda d, z, nu: (d - d.mean(dim=-1, keepdim=True) - z * (d * z).mean(dim=-1, keepdim=True)) / _scale(z),
    "the LayerNorm Jacobian: centre, decorrelate from z, divide by the SD of z"))
ERROR_NORMS.add("center", ErrorNorm("center", lambda d, z, nu: _centered(d), "subtract the mean error"))
ERROR_NORMS.add("scale", ErrorNorm("scale", lambda d, z, nu: d / _scale(z), "divide by the SD of z"))
ERROR_NORMS.add("decorrelate", ErrorNorm("decorrelate", lambda d, z, nu: _decorrelated(d, z),
                                         "remove the component of the error along z"))
ERROR_NORMS.add("lateral", ErrorNorm("lateral", lambda d, z, nu: d - (d * nu).sum(dim=-1, keepdim=True),
                                     "subtract a fixed random positive weighted mean (lateral inhibition)",
                                     needs_weights=True))


def get_error_norm(name: str) -> ErrorNorm:
    """The registered variant ``name``; an unknown name raises :class:`~neurorx.errors.ConfigurationError`."""
    if name not in ERROR_NORMS:
        try:
            ERROR_NORMS.get(name)
        except ValueError as err:
            raise ConfigurationError(f"{err} Pass error_norm= one of these names.") from None
    return ERROR_NORMS.get(name)


def lateral_weights(n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Fixed random positive weights ``nu`` (length ``n``) summing to 1, for the ``lateral`` variant."""
    nu = torch.rand(n, generator=generator) + 0.5
    return nu / nu.sum()


class _ErrorNormFunction(torch.autograd.Function):
    """Identity forward; the backward of the variant ``norm`` (see the module notes)."""

    @staticmethod
    def forward(ctx, z, norm, nu):
        ctx.norm = norm
        ctx.save_for_backward(z.detach(), nu if nu is not None else torch.empty(0))
        return z.clone()

    @staticmethod
    def backward(ctx, delta):
        z, nu = ctx.saved_tensors
        return ctx.norm.backward(delta, z, nu if ctx.norm.needs_weights else None), None, None


def apply_error_norm(z: torch.Tensor, name: str, nu: torch.Tensor | None = None) -> torch.Tensor:
    """Return ``z`` unchanged, with the backward pass of the error normalization ``name``.

    Parameters
    ----------
    z : torch.Tensor
        (batch, units) normalized drive.
    name : str
        A name in :data:`ERROR_NORMS`.
    nu : torch.Tensor, optional
        Lateral weights (units,), required by the ``lateral`` variant.
    """
    norm = get_error_norm(name)
    if name == "none":
        return z
    if norm.needs_weights and (nu is None or nu.shape[-1] != z.shape[-1]):
        raise ConfigurationError(f"error normalization {name!r} needs lateral weights nu of length "
                                 f"{z.shape[-1]}; create them with lateral_weights({z.shape[-1]})")
    return _ErrorNormFunction.apply(z, norm, nu)
