"""The two backends against each other: the torch backend and Brian2 (both couplings, both cells) run the same
segments to the same states, at ``dt_factor=1`` and at finer steps (design.md §5, families 1, 2 and 5)."""

import numpy as np
import pytest
from backend_cases import DT, D, float32_error_bound, inputs, make_net, noise_instances, simulate
from brian2 import ms

import neurorx as nrx
from neurorx import FrozenNoise, OUNoise, WhiteNoise
from neurorx.backends import Segment
from neurorx.models.cells import CELLS

PAIRS = [(cell, coupling) for cell in CELLS.names() for coupling in ("matmul", "synapses")]


@pytest.mark.parametrize(("cell", "coupling"), PAIRS)
def test_noise_off_brian2_equals_the_torch_backend(cell, coupling):
    b, t, n = 3, 15, 8
    net = make_net(cell, "tanh")
    h0 = np.random.default_rng(1).normal(size=(b, n))
    segs = [Segment("active", t, inputs(b, t, 2), {}, h0), Segment("quiet", 6, np.zeros((b, 6, 2)))]
    torch_h = simulate("torch", net, segs, b, chunk_steps=4)
    brian_h = simulate("brian2", net, segs, b, coupling=coupling, chunk_steps=5)
    np.testing.assert_allclose(brian_h, torch_h, rtol=0, atol=1e-9)


@pytest.mark.parametrize(("cell", "coupling"), PAIRS)
@pytest.mark.parametrize("dt_factor", [1, 4])
def test_frozen_noise_brian2_equals_the_torch_backend_pathwise(cell, coupling, dt_factor):
    b, t, n = 3, 10, 8
    net = make_net(cell, "tanh")
    inc = 0.05 * np.random.default_rng(2).normal(size=(t * dt_factor, b, n))
    noise = FrozenNoise(inc, dt=D / dt_factor)
    segs = [Segment("a", t, inputs(b, t, 2), {"recurrent": noise}, np.zeros((b, n)))]
    torch_h = simulate("torch", net, segs, b, dt_factor=dt_factor)
    brian_h = simulate("brian2", net, segs, b, dt_factor=dt_factor, coupling=coupling)
    np.testing.assert_allclose(brian_h, torch_h, rtol=0, atol=1e-9)
    assert np.abs(torch_h - simulate("torch", net, [Segment("a", t, segs[0].inputs, {}, np.zeros((b, n)))],
                                     b, dt_factor=dt_factor)).max() > 1e-3   # the noise is felt


@pytest.mark.parametrize("coupling", ["matmul", "synapses"])
@pytest.mark.parametrize("noise", ["off", "frozen"])
def test_float32_brian2_agrees_with_float32_torch(noise, coupling):
    """At ``dt_factor=1`` both float32 runs lie within the float32 rounding bound around the float64 run
    (:func:`backend_cases.float32_error_bound`, derived, not fitted), so they differ by at most twice it."""
    b, t, n = 3, 20, 8
    net = make_net("vanilla", "tanh")
    inc = 0.05 * np.random.default_rng(2).normal(size=(t, b, n))
    rec = {} if noise == "off" else {"recurrent": FrozenNoise(inc, dt=D)}
    segs = [Segment("a", t, inputs(b, t, 2), rec, np.random.default_rng(1).normal(size=(b, n)))]
    h64 = simulate("torch", net, segs, b)
    bound = float32_error_bound(net, segs, h64, None if noise == "off" else [inc])
    torch32 = simulate("torch", net, segs, b, dtype="float32").astype(np.float64)
    brian32 = simulate("brian2", net, segs, b, dtype="float32", coupling=coupling).astype(np.float64)
    assert np.all(np.abs(brian32 - torch32) <= 2 * bound)
    assert np.all(np.abs(brian32 - h64) <= bound) and np.all(np.abs(torch32 - h64) <= bound)


@pytest.mark.parametrize("cell", CELLS.names())
def test_protocols_agree_across_backends(cell):
    # Through Protocol.run: active inputs, a reset, frozen noise in quiescence: decoded outputs, states, readouts.
    net = _with_task(make_net(cell, "tanh"), cell)
    b, t = 4, 12
    frozen = FrozenNoise(0.05 * np.random.default_rng(3).normal(size=(t, b, net.n_rec)), dt=DT)
    proto = nrx.Protocol([nrx.Active(steps=10, noise={}), nrx.Quiescent(steps=t, noise=frozen),
                          nrx.Quiescent(steps=5, start="reset", noise={})])
    rec = {be: proto.run(net, backend=be, trials=b, seed=4, record=("h", "y"),
                         **({"coupling": "synapses", "target": "numpy"} if be == "brian2" else {}))
           for be in ("torch", "brian2")}
    np.testing.assert_allclose(rec["brian2"].h, rec["torch"].h, rtol=0, atol=1e-9)
    np.testing.assert_allclose(rec["brian2"].y, rec["torch"].y, rtol=0, atol=1e-8)
    np.testing.assert_allclose(rec["brian2"].decoded, rec["torch"].decoded, rtol=0, atol=1e-8)


def _with_task(net, cell):
    w = net.weights
    task = nrx.SpatialNavigation(n_cells=3, seed=0)
    rng = np.random.default_rng(5)
    return nrx.RateNetwork.from_arrays(encoder=rng.normal(size=(net.n_rec, 3)), w_in=w["w_in"], w_rec=w["w_rec"],
                                       w_out=w["w_out"], bias=w["bias"], tau=100 * ms, dt=DT, cell=cell,
                                       activation="tanh", task=task)


@pytest.mark.parametrize("cell", ["vanilla", "gru"])
@pytest.mark.parametrize("placement", ["recurrent", "input"])
def test_every_noise_model_runs_on_the_torch_backend(cell, placement):
    b, t, n, k = 3, 6, 8, 2
    net = make_net(cell, "tanh")
    models = noise_instances(placement, b, t, n, 2, k)
    x, h0 = inputs(b, t, 2), np.random.default_rng(9).normal(size=(b, n))
    quiet = simulate("torch", net, [Segment("off", t, x, {}, h0)], b, dt_factor=k)
    for name, model in models.items():
        h = simulate("torch", net, [Segment(name, t, x, {placement: model}, h0)], b, dt_factor=k)
        assert np.all(np.isfinite(h)), name
        if model.is_zero:
            np.testing.assert_array_equal(h, quiet, err_msg=name)
        else:
            assert np.abs(h - quiet).max() > 1e-3, name


def test_stateful_noise_continues_across_chunks_on_the_torch_backend():
    # OU state and frozen increments carry over chunk boundaries: the run does not depend on chunk_steps.
    b, t, n = 2, 9, 8
    net = make_net("vanilla", "tanh")
    x, h0 = inputs(b, t, 2), np.zeros((b, n))
    frozen = FrozenNoise(0.05 * np.random.default_rng(6).normal(size=(t, b, n)), dt=DT)
    for model in (frozen, OUNoise(0.5, 0.05), WhiteNoise(0.5)):
        segs = [Segment("a", t, x, {"recurrent": model}, h0)]
        whole = simulate("torch", net, segs, b, chunk_steps=t)
        np.testing.assert_allclose(simulate("torch", net, segs, b, chunk_steps=2), whole, rtol=0, atol=1e-12)
