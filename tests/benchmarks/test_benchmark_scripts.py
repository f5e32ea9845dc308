"""The benchmark scripts run (``--quick``) and report what the README quotes from them.

``train_speed.py`` runs as its own process (the real command line of a benchmark); the others run in this
process (``tests/script_runner.py``), where Brian2's ``target="auto"`` is numpy and nothing is compiled.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from script_runner import run_script

ROOT = Path(__file__).resolve().parents[2]


def run_quick(script, tmp_path, *extra):
    """Run ``benchmarks/<script> --quick`` as its own process: (its JSON results, its stdout)."""
    out = tmp_path / "result.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--quick", "--json", str(out),
                           *extra], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text()), done.stdout


def run_quick_in_process(script, tmp_path, monkeypatch, capsys, *extra):
    """Run ``benchmarks/<script> --quick`` in this process: (its JSON results, what it printed)."""
    out = tmp_path / "result.json"
    status, printed = run_script(ROOT / "benchmarks" / script, ["--quick", "--json", out, *extra], monkeypatch,
                                 capsys, tmp_path)
    assert status == 0, printed[-3000:]
    return json.loads(out.read_text()), printed


def test_protocol_speed_times_three_runs_and_bounds_the_matmul_step(tmp_path, monkeypatch, capsys):
    data, stdout = run_quick_in_process("protocol_speed.py", tmp_path, monkeypatch, capsys)
    res, steps = data["results"], data["args"]["steps"]
    for name in ("torch", "brian2 matmul", "brian2 synapses"):
        assert res[name]["seconds"] > 0
    floor = res["matmul_floor_ms"]
    parts = floor["coupling product"] + floor["readout product"] + floor["gaussian draws"]
    assert floor["total"] == pytest.approx(parts)
    assert floor["needed_for_15x"] == pytest.approx(res["brian2 synapses"]["seconds"] / 15 / steps * 1e3)
    # a floor made of parts of the step cannot exceed the measured step by much (timing noise aside)
    assert floor["total"] < 2 * res["brian2 matmul"]["seconds"] / steps * 1e3
    assert res["memory"]["peak_rss_mb"] > res["memory"]["before_mb"] > 0
    assert "brian2 synapses / matmul" in stdout and "the floor alone allows at most" in stdout


def test_train_speed_reports_both_tasks_and_the_gru(tmp_path):
    data, stdout = run_quick("train_speed.py", tmp_path, "--repeats", "1", "--warmup", "1")
    assert [c["case"] for c in data["cases"]] == ["spatial (SP)", "head direction (HD)"]
    for case in data["cases"]:
        assert all(t > 0 for t in case["median_s"].values())
    assert data["gru_median_s"]
    assert "headline" in stdout
    assert 0 < data["peak_fraction"] and data["speedup_vs_reference"] > 0
    assert stdout.strip().splitlines()[-1].startswith(("ALL PASS", "FAIL: "))
