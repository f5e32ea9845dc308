"""Writing a run to NWB: valid under nwbinspector, readable by pynapple, atomic, SI units."""

import json
import sys

import numpy as np
import pytest

import neurorx as nrx
from neurorx.io import nwb
from neurorx.io.extras import MissingExtraError


def _no_serious_messages(path):
    return [f"{m.importance.name} {m.check_function_name}: {m.message}" for m in nwb.inspect(path)]


def test_a_spiking_run_passes_nwbinspector_and_opens_in_pynapple(spatial_rec, tmp_path):
    import pynapple as nap

    spikes = nwb.poisson_spikes(spatial_rec, peak_rate=50.0, seed=0)
    path = nwb.write(spatial_rec, tmp_path / "run.nwb", spikes=spikes)
    assert _no_serious_messages(path) == []
    data = nap.load_file(str(path))
    units, epochs, pos = data["units"], data["epochs"], data["position"]
    assert isinstance(units, nap.TsGroup) and len(units) == 8
    assert sum(len(units[i]) for i in units) == len(spikes.t)
    assert isinstance(epochs, nap.IntervalSet) and len(epochs) == 6
    assert sorted({str(np.ravel(tag)[0]) for tag in epochs.tags}) == ["active", "quiescent"]
    assert isinstance(pos, nap.TsdFrame) and pos.shape == (3 * 20, 2)
    # trials one after another: trial b's active phase holds its true positions (metres), step k at b*D + (k+.5) dt
    dt, n = 0.02, len(spatial_rec.t)
    np.testing.assert_allclose(pos.values, spatial_rec.states[:, :20].reshape(-1, 2))
    np.testing.assert_allclose(pos.t[20:23], n * dt + (np.arange(3) + 0.5) * dt)
    rates = data["rates"]
    assert isinstance(rates, nap.TsdFrame) and rates.shape == (3 * 50, 8)
    np.testing.assert_allclose(rates.values, spatial_rec.h.reshape(-1, 8))


def test_the_files_metadata_holds_the_runs_meta_and_a_valid_subject(spatial_rec, tmp_path):
    import pynwb

    path = spatial_rec.to_nwb(tmp_path / "run.nwb")
    with pynwb.NWBHDF5IO(path, "r") as io:
        f = io.read()
        meta = json.loads(f.notes)
        assert meta["seed"] == 0 and meta["protocol"][1]["kind"] == "quiescent" and "versions" in meta
        assert f.subject.sex == "U" and f.subject.species and f.subject.subject_id
        assert len(f.trials) == 3 and list(f.trials["trial_index"][:]) == [0, 1, 2]
        assert f.trials["start_time"][1] == pytest.approx(50 * 0.02)
        assert f.units is None                               # a rate run without spikes: rates only
        assert f.processing["behavior"]["Position"]["position"].unit == "meters"
        decoded = f.processing["decoded"]["DecodedPosition"]["decoded_position"]
        np.testing.assert_allclose(decoded.data[:], spatial_rec.decoded.reshape(-1, 2))


def test_head_direction_is_written_in_radians_as_a_compass_direction(hd_rec, tmp_path):
    import pynapple as nap

    path = nwb.write(hd_rec, tmp_path / "hd.nwb", spikes=nwb.poisson_spikes(hd_rec, peak_rate=40.0))
    assert _no_serious_messages(path) == []
    data = nap.load_file(str(path))
    hd = data["head_direction"]
    assert isinstance(hd, nap.Tsd) and len(hd) == 2 * 15
    assert np.all(np.abs(hd.values) <= np.pi)
    np.testing.assert_allclose(hd.values, hd_rec.states[:, :15, 0].ravel())


def test_spikes_carried_by_the_recording_go_to_the_units_table(spatial_rec, tmp_path):
    import pynwb

    spikes = nwb.UnitSpikes(t=np.array([0.011, 0.5, 0.03]), i=np.array([0, 1, 1]), trial=np.array([0, 0, 2]),
                             n_neurons=3, rate_unit=np.array([0, 0, 1]), cell_type=np.array(["E", "E", "I"]),
                             resolution=1e-4)
    rec = spatial_rec.select()
    rec.spikes = spikes                                   # what a spiking backend attaches
    path = nwb.write(rec, tmp_path / "s.nwb")
    with pynwb.NWBHDF5IO(path, "r") as io:
        units = io.read().units
        assert list(units["cell_type"][:]) == ["E", "E", "I"] and list(units["rate_unit"][:]) == [0, 0, 1]
        # the trial's start (2 trials of 50 steps of 20 ms before trial 2) is added to its spike times
        np.testing.assert_allclose(units["spike_times"][1], [0.5 + 0.02 - 0.02, 2 * 1.0 + 0.03])


def test_a_failed_write_leaves_no_file_and_keeps_the_old_one(spatial_rec, tmp_path, monkeypatch):
    import pynwb

    path = tmp_path / "run.nwb"
    path.write_bytes(b"previous")

    def broken(self, *a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(pynwb.NWBHDF5IO, "write", broken)
    with pytest.raises(OSError, match="disk full"):
        nwb.write(spatial_rec, path, overwrite=True)
    assert path.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["run.nwb"]       # no temporary file left behind


def test_an_existing_file_is_not_replaced_unless_asked(spatial_rec, tmp_path):
    path = tmp_path / "run.nwb"
    path.write_bytes(b"previous")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        spatial_rec.to_nwb(path)
    assert path.read_bytes() == b"previous"


def test_bad_spikes_are_one_clear_line(spatial_rec, tmp_path):
    with pytest.raises(nrx.errors.ConfigurationError, match=r"trial indices must lie in \[0, 3\)"):
        nwb.write(spatial_rec, tmp_path / "x.nwb", spikes={"t": [0.1], "i": [0], "trial": [5]})
    assert not (tmp_path / "x.nwb").exists()


def test_a_missing_extra_names_the_install_command(spatial_rec, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynwb", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'neurorx\[data\]'"):
        spatial_rec.to_nwb(tmp_path / "run.nwb")


def test_no_module_imports_the_data_extra_at_import_time():
    """The extra is imported inside the functions that need it (a module-level import would make it core)."""
    import ast
    from pathlib import Path

    extra = {"pynwb", "pynapple", "nwbinspector", "ratinabox", "hdmf"}
    offenders = []
    for path in Path(nrx.__file__).parent.rglob("*.py"):
        for node in ast.parse(path.read_text()).body:          # module-level statements only
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in extra]
    assert offenders == []


def test_a_brian2_spiking_run_writes_its_own_spikes_to_the_units_table(tmp_path):
    import pynapple as nap

    net = nrx.load("head_direction/noisy_unbiased")
    rec = nrx.Protocol([nrx.Active(steps=10), nrx.Quiescent(steps=10)]).run(
        net, backend="brian2-spiking", trials=1, seed=0, record=("spikes",), per_unit=2, spike_trials=[0],
        target="numpy")   # the units table is under test, not code generation
    path = nwb.write(rec, tmp_path / "spiking.nwb")
    units = nap.load_file(str(path))["units"]
    assert isinstance(units, nap.TsGroup) and len(units) == net.n_rec * 2   # every neuron a row, silent ones too
    assert sum(len(units[k]) for k in units) == len(rec.spikes)           # Poisson counts: that many spike times
    np.testing.assert_array_equal(units.metadata["rate_unit"], np.arange(net.n_rec * 2) // 2)


def test_the_units_table_layout_is_unit_spikes_and_the_earlier_name_warns():
    import neurorx.spike_trains

    with pytest.warns(DeprecationWarning, match="UnitSpikes"):
        assert nwb.SpikeTrains is nwb.UnitSpikes
    assert nwb.UnitSpikes is not neurorx.spike_trains.SpikeTrains      # one class per name
