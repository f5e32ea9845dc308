"""Signals, exception hooks and --force: a run stops cleanly and nothing already saved is lost."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import neurorx as nrx
from neurorx.cli import main
from neurorx.training.trainer import STAGING_DIR

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
CARD = "head_direction/noisy_unbiased"
TINY = ["rnn.n_rec=16", "trainer.batch_size=8", "trainer.steps=10", "trainer.eval_every=5", "trainer.test_batch=8",
        "task.n_cells=32", "trainer.threads=1"]


def _background_train(out: Path, *extra: str) -> subprocess.Popen:
    """`neurorx train` as a job started in the background by a shell: SIGINT starts out ignored."""
    return subprocess.Popen(
        [sys.executable, "-m", "neurorx.cli", "train", CARD, *TINY, "trainer.n_epochs=100000", *extra,
         "--out", str(out), "--quiet"],
        env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)
    time.sleep(0.3)   # let a few more batches run


def test_importing_neurorx_leaves_python_s_exception_hook():
    proc = subprocess.run([sys.executable, "-c", "import neurorx; raise ValueError('x')"], env=ENV,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == "ValueError: x"
    assert "Brian 2" not in proc.stderr and "report" not in proc.stderr


@pytest.mark.parametrize("sig,code,word", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_a_background_train_stops_on_a_signal_keeps_its_checkpoint_and_resumes_identically(tmp_path, sig, code,
                                                                                             word):
    out = tmp_path / "run"
    proc = _background_train(out)
    _wait_for(out / "checkpoint.npz", proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert word in err and f"--out {out} --resume" in err
    assert "Traceback" not in err
    batch = int(nrx.io.read_npz(out / "checkpoint.npz", "checkpoint")[1]["batch"])
    assert batch >= 5
    n = str(batch + 5)
    assert main(["train", CARD, *TINY, f"trainer.n_epochs={n}", "--out", str(out), "--quiet", "--resume"]) == 0
    assert main(["train", CARD, *TINY, f"trainer.n_epochs={n}", "--out", str(tmp_path / "straight"), "--quiet"]) == 0
    resumed, straight = nrx.load(out / "network.npz"), nrx.load(tmp_path / "straight" / "network.npz")
    for key in straight.weights:
        np.testing.assert_array_equal(resumed.weights[key], straight.weights[key])


def test_force_killed_early_leaves_the_previous_network(tmp_path):
    out = tmp_path / "run"
    assert main(["train", CARD, *TINY, "trainer.n_epochs=5", "--out", str(out), "--quiet"]) == 0
    before = nrx.load(out / "network.npz")
    proc = _background_train(out, "seed=7", "--force")
    _wait_for(out / STAGING_DIR / "checkpoint.npz", proc)
    proc.kill()
    proc.communicate(timeout=30)
    after = nrx.load(out / "network.npz")
    np.testing.assert_array_equal(after.weights["w_rec"], before.weights["w_rec"])
    assert (out / "checkpoint.npz").exists() and (out / "config.yaml").exists()


def test_force_replaces_the_outputs_once_the_new_run_has_finished(tmp_path):
    out = tmp_path / "run"
    assert main(["train", CARD, *TINY, "trainer.n_epochs=5", "--out", str(out), "--quiet"]) == 0
    assert main(["train", CARD, *TINY, "trainer.n_epochs=5", "seed=3", "--out", str(out), "--quiet", "--force"]) == 0
    assert not (out / STAGING_DIR).exists()
    assert nrx.load(out / "network.npz").provenance["seed"] == 3


def test_an_output_folder_under_a_file_is_refused_before_any_work(tmp_path, capsys):
    (tmp_path / "afile.txt").write_text("x")
    assert main(["train", CARD, *TINY, "trainer.n_epochs=5", "--out", str(tmp_path / "afile.txt" / "x"),
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err and len(err.strip().splitlines()) == 1


def test_a_background_run_stops_on_sigint_and_writes_no_recording(tmp_path):
    from netfactory import make_network

    make_network().save(tmp_path / "net.npz")
    out = tmp_path / "rec.npz"
    proc = subprocess.Popen(
        [sys.executable, "-m", "neurorx.cli", "run", str(tmp_path / "net.npz"), "--phases", "quiescent:2000000",
         "--trials", "2", "--out", str(out)],
        env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    first = proc.stderr.readline()     # the first progress line: imports done, the protocol under way
    assert "torch run:" in first and proc.poll() is None, first + proc.communicate()[1]
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "neurorx: interrupted" in err and "Traceback" not in err
    assert not out.exists()
