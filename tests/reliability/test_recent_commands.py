"""Bad inputs to the commands added last (``nwb analyse``, ``run --nwb``, the spiking backend, ``examples copy``,
sweeps that list the spiking backend): one line naming the problem and the fix, exit 2, nothing saved lost.
"""


import pytest
import yaml
from lab_nwb import make_hd_lab_file

from neurorx.cli import Terminated, main
from neurorx.cli import nwb as nwb_cli

pytest.importorskip("pynwb", reason="the NWB cases need neurorx[data]")
pytest.importorskip("pynapple", reason="the NWB cases need neurorx[data]")


@pytest.fixture(scope="module")
def lab_file(tmp_path_factory):
    """A head-direction lab file whose tracking (50 Hz) ends 20 ms before its awake epoch does."""
    return make_hd_lab_file(tmp_path_factory.mktemp("nwb") / "hd.nwb")[0]


def _one_line(capsys, argv):
    code = main(argv)
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(err) == 1 and "Traceback" not in err[0], (code, err)
    return err[0]


def test_nwb_analyse_with_its_default_bins_decodes_a_file_whose_tracking_ends_before_its_epoch(lab_file, capsys):
    # 20 ms bins: the last awake bin has no measured head direction (NaN), which the decoding error leaves out
    assert main(["nwb", "analyse", str(lab_file)]) == 0
    row = next(li for li in capsys.readouterr().out.splitlines() if "median decoding error" in li)
    assert float(row.split("|")[-2]) < 1.0


@pytest.mark.parametrize("args,words", [(["--bins", "1"], "at least 2"),
                                        (["--wake", "wake", "--sleep", "wake"], "two different epochs")])
def test_nwb_analyse_refuses_a_decoding_that_cannot_mean_anything(lab_file, capsys, args, words):
    assert words in _one_line(capsys, ["nwb", "analyse", str(lab_file), "--bin-size", "100 ms", *args])


def test_nwb_analyse_refuses_an_existing_output_before_decoding(lab_file, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "decoded.npz").write_bytes(b"earlier")
    monkeypatch.setattr("neurorx.io.nwb.read", lambda *a, **k: pytest.fail("decoded before the refusal"))
    assert "--force" in _one_line(capsys, ["nwb", "analyse", str(lab_file), "--out", str(out)])
    assert (out / "decoded.npz").read_bytes() == b"earlier"


def test_nwb_analyse_force_interrupted_keeps_the_earlier_outputs_whole(lab_file, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    args = ["nwb", "analyse", str(lab_file), "--bin-size", "100 ms", "--out", str(out)]
    assert main(args) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(before) == set(nwb_cli.OUTPUTS)

    def stopped(*a, **k):
        raise Terminated
    monkeypatch.setattr(nwb_cli, "write_figures", stopped)    # decoded.npz is written, the figures are not
    with pytest.raises(Terminated):
        nwb_cli.run(nwb_cli_args([*args[2:], "--bins", "12", "--force"]))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def nwb_cli_args(argv):
    from neurorx.cli import build_parser

    return build_parser().parse_args(["nwb", "analyse", *argv])


@pytest.mark.parametrize("args,words", [
    (["--record", "spikes", "--spike-trials", "0"], "spike_trials must be at least 1"),
    (["--per-unit", "100000000"], "needs at least"),            # refused before Brian2 allocates 8e8 neurons
    (["--max-rate", "1000000"], "lower max_rate"),
])
def test_spiking_options_that_cannot_work_are_one_line(network_file, tmp_path, capsys, args, words):
    line = _one_line(capsys, ["run", str(network_file), "--phases", "active:3", "--trials", "1", "--backend",
                              "brian2-spiking", "--out", str(tmp_path / "r.npz"), *args])
    assert words in line and not (tmp_path / "r.npz").exists()


SPIKING_OPTIONS = {"neuron": "izhikevich", "noise": "loud", "per_unit": 0, "max_rate": 1e6, "spike_trials": 9}


@pytest.mark.parametrize("key", SPIKING_OPTIONS)
def test_a_sweep_listing_the_spiking_backend_with_a_bad_option_is_refused_when_it_is_read(tmp_path, capsys, key):
    spec = {"name": "s", "train": {"seeds": [0], "overrides": ["rnn.n_rec=8", "trainer.n_epochs=1"],
                                   "conditions": {"U": {"card": "spatial_navigation/noisy_unbiased"}}},
            "runs": {"r": {"protocol": [{"phase": "active", "steps": 5}], "backends": ["brian2-spiking"],
                           "trials": 1, "options": {"brian2-spiking": {key: SPIKING_OPTIONS[key]}}}}}
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    line = _one_line(capsys, ["sweep", str(path), "--dry-run", "--out", str(tmp_path / "sw")])
    assert "runs.r.options.brian2-spiking" in line and not (tmp_path / "sw").exists()


def test_a_sweep_that_would_spike_a_gru_is_refused_when_it_is_read_not_after_training(tmp_path, capsys):
    spec = {"name": "s", "train": {"seeds": [0], "overrides": ["rnn.n_rec=8", "trainer.n_epochs=1"],
                                   "conditions": {"G": {"card": "spatial_navigation/noisy_unbiased_gru"}}},
            "runs": {"r": {"protocol": [{"phase": "active", "steps": 5}], "backends": ["brian2-spiking"],
                           "trials": 1}}}
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    line = _one_line(capsys, ["sweep", str(path), "--dry-run", "--out", str(tmp_path / "sw")])
    assert "'gru' cell cannot be spiked" in line and "condition 'G'" in line and not (tmp_path / "sw").exists()


def test_run_refuses_one_path_for_the_recording_and_the_nwb_file(network_file, tmp_path, capsys):
    same = tmp_path / "run.nwb"
    line = _one_line(capsys, ["run", str(network_file), "--phases", "active:3", "--trials", "1", "--out", str(same),
                              "--nwb", str(same)])
    assert "two names" in line and not same.exists()
