"""A recording file is checked when it is loaded; select() takes a label or an index and nothing else."""

import json

import numpy as np
import pytest
from netfactory import make_network

import neurorx as nrx
from neurorx.errors import FileFormatError
from neurorx.io import read_npz, write_npz
from neurorx.recording import Recording


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    net = make_network()
    rec = nrx.Protocol([nrx.Active(steps=5), nrx.Quiescent(steps=4)]).run(net, trials=3, seed=0, record=("h",))
    path = tmp_path_factory.mktemp("rec") / "rec.npz"
    rec.save(path)
    return rec, path


def _tampered(path, tmp_path, *, arrays=None, meta=None, phases=None):
    a, m = read_npz(path, "recording file")
    a.update(arrays or {})
    for key, value in (meta or {}).items():
        m["meta"][key] = value
    if phases is not None:
        m["phases"] = phases
    out = tmp_path / "bad.npz"
    write_npz(out, a, m, overwrite=True)
    return out


def test_select_refuses_a_boolean(saved):
    rec, _ = saved
    with pytest.raises(TypeError, match=r"phase label \(str\) or a phase index \(int\); got True"):
        rec.select(True)
    assert rec.select(1).phases[0]["label"] == "quiescent"


@pytest.mark.parametrize("meta,match", [
    ({"trials": "four"}, r"meta\['trials'\] = 'four' is not int"),
    ({"trials": 4}, r"meta\['trials'\] = 4 but the arrays hold 3 trials"),
    ({"dt": "20 ms"}, r"meta\['dt'\] = '20 ms' is not int or float"),
])
def test_metadata_of_the_wrong_type_is_named(saved, tmp_path, meta, match):
    _, path = saved
    with pytest.raises(FileFormatError, match=match):
        Recording.load(_tampered(path, tmp_path, meta=meta))


def test_inconsistent_array_shapes_are_named(saved, tmp_path):
    _, path = saved
    with pytest.raises(FileFormatError, match=r"states has shape \(3, 8, 2\), but decoded \(3, 9, 2\) needs"):
        Recording.load(_tampered(path, tmp_path, arrays={"states": np.zeros((3, 8, 2))}))
    with pytest.raises(FileFormatError, match=r"h has shape .*; expected \(3, 9, units\)"):
        Recording.load(_tampered(path, tmp_path, arrays={"h": np.zeros((3, 2, 4))}))


def test_phases_metadata_must_be_objects(saved, tmp_path):
    _, path = saved
    with pytest.raises(FileFormatError, match="phase 0 of the metadata must be an object"):
        Recording.load(_tampered(path, tmp_path, phases=["active"]))


def test_a_valid_file_loads(saved):
    rec, path = saved
    back = Recording.load(path)
    np.testing.assert_array_equal(back.h, rec.h)
    assert json.dumps(back.meta["trials"]) == "3"
