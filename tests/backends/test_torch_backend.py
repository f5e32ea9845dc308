"""The torch backend: the trainer's step, batched, without autograd, in float32 or float64, in bounded chunks."""

import numpy as np
import pytest
import torch
from backend_cases import D, diverging_run, inputs, make_net, torch_reference
from netfactory import divergence_step_and_time

from neurorx import FrozenNoise, OUNoise, WhiteNoise
from neurorx.backends import Segment, SimulationError, get_backend
from neurorx.models.cells import get_cell


def simulate(net, segments, trials, **kw):
    kw.setdefault("seed", 0)
    chunks = list(get_backend("torch").simulate(net, segments, trials=trials, **kw))
    return np.concatenate([c.h for c in chunks], axis=1), chunks


@pytest.mark.parametrize("cell", ["vanilla", "gru"])
def test_dt_factor_takes_k_euler_steps_per_training_step(cell):
    b, t, n, k = 3, 6, 8, 4
    net = make_net(cell, "tanh")
    inc = 0.05 * np.random.default_rng(1).normal(size=(t * k, b, n))
    segs = [Segment("a", t, inputs(b, t, 2), {"recurrent": FrozenNoise(inc, dt=D / k)}, np.ones((b, n)))]
    h, chunks = simulate(net, segs, b, dt_factor=k, chunk_steps=4)
    assert [(c.start, c.h.shape[1]) for c in chunks] == [(0, 4), (4, 2)]
    np.testing.assert_allclose(h, torch_reference(net, segs, [inc], substeps=k), rtol=0, atol=1e-12)


def test_float32_is_float32_and_close_to_float64():
    b, t = 3, 20
    net = make_net("gru", "tanh")
    segs = [Segment("a", t, inputs(b, t, 2), {}, np.zeros((b, 8)))]
    h64, _ = simulate(net, segs, b)
    h32, _ = simulate(net, segs, b, dtype="float32")
    assert h64.dtype == np.float64 and h32.dtype == np.float32
    np.testing.assert_allclose(h32, h64, rtol=0, atol=1e-5)
    assert np.abs(h32 - h64).max() > 0   # really computed in float32
    with pytest.raises(ValueError, match="dtype must be one of"):
        simulate(net, segs, b, dtype="float16")


def test_runs_without_autograd(monkeypatch):
    seen = []
    cell = get_cell("vanilla")
    original = type(cell).step_into

    def spy(self, *args, **kwargs):
        seen.append((torch.is_inference_mode_enabled(), torch.is_grad_enabled()))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(type(cell), "step_into", spy)
    net = make_net("vanilla", "tanh")
    simulate(net, [Segment("a", 3, inputs(2, 3, 2), {}, np.zeros((2, 8)))], 2)
    assert seen == [(True, False)] * 3


def test_memory_budget_bounds_the_temporaries_without_changing_the_run(monkeypatch):
    # The noise increments (k per step) and the input projection are made a few steps at a time, in order.
    b, t, n, k = 4, 12, 8, 3
    net = make_net("gru", "tanh")
    segs = [Segment("a", t, inputs(b, t, 2), {"recurrent": WhiteNoise(0.3), "input": WhiteNoise(0.2)},
                    np.zeros((b, n)))]
    whole, _ = simulate(net, segs, b, dt_factor=k, chunk_steps=t)
    projected = []
    cell = get_cell("gru")
    original = cell.input_projection          # a static method

    def spy(x, *args, **kwargs):
        projected.append(x.shape[1])
        return original(x, *args, **kwargs)

    monkeypatch.setattr(type(cell), "input_projection", staticmethod(spy))
    per_step = 8 * b * (k * n + 3 * n + 2)   # bytes of increments + GRU projection per training step
    bounded, chunks = simulate(net, segs, b, dt_factor=k, chunk_steps=t, memory_budget=2 * per_step)
    assert [c.h.shape[1] for c in chunks] == [t]          # the yielded chunk is the caller's
    assert projected == [2] * (t // 2)                     # temporaries for 2 training steps at a time
    np.testing.assert_allclose(bounded, whole, rtol=0, atol=1e-12)


def test_divergence_names_the_phase_step_and_time():
    b = 2
    net, segs, expected = diverging_run(b)
    with pytest.raises(SimulationError) as info:
        simulate(net, segs, b, chunk_steps=50)
    msg = str(info.value)
    step, t = divergence_step_and_time(info.value)
    assert "phase 'boom'" in msg and "of 400" in msg
    assert step == expected and t == pytest.approx(1.0 + expected * D, rel=1e-3)


@pytest.mark.parametrize("recurrent", [WhiteNoise(0.3), OUNoise(0.5, 0.05)])
def test_trials_advance_in_groups_when_one_step_does_not_fit_and_the_run_is_unchanged(monkeypatch, recurrent):
    # 70 trials = blocks of 32, 32 and 6, each with its own noise streams: grouping them changes nothing.
    b, t, n, k = 70, 5, 8, 2
    net = make_net("gru", "tanh")
    segs = [Segment("a", t, inputs(b, t, 2), {"recurrent": recurrent, "input": WhiteNoise(0.2)},
                    np.zeros((b, n)))]
    whole, _ = simulate(net, segs, b, dt_factor=k, chunk_steps=t)
    batch_sizes = []
    cell = get_cell("gru")
    original = type(cell).step

    def spy(self, h, *args, **kwargs):
        batch_sizes.append(h.shape[0])
        return original(self, h, *args, **kwargs)

    monkeypatch.setattr(type(cell), "step", spy)
    per_trial_step = 8 * (k * n + 3 * n + 2)
    grouped, _ = simulate(net, segs, b, dt_factor=k, chunk_steps=t, memory_budget=40 * per_trial_step)
    assert set(batch_sizes) == {32, 6}                     # one block of trials at a time
    np.testing.assert_allclose(grouped, whole, rtol=0, atol=1e-12)
    assert np.abs(whole[:32] - whole[32:64]).max() > 1e-3  # the blocks' streams differ
