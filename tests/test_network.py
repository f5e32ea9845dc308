"""RateNetwork: the immutable artefact, its exact file round trip, and its refusal of bad input."""

import zipfile

import numpy as np
import pytest
import torch
from brian2 import ms
from netfactory import make_network

import neurorx as nrx
from neurorx.io import CorruptFileError


def test_round_trip_is_exact_and_never_unpickles(tmp_path):
    net = make_network(noise={"recurrent": nrx.ReferenceUniformNoise(0.01, 20 * ms)}, cell="gru")
    path = net.save(tmp_path / "net.npz")
    with np.load(path, allow_pickle=False) as data:  # plain arrays only
        assert all(data[k].dtype != object for k in data.files)
    back = nrx.load(path)
    for key in net.weights:
        assert np.array_equal(net.weights[key], back.weights[key])
        assert net.weights[key].dtype == back.weights[key].dtype
    assert back.noise == net.noise and back.tau == net.tau and back.dt == net.dt and back.cell == "gru"
    assert np.array_equal(back.task.encode(np.zeros((1, 2))), net.task.encode(np.zeros((1, 2))))
    assert back.provenance["torch"] == torch.__version__


def test_weights_are_immutable():
    net = make_network()
    with pytest.raises(ValueError):
        net.weights["w_rec"][0, 0] = 1.0
    with pytest.raises(TypeError):
        net.weights["w_rec"] = np.zeros((8, 8))


def test_save_refuses_to_overwrite(tmp_path):
    net = make_network()
    path = net.save(tmp_path / "net.npz")
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match=r"overwrite=True"):
        make_network(seed=1).save(path)
    assert path.read_bytes() == before
    make_network(seed=1).save(path, overwrite=True)
    assert path.read_bytes() != before


def test_truncated_and_foreign_files_give_clear_errors(tmp_path):
    path = make_network().save(tmp_path / "net.npz")
    data = path.read_bytes()
    (tmp_path / "trunc.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFileError, match="truncated or corrupt"):
        nrx.load(tmp_path / "trunc.npz")
    np.savez(tmp_path / "plain.npz", a=np.zeros(3))
    with pytest.raises(CorruptFileError, match=r"not a network file|no neurorx metadata"):
        nrx.load(tmp_path / "plain.npz")
    with pytest.raises(FileNotFoundError):
        nrx.load(tmp_path / "missing.npz")
    (tmp_path / "net.yml").write_text("name: spatial_navigation/noisy_unbiased\n")
    with pytest.raises(CorruptFileError, match=r"not a network file.*model card: the network is the .npz"):
        nrx.load(tmp_path / "net.yml")
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(CorruptFileError, match="not a network file"):
        nrx.load(tmp_path / "empty.npz")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        nrx.load(tmp_path)


def test_saving_onto_a_directory_names_the_problem_and_keeps_it(tmp_path):
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "keep.txt").write_text("kept")
    with pytest.raises(IsADirectoryError, match=r"is a directory; give a file name inside it"):
        make_network().save(folder, overwrite=True)
    assert (folder / "keep.txt").read_text() == "kept" and sorted(p.name for p in folder.iterdir()) == ["keep.txt"]


def test_pickled_arrays_are_refused(tmp_path):
    path = make_network().save(tmp_path / "net.npz")
    with zipfile.ZipFile(path, "a") as zf:  # smuggle an object array into the archive
        import io

        buf = io.BytesIO()
        np.save(buf, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
        zf.writestr("weights/evil.npy", buf.getvalue())
    with pytest.raises(CorruptFileError):
        nrx.load(path)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"tau": 10 * ms}, "larger than tau"),
        ({"tau": -1 * ms}, "positive"),
        ({"dt": 0 * ms}, "positive"),
        ({"tau": 100}, "units"),
        ({"activation": "relux"}, "unknown activation"),
        ({"cell": "lstm"}, "unknown cell type"),
    ],
)
def test_bad_parameters_are_refused(change, match):
    rng = np.random.default_rng(0)
    kwargs = dict(encoder=rng.normal(size=(4, 3)), w_in=rng.normal(size=(4, 2)), w_rec=rng.normal(size=(4, 4)),
                  w_out=rng.normal(size=(3, 4)), tau=100 * ms, dt=20 * ms)
    kwargs.update(change)
    with pytest.raises((ValueError, TypeError), match=match):
        nrx.RateNetwork.from_arrays(**kwargs)


def test_from_arrays_detects_transposed_weights():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="w_out has shape"):
        nrx.RateNetwork.from_arrays(encoder=rng.normal(size=(4, 3)), w_in=rng.normal(size=(4, 2)),
                                    w_rec=rng.normal(size=(4, 4)), w_out=rng.normal(size=(4, 5)),
                                    tau=100 * ms, dt=20 * ms)
    with pytest.raises(ValueError, match="NaN"):
        nrx.RateNetwork.from_arrays(encoder=np.full((4, 3), np.nan), w_in=rng.normal(size=(4, 2)),
                                    w_rec=rng.normal(size=(4, 4)), w_out=rng.normal(size=(3, 4)),
                                    tau=100 * ms, dt=20 * ms)


def test_to_torch_carries_the_weights():
    net = make_network(cell="gru")
    model = net.to_torch(torch.float64)
    for name, tensor in model.weights().items():
        np.testing.assert_array_equal(tensor.detach().numpy(), net.weights[name])
    assert model.alpha == pytest.approx(0.2)
    assert net.alpha == pytest.approx(0.2)


def test_saved_files_get_the_usual_permissions(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        path = make_network().save(tmp_path / "net.npz")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_a_network_with_slow_times_given_with_units_saves_and_loads(tmp_path):
    from brian2 import second

    task = nrx.SpatialNavigation(n_cells=16, seed=0, dt=1 * second)
    net = make_network(task=task, dt=1 * second, tau=5 * second,
                       noise={"recurrent": nrx.OUNoise(0.1, 2 * second)})
    back = nrx.load(net.save(tmp_path / "slow.npz"))
    assert back.task.dt == 1.0 and back.noise["recurrent"].tau_noise == 2.0


@pytest.mark.parametrize("field,value,match", [
    ("tau", "40 ms", r"metadata field 'tau' is '40 ms', not a number"),
    ("noise", [1, 2], r"metadata field 'noise' is \[1, 2\], not an object"),
    ("config", [["a"]], r"metadata field 'config' is \[\['a'\]\], not an object"),
    ("cell", None, r"metadata field 'cell' is None, not a string"),
])
def test_metadata_of_the_wrong_type_names_the_field(tmp_path, field, value, match):
    from neurorx.io import CorruptFileError, read_npz, write_npz

    good = tmp_path / "good.npz"
    make_network().save(good)
    arrays, meta = read_npz(good)
    meta[field] = value
    write_npz(tmp_path / "bad.npz", arrays, meta)
    with pytest.raises(CorruptFileError, match=match):
        nrx.load(tmp_path / "bad.npz")


def test_from_arrays_reads_times_with_units_and_names_a_ragged_list():
    from brian2 import ms

    from neurorx.errors import ConfigurationError

    w = make_network().weights
    net = nrx.RateNetwork.from_arrays(**w, tau="40 ms", dt=20 * ms)
    assert net.tau == pytest.approx(0.04)
    with pytest.raises(ConfigurationError, match="w_in is a ragged nested list"):
        nrx.RateNetwork.from_arrays(**{**w, "w_in": [[1.0, 2.0], [3.0]]}, tau=40 * ms, dt=20 * ms)


def test_load_finds_a_shipped_network_by_name():
    from neurorx.zoo import find_network, list_networks, models_dir

    assert "spatial_navigation/noisy_unbiased" in list_networks()
    net = nrx.load("spatial_navigation/noisy_unbiased")
    same = nrx.load(models_dir() / "spatial_navigation" / "noisy_unbiased.npz")
    assert net.n_rec == same.n_rec == 512
    assert np.array_equal(net.weights["w_rec"], same.weights["w_rec"])
    assert find_network("head_direction/noisy_biased").name == "noisy_biased.npz"


def test_load_by_an_unknown_name_suggests_the_shipped_ones():
    with pytest.raises(FileNotFoundError, match=r"no network file 'spatial_navigation/noisy_unbiasd'.*"
                                                r"Did you mean 'spatial_navigation/noisy_unbiased'"):
        nrx.load("spatial_navigation/noisy_unbiasd")
