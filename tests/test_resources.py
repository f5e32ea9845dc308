"""Requests too large for the machine are refused before anything is allocated, with the estimate and the fix."""

import pytest

from neurorx.errors import ResourceError
from neurorx.resources import (
    available_memory,
    check_memory,
    check_simulation_time,
    format_bytes,
    protocol_memory,
    training_memory,
)


def test_available_memory_is_a_positive_number_of_bytes():
    assert 0 < available_memory()


def test_training_memory_counts_parameters_adam_and_bptt():
    small = training_memory(n_rec=16, n_in=2, n_out=32, n_init=32, gates=1, batch=8, steps=10)
    params = 16 * 18 + 16 * 32 + 32 * 16
    assert small == 4 * (4 * params + 8 * 10 * (3 * 16 + 2 * 32))
    huge = training_memory(n_rec=10**9, n_in=2, n_out=512, n_init=512, gates=1, batch=200, steps=100)
    assert huge > 1e18


def test_protocol_memory_grows_with_what_is_recorded():
    base = protocol_memory(trials=200, steps=1000, n_rec=512, n_out=512, n_in=2, dims=2)
    with_h = protocol_memory(trials=200, steps=1000, n_rec=512, n_out=512, n_in=2, dims=2, record=("h",))
    every10 = protocol_memory(trials=200, steps=1000, n_rec=512, n_out=512, n_in=2, dims=2, record=("h",), every=10)
    assert base < every10 < with_h
    assert with_h - base == 8 * 200 * 1000 * 512


def test_check_memory_names_the_estimate_and_the_fix():
    check_memory(1e6, "this protocol", "use fewer trials", available=1e9)
    with pytest.raises(ResourceError, match=r"this protocol needs at least 2 TB of memory, but 1 GB is "
                                            r"available; use fewer trials"):
        check_memory(2e12, "this protocol", "use fewer trials", available=1e9)
    with pytest.raises(MemoryError):     # a ResourceError is also a MemoryError
        check_memory(2e12, "x", "y", available=1e9)


def test_a_run_that_would_take_days_is_refused():
    assert check_simulation_time(trials=200, n_rec=512, steps=1100, dt_factor=16) < 60
    with pytest.raises(ResourceError, match="lower dt_factor"):
        check_simulation_time(trials=200, n_rec=512, steps=1100, dt_factor=10**9)


@pytest.mark.parametrize("n,text", [(999, "999 B"), (1500, "1.5 kB"), (2.5e9, "2.5 GB")])
def test_format_bytes(n, text):
    assert format_bytes(n) == text
