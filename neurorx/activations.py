"""Activation functions, each defined once for torch, numpy and Brian2 equation strings.

Every activation is an :class:`Activation` holding three views of the same function, so that the torch
trainer, the torch backend and the Brian2 backend apply exactly the same nonlinearity.
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
    """

    name: str
    torch: Callable[[torch.Tensor], torch.Tensor]
    numpy: Callable[[np.ndarray], np.ndarray]
    brian2: str

    def brian2_expr(self, u: str) -> str:
        """Brian2 expression of ``phi(u)`` for the expression string ``u``."""
        return self.brian2.format(u=f"({u})")


ACTIVATIONS: Registry[Activation] = Registry("activation")


def _torch_softplus(u):
    # torch.nn.functional.softplus switches to the identity above u=20; this exact form matches numpy/Brian2.
    return torch.relu(u) + torch.log1p(torch.exp(-torch.abs(u)))


def _np_sigmoid(u):
    return 0.5 * (1.0 + np.tanh(0.5 * u))


for _act in (
    Activation("relu", torch.relu, lambda u: np.maximum(u, 0.0), "clip({u}, 0, inf)"),
    Activation("tanh", torch.tanh, np.tanh, "tanh({u})"),
    Activation("sigmoid", torch.sigmoid, _np_sigmoid, "(0.5*(1 + tanh(0.5*{u})))"),
    Activation("softplus", _torch_softplus, lambda u: np.logaddexp(0.0, u),
               "(clip({u}, 0, inf) + log1p(exp(-abs({u}))))"),
    Activation("identity", lambda u: u, lambda u: u, "{u}"),
):
    ACTIVATIONS.add(_act.name, _act)


def get_activation(name: str) -> Activation:
    """Return the registered activation ``name`` (relu, tanh, sigmoid, softplus, identity)."""
    return ACTIVATIONS.get(name)
