"""Trajectory streams: every task's inputs and true states a chunk at a time, equal to ``sample``'s numbers."""

import numpy as np
import pytest

from neurorx.tasks import TASKS, HeadDirection, MeasuredHeadDirection, MeasuredSpatial, SpatialNavigation, Task


def _examples():
    """One or two small instances of every built-in task (measured ones on a synthetic 60 s walk)."""
    t = np.arange(0, 60, 0.02)
    walk = np.stack([0.5 + 0.3 * np.sin(t / 3), 0.5 + 0.3 * np.cos(t / 5)], axis=-1)
    return {"spatial_navigation": [SpatialNavigation(n_cells=8),
                                   SpatialNavigation(n_cells=8, biased=True, init="zero")],
            "head_direction": [HeadDirection(n_cells=8), HeadDirection(n_cells=8, biased=True)],
            "measured_spatial": [MeasuredSpatial(times=t, positions=walk, arena=(0, 1, 0, 1), n_cells=8)],
            "measured_head_direction": [MeasuredHeadDirection(times=t, angles=np.mod(1.3 * t, 2 * np.pi), n_cells=8)]}


EXAMPLES = _examples()
BUILT_IN = [name for name in TASKS if TASKS.get(name).__module__.startswith("neurorx.")]


def test_every_built_in_task_has_an_example_here():
    assert set(BUILT_IN) <= set(EXAMPLES)


@pytest.mark.parametrize("name", BUILT_IN)
@pytest.mark.parametrize("given_start", [False, True])
def test_a_stream_read_in_uneven_chunks_is_the_sampled_batch_bit_for_bit(name, given_start):
    for task in EXAMPLES[name]:
        init = task.sample(7, 3, seed=9).states[:, -1] if given_start else None
        batch = task.sample(7, 50, seed=4, init_state=init)
        stream = task.stream(7, 50, seed=4, init_state=init)
        parts = [stream.take(n) for n in (1, 13, 30, 6)]
        np.testing.assert_array_equal(stream.init_state, batch.init_state)
        np.testing.assert_array_equal(np.concatenate([p[0] for p in parts], axis=1), batch.inputs)
        np.testing.assert_array_equal(np.concatenate([p[1] for p in parts], axis=1), batch.states)


def test_a_stream_hands_out_no_more_steps_than_it_has():
    stream = SpatialNavigation(n_cells=8).stream(2, 5, seed=0)
    stream.take(4)
    with pytest.raises(ValueError, match="has 1 left; cannot take 2"):
        stream.take(2)


def test_the_default_stream_slices_a_sampled_batch():
    """A task that implements only ``sample`` streams through it (its memory then grows with the steps)."""

    class OnlySample(SpatialNavigation):
        stream = Task.stream                               # the default

    task, ref = OnlySample(n_cells=8), SpatialNavigation(n_cells=8)
    x, s = task.stream(3, 20, seed=1).take(20)
    np.testing.assert_array_equal(x, ref.sample(3, 20, seed=1).inputs)
    np.testing.assert_array_equal(s, ref.sample(3, 20, seed=1).states)
