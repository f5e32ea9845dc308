"""SpatialNavigation: the trajectory generator of paper.md §2.1 and what the network sees."""

import numpy as np
import pytest

from neurorx.tasks import SpatialNavigation, TaskBatch
from neurorx.tasks.spatial import mean_distance_in_rectangle

B_DT = 0.26 * np.pi * 0.02  # Rayleigh scale per step (m)


@pytest.fixture(scope="module")
def task():
    return SpatialNavigation()


@pytest.fixture(scope="module")
def batch(task):
    return task.sample(200, 100, seed=1)


def wall_distance(pos, half=1.1):
    x, y = pos[..., 0], pos[..., 1]
    return np.minimum.reduce([half - x, half - y, half + x, half + y])


def test_defaults_are_the_reference_config(task):
    p = task.params()
    assert p["box_width"] == p["box_height"] == 2.2
    assert (p["border_region"], p["border_slow_factor"], p["dt"]) == (0.03, 0.25, 0.02)
    assert (p["turn_mu"], p["turn_sigma"], p["speed_scale"]) == (0.0, 11.52, 0.26 * np.pi)
    assert (p["n_cells"], p["sigma"], p["top_k"], p["code"]) == (512, 0.2, 3, "softmax")
    assert (p["biased"], p["drift_const"], p["anchor"], p["init"]) == (False, 0.05, [0.0, 0.0], "uniform")
    assert (task.n_in, task.state_dim, task.circular, task.n_cells) == (2, 2, False, 512)


def test_batch_shapes_and_dtypes(batch):
    assert isinstance(batch, TaskBatch)
    assert batch.inputs.shape == (200, 100, 2)
    assert batch.states.shape == (200, 100, 2)
    assert batch.targets.shape == (200, 100, 512)
    assert batch.init_state.shape == (200, 2)
    assert batch.init_code.shape == (200, 512)
    for arr in (batch.inputs, batch.states, batch.targets, batch.init_state, batch.init_code):
        assert arr.dtype == np.float64
    assert (batch.batch_size, batch.steps) == (200, 100)


def test_targets_and_init_code_are_the_encoded_states(task, batch):
    np.testing.assert_array_equal(batch.targets, task.encode(batch.states))
    np.testing.assert_array_equal(batch.init_code, task.encode(batch.init_state))


def test_inputs_sum_to_position_changes(batch):
    # target_k = init + sum_{j<=k} x_j  (paper.md §2.1, "What the network sees")
    np.testing.assert_allclose(
        batch.states, batch.init_state[:, None] + np.cumsum(batch.inputs, axis=1), atol=1e-12
    )


def test_network_sees_pos1_inputs_upd1_to_T_and_targets_pos2_to_T_plus_1(task):
    traj = task.simulate(5, 10, seed=3)
    assert traj["position"].shape == (5, 12, 2) and traj["heading"].shape == (5, 12)
    batch = task.sample(5, 10, seed=3)
    np.testing.assert_array_equal(batch.init_state, traj["position"][:, 1])
    np.testing.assert_array_equal(batch.inputs, traj["update"][:, 1:11])
    np.testing.assert_array_equal(batch.states, traj["position"][:, 2:12])
    assert np.all(traj["heading"] >= -np.pi) and np.all(traj["heading"] < np.pi)


def test_mean_step_length_away_from_walls_is_2_05_cm(batch):
    # Rayleigh(b = 0.26 pi m/s) speed times dt: mean b sqrt(pi/2) dt = 2.047 cm, SD b sqrt((4-pi)/2) dt.
    previous = np.concatenate([batch.init_state[:, None], batch.states[:, :-1]], axis=1)
    steps = np.linalg.norm(batch.inputs, axis=-1)[wall_distance(previous) >= 0.03]
    expected = B_DT * np.sqrt(np.pi / 2)
    assert expected == pytest.approx(0.0205, abs=5e-5)
    se = B_DT * np.sqrt((4 - np.pi) / 2) / np.sqrt(steps.size)  # speeds are i.i.d. draws: ≈ 8e-5 m
    assert steps.size > 15_000
    assert abs(steps.mean() - expected) < 5 * se


def test_heading_into_a_wall_slows_down_by_0_25_and_turns_parallel_to_it():
    # Start 1 cm from the right wall (inside the 3 cm border): trajectories heading into it (|h| < pi/2)
    # must take a 0.25x step and turn by sign(a)(pi/2 - |a|), i.e. to exactly ±pi/2 without turn noise.
    n = 2000
    start = np.tile([1.09, 0.0], (n, 1))
    slow = SpatialNavigation(turn_sigma=0.0).simulate(n, 3, seed=0, init_state=start)
    fast = SpatialNavigation(turn_sigma=0.0, border_slow_factor=1.0).simulate(n, 3, seed=0, init_state=start)
    into = np.abs(slow["heading"][:, 1]) < np.pi / 2
    assert 0.4 < into.mean() < 0.6
    np.testing.assert_array_equal(slow["near_wall"][:, 1], into)
    step_slow = np.linalg.norm(slow["update"][:, 1], axis=-1)
    step_fast = np.linalg.norm(fast["update"][:, 1], axis=-1)
    np.testing.assert_allclose(step_slow[into], 0.25 * step_fast[into], rtol=1e-12)
    np.testing.assert_allclose(step_slow[~into], step_fast[~into], rtol=1e-12)
    # the step itself uses the current (un-turned) heading; the next heading runs along the wall
    np.testing.assert_allclose(np.abs(slow["heading"][into, 2]), np.pi / 2, atol=1e-12)
    assert np.all(np.sign(slow["heading"][into, 2]) == np.sign(slow["heading"][into, 1]))
    np.testing.assert_allclose(slow["update"][into, 2, 0], 0.0, atol=1e-15)  # no further x motion


def test_wall_turn_with_turn_noise_steers_away_on_average():
    n = 4000
    start = np.tile([0.0, -1.085], (n, 1))  # 1.5 cm from the bottom wall (theta_wall = 3 pi / 2)
    traj = SpatialNavigation().simulate(n, 2, seed=1, init_state=start)
    into = np.sin(traj["heading"][:, 1]) < 0
    step = np.linalg.norm(traj["update"][:, 1], axis=-1)
    assert step[into].mean() / step[~into].mean() == pytest.approx(0.25, rel=0.1)
    # after the turn the vertical heading component is ~0 ± turn noise (SD 0.23 rad), no longer downwards
    assert abs(np.sin(traj["heading"][into, 2]).mean()) < 0.02


def test_positions_are_not_clipped_but_stay_near_the_box(batch):
    assert np.abs(batch.states).max() < 1.25


def test_biased_trajectories_settle_on_a_ring_of_radius_0_33():
    # paper.md §2.1: median radius 0.33 m, IQR 0.29-0.37 after step 50 (seeds 0-5 here: medians 0.329-0.335)
    batch = SpatialNavigation(biased=True).sample(200, 100, seed=0)
    r = np.linalg.norm(batch.states[:, 50:], axis=-1)
    q25, q50, q75 = np.percentile(r, [25, 50, 75])
    assert q50 == pytest.approx(0.33, abs=0.015)
    assert q25 == pytest.approx(0.29, abs=0.02)
    assert q75 == pytest.approx(0.37, abs=0.02)


def test_biased_inputs_include_the_drift():
    task = SpatialNavigation(biased=True, turn_sigma=0.0)
    traj = task.simulate(50, 5, seed=2)
    pos, hd, upd = traj["position"], traj["heading"], traj["update"]
    move = (traj["speed"][:, 1] * 0.02)[:, None] * np.stack([np.cos(hd[:, 1]), np.sin(hd[:, 1])], -1)
    np.testing.assert_allclose(upd[:, 1], move + 0.05 * (0.0 - pos[:, 1]), atol=1e-14)


def test_init_zero_starts_one_step_from_the_origin():
    batch = SpatialNavigation(init="zero").sample(500, 3, seed=0)
    r0 = np.linalg.norm(batch.init_state, axis=-1)
    assert r0.max() < 10 * B_DT and r0.mean() == pytest.approx(B_DT * np.sqrt(np.pi / 2), rel=0.15)


def test_init_state_fixes_the_start_only(task):
    start = np.random.default_rng(0).uniform(-1, 1, (30, 2))
    batch = task.sample(30, 20, seed=4, init_state=start)
    np.testing.assert_array_equal(batch.init_state, start)
    np.testing.assert_array_equal(batch.init_code, task.encode(start))
    np.testing.assert_allclose(batch.states[:, 0], start + batch.inputs[:, 0], atol=1e-15)
    other = task.sample(30, 20, seed=5, init_state=start)
    assert not np.allclose(other.states, batch.states)


def test_same_seed_same_batch_and_trajectories_do_not_depend_on_centres():
    a = SpatialNavigation(seed=0).sample(20, 30, seed=7)
    b = SpatialNavigation(seed=0).sample(20, 30, seed=7)
    c = SpatialNavigation(seed=1).sample(20, 30, seed=7)  # other centres, same batch seed
    d = SpatialNavigation(seed=0).sample(20, 30, seed=8)
    for field in ("inputs", "states", "targets", "init_state", "init_code"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    np.testing.assert_array_equal(a.states, c.states)
    assert not np.allclose(a.targets, c.targets)
    assert not np.allclose(a.states, d.states)


def test_centres_are_drawn_once_from_the_task_seed():
    task = SpatialNavigation(seed=5)
    rng = np.random.default_rng(5)
    expected = np.stack([rng.uniform(-1.1, 1.1, 512), rng.uniform(-1.1, 1.1, 512)], -1)
    np.testing.assert_array_equal(task.centres, expected)
    np.testing.assert_array_equal(SpatialNavigation(seed=5).centres, task.centres)
    assert not task.centres.flags.writeable


def test_reference_centres_reproduce_the_legacy_numpy_stream():
    task = SpatialNavigation(seed=2, centres="reference")
    legacy = np.random.RandomState(2)
    expected = np.stack([legacy.uniform(-1.1, 1.1, 512), legacy.uniform(-1.1, 1.1, 512)], -1)
    np.testing.assert_array_equal(task.centres, expected.astype(np.float32).astype(np.float64))


def test_error_and_chance_error(task):
    assert task.error(np.array([[0.0, 0.0]]), np.array([[0.3, 0.4]])) == pytest.approx([0.5])
    assert task.chance_error("mse") == pytest.approx(2 * 2.2**2 / 12)  # ≈ 0.807, paper.md "random ≈ 0.8"
    assert mean_distance_in_rectangle(1.0, 1.0) == pytest.approx(0.5214054, abs=1e-7)
    rng = np.random.default_rng(0)
    for w, h in ((2.2, 2.2), (2.0, 0.5)):
        u, v = rng.uniform(-0.5, 0.5, (2, 400_000, 2)) * [w, h]
        mc = np.linalg.norm(u - v, axis=-1).mean()  # SE ≈ 1e-3 m
        assert SpatialNavigation(box_width=w, box_height=h).chance_error() == pytest.approx(mc, abs=5e-3)


def test_dt_accepts_a_brian2_quantity():
    from brian2 import ms

    task = SpatialNavigation(dt=20 * ms)
    assert task.dt == pytest.approx(0.02) and isinstance(task.dt, float)


def test_batch_converts_to_torch(batch):
    import torch

    tensors = batch.to_torch()
    assert set(tensors) == {"inputs", "states", "targets", "init_state", "init_code"}
    assert tensors["inputs"].dtype == torch.float32 and tuple(tensors["targets"].shape) == (200, 100, 512)
    assert batch.to_torch(dtype=torch.float64)["states"].dtype == torch.float64
