"""protocols/sweeps/diverging_trials.py: re-runs a sweep's runs with a per-trial peak hook and matches the trials."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from neurorx.recording import Recording
from neurorx.sweep import expand

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "protocols" / "sweeps" / "diverging_trials.py"


def _script(*args, cwd):
    """The script run with this checkout's neurorx (not another one the environment may have installed)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          timeout=600, cwd=cwd, env=env)


def test_diverging_trials_are_counted_on_the_stored_trials_and_dropped_from_total_variance(reference, tiny_spec,
                                                                                          tmp_path):
    result, ds = reference
    jobs = {j.id: j for j in expand(result.spec)}
    run = next(j for j in jobs.values() if j.kind == "run" and j.labels["condition"] == "Us" and j.labels["seed"] == 0)
    h = Recording.load(result.out / "jobs" / run.id / "recording.npz").h
    peaks = np.abs(h).max(axis=(1, 2))
    limit = float(np.median(peaks))                 # about half the trials "diverge" at this limit
    out = tmp_path / "div.json"
    done = _script(tiny_spec, "--store", result.out, "--conditions", "Us", "--seeds", 0, "--limit", limit,
                   "--out", out, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    (row,) = json.loads(out.read_text())["rows"]
    assert row["id"] == run.id and row["reproduced"] is True
    bad = peaks > limit
    assert row["diverging"] == int(bad.sum()) and 0 < row["diverging"] < row["trials"]
    per = ds["total_variance_per_trajectory"].sel(condition="Us", seed=0, backend="torch").squeeze().values
    np.testing.assert_allclose(row["total_variance"], per.mean(), rtol=1e-12)
    np.testing.assert_allclose(row["total_variance_without_diverging"], per[~bad].mean(), rtol=1e-12)
    assert f"{row['diverging']}/{row['trials']} diverging" in done.stdout

    saved = out.read_bytes()
    again = _script(tiny_spec, "--store", result.out, "--out", out, cwd=tmp_path)
    err = again.stderr.strip()
    assert again.returncode != 0 and "--force" in err and len(err.splitlines()) == 1   # refused before re-running
    assert out.read_bytes() == saved and "diverging (" not in again.stdout


def test_a_store_without_finished_runs_is_named(tiny_spec, tmp_path):
    done = _script(tiny_spec, "--store", tmp_path / "empty", cwd=tmp_path)
    assert done.returncode != 0 and "no finished run jobs" in done.stderr
