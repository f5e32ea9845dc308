"""Activation functions, each defined once for torch, numpy and Brian2 equation strings.

Every activation is an :class:`Activation` holding three views of the same function, so that the torch
trainer, the torch backend and the Brian2 backend apply exactly the same nonlinearity, and its derivative
(used by the hand-written backward passes of :mod:`neurorx.models.recurrences`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from neurorx.registry import Registry

__all__ = ["ACTIVATIONS", "Activation", "get_activation"]


@dataclass(frozen=True)
class Activation:
    """A pointwise nonlinearity :math:`\\phi`.

    Attributes
    ----------
    name : str
        Registry name.
    torch : callable
        ``torch.Tensor -> torch.Tensor``.
    numpy : callable
        ``np.ndarray -> np.ndarray``.
    brian2 : str
        Expression template with a single ``{u}`` placeholder, valid in Brian2 equations.
    derivative : callable or None
        :math:`\\phi'(z)` as ``(z, r) -> torch.Tensor`` from the pre-activation ``z`` and ``r = phi(z)`` (the
        formula torch's autograd uses for the same function); ``None`` if not stated (then the fused training
        kernels, which need it, are not used and training runs plain autograd).
    derivative_uses_output : bool
        Whether ``derivative`` reads ``r`` (tanh, sigmoid); otherwise it gets ``None`` there.
    torch_inplace : callable or None
        ``torch.Tensor -> torch.Tensor`` computing :attr:`torch` in place (the same numbers; ``torch.relu_``);
        ``None``: :meth:`apply_` copies the result of :attr:`torch` back.
    """

    name: str
    torch: Callable[[torch.Tensor], torch.Tensor]
    numpy: Callable[[np.ndarray], np.ndarray]
    brian2: str
    derivative: Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor] | None = None
    derivative_uses_output: bool = False
    torch_inplace: Callable[[torch.Tensor], torch.Tensor] | None = None

    def brian2_expr(self, u: str) -> str:
        """Brian2 expression of ``phi(u)`` for the expression string ``u``."""
        return self.brian2.format(u=f"({u})")

    def apply_(self, z: torch.Tensor) -> torch.Tensor:
        """:math:`\\phi(z)` written into ``z`` (no new tensor where :attr:`torch_inplace` is given); returns ``z``."""
        if self.torch_inplace is not None:
            return self.torch_inplace(z)
        return z.copy_(self.torch(z))

    def torch_derivative(self, z: torch.Tensor, r: torch.Tensor | None = None) -> torch.Tensor:
        r""":math:`\phi'(z)`, given ``r = phi(z)`` if already computed (a new tensor).

        Raises
        ------
        ValueError
            If the activation states no derivative.
        """
        if self.derivative is None:
            raise ValueError(f"activation {self.name!r} states no derivative; give Activation(derivative=...)")
        if self.derivative_uses_output:
            return self.derivative(z, self.torch(z) if r is None else r)
        return self.derivative(z, None)


ACTIVATIONS: Registry[Activation] = Registry("activation")


def _torch_softplus(u):
    # torch.nn.functional.softplus switches to the identity above u=20; this exact form matches numpy/Brian2.
    return torch.relu(u) + torch.log1p(torch.exp(-torch.abs(u)))


def _np_sigmoid(u):
    return 0.5 * (1.0 + np.tanh(0.5 * u))


def _relu_grad(z, r):
    return (z > 0).to(z.dtype)


def _tanh_grad(z, r):
    return 1.0 - r * r


def _sigmoid_grad(z, r):
    return r * (1.0 - r)


def _softplus_grad(z, r):
    return torch.sigmoid(z)


def _identity_grad(z, r):
    return torch.ones_like(z)


for _act in (
    Activation("relu", torch.relu, lambda u: np.maximum(u, 0.0), "clip({u}, 0, inf)", _relu_grad,
               torch_inplace=torch.relu_),
    Activation("tanh", torch.tanh, np.tanh, "tanh({u})", _tanh_grad, derivative_uses_output=True,
               torch_inplace=torch.tanh_),
    Activation("sigmoid", torch.sigmoid, _np_sigmoid, "(0.5*(1 + tanh(0.5*{u})))", _sigmoid_grad,
               derivative_uses_output=True, torch_inplace=torch.sigmoid_),
    Activation("softplus", _torch_softplus, lambda u: np.logaddexp(0.0, u),
               "(clip({u}, 0, inf) + log1p(exp(-abs({u}))))", _softplus_grad),
    Activation("identity", lambda u: u, lambda u: u, "{u}", _identity_grad, torch_inplace=lambda u: u),
):
    ACTIVATIONS.add(_act.name, _act)


def get_activation(name: str) -> Activation:
    """Return the registered activation ``name`` (relu, tanh, sigmoid, softplus, identity)."""
    return ACTIVATIONS.get(name)
