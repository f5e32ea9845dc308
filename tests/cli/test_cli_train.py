import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import neurorx as nrx
from neurorx.cli import COMMANDS, build_parser, command, main

ROOT = Path(__file__).resolve().parents[2]
TINY = ["rnn.n_rec=16", "trainer.n_epochs=4", "trainer.batch_size=8", "trainer.steps=10",
        "trainer.eval_every=2", "trainer.test_batch=8", "task.n_cells=32", "trainer.threads=1"]


def test_train_end_to_end_subprocess(tmp_path):
    """`python -m neurorx.cli train CARD key=value --out DIR` as a user runs it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "neurorx.cli", "train", "spatial_navigation/noisy_unbiased", *TINY,
                           "--out", str(out)], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    # a short summary before the first batch (issue 27, trap 6): not ~50 lines of configuration
    assert "training spatial_navigation/noisy_unbiased with rnn.n_rec=16" in proc.stderr and "N=16" in proc.stderr
    assert "# resolved configuration" not in proc.stderr + proc.stdout
    before_training = proc.stderr.split("full configuration:")[0]
    assert before_training.count("\n") <= 3
    assert proc.stdout.startswith("final test loss")                       # the result alone on stdout
    net = nrx.load(out / "network.npz")
    assert net.n_rec == 16 and net.metrics["curve"]["batch"] == [0, 2, 4]
    assert yaml.safe_load((out / "config.yaml").read_text())["trainer"]["n_epochs"] == 4


def test_train_verbose_prints_the_full_configuration(tmp_path, capsys):
    assert main(["train", "head_direction/noisy_unbiased", *TINY, "--out", str(tmp_path / "v"), "-v"]) == 0
    err = capsys.readouterr().err
    assert "# resolved configuration" in err and "n_rec: 16" in err


def test_train_in_process_force_and_resume(tmp_path, capsys):
    out = str(tmp_path / "r")
    assert main(["train", "head_direction/noisy_unbiased", *TINY, "--out", out, "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["train", "head_direction/noisy_unbiased", *TINY, "--out", out, "--quiet"]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["train", "head_direction/noisy_unbiased", *TINY, "--out", out, "--quiet", "--force"]) == 0
    assert main(["train", "head_direction/noisy_unbiased", *TINY, "trainer.n_epochs=6", "--out", out, "--quiet",
                 "--resume"]) == 0
    assert nrx.load(Path(out) / "network.npz").metrics["curve"]["batch"] == [0, 2, 4, 6]


@pytest.mark.parametrize("args,message", [
    (["trainer.n_epoch=3"], "Did you mean 'trainer.n_epochs'"),
    (["trainer.n_epochs=many"], "trainer.n_epochs: expected an integer"),
    (["rnn.n_rec"], "key=value"),
])
def test_train_errors(args, message, tmp_path, capsys):
    assert main(["train", "spatial_navigation/noisy_unbiased", *args, "--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


def test_unknown_card_and_show(capsys):
    assert main(["train", "spatial_navigation/noisy_unbiasd", "--show"]) == 2
    assert "Did you mean 'spatial_navigation/noisy_unbiased'" in capsys.readouterr().err
    assert main(["train", "spatial_navigation/noisy_biased", "seed=3", "--show"]) == 0
    shown = yaml.safe_load(capsys.readouterr().out)
    assert shown["seed"] == 3 and shown["task"]["biased"] is True and shown["label"] == "B^σ"


def test_out_is_required(capsys):
    assert main(["train", "spatial_navigation/noisy_unbiased"]) == 2
    assert "--out" in capsys.readouterr().err


def test_diverged_exit_status(tmp_path, capsys):
    assert main(["train", "spatial_navigation/noisy_unbiased", *TINY, "trainer.lr=1e6", "trainer.eval_every=1",
                 "--out", str(tmp_path), "--quiet"]) == 3
    assert "diverged at batch" in capsys.readouterr().err


def test_adding_a_command_is_two_lines():
    @command("_probe", help="test command")
    def configure(parser):
        parser.add_argument("--x", type=int, default=1)
        return lambda args: args.x + 40

    try:
        assert main(["_probe", "--x", "2"]) == 42
        assert isinstance(build_parser(), argparse.ArgumentParser)
    finally:
        COMMANDS.remove("_probe")
    assert "train" in COMMANDS


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "train" in capsys.readouterr().err
