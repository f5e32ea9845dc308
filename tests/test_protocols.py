"""Protocols: phases, their inputs, noise and starts; the Recording they produce."""

import math

import numpy as np
import pytest
from brian2 import ms
from netfactory import make_network

import neurorx as nrx
from neurorx.protocols import Active, Hook, Inputs, Protocol, Quiescent
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


def test_nan_names_the_phase_and_time():
    net = make_network(scale=50.0, activation="identity")
    with pytest.raises(nrx.backends.SimulationError, match="phase 'quiescent' at step"):
        Protocol([Quiescent(steps=400)]).run(net, trials=2)


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
