"""benchmarks/sweep_overhead.py runs (--quick) and reports ratios measured in the same run."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_overhead_benchmark_reports_per_job_overheads_and_the_two_worker_speedup(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "sweep_overhead.py"), "--quick", "--json",
                           str(out)], capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads(out.read_text())
    per = data["overhead"]["ms_per_job"]
    assert set(per) == {"direct", "store", "dask_in_process", "dask_local_1_worker"}
    assert all(v > 0 for v in per.values())
    thr = data["throughput"]
    assert thr["speedup"] == pytest.approx(thr["one_process_s"] / thr["two_workers_s"])
    for kind in ("train", "runs"):     # one worker against two, with the bar's verdict
        k = thr[kind]
        assert k["speedup"] == pytest.approx(k["one_worker_s"] / k["two_workers_s"])
        assert all(0 < f <= 1.05 for f in k["busy_fraction"].values())
    assert done.stdout.strip().splitlines()[-1].startswith(("ALL PASS", "FAIL: "))
    assert "speed-up" in done.stdout and "load average" in done.stdout
