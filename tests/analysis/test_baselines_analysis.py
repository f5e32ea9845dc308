"""Baselines: uniform box samples and torch-default-like random weights."""

import numpy as np
import pytest
from scipy import stats

from neurorx.analysis import random_weights, uniform_box_samples


def test_uniform_box_samples_fill_the_box():
    x = uniform_box_samples(5000, box=(-1.1, 1.1), d=2, seed=0)
    assert x.shape == (5000, 2)
    assert x.min() >= -1.1 and x.max() <= 1.1
    np.testing.assert_allclose(x.mean(axis=0), 0, atol=0.05)
    np.testing.assert_allclose(x.var(axis=0), 2.2**2 / 12, rtol=0.05)


def test_uniform_box_samples_with_one_interval_per_axis():
    x = uniform_box_samples(1000, box=[[0, 1], [10, 30]], d=2, seed=1)
    assert 0 <= x[:, 0].min() and x[:, 0].max() <= 1
    assert 10 <= x[:, 1].min() and x[:, 1].max() <= 30


def test_random_weights_shapes_follow_torch_post_pre_layout():
    w = random_weights(n_rec=64, n_in=2, n_out=32, n_init=32, seed=0)
    assert set(w) == {"encoder", "w_in", "w_rec", "w_out"}
    assert w["encoder"].shape == (64, 32)
    assert w["w_in"].shape == (64, 2)
    assert w["w_rec"].shape == (64, 64)
    assert w["w_out"].shape == (32, 64)


def test_random_weights_are_uniform_within_one_over_sqrt_fan_in():
    w = random_weights(n_rec=200, n_in=2, n_out=100, n_init=50, seed=1)
    for key, arr in w.items():
        bound = 1 / np.sqrt(arr.shape[1])
        assert np.abs(arr).max() <= bound, key
        assert stats.kstest(arr.ravel() / bound, stats.uniform(-1, 2).cdf).pvalue > 1e-3, key


def test_random_weights_match_torch_default_linear_init():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    fan_in, fan_out = 128, 256
    theirs = torch.nn.Linear(fan_in, fan_out, bias=False).weight.detach().numpy().ravel()
    ours = random_weights(n_rec=fan_out, n_in=1, n_out=1, n_init=fan_in, seed=0)["encoder"].ravel()
    assert np.abs(theirs).max() <= 1 / np.sqrt(fan_in)
    assert stats.ks_2samp(ours, theirs).pvalue > 1e-3


def test_random_weights_biases_are_optional_and_do_not_change_the_weights():
    plain = random_weights(8, 2, 4, 4, seed=3)
    with_bias = random_weights(8, 2, 4, 4, seed=3, bias=True)
    assert {"b_encoder", "b_in", "b_rec", "b_out"} <= set(with_bias)
    assert with_bias["b_rec"].shape == (8,) and with_bias["b_out"].shape == (4,)
    for key in plain:
        np.testing.assert_array_equal(plain[key], with_bias[key])
