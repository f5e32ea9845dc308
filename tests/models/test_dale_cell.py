"""The Dale E/I cell: sign structure at initialisation, after training and on load; rates, readout, Brian2 groups."""

import numpy as np
import pytest
import torch
from brian2 import ms

import neurorx as nrx
from neurorx.activations import get_activation
from neurorx.backends import brian2_backend as bb
from neurorx.errors import ConfigurationError, FileFormatError
from neurorx.io import read_npz, write_npz
from neurorx.models import get_cell
from neurorx.models.rnn import RecurrentModel
from neurorx.training import apply_overrides, load_card, train

DALE = get_cell("dale")
TINY = ["rnn.n_rec=20", "trainer.n_epochs=6", "trainer.batch_size=8", "trainer.steps=10", "trainer.eval_every=3",
        "trainer.test_batch=8", "task.n_cells=16", "trainer.lr=3e-2", "trainer.threads=1"]


def dale_arrays(n=10, n_in=2, n_out=3, seed=0):
    rng = np.random.default_rng(seed)
    w = {"w_rec": torch.as_tensor(rng.normal(size=(n, n))), "w_out": torch.as_tensor(rng.normal(size=(n_out, n)))}
    DALE.project_(w)
    return dict(encoder=rng.normal(size=(n, 4)), w_in=rng.normal(size=(n, n_in)), w_rec=w["w_rec"].numpy(),
                w_out=w["w_out"].numpy(), tau=100 * ms, dt=20 * ms, cell="dale")


def assert_dale(w_rec, w_out, n_e):
    assert np.all(w_rec[:, :n_e] >= 0), "an excitatory column has a negative weight"
    assert np.all(w_rec[:, n_e:] <= 0), "an inhibitory column has a positive weight"
    assert np.all(w_out[:, n_e:] == 0), "the readout reads an inhibitory unit"


def test_populations_are_80_20_and_cover_every_unit():
    assert DALE.populations(10) == {"E": slice(0, 8), "I": slice(8, 10)}
    assert DALE.populations(512) == {"E": slice(0, 410), "I": slice(410, 512)}
    assert DALE.populations(2) == {"E": slice(0, 1), "I": slice(1, 2)}
    with pytest.raises(ConfigurationError, match="at least 2 units"):
        DALE.populations(1)


def test_initialisation_is_signed_balanced_and_at_the_reference_radius():
    torch.manual_seed(0)
    model = RecurrentModel("dale", 3, 50, 4, 4, 0.2)
    w = model.w_rec.weight.detach().double().numpy()
    assert_dale(w, model.w_out.weight.detach().numpy(), 40)
    assert np.all(np.diag(w) == 0)
    np.testing.assert_allclose(w.sum(axis=1), 0, atol=1e-5)                  # every row: E input = I input
    np.testing.assert_allclose(np.abs(np.linalg.eigvals(w)).max(), 1 / np.sqrt(3), rtol=1e-5)
    assert np.abs(model.w_out.weight.detach().numpy()[:, :40]).min() > 0      # E columns keep their init


def test_units_communicate_through_nonnegative_rates():
    # A negative state of an E unit must not inhibit its targets: the drift sees [h]+.
    torch.manual_seed(1)
    w = torch.rand(4, 4, dtype=torch.float64) * DALE.signs(4)   # units 0-2 E, unit 3 I
    u = torch.zeros(1, 4, dtype=torch.float64)
    h = torch.tensor([[-2.0, 0.5, 0.0, 0.3]], dtype=torch.float64)
    act = get_activation("relu")
    expected = torch.relu(torch.relu(h) @ w.T + u) - h
    torch.testing.assert_close(DALE.drift(h, u, w, act), expected, rtol=0, atol=1e-15)
    assert not torch.allclose(DALE.drift(h, u, w, act), get_cell("vanilla").drift(h, u, w, act))


def test_signs_hold_after_training_steps_and_in_the_saved_file(tmp_path):
    cfg = apply_overrides(load_card("spatial_navigation/noisy_unbiased_dale"), TINY)
    net = train(cfg, tmp_path, quiet=True)
    n_e = DALE.n_excitatory(20)
    assert_dale(net.weights["w_rec"], net.weights["w_out"], n_e)
    loaded = nrx.RateNetwork.load(tmp_path / "network.npz")
    assert loaded.cell == "dale"
    assert_dale(loaded.weights["w_rec"], loaded.weights["w_out"], n_e)
    # training moved the weights, and some moved onto the constraint (clamped to zero)
    start = cfg.build_model().w_rec.weight.detach().numpy()
    assert np.abs(net.weights["w_rec"] - start).max() > 1e-3
    assert np.sum((net.weights["w_rec"] == 0) & (start != 0)) > 0


def test_projection_clamps_wrong_signs_and_zeroes_the_inhibitory_readout():
    w = {"w_rec": torch.tensor([[1.0, -1.0, 2.0], [-3.0, 1.0, -1.0], [0.5, 0.5, 0.5]]),
         "w_out": torch.ones(2, 3)}
    DALE.project_(w)   # n = 3: units 0, 1 E (round(2.4) = 2), unit 2 I
    torch.testing.assert_close(w["w_rec"], torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, -1.0], [0.5, 0.5, 0.0]]))
    torch.testing.assert_close(w["w_out"], torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0]]))


@pytest.mark.parametrize(("key", "index", "value", "match"), [
    ("w_rec", (0, 1), -0.5, r"excitatory column\(s\) \[1\]"),
    ("w_rec", (3, 9), 0.5, r"inhibitory column\(s\) \[9\]"),
    ("w_out", (0, 8), 0.1, "w_out reads inhibitory units"),
])
def test_a_network_breaking_dales_law_is_refused_in_memory_and_on_load(tmp_path, key, index, value, match):
    arrays = dale_arrays()
    good = nrx.RateNetwork.from_arrays(**arrays)
    path = good.save(tmp_path / "good.npz")
    arrays[key] = arrays[key].copy()
    arrays[key][index] = value
    with pytest.raises(ConfigurationError, match=match):
        nrx.RateNetwork.from_arrays(**arrays)
    data, meta = read_npz(path)
    data[f"weights/{key}"] = data[f"weights/{key}"].copy()
    data[f"weights/{key}"][index] = value
    write_npz(tmp_path / "bad.npz", data, meta)
    with pytest.raises(FileFormatError, match=match + ".*project_"):
        nrx.RateNetwork.load(tmp_path / "bad.npz")


def test_readout_reads_the_excitatory_units_only():
    net = nrx.RateNetwork.from_arrays(**dale_arrays())
    h = np.random.default_rng(3).normal(size=(5, 10))
    h_i = h.copy()
    h_i[:, 8:] += 7.0
    np.testing.assert_array_equal(net.readout(h), net.readout(h_i))
    h_e = h.copy()
    h_e[:, 0] += 1.0
    assert np.abs(net.readout(h) - net.readout(h_e)).max() > 1e-3


@pytest.mark.parametrize("coupling", ["matmul", "synapses"])
def test_brian2_network_has_separate_e_and_i_groups_coupled_by_four_blocks(coupling):
    net = nrx.RateNetwork.from_arrays(**dale_arrays())
    bnet = bb.build_network(net, trials=3, coupling=coupling, h0=np.arange(30.0).reshape(3, 10))
    names = {obj.name for obj in bnet.objects}
    assert {"neurons_E", "neurons_I"} <= names and "neurons" not in names
    e, i = bnet["neurons_E"], bnet["neurons_I"]
    assert (len(e), len(i)) == (3 * 8, 3 * 2)
    np.testing.assert_array_equal(e.unit[:], np.tile(np.arange(8), 3))
    np.testing.assert_array_equal(i.unit[:], np.tile(np.arange(8, 10), 3))
    np.testing.assert_array_equal(i.h[:], np.arange(30.0).reshape(3, 10)[:, 8:].ravel())
    prefix = "recurrent_" if coupling == "synapses" else "recurrent_matmul_"
    blocks = {f"{prefix}{pre}_to_{post}" for pre in "EI" for post in "EI"}
    assert blocks <= names
    if coupling == "synapses":   # E -> I synapses carry the w_rec block [I rows, E columns], all >= 0
        syn = bnet["recurrent_E_to_I"]
        assert len(syn) == 3 * 8 * 2
        np.testing.assert_allclose(np.asarray(syn.w[:]), np.tile(net.weights["w_rec"][8:, :8].T.ravel(), 3))
        assert np.all(np.asarray(bnet["recurrent_I_to_E"].w[:]) <= 0)


def test_a_checkpoint_records_the_cells_parameters_and_a_resume_with_others_is_refused(tmp_path):
    cfg = apply_overrides(load_card("spatial_navigation/noisy_unbiased_dale"), TINY)
    train(apply_overrides(cfg, ["trainer.n_epochs=3"]), tmp_path, quiet=True)
    meta = read_npz(tmp_path / "checkpoint.npz")[1]
    assert {k: meta["config"]["rnn"][k] for k in DALE.params()} == DALE.params()
    with pytest.raises(ConfigurationError, match=r"the configuration differs in rnn\.gamma_shape"):
        train(apply_overrides(cfg, ["rnn.gamma_shape=2"]), tmp_path, resume=True, quiet=True)
    assert train(cfg, tmp_path, resume=True, quiet=True).metrics["final"]["batch"] == 6


def _as_written_before_cell_parameters(tmp_path, cell_settings):
    """Rewrite a checkpoint as neurorx wrote it when the cell's parameters were class attributes."""
    arrays, meta = read_npz(tmp_path / "checkpoint.npz")
    for name in DALE.params():
        del meta["config"]["rnn"][name]
    if cell_settings is not None:
        meta["cell_settings"] = cell_settings
    write_npz(tmp_path / "checkpoint.npz", arrays, meta, overwrite=True)


@pytest.mark.parametrize("recorded", [True, False], ids=["with-cell-settings", "before-cell-settings"])
def test_a_checkpoint_written_when_cell_parameters_were_class_settings_still_resumes(tmp_path, recorded):
    cfg = apply_overrides(load_card("spatial_navigation/noisy_unbiased_dale"), TINY)
    full = train(cfg, None, quiet=True)
    train(apply_overrides(cfg, ["trainer.n_epochs=3"]), tmp_path, quiet=True)
    _as_written_before_cell_parameters(tmp_path, DALE.settings() if recorded else None)
    resumed = train(cfg, tmp_path, resume=True, quiet=True)
    assert all(np.array_equal(resumed.weights[k], v) for k, v in full.weights.items())


def test_a_checkpoint_written_with_other_class_settings_names_the_parameter_that_differs(tmp_path):
    cfg = apply_overrides(load_card("spatial_navigation/noisy_unbiased_dale"), TINY)
    train(apply_overrides(cfg, ["trainer.n_epochs=3"]), tmp_path, quiet=True)
    _as_written_before_cell_parameters(tmp_path, {**DALE.settings(), "gamma_shape": 2.0})
    with pytest.raises(ConfigurationError, match=r"the configuration differs in rnn\.gamma_shape"):
        train(cfg, tmp_path, resume=True, quiet=True)
    assert train(apply_overrides(cfg, ["rnn.gamma_shape=2"]), tmp_path, resume=True, quiet=True)
