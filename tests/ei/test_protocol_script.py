"""protocols/ei_normalization.py runs end to end in quick mode: in this process, and as its own process (slow)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from script_runner import run_script

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "protocols" / "ei_normalization.py"


def check_outputs(out):
    """The experiment's figures, the alignment check and the Brian2 comparison on 5 images, as saved in ``out``."""
    checks = json.loads((out / "checks.json").read_text())
    assert checks["brian2"]["argmax_equal"] == 5 and checks["brian2"]["max_abs_diff"] < 1e-3
    assert checks["alignment"]["full"]["grad_cosine"] > 0.98
    assert len(list((out / "figures").glob("*.png"))) == 4


def test_quick_protocol_runs_in_process_and_refuses_to_overwrite(tmp_path, monkeypatch, capsys):
    """What the docs gallery ran (quick mode), in this process: the fast equivalent of the test below."""
    out = tmp_path / "out"
    status, printed = run_script(SCRIPT, ["--quick", "--out", out, "--images", "5"], monkeypatch, capsys, tmp_path)
    assert status == 0, printed[-3000:]
    check_outputs(out)
    status, printed = run_script(SCRIPT, ["--quick", "--out", out], monkeypatch, capsys, tmp_path)
    assert status != 0 and "pass --force" in printed


@pytest.mark.slow
def test_quick_protocol_saves_results_figures_and_checks(tmp_path):
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, str(ROOT / "protocols" / "ei_normalization.py"), "--quick", "--out",
                           str(out), "--images", "5"], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    check_outputs(out)
    again = subprocess.run([sys.executable, str(ROOT / "protocols" / "ei_normalization.py"), "--quick", "--out",
                            str(out)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert again.returncode != 0 and "pass --force" in again.stderr
