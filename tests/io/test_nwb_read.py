"""Reading NWB files into decoded trajectories: a lab's head-direction layout, and files neurorx wrote."""

import dataclasses

import numpy as np
import pytest
from lab_nwb import make_hd_lab_file

import neurorx as nrx
from neurorx.errors import FileFormatError
from neurorx.io import nwb


@pytest.fixture(scope="module")
def hd_lab(tmp_path_factory):
    return make_hd_lab_file(tmp_path_factory.mktemp("lab") / "hd.nwb")


@pytest.fixture(scope="module")
def hd_lab_rec(hd_lab):
    return nwb.read(hd_lab[0], bin_size=0.1)


def test_a_labs_head_direction_file_is_decoded_in_wake_and_sleep(hd_lab, hd_lab_rec):
    truth = hd_lab[1]
    rec = hd_lab_rec
    assert rec.labels == ["active", "quiescent"] and rec.meta["epochs"] == {"active": "wake", "quiescent": "sleep"}
    assert rec.meta["task"] == "head_direction" and rec.meta["circular"] and rec.trials == 1
    act, sleep = rec.select("active"), rec.select("quiescent")
    assert act.decoded.shape == (1, 600, 1) and sleep.decoded.shape == (1, 200, 1)
    wake_err = np.abs(nrx.analysis.circular_error(act.decoded[..., 0], act.states[..., 0]))
    assert np.median(wake_err) < 0.2                      # 10-degree bins, 24 cells, 100 ms bins
    # in sleep the decoder follows the planted internal bearing, sweeping at 2 rad/s
    t_mid = rec.t[rec.phase == "quiescent"] - 0.05
    internal = truth["sleep_speed"] * (t_mid - truth["sleep_start"])
    sleep_err = np.abs(nrx.analysis.circular_error(sleep.decoded[0, :, 0], internal))
    assert np.median(sleep_err) < 0.2
    assert np.all(np.isnan(sleep.states))                 # no tracking in the sleep box
    assert rec.h.shape == (1, 800, 24) and rec.h.sum() > 0   # binned spike counts
    post = rec.hooks["decoder"]["posterior"]
    assert post.shape == (1, 800, 36) and np.allclose(post.sum(axis=-1), 1)


def test_a_decoded_lab_file_goes_through_the_statistics_and_compare(hd_lab, hd_lab_rec, hd_rec):
    rec = hd_lab_rec
    for stat in nrx.analysis.applicable_statistics(circular=True):
        assert np.isfinite(stat.value(rec.select("quiescent"), circular=True))
    simulated = dataclasses.replace(hd_rec, h=None, record_index=np.zeros(0, dtype=int))   # counts vs rates: apart
    segmented = nwb.read(hd_lab[0], bin_size=0.1, segment=2.0)        # 2 s segments as trials, for the intervals
    assert segmented.trials == 10 and segmented.meta["dropped_bins"] == 400
    assert segmented.select("quiescent").decoded.shape == (10, 20, 1)
    cmp = nrx.compare(segmented, simulated, n_boot=19, n_perm=19)
    assert {r.phase for r in cmp.rows} == {"active", "quiescent"}
    assert cmp.divergence("quiescent", "KL(quiescent‖active) decoded", between="nwb").estimate >= 0


def test_a_file_neurorx_wrote_reads_back_with_trials_and_a_small_decoding_error(tmp_path):
    net = nrx.load("models/spatial_navigation/noisy_unbiased.npz")
    protocol = nrx.Protocol([nrx.Active(steps=100), nrx.Quiescent(steps=20)])
    rec = protocol.run(net, backend="torch", trials=4, seed=0, record=("h",))
    path = nwb.write(rec, tmp_path / "run.nwb", spikes=nwb.poisson_spikes(rec, peak_rate=50.0, seed=0))
    back = nwb.read(path, bin_size=0.02, bins=10)
    assert back.trials == 4 and back.meta["trials_from"] == "epoch intervals"
    act = back.select("active")
    assert act.decoded.shape == (4, 100, 2)
    np.testing.assert_allclose(act.states, rec.select("active").states)     # the true path, at the bin centres
    err = np.median(np.linalg.norm(act.decoded - act.states, axis=-1))
    assert err < 0.25          # 22 cm bins of a 2.2 m box; chance is 1.15 m
    assert back.select("quiescent").decoded.shape == (4, 20, 2)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"units": False}, "no Units table"),
    ({"position": False}, "no position or head direction"),
    ({"epoch_shift": 1000.0}, "do not overlap the spikes"),
])
def test_a_file_missing_what_decoding_needs_is_one_clear_line(tmp_path, kwargs, match):
    path, _ = make_hd_lab_file(tmp_path / "bad.nwb", n_units=4, **kwargs)
    with pytest.raises(FileFormatError, match=match) as err:
        nwb.read(path)
    assert "\n" not in str(err.value)


def test_a_truncated_or_corrupt_file_is_one_clear_line(hd_lab, tmp_path):
    whole = hd_lab[0].read_bytes()
    for name, data in (("truncated.nwb", whole[: len(whole) // 2]), ("garbage.nwb", b"not hdf5 at all")):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(FileFormatError, match="is not a readable NWB file") as err:
            nwb.read(tmp_path / name)
        assert "\n" not in str(err.value)
    with pytest.raises(FileNotFoundError, match="no such NWB file"):
        nwb.read(tmp_path / "missing.nwb")


def test_unknown_epoch_names_list_the_files_epochs(hd_lab):
    with pytest.raises(FileFormatError, match=r"no epoch 'rem'; its epochs are \['sleep', 'wake'\]"):
        nwb.read(hd_lab[0], sleep="rem")
