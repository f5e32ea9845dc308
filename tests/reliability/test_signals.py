"""Ctrl+C during a sweep on a local Dask cluster: exit 130 and a few lines, no Dask tracebacks; jobs are kept."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow   # a non-strict xfail cannot fail the fast run; 20 s of a 2-worker sweep started and killed
@pytest.mark.xfail(strict=False, reason="known gap: a Dask worker process can still print a CancelledError "
                   "traceback on Ctrl+C, depending on timing (seen on the merged tree); see issue 22")
def test_ctrl_c_during_a_sweep_prints_no_dask_traceback(tmp_path):
    out = tmp_path / "sweep"
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "neurorx.cli", "sweep", "tests/sweep/tiny.yaml", "--out", str(out),
                             "--workers", "2", "--quiet"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 180
    while not (out / "jobs").exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.2)
    time.sleep(3)                              # workers are running jobs
    os.killpg(proc.pid, signal.SIGINT)         # Ctrl+C in a terminal reaches the whole process group
    _, err = proc.communicate(timeout=120)
    lines = [line for line in err.splitlines() if line.strip()]
    assert proc.returncode == 130, err
    assert "Traceback" not in err and len(lines) <= 5, err
    assert lines[-1] == "neurorx: interrupted" and any("run the same command again" in li for li in lines)
