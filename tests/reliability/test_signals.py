"""Ctrl+C or SIGTERM during a sweep on a local Dask cluster: exit 130/143 and a few lines, no Dask tracebacks.

Ctrl+C in a terminal (and ``kill -TERM -PGID``) reaches the whole process group, the cluster's worker
processes included; they leave it to the command (:mod:`neurorx.sweep.local_workers`), which closes them.
Finished jobs are kept.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


# SIGTERM takes the same path through the cluster as SIGINT (slow: a second sweep on two workers); the fast
# run checks SIGTERM's exit status and line on the command line (tests/cli/test_cli_signals.py)
@pytest.mark.parametrize("sig,code,last", [
    pytest.param(signal.SIGINT, 130, "neurorx: interrupted", id="SIGINT"),
    pytest.param(signal.SIGTERM, 143, "neurorx: terminated (SIGTERM)", id="SIGTERM", marks=pytest.mark.slow)])
def test_ctrl_c_during_a_sweep_prints_no_dask_traceback(tmp_path, sig, code, last):
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
    os.killpg(proc.pid, sig)                   # Ctrl+C in a terminal reaches the whole process group
    _, err = proc.communicate(timeout=120)
    lines = [line for line in err.splitlines() if line.strip()]
    assert proc.returncode == code, err
    assert "Traceback" not in err and "Error" not in err and len(lines) <= 5, err
    assert lines[-1] == last and any("run the same command again" in li for li in lines), err
