"""One positive-integer check: the same mistake raises the same exception, with the same message, everywhere."""

import numpy as np
import pytest

from neurorx.backends.base import check_positive_int
from neurorx.checks import positive_int
from neurorx.errors import ArgumentTypeError, ConfigurationError
from neurorx.tasks import SpatialNavigation


@pytest.mark.parametrize("good", [1, 7, np.int64(3), np.int32(1)])
def test_positive_ints_pass_as_int(good):
    out = positive_int(good, "n")
    assert out == good and type(out) is int


@pytest.mark.parametrize("bad", [0, -3, 2.5, 3.0, True, "10", None])
def test_everything_else_is_a_configuration_error_naming_the_argument(bad):
    with pytest.raises(ConfigurationError, match=r"^trials must be an integer >= 1 \(a positive integer\); got "):
        positive_int(bad, "trials")


def test_minimum_zero_accepts_zero():
    assert positive_int(0, "burn_in", minimum=0) == 0
    with pytest.raises(ConfigurationError, match="burn_in must be an integer >= 0"):
        positive_int(-1, "burn_in", minimum=0)


def test_backends_and_tasks_use_the_same_check():
    assert check_positive_int is positive_int
    errors = []
    for call in (lambda: check_positive_int(2.5, "trials"), lambda: SpatialNavigation().sample(2.5, 10, seed=0)):
        with pytest.raises(ConfigurationError) as err:
            call()
        errors.append(err.value)
    assert {type(e) for e in errors} == {ArgumentTypeError}     # one type for one mistake: a ConfigurationError
    assert all(isinstance(e, TypeError) for e in errors)         # and a TypeError
    tail = " be an integer >= 1 (a positive integer); got 2.5 (float)"
    assert [str(e).split(" must")[1] for e in errors] == [tail, tail]
