"""Error normalization: identity forward, the registered backward of each variant."""

import pytest
import torch
import torch.nn.functional as F

from neurorx.ei.error_norm import ERROR_NORMS, apply_error_norm, lateral_weights
from neurorx.errors import ConfigurationError


def _standardized(batch=8, n=50, seed=0):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(batch, n, generator=g, dtype=torch.float64)
    return (z - z.mean(-1, keepdim=True)) / z.std(-1, unbiased=False, keepdim=True)


def _backward(name, z, delta, nu=None):
    z = z.clone().requires_grad_(True)
    (apply_error_norm(z, name, nu) * delta).sum().backward()
    return z.grad


@pytest.mark.parametrize("name", ERROR_NORMS.names())
def test_every_variant_is_the_identity_forward(name):
    z = torch.randn(4, 20)
    nu = lateral_weights(20) if ERROR_NORMS.get(name).needs_weights else None
    assert torch.equal(apply_error_norm(z, name, nu), z)


def test_full_backward_equals_autograd_through_layernorm_when_z_is_standardized():
    # with Var z = 1 - eps both sides divide by exactly 1 (LayerNorm: sqrt(Var + eps); full: sqrt(Var + 1e-5)),
    # so LayerNorm's output equals z and the two backward passes are the same formula
    z = _standardized() * (1 - 1e-5) ** 0.5
    delta = torch.randn(z.shape, dtype=torch.float64)
    x = z.clone().requires_grad_(True)
    (F.layer_norm(x, (z.shape[-1],), eps=1e-5) * delta).sum().backward()
    torch.testing.assert_close(_backward("full", z, delta), x.grad, rtol=1e-10, atol=1e-12)
    # plainly standardized (Var z = 1): equal up to terms of order eps = 1e-5
    z = _standardized()
    x = z.clone().requires_grad_(True)
    (F.layer_norm(x, (z.shape[-1],), eps=1e-5) * delta).sum().backward()
    torch.testing.assert_close(_backward("full", z, delta), x.grad, rtol=1e-4, atol=1e-4)


def test_full_backward_differs_from_layernorm_when_z_is_not_standardized():
    z = 3 * _standardized() + 1
    delta = torch.randn(z.shape, dtype=torch.float64)
    x = z.clone().requires_grad_(True)
    (F.layer_norm(x, (z.shape[-1],), eps=1e-5) * delta).sum().backward()
    assert not torch.allclose(_backward("full", z, delta), x.grad, atol=1e-3)


def test_center_backward_sums_to_zero_over_units():
    z, delta = _standardized(), torch.randn(8, 50, dtype=torch.float64) + 3.0
    g = _backward("center", z, delta)
    assert torch.allclose(g.sum(-1), torch.zeros(8, dtype=torch.float64), atol=1e-12)
    assert not torch.allclose(delta.sum(-1), torch.zeros(8, dtype=torch.float64), atol=1.0)


def test_scale_decorrelate_lateral_and_none_backwards():
    z = 2 * _standardized()
    delta = torch.randn(z.shape, dtype=torch.float64)
    s = torch.sqrt(z.var(-1, unbiased=False, keepdim=True) + 1e-5)
    torch.testing.assert_close(_backward("scale", z, delta), delta / s)
    g = _backward("decorrelate", z, delta)
    torch.testing.assert_close((g * z).sum(-1), delta.new_zeros(8) + ((delta * z).sum(-1) * (1 - 4.0)), atol=1e-9,
                               rtol=1e-9)  # sum_k z_k^2 / n = 4 for z with variance 4
    nu = lateral_weights(50, torch.Generator().manual_seed(1)).double()
    assert torch.all(nu > 0) and abs(float(nu.sum()) - 1) < 1e-6
    nu = nu / nu.sum()
    gl = _backward("lateral", z, delta, nu)
    torch.testing.assert_close((gl * nu).sum(-1), delta.new_zeros(8), atol=1e-9, rtol=0)
    assert torch.equal(_backward("none", z, delta), delta)


def test_unknown_variant_is_a_clear_error():
    with pytest.raises(ConfigurationError, match=r"unknown error normalization 'ful'.*Did you mean 'full'"):
        apply_error_norm(torch.zeros(2, 3), "ful")


def test_lateral_without_weights_names_the_fix():
    with pytest.raises(ConfigurationError, match="lateral_weights"):
        apply_error_norm(torch.zeros(2, 3, requires_grad=True), "lateral")
