"""Phase inputs are made a chunk at a time: a run's results are those of whole-phase batches, and the memory
a phase needs besides the run's own input and state arrays does not grow with its length.
"""

import tracemalloc
from dataclasses import dataclass

import numpy as np
import pytest
from netfactory import make_network

import neurorx as nrx
import neurorx.phases as phases_module
from neurorx.phases import PHASE_INPUTS, PHASES, Phase
from neurorx.protocols import Active, Protocol, Quiescent
from neurorx.seeds import derive_seed


@dataclass(frozen=True)
class WholeActive(Phase, register=False):
    """Active behaviour made the way a whole batch is: ``task.sample`` of the phase, targets and all."""

    start: str = "reset"
    kind = "active"

    def inputs(self, ctx, steps):
        init = ctx.start_states if self.start == "reset" else ctx.last_states
        batch = ctx.task.sample(ctx.trials, steps, seed=derive_seed(ctx.seed, PHASE_INPUTS, ctx.index),
                                init_state=init)
        return batch.inputs, batch.states


@dataclass(frozen=True)
class WholeQuiescent(Phase, register=False):
    """Quiescence made as whole arrays."""

    noise_scale: float = 2 ** 0.5
    kind = "quiescent"

    def inputs(self, ctx, steps):
        return (np.zeros((ctx.trials, steps, ctx.network.n_in)),
                np.repeat(ctx.last_states[:, None, :], steps, axis=1))


@pytest.fixture
def small_chunks(monkeypatch):
    """Phase inputs in chunks of 4 steps for 3 trials, so that short phases span several chunks."""
    monkeypatch.setattr(phases_module, "INPUT_CHUNK_BYTES", 8 * 3 * 4)
    assert phases_module.input_chunk_steps(3) == 4


def test_a_chunked_run_equals_the_run_on_whole_phase_batches(small_chunks, backend, backend_options):
    net = make_network(noise={"recurrent": nrx.WhiteNoise(0.05)})
    chunked = Protocol([Active(steps=10), Quiescent(steps=9), Active(steps=11, start="continue")])
    whole = Protocol([WholeActive(steps=10), WholeQuiescent(steps=9), WholeActive(steps=11, start="continue")])
    a, b = (p.run(net, backend=backend, trials=3, seed=5, record=("h",), **backend_options) for p in (chunked, whole))
    for name in ("inputs", "states", "decoded", "h"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_an_active_phase_asks_its_task_for_chunks_and_never_for_targets():
    net = make_network()
    asked = {"sample": [], "take": []}
    task = net.task

    class Spy(type(task)):
        def sample(self, batch, steps, seed, init_state=None):
            asked["sample"].append(steps)
            return super().sample(batch, steps, seed, init_state)

        def stream(self, batch, steps, seed, init_state=None):
            inner = super().stream(batch, steps, seed, init_state)
            take = inner.take
            inner.take = lambda n: asked["take"].append(n) or take(n)
            return inner

    spy = Spy(n_cells=task.n_cells, seed=task.seed)
    Protocol([Active(steps=1500)]).run(net, trials=4, seed=0, task=spy)
    assert asked["sample"] == [1]                       # the protocol's start states only
    assert max(asked["take"]) <= phases_module.input_chunk_steps(4) and sum(asked["take"]) == 1500


def _resolve_peak(net, phase, trials):
    """Peak bytes traced while resolving a one-phase protocol, less its inputs and true states (float64)."""
    protocol = Protocol([phase])
    steps = phase.n_steps(net)
    tracemalloc.start()
    try:
        protocol.segments(net, net.task, trials, 0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - 8 * trials * steps * (net.n_in + net.task.state_dim)


@pytest.mark.parametrize("kind", sorted(k for k in PHASES if PHASES.get(k).__module__.startswith("neurorx.")))
def test_a_phase_needs_no_more_memory_for_more_steps(kind, monkeypatch):
    """Ten times the steps: the memory besides the run's input and state arrays stays within one chunk's.

    Chunks of 50 steps for 10 trials; a phase that sampled its whole task batch up front (B x T x 512 place-cell
    targets) needs 3.7 MB more for the longer phase.
    """
    monkeypatch.setattr(phases_module, "INPUT_CHUNK_BYTES", 8 * 10 * 50)
    net = make_network(n_cells=512)
    short, long = (PHASES.get(kind).example(net, steps) for steps in (100, 1000))
    extra = [_resolve_peak(net, phase, 10) for phase in (short, long)]
    assert extra[1] - extra[0] < 0.25e6, extra
