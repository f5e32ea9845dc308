"""Damaged inputs (truncated, emptied, deleted, replaced by a folder) give one line and exit 2, never a traceback.

Each kind of file a command reads is damaged in each way; the line names the file. (The sweep store's own
files, ``done.json``/``result.npz``/``store.json``, are verified by the store and tested in tests/sweep.)
"""

import json
import shutil

import pytest

from neurorx.cli import main
from neurorx.ei.experiment import ExperimentConfig, run_experiment

CARD = "head_direction/noisy_unbiased"
TINY_TRAIN = ["rnn.n_rec=8", "trainer.batch_size=4", "trainer.steps=5", "trainer.eval_every=1",
              "trainer.test_batch=4", "task.n_cells=16", "trainer.threads=1", "trainer.n_epochs=2"]
EI = dict(conditions=("ln_plus",), epsilons=(0.0,), n_configs=1, seeds=1, epochs=1, width=(8, 8))


def _damage(path, how):
    if how == "truncated":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif how == "emptied":
        path.write_bytes(b"")
    elif how == "deleted":
        path.unlink()
    elif how == "a folder":
        path.unlink()
        path.mkdir()


def _one_line(capsys, argv, code=2):
    status = main(argv)
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip() and "step/s" not in line]
    assert status == code and len(err) == 1 and "Traceback" not in err[0], (status, err)
    return err[0]


HOW = ["truncated", "emptied", "deleted", "a folder"]


@pytest.mark.parametrize("how", HOW)
def test_a_damaged_network_file(capsys, tmp_path, network_file, how):
    net = tmp_path / "net.npz"
    shutil.copy(network_file, net)
    _damage(net, how)
    out = tmp_path / "r.npz"
    line = _one_line(capsys, ["run", str(net), "--phases", "active:2", "--trials", "2", "--out", str(out)])
    assert str(net) in line and not (tmp_path / "r.npz").exists()


@pytest.mark.parametrize("how", HOW)
def test_a_damaged_recording(capsys, tmp_path, recordings, how):
    a = tmp_path / "a.npz"
    shutil.copy(recordings[0], a)
    _damage(a, how)
    assert str(a) in _one_line(capsys, ["compare", str(a), str(recordings[1]), "--n-boot", "20", "--n-perm", "19"])


@pytest.mark.parametrize("how", ["truncated", "a folder"])
def test_a_damaged_card(capsys, tmp_path, how):
    from neurorx.zoo import find_card

    card = tmp_path / "card.yml"
    shutil.copy(find_card(CARD), card)
    if how == "truncated":
        card.write_text(card.read_text()[:-40] + "\n  bad: [1,\n")
    else:
        _damage(card, how)
    line = _one_line(capsys, ["train", str(card), "--show"])
    assert str(card) in line and ("line" in line or "folder" in line)


@pytest.mark.parametrize("how", ["truncated", "emptied"])
def test_a_damaged_sweep_spec(capsys, tmp_path, how):
    spec = tmp_path / "spec.yaml"
    shutil.copy("tests/sweep/tiny.yaml", spec)
    if how == "truncated":
        spec.write_text(spec.read_text()[:300] + "\n  - {phase: [\n")
    else:
        _damage(spec, how)
    assert str(spec) in _one_line(capsys, ["sweep", str(spec), "--out", str(tmp_path / "sw"), "--dry-run"])


@pytest.mark.parametrize("how", ["truncated", "emptied"])
def test_a_damaged_training_checkpoint(capsys, tmp_path, how):
    out = tmp_path / "train"
    assert main(["train", CARD, *TINY_TRAIN, "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    _damage(out / "checkpoint.npz", how)
    line = _one_line(capsys, ["train", CARD, *TINY_TRAIN, "--out", str(out), "--resume", "--quiet"])
    assert "checkpoint.npz" in line


@pytest.fixture(scope="module")
def ei_done(tmp_path_factory):
    out = tmp_path_factory.mktemp("ei") / "exp"
    run_experiment(ExperimentConfig.quick(**EI), out, progress=False)
    return out


@pytest.mark.parametrize("how", ["truncated", "emptied"])
def test_a_damaged_ei_configuration(capsys, tmp_path, ei_done, how):
    out = tmp_path / "exp"
    shutil.copytree(ei_done, out)
    _damage(out / "config.json", how)
    line = _one_line(capsys, ["ei", "experiment", "--quick", "--out", str(out), "--conditions", "ln_plus",
                              "--epsilons", "0", "--quiet"])
    assert "config.json" in line and "--force" in line


def test_a_damaged_ei_configuration_is_replaced_with_force_as_its_message_says(capsys, tmp_path, ei_done):
    out = tmp_path / "exp"
    shutil.copytree(ei_done, out)
    _damage(out / "config.json", "truncated")
    assert main(["ei", "experiment", "--quick", "--out", str(out), "--conditions", "ln_plus", "--epsilons", "0",
                 "--epochs", "1", "--quiet", "--force"]) == 0
    assert json.loads((out / "config.json").read_text())["experiment"]["conditions"] == ["ln_plus"]
    assert not (out / ".replacing").exists()


def test_a_demo_folder_without_its_report_is_incomplete_and_rewritten(tmp_path, models_dir):
    from neurorx.experiments.demo import DemoConfig, run_demo

    cfg = DemoConfig(models_dir=str(models_dir), trials=3, active_steps=10, quiescent_steps=10, backends=("torch",),
                     head_direction=False, n_mc=100, max_kde_points=300)
    out = tmp_path / "demo"
    run_demo(out, cfg, quiet=True)
    (out / "report.md").unlink()
    (out / "kl_matrix.png").write_bytes(b"half")
    run_demo(out, cfg, quiet=True)                    # no --force needed: the folder was not complete
    assert (out / "report.md").exists() and (out / "kl_matrix.png").stat().st_size > 1000
    assert json.loads((out / "results.json").read_text())["config"]["seed"] == 0
