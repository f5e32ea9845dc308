"""Task cards: to_card()/from_card() rebuild exactly the same task (the centres travel with a network)."""

import json

import numpy as np
import pytest

from neurorx.tasks import TASKS, HeadDirection, SpatialNavigation, Task

TASK_FACTORIES = [
    lambda: SpatialNavigation(),
    lambda: SpatialNavigation(biased=True, seed=3, code="gaussian", top_k=5, init="zero", box_height=1.5),
    lambda: SpatialNavigation(seed=4, centres="reference"),
    lambda: HeadDirection(),
    lambda: HeadDirection(biased=True, n_cells=100, sigma=0.3, code="von_mises_density", init="zero"),
]


def test_registry_names():
    assert TASKS.get("spatial_navigation") is SpatialNavigation
    assert TASKS.get("head_direction") is HeadDirection
    assert issubclass(SpatialNavigation, Task) and issubclass(HeadDirection, Task)


@pytest.mark.parametrize("make", TASK_FACTORIES)
def test_card_round_trip_through_json_is_exact(make):
    task = make()
    params, arrays = task.to_card()
    assert params["name"] == task.name
    params2 = json.loads(json.dumps(params))
    arrays2 = {k: np.array(v) for k, v in arrays.items()}
    for rebuilt in (type(task).from_card(params2, arrays2), Task.from_card(params2, arrays2)):
        assert type(rebuilt) is type(task)
        assert rebuilt == task
        p3, a3 = rebuilt.to_card()
        assert p3 == params
        assert a3.keys() == arrays.keys()
        for key in arrays:
            np.testing.assert_array_equal(a3[key], arrays[key])
        b1, b2 = task.sample(4, 6, seed=1), rebuilt.sample(4, 6, seed=1)
        np.testing.assert_array_equal(b1.targets, b2.targets)
        np.testing.assert_array_equal(task.decode(b1.targets), rebuilt.decode(b2.targets))


def test_centres_travel_with_the_card():
    task = SpatialNavigation(seed=0)
    params, arrays = task.to_card()
    params["seed"] = 99  # a different seed would draw other centres; the stored ones win
    rebuilt = Task.from_card(params, arrays)
    np.testing.assert_array_equal(rebuilt.centres, task.centres)


def test_tasks_with_different_parameters_differ():
    assert SpatialNavigation(seed=0) != SpatialNavigation(seed=1)
    assert SpatialNavigation() != SpatialNavigation(biased=True)
    assert HeadDirection() != HeadDirection(biased=True)
    assert SpatialNavigation() != HeadDirection()


def test_bad_cards_raise_clearly():
    params, arrays = SpatialNavigation().to_card()
    with pytest.raises(ValueError, match="card is for task 'spatial_navigation'"):
        HeadDirection.from_card(params, arrays)
    with pytest.raises(ValueError, match="no 'name'"):
        Task.from_card({k: v for k, v in params.items() if k != "name"}, arrays)
    with pytest.raises(ValueError, match=r"unknown task 'spatial_nav'.*Did you mean 'spatial_navigation'"):
        Task.from_card({**params, "name": "spatial_nav"}, arrays)
    with pytest.raises(ValueError, match="centres must have shape"):
        Task.from_card(params, {"centres": arrays["centres"][:10]})
    hd_params, hd_arrays = HeadDirection().to_card()
    with pytest.raises(ValueError, match="preferred_angles differ"):
        Task.from_card(hd_params, {"preferred_angles": hd_arrays["preferred_angles"] + 1e-3})
