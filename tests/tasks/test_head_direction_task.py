"""HeadDirection: the angular trajectory generator of paper.md §2.2 and what the network sees."""

import numpy as np
import pytest

from neurorx.tasks import HeadDirection, wrap_angle

STEP_SD = 0.02 * 11.52  # 0.2304 rad per step


@pytest.fixture(scope="module")
def task():
    return HeadDirection()


@pytest.fixture(scope="module")
def batch(task):
    return task.sample(200, 100, seed=0)


def test_defaults_are_the_reference_config(task):
    p = task.params()
    assert (p["dt"], p["turn_mu"], p["turn_sigma"], p["n_cells"]) == (0.02, 0.0, 11.52, 512)
    assert p["sigma"] == np.pi / 6
    assert (p["biased"], p["init"], p["top_k"], p["code"]) == (False, "uniform", 3, "von_mises")
    assert (task.n_in, task.state_dim, task.circular, task.n_cells) == (1, 1, True, 512)


def test_batch_shapes(batch):
    assert batch.inputs.shape == (200, 100, 1)
    assert batch.states.shape == (200, 100, 1)
    assert batch.targets.shape == (200, 100, 512)
    assert batch.init_state.shape == (200, 1)
    assert batch.init_code.shape == (200, 512)


def test_targets_and_init_code_are_the_encoded_states(task, batch):
    np.testing.assert_array_equal(batch.targets, task.encode(batch.states))
    np.testing.assert_array_equal(batch.init_code, task.encode(batch.init_state))


def test_states_are_wrapped_integrals_of_the_raw_inputs(batch):
    for arr in (batch.states, batch.init_state):
        assert np.all(arr >= -np.pi) and np.all(arr < np.pi)
    integral = batch.init_state[:, None] + np.cumsum(batch.inputs, axis=1)
    np.testing.assert_allclose(wrap_angle(batch.states - integral), 0.0, atol=1e-12)
    assert np.abs(np.cumsum(batch.inputs, axis=1)).max() > np.pi  # inputs are not wrapped


def test_unbiased_step_sd_is_0_230(batch):
    n = batch.inputs.size
    assert batch.inputs.std() == pytest.approx(STEP_SD, abs=5 * STEP_SD / np.sqrt(2 * n))  # 5 SE ≈ 0.006
    assert abs(batch.inputs.mean()) < 5 * STEP_SD / np.sqrt(n)


def test_biased_steps_are_counter_clockwise_with_mean_0_184():
    batch = HeadDirection(biased=True).sample(200, 100, seed=0)
    steps = batch.inputs
    assert np.all(steps >= 0)
    expected = STEP_SD * np.sqrt(2 / np.pi)
    assert expected == pytest.approx(0.184, abs=5e-4)
    se = STEP_SD * np.sqrt(1 - 2 / np.pi) / np.sqrt(steps.size)  # SD of |N| / sqrt(n) ≈ 0.001
    assert steps.mean() == pytest.approx(expected, abs=5 * se)


def test_initial_bearing_is_uniform_or_zero():
    init = HeadDirection().sample(4000, 1, seed=1).init_state[:, 0]
    counts, _ = np.histogram(init, bins=8, range=(-np.pi, np.pi))
    assert counts.min() > 400  # expected 500 per bin, SD ≈ 21
    zero = HeadDirection(init="zero").sample(10, 3, seed=1)
    np.testing.assert_array_equal(zero.init_state, 0.0)


def test_init_state_fixes_the_start_and_is_wrapped(task):
    start = np.array([[0.5], [3.5], [-4.0]])
    batch = task.sample(3, 10, seed=2, init_state=start)
    np.testing.assert_allclose(batch.init_state, wrap_angle(start))
    np.testing.assert_allclose(wrap_angle(batch.states[:, 0] - start - batch.inputs[:, 0]), 0.0, atol=1e-12)
    # the turns do not depend on the initial state
    np.testing.assert_array_equal(batch.inputs, task.sample(3, 10, seed=2).inputs)


def test_decoding_the_true_targets_is_accurate_to_a_fraction_of_a_degree(task, batch):
    err = np.degrees(task.error(task.decode(batch.targets), batch.states))
    assert err.shape == (200, 100)
    assert err.mean() < 0.3 and err.max() < 0.7


def test_same_seed_same_batch(task):
    a, b, c = task.sample(10, 20, seed=3), task.sample(10, 20, seed=3), task.sample(10, 20, seed=4)
    for field in ("inputs", "states", "targets", "init_state", "init_code"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.allclose(a.inputs, c.inputs)


def test_error_is_the_absolute_wrapped_difference(task):
    dec = np.array([[3.1], [-3.1], [0.5]])
    true = np.array([[-3.1], [3.1], [-0.5]])
    np.testing.assert_allclose(task.error(dec, true), [2 * np.pi - 6.2, 2 * np.pi - 6.2, 1.0])
    assert task.chance_error() == pytest.approx(np.pi / 2)
    rng = np.random.default_rng(0)
    guess, true = rng.uniform(-np.pi, np.pi, (2, 200_000, 1))
    assert task.error(guess, true).mean() == pytest.approx(task.chance_error(), abs=0.01)
    assert task.chance_error("mse") == pytest.approx(np.pi**2 / 3)
