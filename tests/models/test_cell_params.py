"""Cell parameters are data: fields of the cell, set in a card's ``rnn`` section, saved in the network file."""

import numpy as np
import pytest
import torch
from brian2 import ms

import neurorx as nrx
from neurorx.errors import ConfigurationError, FileFormatError
from neurorx.io import read_npz, write_npz
from neurorx.models import get_cell
from neurorx.training import apply_overrides, load_card

DALE = get_cell("dale")


def test_a_cards_rnn_section_sets_the_cells_parameters_and_the_model_is_built_with_them():
    cfg = apply_overrides(load_card("spatial_navigation/noisy_unbiased_dale"),
                          ["rnn.n_rec=20", "rnn.gamma_shape=2", "rnn.excitatory_fraction=0.5"])
    assert cfg.rnn.params == {"gamma_shape": 2, "excitatory_fraction": 0.5}
    assert cfg.to_dict()["rnn"]["gamma_shape"] == 2                       # flat, next to `cell`
    model = cfg.build_model()
    assert (model.cell.gamma_shape, model.cell.excitatory_fraction, model.cell.init_radius) == (
        2.0, 0.5, DALE.init_radius)
    w = model.w_rec.weight.detach()
    assert torch.all(w[:, :10] >= 0) and torch.all(w[:, 10:] <= 0)        # 10 E, 10 I units


def test_a_card_without_cell_parameters_keeps_its_card_form_and_builds_the_default_cell():
    cfg = load_card("spatial_navigation/noisy_unbiased_dale")
    assert cfg.rnn.params == {} and not set(DALE.params()) & set(cfg.to_dict()["rnn"])
    assert cfg.rnn.cell_object() == DALE
    assert cfg.rnn.resolved().params == DALE.params()


def test_an_unknown_rnn_key_names_the_cells_parameters():
    cfg = load_card("spatial_navigation/noisy_unbiased_dale")
    with pytest.raises(ConfigurationError, match=r"unknown key 'rnn\.gama_shape'.*Did you mean.*gamma_shape"):
        apply_overrides(cfg, ["rnn.gama_shape=2"])
    vanilla = load_card("spatial_navigation/noisy_unbiased")
    with pytest.raises(ConfigurationError, match=r"unknown key 'rnn\.gamma_shape'"):
        apply_overrides(vanilla, ["rnn.gamma_shape=2"])
    with pytest.raises(ConfigurationError, match=r"parameter excitatory_fraction must be a number in \(0, 1\)"):
        apply_overrides(cfg, ["rnn.excitatory_fraction=1.5"])


def _small_dale(fraction=0.5, n=10):
    """A random Dale network of ``n`` units, ``round(fraction * n)`` of them excitatory, on a 3-cell task."""
    rng = np.random.default_rng(0)
    task = nrx.SpatialNavigation(n_cells=3, seed=0)
    n_e = round(fraction * n)
    w_rec = np.abs(rng.normal(size=(n, n))) * 0.1
    w_rec[:, n_e:] *= -1
    w_out = rng.normal(size=(3, n))
    w_out[:, n_e:] = 0
    return nrx.RateNetwork.from_arrays(
        encoder=rng.normal(size=(n, 3)), w_in=rng.normal(size=(n, task.n_in)), w_rec=w_rec, w_out=w_out,
        tau=100 * ms, dt=20 * ms, cell="dale", cell_params={"excitatory_fraction": fraction}, task=task)


def test_the_network_file_holds_the_cells_parameters_and_reads_them_back(tmp_path):
    net = _small_dale(0.5)
    assert net.cell_params == {**DALE.params(), "excitatory_fraction": 0.5}
    assert net.cell_object.populations(net.n_rec) == {"E": slice(0, 5), "I": slice(5, 10)}
    back = nrx.load(net.save(tmp_path / "net.npz"))
    assert back.cell_params == net.cell_params and back.cell_object == net.cell_object
    assert read_npz(tmp_path / "net.npz")[1]["cell_params"] == net.cell_params
    assert back.to_torch().cell == net.cell_object


def test_a_network_file_without_cell_parameters_loads_with_the_defaults(tmp_path):
    net = _small_dale(0.8)
    arrays, meta = read_npz(net.save(tmp_path / "net.npz"))
    del meta["cell_params"]
    write_npz(tmp_path / "old.npz", arrays, meta)
    assert nrx.load(tmp_path / "old.npz").cell_params == DALE.params()
    shipped = nrx.load("head_direction/noisy_unbiased_dale")            # written before cells had parameters
    assert shipped.cell_params == DALE.params()


def test_a_network_files_bad_cell_parameter_is_one_line_naming_it(tmp_path):
    arrays, meta = read_npz(_small_dale(0.5).save(tmp_path / "net.npz"))
    meta["cell_params"]["gamma_shape"] = -1
    write_npz(tmp_path / "bad.npz", arrays, meta)
    with pytest.raises(FileFormatError, match=r"gamma_shape must be a number > 0"):
        nrx.load(tmp_path / "bad.npz")


def test_the_excitatory_fraction_of_the_file_decides_which_weights_break_dales_law():
    net = _small_dale(0.5)
    w = dict(net.weights)
    with pytest.raises(ConfigurationError, match="breaks Dale's law"):
        net.with_changes(cell_params={"excitatory_fraction": 0.8}, weights=w)


@pytest.mark.parametrize("backend", ["torch", "brian2"])
def test_a_network_with_other_cell_parameters_runs_on_both_backends_alike(backend):
    net = _small_dale(0.3)
    protocol = nrx.Protocol([nrx.Quiescent(steps=5, noise_scale=0)])
    options = {"target": "numpy", "dtype": "float64"} if backend == "brian2" else {}
    rec = protocol.run(net, backend=backend, trials=2, seed=0, record=("h",), **options)
    ref = protocol.run(net, backend="torch", trials=2, seed=0, record=("h",))
    np.testing.assert_allclose(rec.h, ref.h, atol=1e-6)
