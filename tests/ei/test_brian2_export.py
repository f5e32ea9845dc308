"""Brian2 export: E, subtractive-I and divisive-I rate groups whose steady state is the torch forward pass."""

from pathlib import Path

import brian2
import numpy as np
import pytest
import torch

from neurorx.ei.brian2_export import synapse_indices, to_brian2
from neurorx.ei.layers import DIVISIVE
from neurorx.ei.network import EINetwork, EINetworkConfig
from neurorx.ei.network_file import load_network
from neurorx.ei.training import jittered_test_images
from neurorx.errors import ConfigurationError

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "ei" / "digits_inorm_full.npz"


def _with_biases(net, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in net.layers:
            layer.b.copy_(0.3 * torch.randn(layer.b.shape, generator=g))
    return net


def test_weight_layout_is_transposed_and_within_each_image():
    net = EINetwork(EINetworkConfig(n_in=4, hidden=(3, 3), n_out=2))
    w = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 10  # asymmetric, [post, pre]
    with torch.no_grad():
        net.hidden[0].W_EE.copy_(w)
    exported = to_brian2(net, np.zeros((2, 4)))
    syn = exported.network["EE_0"]
    assert len(syn) == 2 * 12
    for pre in range(4):
        for post in range(3):
            assert float(syn.w[pre, post][0]) == pytest.approx(float(w[post, pre]))  # image 0
            assert float(syn.w[4 + pre, 3 + post][0]) == pytest.approx(float(w[post, pre]))  # image 1
    i, j = np.asarray(syn.i[:]), np.asarray(syn.j[:])
    assert np.array_equal(i // 4, j // 3)  # no synapse crosses images
    ii, jj = synapse_indices(4, 3, 2)
    assert np.array_equal(ii, i) and np.array_equal(jj, j)


def test_groups_per_layer_are_e_subtractive_and_squaring_divisive():
    net = EINetwork(EINetworkConfig(hidden=(10, 8)))
    exported = to_brian2(net, np.zeros((3, 64)))
    assert isinstance(exported.network, brian2.Network)
    first = exported.layers[0]
    assert len(first["E"]) == 3 * 10 and len(first["I_sub"]) == 3 * 1 and len(first["I_div"]) == 3 * 10
    assert "I_in**2" in str(first["I_div"].equations)
    assert exported.layers[-1]["I_div"] is None and exported.output is exported.layers[-1]["E"]


def test_steady_state_equals_the_torch_forward_on_jittered_digits(digits):
    net = load_network(SHIPPED)
    x = jittered_test_images(digits, 0.5, seed=0)[:25]
    logits = net(x).detach().double().numpy()
    out = to_brian2(net, x, dt="1 ms").steady_state()
    assert np.array_equal(out.argmax(1), logits.argmax(1))
    assert np.abs(out - logits).max() < 1e-3


@pytest.mark.slow
def test_steady_state_equals_the_torch_forward_on_100_images(digits):
    net = load_network(SHIPPED)
    x = jittered_test_images(digits, 0.5, seed=0)[:100]
    logits = net(x).detach().double().numpy()
    out = to_brian2(net, x).steady_state()  # default dt = 0.5 ms
    assert np.array_equal(out.argmax(1), logits.argmax(1))
    assert np.abs(out - logits).max() < 1e-3


@pytest.mark.parametrize("divisive", DIVISIVE.names())
def test_every_divisive_pathway_exports_to_its_forward_pass(divisive):
    net = _with_biases(EINetwork(EINetworkConfig(hidden=(8, 8), divisive=divisive)))
    x = torch.rand(3, 64, generator=torch.Generator().manual_seed(1))
    out = to_brian2(net, x, dt="1 ms").steady_state()
    assert np.abs(out - net(x).detach().double().numpy()).max() < 1e-3


def test_dann_network_and_timed_array_input_with_a_user_monitor():
    net = _with_biases(EINetwork(EINetworkConfig(hidden=(8, 8), layer="dann")))
    x = torch.rand(2, 64, generator=torch.Generator().manual_seed(2))
    steps = np.repeat(x.numpy()[None], 5, axis=0)  # (steps, images, pixels) through a TimedArray
    exported = to_brian2(net, steps, dt="1 ms", input_dt="100 ms")
    mon = brian2.StateMonitor(exported.output, "r", record=True, dt=10 * brian2.ms)
    exported.network.add(mon)
    out = exported.steady_state("300 ms")
    assert np.abs(out - net(x).detach().double().numpy()).max() < 1e-3
    assert mon.r.shape == (2 * 10, 30)


def test_layernorm_networks_and_wrong_images_are_clear_errors():
    with pytest.raises(ConfigurationError, match="no E/I circuit"):
        to_brian2(EINetwork(EINetworkConfig(hidden=(4, 4), layer="ln_plus")), np.zeros((1, 64)))
    with pytest.raises(ConfigurationError, match=r"images must be \(n_images, 64\)"):
        to_brian2(EINetwork(EINetworkConfig(hidden=(4, 4))), np.zeros((1, 784)))
