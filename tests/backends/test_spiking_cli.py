"""``neurorx run ... --backend brian2-spiking --neuron lif --per-unit 16``: the spiking options on the command line."""

from netfactory import make_network

import neurorx as nrx
import neurorx.backends.brian2_spiking.run as spiking_run
from neurorx.cli import main


def test_run_writes_a_spiking_recording_with_its_spikes(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(spiking_run, "_pick_target", lambda net, target: "numpy")   # no compilation in tests
    net_path = make_network(n_rec=6, scale=1.0).save(tmp_path / "n.npz")
    out = tmp_path / "rec.npz"
    args = ["run", str(net_path), "--phases", "active:3", "quiescent:3", "--trials", "2", "--backend",
            "brian2-spiking", "--neuron", "lif", "--per-unit", "2", "--max-rate", "40", "--record", "spikes",
            "--spike-trials", "1", "--out", str(out)]
    assert main(args) == 0
    rec = nrx.Recording.load(out)
    assert rec.meta["backend"] == "brian2-spiking" and rec.meta["backend_options"]["neuron"] == "lif"
    assert rec.spikes.per_unit == 2 and rec.spikes.trials.tolist() == [0]
    assert "spikes" in capsys.readouterr().out


def test_spiking_flags_with_a_rate_backend_are_refused_in_one_line(tmp_path, capsys):
    net_path = make_network(n_rec=4).save(tmp_path / "n.npz")
    code = main(["run", str(net_path), "--phases", "active:2", "--trials", "1", "--per-unit", "4", "--out",
                 str(tmp_path / "r.npz")])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert "takes no option 'per_unit'" in err and "brian2-spiking" in err and "\n" not in err
