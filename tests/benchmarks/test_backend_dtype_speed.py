"""benchmarks/backend_dtype_speed.py runs (``--quick``) and reports every backend in both dtypes against its floor.

It runs in this process (``tests/script_runner.py``; Brian2's ``target="auto"`` is numpy here), as
``test_benchmark_scripts.py`` runs ``protocol_speed.py``; ``train_speed.py`` is the benchmark run as its own process.
"""

import json
from pathlib import Path

import pytest
from script_runner import run_script

from neurorx.backends import all_backends

ROOT = Path(__file__).resolve().parents[2]


def test_backend_dtype_speed_reports_every_backend_and_dtype_against_the_floor(tmp_path, monkeypatch, capsys):
    out = tmp_path / "result.json"
    status, printed = run_script(ROOT / "benchmarks" / "backend_dtype_speed.py", ["--quick", "--json", out],
                                 monkeypatch, capsys, tmp_path)
    assert status == 0, printed[-3000:]
    data = json.loads(out.read_text())
    assert [block["steps"] for block in data["runs"]] == data["args"]["steps"]
    for block in data["runs"]:
        both = {b for b, impl in all_backends().items() if {"float64", "float32"} <= set(getattr(impl, "dtypes", ()) or
                                                                                      ("float64", "float32"))}
        assert set(block["backends"]) == both
        assert set(block["floor_ms"]) == {"float64", "float32"}
        for floor in block["floor_ms"].values():
            assert floor["total"] == pytest.approx(
                floor["coupling product"] + floor["readout product"] + floor["gaussian draws"])
        for per in block["backends"].values():
            for dtype in ("float64", "float32"):
                run = per[dtype]
                assert len(run["runs_s"]) == data["args"]["repeat"]
                assert run["over_floor"] == pytest.approx(run["step_ms"] / block["floor_ms"][dtype]["total"])
            assert per["float32/float64"] == pytest.approx(per["float32"]["step_ms"] / per["float64"]["step_ms"])
    assert "/ floor" in printed and "32 / 64" in printed
    for block in data["runs"]:         # the bars: backend / floor <= 1.5, brian2 / torch <= 1.2
        for dtype in ("float64", "float32"):
            r = block[f"brian2/torch {dtype}"]
            assert r == pytest.approx(block["backends"]["brian2"][dtype]["step_ms"]
                                      / block["backends"]["torch"][dtype]["step_ms"])
            named = f"brian2/torch {dtype} {block['steps']} steps: {r:.2f}" in printed
            assert named == (r > data["args"]["backend_bar"])
    last = printed.strip().splitlines()[-1]
    assert last == "ALL PASS" if not data["failures"] else last.startswith("FAIL: ")
