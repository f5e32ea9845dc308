"""Read-only output folders: every writer names the path and the cause in one line (exit 2) and writes nothing.

As root, permissions do not stop writes, so the folder is made read-only with a read-only bind mount in a
private mount namespace (``unshare -m``); where neither works the test is skipped. All commands run in one
subprocess (``neurorx.cli.main`` in a loop) to keep the test fast.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CARD = "head_direction/noisy_unbiased"
TINY_TRAIN = ["rnn.n_rec=8", "trainer.batch_size=4", "trainer.steps=5", "trainer.test_batch=4", "task.n_cells=16",
              "trainer.n_epochs=1"]

RUNNER = """
import contextlib, io, json, sys
from neurorx.cli import main
results = {}
for name, argv in json.loads(sys.argv[1]).items():
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    results[name] = [code, [l for l in err.getvalue().splitlines() if l.strip() and "/s]" not in l]]
print(json.dumps(results))
"""


def _read_only_command(folder: Path) -> list[str] | None:
    """A command prefix under which ``folder`` is read-only, or None if this machine cannot make one."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return []
    if shutil.which("unshare") is None:
        return None
    probe = subprocess.run(["unshare", "-m", "sh", "-c", f"mount --bind {folder} {folder} && mount -o "
                            f"remount,bind,ro {folder} && ! touch {folder}/x 2>/dev/null"], capture_output=True)
    if probe.returncode != 0:
        return None
    return ["unshare", "-m", "sh", "-c", f'mount --bind {folder} {folder} && mount -o remount,bind,ro {folder} && '
            f'exec "$0" "$@"']


def test_every_writer_refuses_a_read_only_folder_in_one_line(tmp_path, network_file, recordings, models_dir):
    ro = tmp_path / "ro"
    (ro / "gathered").mkdir(parents=True)
    shutil.copy("tests/sweep/tiny.yaml", tmp_path / "tiny.yaml")
    cases = {
        "run": ["run", str(network_file), "--phases", "active:2", "--trials", "2", "--out", str(ro / "r.npz")],
        "compare --json": ["compare", *map(str, recordings), "--n-boot", "20", "--n-perm", "19", "--json",
                           str(ro / "c.json")],
        "train": ["train", CARD, *TINY_TRAIN, "--out", str(ro / "train"), "--quiet"],
        "demo": ["demo", "--models", str(models_dir), "--out", str(ro / "demo"), "--trials", "3", "--quiescent",
                 "10", "--backends", "torch", "--no-head-direction", "--quiet"],
        "sweep": ["sweep", str(tmp_path / "tiny.yaml"), "--out", str(ro / "sweep"), "--scheduler", "sync",
                  "--quiet"],
        "sweep --gather": ["sweep", str(tmp_path / "tiny.yaml"), "--out", str(ro / "gathered"), "--gather"],
        "ei experiment": ["ei", "experiment", "--quick", "--out", str(ro / "ei"), "--quiet"],
    }
    prefix = _read_only_command(ro)
    if prefix is None:
        pytest.skip("cannot make a read-only folder here (root without unshare/mount)")
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([*prefix, sys.executable, "-c", RUNNER, json.dumps(cases)], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    for name, (code, err) in results.items():
        assert code == 2 and len(err) == 1, (name, code, err)
        assert str(ro) in err[0] and any(w in err[0] for w in ("not writable", "Read-only", "Permission denied")), \
            (name, err)
    assert sorted(p.name for p in ro.iterdir()) == ["gathered"] and not any((ro / "gathered").iterdir())
