"""The E/I primitives: one implementation each, used by the Dale cells and by the feed-forward E/I layers."""

import math

import pytest
import torch

import neurorx.ei.layers as layers
import neurorx.models.cells as cells
from neurorx.errors import ConfigurationError
from neurorx.models import ei_primitives as ei


def test_the_cells_and_the_layers_use_the_one_implementation():
    assert cells.homeostatic_loss is ei.homeostatic_loss
    assert layers.n_inhibitory is ei.n_inhibitory


def test_sizing_the_two_conventions_describe_the_same_split():
    assert ei.n_inhibitory(100) == 10 and ei.n_inhibitory(5) == 1
    assert ei.n_excitatory(10) == 8 and ei.n_excitatory(2) == 1 and ei.n_excitatory(3, 0.99) == 2
    assert ei.n_inhibitory(ei.n_excitatory(100, 0.8), 0.25) == 100 - ei.n_excitatory(100, 0.8)   # r = (1 - f)/f
    assert ei.pool_size(8) == 8 and ei.pool_size(8, 3) == 3
    with pytest.raises(ConfigurationError, match="at least 2 units"):
        ei.n_excitatory(1)
    assert cells.get_cell("dale").n_excitatory(10) == ei.n_excitatory(10)


def test_the_dale_projection_zeroes_wrong_signed_entries_only():
    w = torch.tensor([[1.0, -2.0, 3.0], [-1.0, 2.0, -3.0]])
    assert torch.equal(ei.project_dale_(w.clone()), torch.tensor([[1.0, 0.0, 3.0], [0.0, 2.0, 0.0]]))
    signed = ei.project_dale_(w.clone(), n_excitatory=2)
    assert torch.equal(signed, torch.tensor([[1.0, 0.0, 0.0], [0.0, 2.0, -3.0]]))


def test_balanced_inhibition_subtracts_the_mean_excitatory_drive():
    gen = torch.Generator().manual_seed(0)
    w_ee, w_ei, h = torch.rand(6, 4, generator=gen), torch.rand(6, 2, generator=gen), torch.rand(5, 4, generator=gen)
    w_ie, w_ei = ei.balanced_inhibition(w_ee, w_ei, 2)
    torch.testing.assert_close(w_ei.sum(dim=1), torch.ones(6))
    torch.testing.assert_close(h @ w_ie.T @ w_ei.T, (h @ w_ee.T).mean(dim=1, keepdim=True).expand(5, 6))


@pytest.mark.parametrize("scale", [1.0, math.sqrt(0.5)])
def test_the_svd_pool_reads_the_norm_of_the_centred_drive(scale):
    gen = torch.Generator().manual_seed(1)
    w_ee, w_ei = torch.rand(6, 4, generator=gen, dtype=torch.float64), torch.rand(6, 2, generator=gen,
                                                                                  dtype=torch.float64)
    w_ie, w_ei = ei.balanced_inhibition(w_ee, w_ei, 2)
    u = ei.svd_pool(w_ee, w_ei, w_ie, scale=scale)
    h = torch.rand(5, 4, generator=gen, dtype=torch.float64)
    assert u.shape == (4, 4)
    torch.testing.assert_close((h @ u.T).square().sum(1), scale ** 2 * (h @ (w_ee - w_ei @ w_ie).T).square().sum(1))
    assert ei.svd_pool(w_ee, w_ei, w_ie, 2).shape == (2, 4)


def test_the_homeostatic_loss_vanishes_on_a_standardised_drive_and_scales_with_lambda():
    z = torch.randn(7, 3, 20, generator=torch.Generator().manual_seed(2))
    standard = (z - z.mean(-1, keepdim=True)) / z.std(-1, unbiased=False, keepdim=True)
    assert float(ei.homeostatic_loss(standard)) < 1e-10
    expected = (z.mean(-1) ** 2 + (z.var(-1, unbiased=False) - 1) ** 2).mean()
    torch.testing.assert_close(ei.homeostatic_loss(z), expected)
    torch.testing.assert_close(ei.homeostatic_loss(z, 0.01), 0.01 * expected)


def test_the_shipped_digits_network_still_classifies_as_it_was_shipped():
    """models/ei/digits_inorm_full.npz on the test digits jittered at ε = 0.5 (fixed stream): 416/449 correct,
    counted before the E/I primitives were shared by the layers and the cells."""
    from neurorx.ei.data import load_images
    from neurorx.ei.network_file import load_network
    from neurorx.ei.training import evaluate, jittered_test_images

    data = load_images("digits", seed=0)
    net = load_network("models/ei/digits_inorm_full.npz")
    acc = evaluate(net, jittered_test_images(data, 0.5, 0), torch.from_numpy(data.y_test))
    assert round(acc * len(data.y_test)) == 416 and len(data.y_test) == 449
