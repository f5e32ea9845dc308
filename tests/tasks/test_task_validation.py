"""Bad inputs raise clear errors."""

import numpy as np
import pytest

from neurorx.errors import ConfigurationError
from neurorx.tasks import HeadDirection, SpatialNavigation


@pytest.fixture(scope="module", params=[SpatialNavigation, HeadDirection], ids=["sp", "hd"])
def task(request):
    return request.param()


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "10", None])
def test_batch_and_steps_must_be_positive_ints(task, bad):
    with pytest.raises((TypeError, ValueError), match="batch must be an integer >= 1"):
        task.sample(bad, 10, seed=0)
    with pytest.raises((TypeError, ValueError), match="steps must be an integer >= 1"):
        task.sample(4, bad, seed=0)


def test_numpy_integers_are_accepted(task):
    assert task.sample(np.int64(2), np.int32(3), seed=np.int64(1)).inputs.shape[:2] == (2, 3)


def test_init_state_must_have_shape_batch_by_d(task):
    d = task.state_dim
    with pytest.raises(ValueError, match=rf"init_state must have shape \(batch, {d}\) = \(4, {d}\)"):
        task.sample(4, 10, seed=0, init_state=np.zeros((3, d)))
    with pytest.raises(ValueError, match="init_state must have shape"):
        task.sample(4, 10, seed=0, init_state=np.zeros(4))
    with pytest.raises(ValueError, match="non-finite"):
        task.sample(1, 10, seed=0, init_state=np.full((1, d), np.nan))


def test_bad_seed(task):
    with pytest.raises(TypeError, match="seed must be"):
        task.sample(2, 2, seed=-1)
    with pytest.raises(TypeError, match="seed must be"):
        task.sample(2, 2, seed="zero")


def test_unknown_code_names_use_the_registry_error():
    with pytest.raises(ValueError, match=r"unknown place-cell code 'softmx'.*Did you mean 'softmax'"):
        SpatialNavigation(code="softmx")
    with pytest.raises(ValueError, match=r"unknown head-direction code 'von_mises_dens'.*von_mises_density"):
        HeadDirection(code="von_mises_dens")


def test_unknown_init():
    with pytest.raises(ValueError, match=r"unknown init 'uniforn'.*Did you mean 'uniform'"):
        SpatialNavigation(init="uniforn")
    with pytest.raises(ValueError, match="unknown init 'random'"):
        HeadDirection(init="random")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sigma": -0.2}, "sigma must be positive"),
        ({"sigma": 0.0}, "sigma must be positive"),
        ({"n_cells": 0}, "n_cells must be an integer >= 1"),
        ({"top_k": 0}, "top_k must be an integer >= 1"),
        ({"top_k": 600}, "top_k=600 exceeds n_cells=512"),
        ({"dt": -0.02}, "dt .* must be positive"),
        ({"turn_sigma": -1.0}, "turn_sigma must be non-negative"),
        ({"turn_sigma": float("nan")}, "turn_sigma must be finite"),
        ({"biased": "yes"}, "biased must be True or False"),
        ({"seed": -1}, "seed must be a non-negative int"),
    ],
)
@pytest.mark.parametrize("cls", [SpatialNavigation, HeadDirection])
def test_bad_constructor_arguments(cls, kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message):
        cls(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"box_width": 0}, "box_width must be positive"),
        ({"border_region": -0.1}, "border_region must be non-negative"),
        ({"border_region": 2.0}, "border_region must be <= 1.1"),
        ({"speed_scale": 0.0}, "speed_scale must be positive"),
        ({"drift_const": 1.5}, "drift_const must be <= 1.0"),
        ({"anchor": (0.0,)}, "anchor must be a pair"),
        ({"centres": np.zeros((3, 2))}, r"centres must have shape \(n_cells, 2\) = \(512, 2\)"),
        ({"centres": "random"}, "unknown centres option 'random'"),
    ],
)
def test_bad_spatial_arguments(kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message):
        SpatialNavigation(**kwargs)


def test_dt_with_wrong_units_is_refused():
    from brian2 import mV

    with pytest.raises(TypeError, match="dt must be a time"):
        SpatialNavigation(dt=20 * mV)


def test_encode_decode_check_the_last_axis(task):
    d, n = task.state_dim, task.n_cells
    with pytest.raises(ValueError, match=rf"must have shape \(\.\.\., {d}\)"):
        task.encode(np.zeros((5, d + 1)))
    with pytest.raises(ValueError, match=rf"outputs must have shape \(\.\.\., {n}\)"):
        task.decode(np.zeros((5, n - 1)))
    with pytest.raises(ValueError, match=r"k must lie in \[1, n_cells=512\]"):
        task.decode(np.zeros((5, n)), k=513)
    with pytest.raises(ConfigurationError, match="k must be an integer"):
        task.decode(np.zeros((5, n)), k=2.0)


def test_unknown_chance_metric(task):
    with pytest.raises(ValueError, match="unknown metric 'rmse'"):
        task.chance_error("rmse")
