"""Noise models: continuous-time definitions, per-step moments at several dt, scaling, registry."""

import math

import numpy as np
import pytest
import torch
from brian2 import ms, second

from neurorx.noise import (
    NOISE_MODELS,
    FrozenNoise,
    NoNoise,
    OUNoise,
    ReferenceUniformNoise,
    WhiteNoise,
    make_noise,
    noise_from_dict,
    sample_steps,
)

N = 200_000


def draw(model, dt, n=N, seed=0):
    gen = torch.Generator().manual_seed(seed)
    inc, _ = sample_steps(model, 1, (n,), dt, gen)
    return inc[0].numpy()


@pytest.mark.parametrize("dt", [0.02, 0.005, 0.00125])
def test_white_noise_step_has_std_sigma_sqrt_dt(dt):
    model = WhiteNoise(sigma=0.0707)
    x = draw(model, dt)
    mean, var = model.step_moments(dt)
    assert mean == 0 and var == pytest.approx(0.0707**2 * dt)
    assert abs(x.mean()) < 5 * math.sqrt(var / N)
    assert x.var() == pytest.approx(var, rel=5 * math.sqrt(2 / N))


def test_white_noise_from_step_std_is_the_papers_sigma():
    model = WhiteNoise.from_step_std(0.01, 20 * ms)
    assert model.sigma == pytest.approx(0.01 / math.sqrt(0.02))  # 0.0707 s^-1/2 (paper.md §3)
    assert WhiteNoise(0.0707 / second**0.5).sigma == pytest.approx(0.0707)


def test_white_noise_refuses_wrong_units():
    with pytest.raises(TypeError, match=r"second\*\*-0\.5"):
        WhiteNoise(sigma=3 * ms)
    with pytest.raises(ValueError, match="non-negative"):
        WhiteNoise(sigma=-1.0)


def test_reference_uniform_at_training_step_is_scale_times_uniform():
    model = ReferenceUniformNoise(scale=0.01, dt_train=20 * ms)
    x = draw(model, 0.02)
    assert x.min() >= 0 and x.max() < 0.01
    assert x.mean() == pytest.approx(0.005, rel=0.01)
    assert x.var() == pytest.approx(0.01**2 / 12, rel=0.02)


@pytest.mark.parametrize("dt", [0.01, 0.005])
def test_reference_uniform_continuous_analogue_at_finer_steps(dt):
    model = ReferenceUniformNoise(scale=0.01, dt_train=0.02)
    assert model.drift == pytest.approx(0.25)  # s/(2D), paper.md §9
    assert model.diffusion == pytest.approx(0.01 / math.sqrt(12 * 0.02))
    x = draw(model, dt)
    assert x.mean() == pytest.approx(model.drift * dt, rel=0.01)
    assert x.var() == pytest.approx(model.diffusion**2 * dt, rel=0.02)
    # k steps of dt/k carry the same mean and variance as one training step
    k = round(0.02 / dt)
    assert k * model.step_moments(dt)[0] == pytest.approx(0.005)
    assert k * model.step_moments(dt)[1] == pytest.approx(0.01**2 / 12)


def test_scaled_multiplies_amplitude():
    assert WhiteNoise(0.1).scaled(math.sqrt(2)).step_moments(0.02)[1] == pytest.approx(2 * 0.1**2 * 0.02)
    r = ReferenceUniformNoise(0.01, 0.02).scaled(math.sqrt(2))
    assert r.scale == pytest.approx(0.01 * math.sqrt(2))  # the mean grows too, as in the reference
    assert NoNoise().scaled(3).is_zero


@pytest.mark.parametrize("dt", [0.02, 0.005])
def test_ou_stationary_variance_matches_euler_theory(dt):
    model = OUNoise(sigma=0.5, tau_noise=0.05)
    gen = torch.Generator().manual_seed(1)
    inc, _ = sample_steps(model, 400, (4000,), dt, gen)
    eta = inc[100:].numpy() / dt  # eta at the start of each step
    theory = model.stationary_variance(dt)
    assert theory == pytest.approx(0.5**2 / (2 * 0.05) / (1 - dt / 0.05 / 2))
    assert eta.var() == pytest.approx(theory, rel=0.03)
    assert abs(eta.mean()) < 5 * math.sqrt(theory / eta.size * (2 * 0.05 / dt))


def test_ou_refuses_unstable_step():
    with pytest.raises(ValueError, match="unstable"):
        OUNoise(0.1, tau_noise=0.005).sample((3,), 0.02, None)


def test_frozen_noise_coarsening_sums_increments():
    inc = np.random.default_rng(0).normal(size=(8, 2, 3))
    model = FrozenNoise(inc, dt=0.005)
    coarse = model.coarsened(0.01)
    np.testing.assert_allclose(coarse, inc[0::2] + inc[1::2])
    seq, state = sample_steps(model, 2, (2, 3), 0.01, None)
    np.testing.assert_allclose(seq.numpy(), coarse[:2])
    seq2, _ = sample_steps(model, 2, (2, 3), 0.01, None, state)
    np.testing.assert_allclose(seq2.numpy(), coarse[2:])
    assert model.scaled(2).increments[0, 0, 0] == pytest.approx(2 * inc[0, 0, 0])


def test_frozen_noise_errors_name_the_fix():
    model = FrozenNoise(np.zeros((4, 2, 3)), dt=0.01)
    with pytest.raises(ValueError, match="whole multiple"):
        model.coarsened(0.005)
    with pytest.raises(ValueError, match="supply more increments"):
        sample_steps(model, 5, (2, 3), 0.01, None)
    with pytest.raises(ValueError, match="shape"):
        sample_steps(model, 1, (3, 3), 0.01, None)
    with pytest.raises(ValueError, match="steps, trials, units"):
        FrozenNoise(np.zeros((4, 2)))


def test_registry_round_trip_and_unknown_names():
    for model in (NoNoise(), WhiteNoise(0.1, placement="input"), ReferenceUniformNoise(0.01, 0.02),
                  OUNoise(0.2, 0.1)):
        assert noise_from_dict(model.to_dict()) == model
    assert set(NOISE_MODELS.names()) >= {"none", "white", "reference_uniform", "ou", "frozen"}
    with pytest.raises(ValueError, match="Did you mean 'white'"):
        make_noise("whte")
    with pytest.raises(ValueError, match="placement"):
        WhiteNoise(0.1, placement="dendrite")


@pytest.mark.parametrize("name", ["white", "ou", "reference_uniform", "frozen"])
def test_a_bare_name_without_parameters_is_refused_not_silent(name):
    with pytest.raises(ValueError, match=rf"noise '{name}' needs its parameters .*'none' means no noise"):
        make_noise(name)
    assert make_noise("none") == NoNoise()


@pytest.mark.parametrize("name", NOISE_MODELS.names())
def test_every_registered_model_has_an_example_and_states_its_brian2_terms(name):
    cls = NOISE_MODELS.get(name)
    model = cls.example(6, (2, 3), 0.01, placement="input", seed=1)
    assert type(model) is cls and model.placement == "input"
    terms = model.brian2_terms("n0_")
    assert isinstance(terms.rhs, str) and terms.rhs and not terms.arrays   # arrays only for a given run
    for param in terms.parameters:
        assert param.startswith("n0_")
    run = model.brian2_terms("n0_", dt=0.01, steps=6, shape=(2, 3))
    for array, (values, _unit) in run.arrays.items():
        assert array.startswith("n0_") and values.shape == (6, 2 * 3)
    mean, var = model.step_moments(0.01)
    assert math.isfinite(mean) and var >= 0
    inc, _ = model.sample_steps(6, (2, 3), 0.01, torch.Generator().manual_seed(0))
    assert (inc is None) == model.is_zero
    if inc is not None:
        assert inc.shape == (6, 2, 3)


def test_frozen_increments_become_its_own_timed_array():
    inc = np.random.default_rng(0).normal(size=(8, 2, 3))
    model = FrozenNoise(inc, dt=0.005)
    (name, (rates, unit)), = model.brian2_terms("frozen_", dt=0.01, steps=3, shape=(2, 3)).arrays.items()
    assert name == "frozen_rate" and str(unit) == "Hz"
    np.testing.assert_allclose(rates, (inc[0:6:2] + inc[1:6:2]).reshape(3, 6) / 0.01)   # trial-major columns
    with pytest.raises(ValueError, match="the run has 3 trials"):
        model.brian2_terms("frozen_", dt=0.01, steps=3, shape=(3, 3))


def test_a_model_restricted_to_some_trials():
    inc = np.random.default_rng(1).normal(size=(4, 5, 2))
    part = FrozenNoise(inc, dt=0.01).for_trials(slice(1, 3))
    np.testing.assert_array_equal(part.increments, inc[:, 1:3])
    assert part.dt == 0.01
    white = WhiteNoise(0.1)
    assert white.for_trials(slice(0, 2)) is white     # random models hold nothing per trial


def test_memoryless_models_draw_a_block_in_one_call_and_stateful_ones_step():
    white = WhiteNoise(0.3)
    block, _ = white.sample_steps(4, (2, 3), 0.01, torch.Generator().manual_seed(2))
    one, _ = white.sample((4, 2, 3), 0.01, torch.Generator().manual_seed(2))
    torch.testing.assert_close(block, one, rtol=0, atol=0)
    ou = OUNoise(0.5, 0.05)
    block, state = ou.sample_steps(4, (2, 3), 0.01, torch.Generator().manual_seed(3))
    gen, st, steps = torch.Generator().manual_seed(3), None, []
    for _ in range(4):
        inc, st = ou.sample((2, 3), 0.01, gen, st)
        steps.append(inc)
    torch.testing.assert_close(block, torch.stack(steps), rtol=0, atol=0)
    torch.testing.assert_close(state, st, rtol=0, atol=0)


def test_check_run_refuses_what_a_model_cannot_supply():
    with pytest.raises(ValueError, match="unstable"):
        OUNoise(0.1, tau_noise=0.005).check_run(3, (2, 3), 0.02)
    frozen = FrozenNoise(np.zeros((4, 2, 3)), dt=0.01)
    frozen.check_run(4, (2, 3), 0.01)
    with pytest.raises(ValueError, match="supply more increments"):
        frozen.check_run(5, (2, 3), 0.01)
    with pytest.raises(ValueError, match=r"give increments of shape \(steps, 2, 4\)"):
        frozen.check_run(2, (2, 4), 0.01)


def test_time_fields_are_declared_and_parsed_by_parse_time():
    from dataclasses import fields

    times = {name: [f.name for f in fields(cls) if f.metadata.get("time")] for name, cls in NOISE_MODELS.items()}
    assert times["ou"] == ["tau_noise"] and times["reference_uniform"] == ["dt_train"] and times["frozen"] == ["dt"]
    assert OUNoise(0.5, "50 ms").tau_noise == pytest.approx(0.05)
    assert OUNoise(0.5, 50 * ms).tau_noise == pytest.approx(0.05)
    assert ReferenceUniformNoise(0.01, dt_train=0.02).dt_train == 0.02
    with pytest.raises(ValueError, match=r"OUNoise\.tau_noise: cannot read .50 parsecs. as a time"):
        OUNoise(0.5, "50 parsecs")


def test_values_neurorx_wrote_are_read_as_seconds_without_a_context_flag():
    import neurorx.noise as noise_module

    assert not hasattr(noise_module, "trusted_times")
    assert OUNoise.from_seconds(sigma=0.1, tau_noise=2.0).tau_noise == 2.0    # seconds, written by neurorx
    with pytest.raises(ValueError, match="would read as 2 seconds"):
        OUNoise(0.1, 2.0)                                                    # typed by a user
    with pytest.raises(ValueError, match="FrozenNoise holds arrays"):
        noise_from_dict({"name": "frozen", "dt": 0.01}, trusted=True)


@pytest.mark.parametrize("make", [lambda: ReferenceUniformNoise(0.01, dt_train=20),
                                  lambda: OUNoise(0.07, 5),
                                  lambda: FrozenNoise(np.zeros((2, 1, 1)), dt=20)])
def test_a_bare_time_of_a_second_or_more_asks_for_units(make):
    with pytest.raises(ValueError, match=r"has no unit and would read as \d+ seconds; give it with units"):
        make()


def test_times_given_with_units_survive_scaling_and_storage():
    from brian2 import second

    slow = OUNoise(0.07, 2 * second)                         # a slow OU process, given with units
    assert slow.scaled(2.0).tau_noise == 2.0 and type(slow.tau_noise) is float
    assert noise_from_dict(slow.to_dict(), trusted=True) == slow     # as a network file is read back
    with pytest.raises(ValueError, match="would read as 2 seconds"):
        noise_from_dict(slow.to_dict())                      # a dict a user typed gets the guard


@pytest.mark.parametrize(("spec", "match"), [
    ({"name": "white"}, r"noise 'white' needs its parameters \(sigma\)"),
    ({"name": "ou", "placement": "input"}, r"noise 'ou' needs its parameters"),
    ({"name": "ou", "sigma": 0.5, "tau_noise": 50}, "would read as 50 seconds"),
    ({"sigma": 0.1}, r"a noise dict needs a 'name', one of"),
])
def test_noise_dicts_get_the_same_checks_as_names(spec, match):
    with pytest.raises(ValueError, match=match):
        make_noise(spec)
