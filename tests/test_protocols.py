"""Protocols: phases, their inputs, noise and starts; the Recording they produce."""

import math

import numpy as np
import pytest
from brian2 import ms
from netfactory import divergence_step_and_time, make_network

import neurorx as nrx
from neurorx.protocols import PHASES, Active, Hook, Inputs, Protocol, Quiescent
from neurorx.recording import Recording


@pytest.fixture
def net():
    return make_network(noise={"recurrent": nrx.WhiteNoise.from_step_std(0.01, 20 * ms)})


def test_active_then_quiescent_layout(net):
    rec = Protocol([Active(steps=20), Quiescent(steps=30)]).run(net, trials=4, seed=0)
    assert rec.decoded.shape == (4, 50, 2)
    assert list(rec.phase[:20]) == ["active"] * 20 and list(rec.phase[20:]) == ["quiescent"] * 30
    np.testing.assert_allclose(rec.t, (np.arange(50) + 1) * 0.02)
    assert np.all(rec.inputs[:, 20:] == 0)
    # the animal is still during quiescence: the last true position is held
    np.testing.assert_array_equal(rec.states[:, 20:], np.repeat(rec.states[:, 19:20], 30, axis=1))
    # active inputs integrate to the true positions
    start = rec.states[:, 0] - rec.inputs[:, 0]
    np.testing.assert_allclose(rec.states[:, :20], start[:, None] + np.cumsum(rec.inputs[:, :20], axis=1))


def test_quiescent_noise_is_doubled_variance_by_default(net):
    q = Quiescent(steps=5).noise_models(net)["recurrent"]
    assert q.sigma == pytest.approx(net.noise["recurrent"].sigma * math.sqrt(2))
    same = Quiescent(steps=5, noise_scale=1.0).noise_models(net)["recurrent"]
    assert same == net.noise["recurrent"]
    swapped = Quiescent(steps=5, noise=nrx.OUNoise(0.1, 0.05)).noise_models(net)["recurrent"]
    assert isinstance(swapped, nrx.OUNoise) and swapped.sigma == pytest.approx(0.1 * math.sqrt(2))


def test_reset_and_continue(net):
    proto = Protocol([Active(steps=10), Quiescent(steps=10, start="reset", noise_scale=0.0)])
    segs, _ = proto.segments(net, net.task, 3, 0)
    np.testing.assert_array_equal(segs[0].h0, segs[1].h0)  # both at the encoded start
    segs, _ = Protocol([Active(steps=10), Quiescent(steps=10)]).segments(net, net.task, 3, 0)
    assert segs[1].h0 is None


def test_same_seed_same_recording_other_seed_differs(net):
    proto = Protocol([Active(steps=10), Quiescent(steps=10)])
    a, b = proto.run(net, trials=3, seed=5), proto.run(net, trials=3, seed=5)
    np.testing.assert_array_equal(a.decoded, b.decoded)
    assert not np.array_equal(a.decoded, proto.run(net, trials=3, seed=6).decoded)


def test_record_every_k(net):
    rec = Protocol([Active(steps=10), Quiescent(steps=11)]).run(net, trials=2, record=("h", "y"), every=4)
    np.testing.assert_array_equal(rec.record_index, [0, 4, 8, 12, 16, 20])
    assert rec.h.shape == (2, 6, net.n_rec) and rec.y.shape == (2, 6, net.n_out)
    np.testing.assert_allclose(rec.y, rec.h @ net.weights["w_out"].T)
    q = rec.select("quiescent")
    np.testing.assert_array_equal(q.record_index, [2, 6, 10])
    np.testing.assert_array_equal(q.h, rec.h[:, 3:])


def test_duration_in_time_units(net):
    assert Quiescent(duration=400 * ms).n_steps(net) == 20
    with pytest.raises(ValueError, match="whole number"):
        Quiescent(duration=30 * ms).n_steps(net)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Active(steps=-3), "positive integer"),
        (lambda: Quiescent(), "exactly one"),
        (lambda: Quiescent(steps=3, start="middle"), "start"),
        (lambda: Quiescent(steps=3, noise_scale=-1), "noise_scale"),
        (lambda: Quiescent(steps=3, noise="pink"), "unknown noise model"),
        (lambda: Protocol([]), "at least one phase"),
    ],
)
def test_bad_phases_are_refused(net, make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        obj = make()
        if isinstance(obj, Quiescent):
            Protocol([obj]).run(net, trials=2)


def test_inputs_phase_checks_shape(net):
    with pytest.raises(ValueError, match="input channels"):
        Protocol([Inputs(values=np.zeros((5, 3)))]).run(net, trials=2)
    rec = Protocol([Inputs(values=np.ones((5, 2)) * 0.01)]).run(net, trials=2)
    assert rec.inputs.shape == (2, 5, 2) and np.isnan(rec.states).all()


def test_select_unknown_phase_names_the_choices(net):
    rec = Protocol([Active(steps=3)]).run(net, trials=2)
    with pytest.raises(ValueError, match="0: active"):
        rec.select("sleep")


def test_recording_without_h_says_how_to_record(net):
    rec = Protocol([Active(steps=3)]).run(net, trials=2)
    with pytest.raises(ValueError, match=r"record=\('h',\)"):
        rec.require("h")


def test_recording_round_trip(net, tmp_path):
    rec = Protocol([Active(steps=5), Quiescent(steps=5)]).run(net, trials=2, record=("h",), every=2)
    path = rec.save(tmp_path / "rec.npz")
    back = Recording.load(path)
    for name in ("t", "phase", "phase_index", "decoded", "states", "inputs", "h", "record_index"):
        np.testing.assert_array_equal(getattr(back, name), getattr(rec, name))
    assert back.phases == rec.phases and back.meta["seed"] == 0
    with pytest.raises(FileExistsError):
        rec.save(path)


class CountingHook(Hook):
    name = "count"

    def start(self, network, trials, phases):
        self.n = {}

    def update(self, phase, steps, h, y, decoded):
        self.n[phase] = self.n.get(phase, 0) + h.shape[1]

    def result(self):
        return {k: np.array(v) for k, v in self.n.items()}


def test_hooks_see_every_step_once(net):
    rec = Protocol([Active(steps=7), Quiescent(steps=9)]).run(net, trials=2, hooks=[CountingHook()],
                                                              memory_budget=8 * 2 * 16 * 3)
    assert int(rec.hooks["count"]["active"]) == 7 and int(rec.hooks["count"]["quiescent"]) == 9


def test_nan_names_the_phase_and_time(backend, backend_options):
    net = make_network(scale=50.0, activation="identity")
    reason = getattr(nrx.backends.get_backend(backend), "unsupported", lambda net: None)(net)
    if reason:   # a spiking backend refuses a signed activation (tested in tests/backends/test_spiking.py)
        pytest.skip(reason)
    opts = backend_options
    with pytest.raises(nrx.backends.SimulationError, match="phase 'quiescent' at step") as info:
        Protocol([Active(steps=2), Quiescent(steps=400)]).run(net, backend=backend, trials=2, **opts)
    step, t = divergence_step_and_time(info.value)
    assert t == pytest.approx((2 + step) * 0.02, rel=1e-3)   # the quiescent phase starts after 2 active steps


def test_pca_on_a_recording_without_states_says_how_to_record(net):
    import neurorx.plotting as nplt

    rec = Protocol([Active(steps=5), Quiescent(steps=5)]).run(net, trials=2)
    with pytest.raises(ValueError, match="record"):
        nplt.explained_variance_ratios([rec])


def test_to_xarray_labels_dimensions(net):
    xr = pytest.importorskip("xarray")
    rec = Protocol([Active(steps=5), Quiescent(steps=5)]).run(net, trials=2, record=("h",), every=2)
    ds = rec.to_xarray()
    assert isinstance(ds, xr.Dataset) and ds["decoded"].dims == ("trial", "time", "dim")
    assert ds["h"].shape == (2, 5, net.n_rec)


# -- options, noise specs and phases a user writes ----------------------------------------------------------
@pytest.mark.parametrize(("options", "match"), [
    ({"record_every": 2}, r"record_every= is set by Protocol.run.*every=k"),
    ({"chunk_steps": 5}, r"chunk_steps= is set by Protocol.run.*memory_budget"),
    ({"coupling": "matmul"},
     r"'torch' backend takes no option 'coupling' \('coupling' is an option of the 'brian2' backend\)"),
    ({"colour": "red"}, r"takes no option 'colour'; its options are dtype"),
])
def test_backend_options_the_backend_does_not_take_are_refused(net, options, match):
    with pytest.raises(ValueError, match=match):
        Protocol([Active(steps=3)]).run(net, trials=2, **options)


def test_noise_mapping_keys_are_placements(net):
    with pytest.raises(ValueError, match=r"Quiescent\(noise=...\): unknown noise placement 'recurent'"):
        Quiescent(steps=3, noise={"recurent": nrx.WhiteNoise(5.0)})
    # a model given under a key takes that placement
    models = Quiescent(steps=3, noise={"input": nrx.WhiteNoise(0.5)}, noise_scale=1.0).noise_models(net)
    assert set(models) == {"input"} and models["input"].placement == "input"


def test_unknown_noise_name_fails_when_the_phase_is_made():
    with pytest.raises(ValueError, match=r"Quiescent\(noise=...\): unknown noise model 'pink'; choose one of"):
        Quiescent(steps=3, noise="pink")


def test_negative_duration_names_the_phase():
    with pytest.raises(ValueError, match="Quiescent: duration must be positive"):
        Quiescent(duration=-20 * ms)


def test_output_noise_keeps_its_state_across_chunks(net):
    # Frozen output increments are added step by step, whatever the chunking.
    b, t = 2, 10
    inc = np.random.default_rng(0).normal(size=(t, b, net.n_out))
    proto = Protocol([Quiescent(steps=t, noise_scale=1.0,
                                noise={"output": nrx.FrozenNoise(inc, dt=net.dt, placement="output")})])
    for budget in (32e6, 8 * b * net.n_out * 3):      # one chunk; chunks of 3 steps
        rec = proto.run(net, trials=b, record=("h", "y"), memory_budget=budget)
        np.testing.assert_allclose(rec.y, net.readout(rec.h) + inc.transpose(1, 0, 2), rtol=0, atol=1e-12)
    # random output noise: the same draws whatever the chunking, also when trials*n_out is no multiple of 16
    odd = make_network(n_cells=10, noise={"recurrent": nrx.WhiteNoise.from_step_std(0.01, 20 * ms)})
    for model in (nrx.OUNoise(1.0, 0.2, placement="output"), nrx.WhiteNoise(1.0, placement="output")):
        proto = Protocol([Quiescent(steps=t, noise={"output": model})])
        whole = proto.run(odd, trials=3, record=("y",))
        chunked = proto.run(odd, trials=3, record=("y",), memory_budget=8 * 3 * odd.n_rec * 3)
        np.testing.assert_allclose(chunked.y, whole.y, rtol=0, atol=1e-12, err_msg=type(model).__name__)


class Ramp(nrx.Phase):
    """A user-defined phase: a constant drift to the right."""

    kind = "ramp"

    def inputs(self, ctx, steps):
        x = np.zeros((ctx.trials, steps, ctx.network.n_in))
        x[..., 0] = 0.01
        return x, ctx.last_states[:, None, :] + np.cumsum(x, axis=1)


class Broken(nrx.Phase, register=False):
    kind = "broken"

    def inputs(self, ctx, steps):
        return np.full((ctx.trials, steps, ctx.network.n_in), np.nan), np.zeros((ctx.trials, steps, 2))


def test_user_phases_and_inputs_run_on_every_backend(net, backend, backend_options):
    opts = backend_options
    values = np.random.default_rng(1).normal(size=(2, 4, 2)) * 0.01
    proto = Protocol([Active(steps=3), Ramp(steps=5, noise_scale=0.0), Inputs(values=values, noise_scale=0.0)])
    rec = proto.run(net, backend=backend, trials=2, record=("h",), **opts)
    assert list(rec.phase) == ["active"] * 3 + ["ramp"] * 5 + ["inputs"] * 4
    np.testing.assert_array_equal(rec.inputs[:, 3:8, 0], 0.01)
    np.testing.assert_array_equal(rec.inputs[:, 8:], values)
    np.testing.assert_allclose(rec.states[:, 7, 0] - rec.states[:, 2, 0], 0.05)
    with pytest.raises(ValueError, match=r"phase 0 \(broken\) made inputs containing NaN"):
        Protocol([Broken(steps=2)]).run(net, backend=backend, trials=2, **opts)
    with pytest.raises(ValueError, match="values are for 2 trials but the run has 3"):
        Protocol([Inputs(values=values)]).run(net, backend=backend, trials=3, **opts)


def test_recording_round_trip_and_xarray_keep_outputs(net, tmp_path):
    xr = pytest.importorskip("xarray")
    rec = Protocol([Active(steps=4), Quiescent(steps=4)]).run(net, trials=2, record=("h", "y"), every=3)
    back = Recording.load(rec.save(tmp_path / "rec.npz"))
    np.testing.assert_array_equal(back.y, rec.y)
    ds = rec.to_xarray()
    assert isinstance(ds, xr.Dataset) and ds["y"].shape == (2, 3, net.n_out)
    np.testing.assert_array_equal(ds["y"].values, rec.y)


@pytest.mark.parametrize(("make", "exc", "match"), [
    (lambda net: Protocol(Active(steps=5)), TypeError, r"list of phases, e.g. Protocol\(\[Active\(...\)\]\)"),
    (lambda net: Protocol([Active(steps=5)]).run(net, trials=2, seed=-1), ValueError, "seed must be a non-negative"),
    (lambda net: Protocol([Active(steps=5)]).run(net, trials=2, seed=None), ValueError, "seed must be"),
])
def test_protocol_misuse_names_the_fix(net, make, exc, match):
    with pytest.raises(exc, match=match):
        make(net)


def test_a_backend_that_does_not_list_its_options_gets_them(net, monkeypatch):
    import neurorx.protocol_run

    seen = {}

    class Plain:   # written to the Backend protocol without an `options` attribute
        name = "plain"

        def simulate(self, network, segments, *, trials, seed, dt_factor=1, chunk_steps=100, dtype="float64",
                     **options):
            seen.update(options, dtype=dtype)
            return nrx.backends.get_backend("torch").simulate(network, segments, trials=trials, seed=seed,
                                                               dt_factor=dt_factor, chunk_steps=chunk_steps)

    real = neurorx.protocol_run.get_backend
    monkeypatch.setattr(neurorx.protocol_run, "get_backend", lambda name: Plain() if name == "plain" else real(name))
    rec = Protocol([Active(steps=3)]).run(net, backend="plain", trials=2, dtype="float32", colour="red")
    assert rec.decoded.shape == (2, 3, 2) and seen == {"dtype": "float32", "colour": "red"}


# -- the phase registry --------------------------------------------------------------------------------------
def test_every_registered_phase_runs_on_every_backend(net, backend, backend_options):
    # iterates the registry: a phase registered anywhere (here: Ramp, defined in this file) is run too
    assert {"active", "quiescent", "inputs", "ramp"} <= set(PHASES.names())
    for kind, cls in PHASES.items():
        rec = Protocol([Active(steps=2), cls.example(net, 3)]).run(net, backend=backend, trials=2, seed=1,
                                                                   **backend_options)
        assert rec.decoded.shape == (2, 5, 2), kind
        assert np.isfinite(rec.decoded).all(), kind
        assert rec.phases[1]["kind"] == kind and list(rec.phase[2:]) == [cls.example(net, 3).name] * 3


def test_a_phase_defined_in_a_test_file_is_found_by_the_cli(net):
    from neurorx.cli.run import parse_phase

    assert PHASES.get("ramp") is Ramp
    phase = parse_phase("ramp:4:noise_scale=0")
    assert isinstance(phase, Ramp) and phase.n_steps(net) == 4 and phase.noise_scale == 0.0
    assert "broken" not in PHASES     # register=False keeps a subclass out


def test_a_second_class_cannot_claim_a_registered_kind():
    with pytest.raises(ValueError, match=r"phase kind 'quiescent' is already registered by neurorx\.phases\.Quiescent"):
        class Sleep(nrx.Phase):
            kind = "quiescent"


def test_the_import_path_neurorx_runner_is_the_protocol_runner_module_itself():
    import neurorx.protocol_run
    import neurorx.runner
    from neurorx.runner import Protocol

    assert neurorx.runner is neurorx.protocol_run and Protocol is nrx.Protocol
