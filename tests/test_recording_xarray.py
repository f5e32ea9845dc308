"""Recording.to_xarray: labelled dimensions, units, phases, metadata and hooks; NetCDF round trips."""

import json

import numpy as np
import pytest
from netfactory import make_network

from neurorx.errors import FileFormatError
from neurorx.hooks import DecodedHistogram, RunningMoments
from neurorx.protocols import Active, Protocol, Quiescent
from neurorx.recording import Recording
from neurorx.tasks import HeadDirection

xr = pytest.importorskip("xarray")


@pytest.fixture(scope="module")
def rec():
    net = make_network()
    protocol = Protocol([Active(steps=4), Quiescent(steps=6, start="reset", label="sleep"), Quiescent(steps=3)])
    return protocol.run(net, trials=3, seed=2, record=("h", "y"), every=2,
                        hooks=[RunningMoments(of="decoded"), DecodedHistogram(bins=5)])


def _assert_same(a: Recording, b: Recording):
    for name in ("t", "phase", "phase_index", "decoded", "states", "inputs", "h", "y", "record_index"):
        x, y = getattr(a, name), getattr(b, name)
        if x is None:
            assert y is None, name
            continue
        assert x.dtype == y.dtype and x.shape == y.shape, name
        np.testing.assert_array_equal(x, y, err_msg=name)
    assert a.phases == b.phases and a.meta == b.meta
    assert a.hooks.keys() == b.hooks.keys()
    for name in a.hooks:
        assert a.hooks[name].keys() == b.hooks[name].keys()
        for key in a.hooks[name]:
            np.testing.assert_array_equal(a.hooks[name][key], b.hooks[name][key])


def test_the_dataset_has_labelled_dimensions_units_and_phase_index(rec):
    ds = rec.to_xarray()
    assert ds["decoded"].dims == ("trial", "time", "dim")
    assert list(ds["dim"].values) == ["x", "y"]
    assert ds["decoded"].attrs["units"] == "m" and ds["time"].attrs["units"] == "s"
    assert ds["h"].dims == ("trial", "time_rec", "unit") and ds["h"].attrs["units"] == "1"
    assert list(ds["phase"].values[:5]) == ["active"] * 4 + ["sleep"]
    assert list(np.unique(ds["phase_index"].values)) == [0, 1, 2]
    np.testing.assert_array_equal(ds["record_index"].values, rec.record_index)
    np.testing.assert_allclose(ds["time_rec"].values, rec.t[rec.record_index])
    assert json.loads(ds.attrs["meta"])["seed"] == 2
    assert [p["label"] for p in json.loads(ds.attrs["phases"])] == ["active", "sleep", "quiescent"]
    hooks = json.loads(ds.attrs["hooks"])
    assert set(hooks) == set(rec.hooks)
    for name, keys in hooks.items():
        for key, var in keys.items():
            np.testing.assert_array_equal(ds[var].values, rec.hooks[name][key])


def test_selecting_a_phase_through_the_phase_coordinate(rec):
    ds = rec.to_xarray()
    quiet = ds["decoded"].where(ds["phase"] == "sleep", drop=True)
    np.testing.assert_array_equal(quiet.values, rec.select("sleep").decoded)


def test_netcdf_round_trip_is_exact(rec, tmp_path):
    path = rec.to_netcdf(tmp_path / "rec.nc")
    _assert_same(rec, Recording.from_netcdf(path))


def test_the_netcdf_opens_with_plain_xarray(rec, tmp_path):
    path = rec.to_netcdf(tmp_path / "rec.nc")
    with xr.open_dataset(path) as ds:
        assert ds["decoded"].dims == ("trial", "time", "dim")
        assert ds["decoded"].attrs["units"] == "m"
        assert list(ds["dim"].values) == ["x", "y"]
        assert ds.sizes["time"] == 13 and ds.sizes["time_rec"] == 7


def test_a_recording_without_hidden_states_round_trips(tmp_path):
    plain = Protocol([Active(steps=3)]).run(make_network(), trials=2)
    _assert_same(plain, Recording.from_netcdf(plain.to_netcdf(tmp_path / "plain.nc")))
    assert "time_rec" not in plain.to_xarray().dims


def test_head_direction_labels_its_dimension_theta(tmp_path):
    net = make_network(task=HeadDirection(n_cells=16, seed=0))
    rec = Protocol([Active(steps=3)]).run(net, trials=2)
    ds = rec.to_xarray()
    assert list(ds["dim"].values) == ["theta"] and ds["decoded"].attrs["units"] == "rad"
    _assert_same(rec, Recording.from_netcdf(rec.to_netcdf(tmp_path / "hd.nc")))


def test_saving_refuses_to_overwrite_and_reading_names_a_foreign_file(rec, tmp_path):
    path = rec.to_netcdf(tmp_path / "rec.nc")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        rec.to_netcdf(path)
    rec.to_netcdf(path, overwrite=True)
    other = tmp_path / "other.nc"
    xr.Dataset({"a": ("x", np.arange(3))}).to_netcdf(other)
    with pytest.raises(FileFormatError, match="not a neurorx recording"):
        Recording.from_netcdf(other)
    (tmp_path / "junk.nc").write_text("not netcdf")
    with pytest.raises(FileFormatError, match="not a readable NetCDF"):
        Recording.from_netcdf(tmp_path / "junk.nc")
