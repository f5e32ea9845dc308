"""Diagnostics of trained E/I networks: alignment with exact LayerNorm, forward and backward, and layer moments.

All functions take any :class:`~neurorx.ei.network.EINetwork` (or one :class:`~neurorx.ei.layers.INormLayer`)
and a batch of inputs; layers that are not I-Norm layers are skipped.

Notes
-----
The reference of layer :math:`\\ell` is the same network with its normalization replaced by exact LayerNorm of
the E drive, :math:`\\mathrm{LN}(W_{EE}h + b)` with its true gradient (LN⁺ with the same weights). The
gradient cosine compares :math:`\\partial L/\\partial W_{EE}` of the two; the output cosine compares the
normalized drive :math:`z` with :math:`\\mathrm{LN}(W_{EE}h+b)`; the moments are the batch means of
:math:`\\mathrm{mean}_k z_k` and :math:`\\mathrm{Var}_k z_k`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from neurorx.ei.layers import INormLayer
from neurorx.ei.network import EINetwork
from neurorx.seeds import torch_generator

__all__ = [
    "AlignmentCheck",
    "alignment_check",
    "exact_layernorm",
    "gradient_cosine",
    "layer_gradient_cosine",
    "layer_moments",
    "output_cosine",
]

_CHECK = 30  # seed purpose


def _inorm_layers(net) -> list[INormLayer]:
    if isinstance(net, INormLayer):
        return [net]
    return [m for m in net.hidden if isinstance(m, INormLayer)]


@contextlib.contextmanager
def exact_layernorm(net):
    """Context in which every I-Norm layer of ``net`` computes exact LayerNorm of its E drive."""
    layers = _inorm_layers(net)
    old = [layer.exact_layernorm for layer in layers]
    for layer in layers:
        layer.exact_layernorm = True
    try:
        yield net
    finally:
        for layer, o in zip(layers, old, strict=True):
            layer.exact_layernorm = o


def _cos(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(F.cosine_similarity(a.flatten().double(), b.flatten().double(), dim=0))


def _grads(net: EINetwork, x, y, layers):
    for p in net.parameters():
        p.grad = None
    loss = F.cross_entropy(net(x), y) if y is not None else net(x).sum()
    grads = torch.autograd.grad(loss, [layer.W_EE for layer in layers])
    return grads


def gradient_cosine(net: EINetwork, x: torch.Tensor, y: torch.Tensor | None = None) -> list[float]:
    """Per I-Norm layer: cosine between the ``W_EE`` gradient and the one through exact LayerNorm.

    Parameters
    ----------
    net : EINetwork
        The network.
    x : torch.Tensor
        (batch, pixels) inputs.
    y : torch.Tensor, optional
        Labels: the loss is the cross-entropy (else the sum of the logits).
    """
    layers = _inorm_layers(net)
    if not layers:
        return []
    g = _grads(net, x, y, layers)
    with exact_layernorm(net):
        g_ln = _grads(net, x, y, layers)
    return [_cos(a, b) for a, b in zip(g, g_ln, strict=True)]


def layer_gradient_cosine(layer: INormLayer, h: torch.Tensor, upstream: torch.Tensor | None = None) -> float:
    """Cosine between the ``W_EE`` gradients of ``sum(upstream * layer(h))`` through the layer and exact LN.

    ``upstream`` defaults to ones (the loss ``sum ReLU(out)`` of ei_norm.md §8.3).
    """
    def grad():
        out = layer(h)
        u = torch.ones_like(out) if upstream is None else upstream
        return torch.autograd.grad((out * u).sum(), layer.W_EE)[0]

    g = grad()
    with exact_layernorm(layer):
        g_ln = grad()
    return _cos(g, g_ln)


def _layer_inputs(net, x):
    if isinstance(net, INormLayer):
        return [(net, x)]
    hs = net.activations(x)
    return [(layer, hs[k]) for k, layer in enumerate(net.hidden) if isinstance(layer, INormLayer)]


def output_cosine(net, x: torch.Tensor) -> list[float]:
    """Per I-Norm layer: mean over samples of the cosine between ``z`` and ``LN(W_EE h + b)``."""
    out = []
    for layer, h in _layer_inputs(net, x):
        z = layer.normalized_drive(h)
        with torch.no_grad():
            ref = F.layer_norm(F.linear(h, layer.W_EE, layer.b), (layer.spec.n_e,), eps=layer.spec.eps)
        out.append(float(F.cosine_similarity(z.double(), ref.double(), dim=-1).mean()))
    return out


def layer_moments(net, x: torch.Tensor) -> list[tuple[float, float]]:
    """Per I-Norm layer: batch means of the per-sample mean and variance of the normalized drive ``z``."""
    out = []
    for layer, h in _layer_inputs(net, x):
        z = layer.normalized_drive(h)
        out.append((float(z.mean(dim=-1).mean()), float(z.var(dim=-1, unbiased=False).mean())))
    return out


@dataclass(frozen=True)
class AlignmentCheck:
    """Result of :func:`alignment_check`: cosines before/after homeostasis and the final moments."""

    error_norm: str
    grad_cosine_perturbed: float
    grad_cosine: float
    output_cosine: float
    mean: float
    var: float


def alignment_check(error_norm: str = "full", *, d: int = 64, n_e: int = 100, perturbation: float = 0.5,
                    steps: int = 300, lr: float = 0.1, batch: int = 64, seed: int = 0) -> AlignmentCheck:
    """Perturb ``W_EE`` of an I-Norm layer, let homeostasis re-normalize it, compare with exact LayerNorm.

    Parameters
    ----------
    error_norm : str
        Error normalization of the layer.
    d, n_e : int
        Layer sizes.
    perturbation : float
        ``W_EE <- W_EE * exp(perturbation * N(0, 1))`` (stays >= 0).
    steps, lr, batch : int, float, int
        Homeostatic SGD steps on ``W_IE`` and ``U_IE`` (lambda = 1), their learning rate and batch size.
    seed : int
        Seed of the layer, the perturbation and the inputs.

    Notes
    -----
    Inputs are uniform in [0, 1]. The gradient cosine uses the loss ``sum ReLU(out)`` with random positive
    upstream weights on a fresh batch (:func:`layer_gradient_cosine`).
    """
    gen = torch_generator(seed, _CHECK)
    layer = INormLayer(d, n_e, error_norm=error_norm, generator=gen)
    with torch.no_grad():
        layer.W_EE.mul_(torch.exp(perturbation * torch.randn(layer.W_EE.shape, generator=gen)))
    h_test = torch.rand(256, d, generator=gen)
    upstream = torch.rand(256, n_e, generator=gen)
    before = layer_gradient_cosine(layer, h_test, upstream)
    opt = torch.optim.SGD(layer.roles()["inhibitory_local"], lr=lr)
    for _ in range(steps):
        layer(torch.rand(batch, d, generator=gen))
        opt.zero_grad(set_to_none=True)
        layer.local_loss(1.0).backward()
        opt.step()
        layer.project_()
    (mean, var), = layer_moments(layer, h_test)
    return AlignmentCheck(error_norm, before, layer_gradient_cosine(layer, h_test, upstream),
                          output_cosine(layer, h_test)[0], mean, var)
