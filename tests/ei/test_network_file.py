"""E/I network files: exact round trip, plain arrays + JSON, clear errors on bad files."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from neurorx.ei.error_norm import ERROR_NORMS
from neurorx.ei.network import EINetwork, EINetworkConfig
from neurorx.ei.network_file import FORMAT, load_network, save_network
from neurorx.errors import FileFormatError
from neurorx.io import read_npz, write_npz

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "ei" / "digits_inorm_full.npz"


@pytest.mark.parametrize("error_norm", ERROR_NORMS.names())
def test_round_trip_is_exact(tmp_path, error_norm):
    net = EINetwork(EINetworkConfig(hidden=(10, 12), error_norm=error_norm, seed=3))
    path = save_network(net, tmp_path / "n.npz")
    back = load_network(path)
    assert back.config == net.config
    for (k, a), (k2, b) in zip(net.state_dict().items(), back.state_dict().items(), strict=True):
        assert k == k2 and torch.equal(a, b)
    x = torch.rand(3, 64)
    assert torch.equal(net(x), back(x))


def test_file_is_plain_arrays_with_a_format_tag(tmp_path):
    path = save_network(EINetwork(EINetworkConfig(hidden=(6, 6))), tmp_path / "n.npz")
    with np.load(path, allow_pickle=False) as f:
        assert "hidden.0.W_EE" in f.files and f["hidden.0.W_EE"].shape == (6, 64)
    _, meta = read_npz(path)
    assert meta["format"] == FORMAT and "hidden.0.W_EI" in meta["dale"] and meta["provenance"]["torch"]
    with pytest.raises(FileExistsError):
        save_network(EINetwork(EINetworkConfig(hidden=(6, 6))), path)


def test_a_dale_violation_in_a_loaded_file_is_a_clear_error(tmp_path):
    path = save_network(EINetwork(EINetworkConfig(hidden=(6, 6))), tmp_path / "n.npz")
    arrays, meta = read_npz(path)
    arrays["hidden.1.W_IE"][0, 0] = -0.5
    write_npz(path, arrays, meta, overwrite=True)
    with pytest.raises(FileFormatError, match=r"Dale's law is violated: hidden.1.W_IE .*min -0.5.*project_"):
        load_network(path)


def test_other_files_are_clear_errors(tmp_path):
    path = save_network(EINetwork(EINetworkConfig(hidden=(6, 6))), tmp_path / "n.npz")
    arrays, meta = read_npz(path)
    write_npz(tmp_path / "other.npz", arrays, {**meta, "format": "neurorx.network"})
    with pytest.raises(FileFormatError, match="not an E/I network file"):
        load_network(tmp_path / "other.npz")
    arrays["hidden.0.W_EE"] = arrays["hidden.0.W_EE"][:, :10]
    write_npz(tmp_path / "shape.npz", arrays, meta)
    with pytest.raises(FileFormatError, match=r"'hidden.0.W_EE' has shape \(6, 10\)"):
        load_network(tmp_path / "shape.npz")
    (tmp_path / "x.npz").write_text(json.dumps(meta))
    with pytest.raises(FileFormatError, match="does not start like one"):
        load_network(tmp_path / "x.npz")


def test_the_shipped_network_loads_and_obeys_dale():
    net = load_network(SHIPPED)
    assert net.config.hidden == (32, 32) and net.config.error_norm == "full"
    assert all(float(p.detach().min()) >= 0 for p in net.dale_parameters().values())
    assert SHIPPED.stat().st_size < 1_000_000
