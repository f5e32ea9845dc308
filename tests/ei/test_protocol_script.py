"""protocols/ei_normalization.py runs end to end in quick mode (a subprocess: slow)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_quick_protocol_saves_results_figures_and_checks(tmp_path):
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, str(ROOT / "protocols" / "ei_normalization.py"), "--quick", "--out",
                           str(out), "--images", "5"], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    checks = json.loads((out / "checks.json").read_text())
    assert checks["brian2"]["argmax_equal"] == 5 and checks["brian2"]["max_abs_diff"] < 1e-3
    assert checks["alignment"]["full"]["grad_cosine"] > 0.98
    assert len(list((out / "figures").glob("*.png"))) == 4
    again = subprocess.run([sys.executable, str(ROOT / "protocols" / "ei_normalization.py"), "--quick", "--out",
                            str(out)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert again.returncode != 0 and "pass --force" in again.stderr
