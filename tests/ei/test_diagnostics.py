"""Diagnostics: alignment with exact LayerNorm (ei_norm.md §8.3) and layer moments."""

import pytest
import torch

from neurorx.ei.diagnostics import (
    alignment_check,
    exact_layernorm,
    gradient_cosine,
    layer_moments,
    output_cosine,
)
from neurorx.ei.network import EINetwork, EINetworkConfig


@pytest.fixture(scope="module")
def checks():
    return {name: alignment_check(name, steps=300, seed=0) for name in ("none", "full")}


def test_without_error_normalization_the_gradient_is_not_layernorms(checks):
    assert checks["none"].grad_cosine < 0.5


def test_full_error_normalization_restores_the_layernorm_gradient(checks):
    c = checks["full"]
    assert c.grad_cosine_perturbed < 0.5  # the perturbation did break the alignment ...
    assert c.grad_cosine > 0.98  # ... and homeostasis + `full` restored it


def test_homeostasis_brings_layer_moments_to_0_and_1(checks):
    for c in checks.values():
        assert abs(c.mean) < 0.05 and abs(c.var - 1) < 0.05
        assert c.output_cosine > 0.99


def test_at_initialization_full_equals_layernorm_forward_and_backward():
    x, y = torch.rand(64, 64), torch.randint(0, 10, (64,))
    full = EINetwork(EINetworkConfig(hidden=(30, 30), error_norm="full"))
    assert min(gradient_cosine(full, x, y)) > 0.999
    assert min(output_cosine(full, x)) > 0.9999
    for m, v in layer_moments(full, x):
        assert abs(m) < 1e-4 and abs(v - 1) < 1e-3
    none = EINetwork(EINetworkConfig(hidden=(30, 30), error_norm="none"))
    assert min(gradient_cosine(none, x, y)) < 0.99


def test_exact_layernorm_context_is_restored():
    net = EINetwork(EINetworkConfig(hidden=(8, 8)))
    with exact_layernorm(net):
        assert all(layer.exact_layernorm for layer in net.hidden)
    assert not any(layer.exact_layernorm for layer in net.hidden)


def test_networks_without_inorm_layers_have_no_diagnostics():
    net = EINetwork(EINetworkConfig(hidden=(8, 8), layer="ln_plus"))
    x = torch.rand(4, 64)
    assert gradient_cosine(net, x) == [] and layer_moments(net, x) == [] and output_cosine(net, x) == []
