"""`neurorx nwb analyse FILE` and `neurorx run ... --nwb FILE` from the command line."""

import json

import numpy as np
import pytest
from brian2 import ms
from lab_nwb import make_hd_lab_file
from netfactory import make_network

import neurorx as nrx
from neurorx.cli import main


def test_nwb_analyse_prints_the_statistics_and_writes_the_figures(tmp_path, capsys):
    path, _ = make_hd_lab_file(tmp_path / "hd.nwb")
    out = tmp_path / "out"
    assert main(["nwb", "analyse", str(path), "--bin-size", "100 ms", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "| sleep (quiescent) | mean angular velocity [rad/step] |" in text
    assert "| wake (active) | median decoding error [rad] |" in text and "KL(quiescent‖active)" in text
    assert {p.name for p in out.iterdir()} == {"decoded.npz", "decoded_trajectories.png", "decoded_density.png"}
    rec = nrx.Recording.load(out / "decoded.npz")
    # the planted sleep sweep of 2 rad/s is 0.2 rad per 100 ms bin
    sleep_velocity = nrx.analysis.STATISTICS.get("mean angular velocity").value(rec.select("quiescent"), True)
    assert sleep_velocity == pytest.approx(0.2, abs=0.03)


def test_nwb_analyse_replay_finds_the_planted_sweeps_at_their_speed(tmp_path, capsys):
    # sleep: quiet cells with ten 200 ms bursts sweeping at 10 rad/s, alternating direction (a lab's replay)
    path, info = make_hd_lab_file(tmp_path / "hd.nwb", bursts=(10.0, 0.2, 2.0))
    out = tmp_path / "out"
    assert main(["nwb", "analyse", str(path), "--replay", "--shuffles", "200", "--event-min", "60 ms",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "| sleep (quiescent) | candidate events |" in text
    res = json.loads((out / "replay.json").read_text())
    assert res["n_shuffles"] == 200 and (out / "replay_events.png").stat().st_size > 0
    starts = [info["sleep_start"] + 0.02 * e["start"] for e in res["events"]]
    for t0, _t1 in info["bursts"]:                                     # every burst is a candidate event
        assert min(abs(s - t0) for s in starts) < 0.05
    significant = [e for e in res["events"] if e["significant"]]
    assert len(significant) >= len(info["bursts"]) // 2
    speeds = np.abs([e["speed"] for e in significant])
    assert np.median(speeds) == pytest.approx(10.0, rel=0.15)            # rad/s, on pynapple's wrapped grid


@pytest.mark.parametrize(("extra", "message"), [
    (["--shuffles", "0"], "--shuffles must be a positive number"),
    (["--event-min", "0.5 s", "--event-max", "100 ms"], "--event-min (0.5 s) must be shorter than --event-max"),
    (["--event-edge", "4"], "--event-edge (4.0) must not exceed --event-threshold"),
])
def test_nwb_analyse_replay_settings_are_checked_before_decoding(tmp_path, capsys, extra, message):
    out = tmp_path / "out"
    assert main(["nwb", "analyse", str(tmp_path / "absent.nwb"), "--replay", *extra, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and not out.exists()


def test_nwb_analyse_of_a_bad_file_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.nwb"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n truncated")
    assert main(["nwb", "analyse", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a readable NWB file" in err


def test_run_writes_an_nwb_file_next_to_the_recording(tmp_path, capsys):
    net = make_network(noise={"recurrent": nrx.WhiteNoise.from_step_std(0.02, 20 * ms)}).save(tmp_path / "n.npz")
    args = ["run", str(net), "--phases", "active:5", "quiescent:5", "--trials", "2", "--record", "h"]
    assert main([*args, "--out", str(tmp_path / "r.npz"), "--nwb", str(tmp_path / "r.nwb")]) == 0
    import pynapple as nap

    data = nap.load_file(str(tmp_path / "r.nwb"))
    assert data["rates"].shape == (20, 8) and len(data["epochs"]) == 4
