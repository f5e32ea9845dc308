"""The brian2 backend's input window (neurorx.backends.brian2.inputs): a run holds a fixed number of steps of
inputs, and its results do not depend on that number.
"""

import tracemalloc

import numpy as np
import pytest
from backend_cases import inputs, make_net

from neurorx import WhiteNoise
from neurorx.backends import Segment, get_backend
from neurorx.backends.brian2 import run as brian2_run
from neurorx.backends.brian2.inputs import INPUT_OFFSET, windowed_equations


def states(net, segments, trials, **kw):
    kw.setdefault("seed", 3)
    chunks = get_backend("brian2").simulate(net, segments, trials=trials, **kw)
    return np.concatenate([c.h for c in chunks], axis=1)


def two_segments(b, n, t1=11, t2=7):
    return [Segment("a", t1, inputs(b, t1, 2), {"recurrent": WhiteNoise(0.3), "input": WhiteNoise(0.5)},
                    np.zeros((b, n))),
            Segment("b", t2, inputs(b, t2, 2, seed=2), {"recurrent": WhiteNoise(0.2)})]


@pytest.mark.parametrize(("cell", "target", "dtype", "dt_factor"), [
    ("vanilla", "numpy", "float64", 1), ("vanilla", "numpy", "float32", 2), ("dale", "numpy", "float64", 1),
    ("vanilla", "cython", "float64", 2)])
def test_a_run_in_small_input_windows_equals_a_one_window_run(cell, target, dtype, dt_factor):
    b, n = 3, 8
    net = make_net(cell, "tanh", n=n)
    segs = two_segments(b, n)
    kw = {"target": target, "dtype": dtype, "dt_factor": dt_factor, "chunk_steps": 5}
    whole = states(net, segs, b, input_steps=1000, **kw)
    windowed = states(net, segs, b, input_steps=3, **kw)
    assert whole.shape == (b, 18, n)
    np.testing.assert_array_equal(windowed, whole)


def test_input_steps_larger_than_chunks_and_one_step_windows_agree():
    b, n = 2, 8
    net = make_net("vanilla", "relu", n=n)
    segs = two_segments(b, n)
    one = states(net, segs, b, input_steps=1, chunk_steps=4, target="numpy")
    many = states(net, segs, b, input_steps=9, chunk_steps=4, target="numpy")
    np.testing.assert_array_equal(one, many)


@pytest.mark.parametrize("bad", [0, -2, 1.5, "8"])
def test_bad_input_steps_is_one_clear_error(bad):
    net = make_net("vanilla", "relu", n=4)
    with pytest.raises((ValueError, TypeError), match="input_steps"):
        states(net, two_segments(1, 4), 1, input_steps=bad, target="numpy")


def test_the_equations_read_the_inputs_at_the_window_offset():
    eqs = "dh/dt = -h/tau : 1\nI_in = b_in + w_in_0*x_in(t, trial*1 + 0) : 1"
    out = windowed_equations(eqs)
    assert f"x_in(t - {INPUT_OFFSET}, trial*1 + 0)" in out and f"{INPUT_OFFSET} : second (shared)" in out
    assert windowed_equations("dh/dt = -h/tau : 1") == "dh/dt = -h/tau : 1"


def _run_held_inputs(monkeypatch, steps, trials=50):
    """The TimedArray values the run built, and the peak traced allocation of the run (bytes)."""
    held = []
    assemble = brian2_run._assemble

    def spy(network, trials_, dt_factor, coupling, recurrent, x_values, *args):
        held.append(x_values.shape)
        return assemble(network, trials_, dt_factor, coupling, recurrent, x_values, *args)

    monkeypatch.setattr(brian2_run, "_assemble", spy)
    net = make_net("vanilla", "relu", n=4)
    segs = [Segment("a", steps, inputs(trials, steps, 2), {"recurrent": WhiteNoise(0.1)}, np.zeros((trials, 4)))]
    states(net, segs, trials, target="numpy", input_steps=16, chunk_steps=8)   # compiled, warm
    tracemalloc.start()
    try:
        for chunk in get_backend("brian2").simulate(net, segs, trials=trials, seed=0, target="numpy",
                                                    input_steps=16, chunk_steps=8):
            del chunk
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return held, peak


def test_the_inputs_held_and_the_peak_allocation_do_not_grow_with_the_run(monkeypatch):
    # 200 trials: the up-front array (2 MB) dwarfs what each window's run() call leaves (~0.2 MB measured over
    # 40 calls), which made a 50-trial version of this bound fail on one fresh clone in two
    trials = 200
    short_held, short_peak = _run_held_inputs(monkeypatch, 40, trials)
    long_held, long_peak = _run_held_inputs(monkeypatch, 640, trials)
    assert set(short_held) == set(long_held) == {(16, trials * 2)}
    upfront = 8 * trials * 640 * 2          # the long run's inputs as one array: what an up-front TimedArray holds
    assert long_peak - short_peak < upfront / 4, (short_peak, long_peak)
