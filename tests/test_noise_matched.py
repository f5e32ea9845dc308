"""``noise.matched_noise``: the moment-matched swap of a network's training noise, for every registered model."""

import numpy as np
import pytest
import torch

from neurorx.noise import (
    NOISE_MODELS,
    DriftWhiteNoise,
    ReferenceUniformNoise,
    WhiteNoise,
    matched_noise,
    noise_from_dict,
)

DT = 0.02


@pytest.mark.parametrize("name", NOISE_MODELS.names())
def test_the_matched_noise_has_the_per_step_mean_and_variance_of_every_model(name):
    model = NOISE_MODELS.get(name).example(50, (4, 3), DT)
    swap = matched_noise(model, DT)
    np.testing.assert_allclose(swap.step_moments(DT), model.step_moments(DT), rtol=1e-12, atol=1e-15)
    assert swap.placement == model.placement


def test_the_reference_uniform_noise_is_matched_by_a_drift_the_white_swap_drops_it():
    trained = ReferenceUniformNoise(scale=0.1, dt_train=DT)              # the HD cards' noise: mean 0.05 per step
    swap = matched_noise(trained, DT)
    assert isinstance(swap, DriftWhiteNoise) and swap.drift == pytest.approx(2.5)
    assert swap.sigma == pytest.approx(0.1 / np.sqrt(12 * DT))
    white = WhiteNoise.from_step_std(np.sqrt(trained.step_moments(DT)[1]), DT)
    assert white.step_moments(DT) == (0.0, pytest.approx(trained.step_moments(DT)[1]))     # the variance only
    assert matched_noise(white, DT) == white                           # a zero-mean noise is matched by white noise


def test_drift_white_noise_draws_its_moments_and_round_trips():
    model = DriftWhiteNoise(drift=2.5, sigma=0.2)
    inc, _ = model.sample_steps(4000, (50,), DT, torch.Generator().manual_seed(0))
    mean, var = model.step_moments(DT)
    assert inc.mean().item() == pytest.approx(mean, abs=4 * np.sqrt(var / inc.numel()))
    assert inc.var().item() == pytest.approx(var, rel=0.02)
    assert noise_from_dict(model.to_dict()) == model and model.scaled(2).step_moments(DT)[0] == pytest.approx(2 * mean)
    with pytest.raises(ValueError, match="finite"):
        DriftWhiteNoise(drift=float("inf"), sigma=0.1)
