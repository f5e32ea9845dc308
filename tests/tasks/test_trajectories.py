"""Tasks from measured trajectories: resampling, windows as trials, train/test split, bad samples, RatInABox."""

import json
import sys

import numpy as np
import pytest

from neurorx.errors import ConfigurationError
from neurorx.io.extras import MissingExtraError
from neurorx.tasks import TASKS, MeasuredHeadDirection, MeasuredSpatial, Task
from neurorx.tasks.trajectories import held_out_network


def _walk(n=600, seed=0, fs=33.0):
    """A smooth walk in a 1 m x 0.5 m box, sampled at ``fs`` Hz."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    x = 0.5 + 0.4 * np.sin(0.7 * t + rng.uniform(0, 6))
    y = 0.25 + 0.2 * np.sin(1.1 * t + rng.uniform(0, 6))
    return t, np.stack([x, y], axis=-1)


def test_a_spatial_task_from_arrays_resamples_to_the_step_and_integrates_exactly():
    t, pos = _walk()
    task = MeasuredSpatial(times=t, positions=pos, arena=(0, 1, 0, 0.5), dt=0.02, n_cells=32, part="all")
    assert TASKS.get("measured_spatial") is MeasuredSpatial
    assert (task.box_width, task.box_height) == (1.0, 0.5)
    assert len(task.samples) == int(t[-1] / 0.02) + 1
    # states are positions relative to the arena's centre, interpolated at 20 ms
    np.testing.assert_allclose(task.samples[50] + [0.5, 0.25], [np.interp(1.0, t, pos[:, j]) for j in (0, 1)])
    b = task.sample(5, 40, seed=0)
    assert b.inputs.shape == (5, 40, 2) and b.targets.shape == (5, 40, 32)
    np.testing.assert_allclose(b.init_state[:, None] + np.cumsum(b.inputs, axis=1), b.states, atol=1e-12)
    np.testing.assert_array_equal(task.sample(5, 40, seed=0).states, b.states)


def test_the_test_part_is_the_held_out_final_fifth():
    t, pos = _walk(n=1000)
    train = MeasuredSpatial(times=t, positions=pos, arena=(0, 1, 0, 0.5), n_cells=8)
    test = MeasuredSpatial(times=t, positions=pos, arena=(0, 1, 0, 0.5), n_cells=8, part="test")
    n = len(train.samples) + len(test.samples)
    assert len(test.samples) == pytest.approx(n / 5, abs=2)
    whole = MeasuredSpatial(times=t, positions=pos, arena=(0, 1, 0, 0.5), n_cells=8, part="all").samples
    np.testing.assert_array_equal(np.concatenate([train.samples, test.samples]), whole)


def test_a_head_direction_task_wraps_turns_across_pi():
    t = np.arange(400) * 0.02
    angles = np.mod(3.0 + 1.5 * t, 2 * np.pi)                 # keeps turning left, crossing pi again and again
    task = MeasuredHeadDirection(times=t, angles=angles, n_cells=36, part="all")
    b = task.sample(3, 50, seed=1)
    np.testing.assert_allclose(b.inputs, 1.5 * 0.02, atol=1e-9)  # 30 mrad per step, never 2 pi minus it
    assert np.all(np.abs(b.states) <= np.pi)


def test_cards_round_trip_with_the_measured_arrays():
    t, pos = _walk()
    task = MeasuredSpatial(times=t, positions=pos, arena=(0, 1, 0, 0.5), n_cells=16, gaps="split")
    params, arrays = task.to_card()
    rebuilt = Task.from_card(json.loads(json.dumps(params)), arrays)
    assert rebuilt == task and sorted(arrays) == ["centres", "times", "values"]
    np.testing.assert_array_equal(rebuilt.sample(2, 10, seed=3).states, task.sample(2, 10, seed=3).states)


def test_gaps_split_the_trajectory_and_windows_never_cross_them():
    t, pos = _walk(n=600, fs=50.0)
    t = np.where(t > 6.0, t + 5.0, t)                        # a 5 s tracking gap
    task = MeasuredSpatial(times=t, positions=pos, arena=(0, 1, 0, 0.5), n_cells=8, gaps="split", part="all")
    assert len(task.stretches) == 2
    b = task.sample(200, 100, seed=0)
    assert np.abs(b.inputs).max() < 0.02                        # no jump across the gap
    with pytest.raises(ConfigurationError, match="the longest holds"):
        task.sample(2, 400, seed=0)


@pytest.mark.parametrize(("edit", "match"), [
    (lambda t, p: (np.where(t > 2, t + 1, t), p), r"1 gap\(s\) longer than max_gap=0.1 s .* gaps='split'"),
    (lambda t, p: (t, np.where(np.arange(len(t))[:, None] == 7, np.nan, p)), "positions contains NaN"),
    (lambda t, p: (np.where(np.arange(len(t)) == 5, t[4], t), p), "times repeats .* at samples 4 and 5"),
    (lambda t, p: (np.concatenate([t[:10], t[10:][::-1]]), p), "times decreases at sample 11"),
    (lambda t, p: (t, p + np.array([0.6, 0.0])), r"positions lie outside the arena \(0.0, 1.0, 0.0, 0.5\) m"),
])
def test_bad_samples_are_one_clear_line(edit, match):
    t, pos = edit(*_walk())
    with pytest.raises(ConfigurationError, match=match) as err:
        MeasuredSpatial(times=t, positions=pos, arena=(0, 1, 0, 0.5), n_cells=8)
    assert "\n" not in str(err.value)


def test_the_sargolini_trajectory_from_ratinabox():
    pytest.importorskip("ratinabox")
    train = MeasuredSpatial(source="ratinabox:sargolini", gaps="split")
    test = MeasuredSpatial(source="ratinabox:sargolini", gaps="split", part="test")
    assert train.arena == (0.0, 1.0, 0.0, 1.0) and len(train.stretches) == 9          # 8 gaps over 100 ms
    assert len(test.samples) * 0.02 == pytest.approx(120, abs=2)                          # the final fifth, 2 min
    speed = np.linalg.norm(np.diff(train.samples, axis=0), axis=-1) / 0.02
    assert 0.08 < np.median(speed) < 0.13                                                 # about 10 cm/s
    with pytest.raises(ConfigurationError, match="gaps='split'"):
        MeasuredSpatial(source="ratinabox:sargolini")


def test_a_missing_ratinabox_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "ratinabox", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'neurorx\[data\]'"):
        MeasuredSpatial(source="ratinabox:sargolini", gaps="split")


def test_the_sargolini_card_trains_and_is_tested_on_the_held_out_fifth(tmp_path, one_torch_thread):
    pytest.importorskip("ratinabox")
    import neurorx as nrx
    from neurorx.cli import main

    tiny = ["rnn.n_rec=16", "trainer.n_epochs=2", "trainer.batch_size=8", "trainer.steps=10",
            "trainer.eval_every=2", "trainer.test_batch=8", "task.n_cells=32", "trainer.threads=1"]
    assert main(["train", "spatial_navigation/noisy_sargolini", *tiny, "--out", str(tmp_path), "--quiet"]) == 0
    net = nrx.load(tmp_path / "network.npz")
    assert isinstance(net.task, MeasuredSpatial) and net.task.part == "train"
    test_task = net.task.held_out()
    assert test_task.part == "test" and np.array_equal(test_task.centres, net.task.centres)
    on_test = held_out_network(net)
    assert on_test.task == test_task
    rec = nrx.Protocol([nrx.Active(steps=10)]).run(on_test, trials=4, seed=0)
    held_out_x = np.concatenate([s[:, 0] for s in test_task.stretches])        # the trials walk the final fifth
    assert rec.states.shape == (4, 10, 2) and np.isin(rec.states[..., 0], held_out_x).all()


def test_a_missing_ratinabox_is_one_line_from_the_card(tmp_path, monkeypatch, capsys):
    from neurorx.cli import main

    monkeypatch.setitem(sys.modules, "ratinabox", None)
    assert main(["train", "spatial_navigation/noisy_sargolini", "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'neurorx[data]'" in err
