"""E/I layers: LayerNorm at initialization, Dale's law, which loss trains which weights."""

import pytest
import torch
import torch.nn.functional as F

from neurorx.ei.layers import DIVISIVE, LAYERS, DANNLayer, INormLayer, n_inhibitory
from neurorx.ei.network import EINetwork, EINetworkConfig
from neurorx.errors import ConfigurationError


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_inorm_layer_equals_layernorm_of_the_e_drive_at_initialization():
    layer = INormLayer(64, 100, generator=_gen())
    h = torch.rand(32, 64, generator=_gen(1))
    z = layer.normalized_drive(h)
    with torch.no_grad():
        ref = F.layer_norm(F.linear(h, layer.W_EE), (100,), eps=1e-5)
    assert float(F.cosine_similarity(z.flatten(), ref.flatten(), dim=0)) > 0.9999
    assert torch.allclose(z, ref, atol=1e-4)


def test_the_init_makes_subtraction_the_mean_and_division_the_sd():
    layer = INormLayer(40, 30, generator=_gen())
    h = torch.rand(5, 40, generator=_gen(2))
    with torch.no_grad():
        z_e, sub, gamma = layer.drives(h)
    assert torch.allclose(sub, z_e.mean(-1, keepdim=True).expand_as(sub), rtol=1e-5)
    assert torch.allclose(gamma, torch.sqrt(z_e.var(-1, unbiased=False, keepdim=True) + 1e-5).expand_as(gamma),
                          rtol=1e-4)
    assert layer.div.pool == 30 and layer.spec.n_i == n_inhibitory(30) == 3


def test_d_smaller_than_n_e_uses_a_pool_of_d_divisive_units():
    layer = INormLayer(10, 40, generator=_gen())
    assert layer.div.U_IE.shape == (10, 10) and layer.div.U_EI.shape == (40, 10)
    h = torch.rand(6, 10, generator=_gen(1))
    with torch.no_grad():
        ref = F.layer_norm(F.linear(h, layer.W_EE), (40,))
    assert float(F.cosine_similarity(layer.normalized_drive(h).flatten(), ref.flatten(), dim=0)) > 0.9999


@pytest.mark.parametrize("divisive", DIVISIVE.names())
def test_projection_after_a_step_keeps_every_dale_weight_nonnegative(divisive):
    net = EINetwork(EINetworkConfig(hidden=(20, 20), divisive=divisive))
    dale = net.dale_parameters()
    assert {"hidden.0.W_EE", "hidden.0.W_IE", "hidden.0.W_EI", "readout.W_EE", "readout.W_IE"} <= set(dale)
    assert ("hidden.0.div.U_EI" in dale) == (divisive == "svd")
    assert "hidden.0.div.U_IE" not in dale  # signed: from the SVD, not Dale
    opt = torch.optim.SGD(net.parameters(), lr=10.0)
    loss = F.cross_entropy(net(torch.rand(16, 64)), torch.randint(0, 10, (16,))) + net.local_loss(1.0)
    loss.backward()
    for p in net.parameters():  # a step that would push every trainable weight negative
        if p.grad is not None:
            p.grad = p.grad.abs() + 1.0
    opt.step()
    assert min(float(p.detach().min()) for p in net.parameters() if p.requires_grad) < 0  # the step did go negative
    net.project_()
    for name, p in net.dale_parameters().items():
        assert float(p.detach().min()) >= 0, name


@pytest.mark.parametrize("divisive", DIVISIVE.names())
def test_task_loss_gives_zero_gradient_to_inhibitory_weights(divisive):
    layer = INormLayer(30, 20, divisive=divisive, error_norm="full", generator=_gen())
    h = torch.rand(8, 30, generator=_gen(1), requires_grad=True)
    (layer(h) * torch.randn(8, 20, generator=_gen(2))).sum().backward()
    assert layer.W_EE.grad is not None and layer.W_EE.grad.abs().sum() > 0
    inhib = layer.roles()["inhibitory_local"]
    assert inhib and all(p.grad is None or torch.count_nonzero(p.grad) == 0 for p in inhib)
    assert h.grad is not None and h.grad.abs().sum() > 0  # errors reach the layer below through W_EE


@pytest.mark.parametrize("divisive", DIVISIVE.names())
def test_local_loss_gives_zero_gradient_to_w_ee_and_b_and_trains_the_inhibition(divisive):
    layer = INormLayer(30, 20, divisive=divisive, generator=_gen())
    with torch.no_grad():
        layer.W_EE.mul_(torch.exp(0.5 * torch.randn(layer.W_EE.shape, generator=_gen(3))))
    h = torch.rand(8, 30, generator=_gen(1), requires_grad=True)
    layer(h)
    layer.local_loss(1.0).backward()
    assert layer.W_EE.grad is None and layer.b.grad is None and h.grad is None
    assert layer.W_IE.grad is not None and layer.W_IE.grad.abs().sum() > 0
    assert layer.W_EI.grad is None  # frozen averaging
    for p in layer.roles()["inhibitory_local"]:
        assert p.grad is not None


def test_homeostasis_restores_mean_zero_and_unit_variance():
    layer = INormLayer(30, 40, generator=_gen())
    with torch.no_grad():
        layer.W_EE.mul_(torch.exp(0.5 * torch.randn(layer.W_EE.shape, generator=_gen(3))))
    g = _gen(4)
    opt = torch.optim.SGD(layer.roles()["inhibitory_local"], lr=0.1)
    layer(torch.rand(64, 30, generator=g))
    before = layer.local_loss(1.0).item()
    for _ in range(200):
        layer(torch.rand(64, 30, generator=g))
        opt.zero_grad()
        layer.local_loss(1.0).backward()
        opt.step()
        layer.project_()
    layer(torch.rand(256, 30, generator=g))
    assert layer.local_loss(1.0).item() < 0.1 * before


@pytest.mark.parametrize("kind", LAYERS.names())
def test_every_layer_kind_builds_a_network_that_runs_and_projects(kind):
    net = EINetwork(EINetworkConfig(hidden=(12, 12), layer=kind))
    out = net(torch.rand(4, 64))
    assert out.shape == (4, 10) and torch.isfinite(out).all()
    net.project_()
    roles = net.roles()
    assert roles["excitatory"]
    assert all(p.requires_grad for ps in roles.values() for p in ps)


def test_dann_layer_is_trained_by_the_task_with_corrections():
    layer = DANNLayer(20, 10, 2, generator=_gen())
    layer(torch.rand(4, 20)).sum().backward()
    g_ie, g_ei = layer.W_IE.grad.clone(), layer.W_EI.grad.clone()
    layer.correct_gradients_()
    assert torch.allclose(layer.W_IE.grad, g_ie / 10 ** 0.5) and torch.allclose(layer.W_EI.grad, g_ei / 20)


def test_readout_with_one_interneuron_starts_centred():
    net = EINetwork(EINetworkConfig(hidden=(12, 12)))
    out = net(torch.rand(5, 64))
    assert torch.allclose(out.mean(-1), torch.zeros(5), atol=1e-5)


@pytest.mark.parametrize(("kw", "match"), [({"layer": "inorn"}, "Did you mean 'inorm'"),
                                           ({"divisive": "svdd"}, "unknown divisive pathway"),
                                           ({"error_norm": "fulll"}, "unknown error normalization")])
def test_unknown_names_are_clear_errors(kw, match):
    with pytest.raises(ConfigurationError, match=match):
        EINetworkConfig(**kw)


def test_images_of_the_wrong_size_are_a_clear_error():
    net = EINetwork(EINetworkConfig(hidden=(8, 8)))
    with pytest.raises(ConfigurationError, match="takes images of 64 pixels, got 784"):
        net(torch.rand(2, 784))
