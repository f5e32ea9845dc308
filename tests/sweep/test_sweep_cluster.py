"""A sweep on a two-worker Dask cluster started by hand: complete, resumable, robust to a lost worker."""

import json
import os
import signal
import threading
import time

import xarray as xr
import yaml

import neurorx as nrx
from neurorx.sweep import Store


def test_tiny_sweep_completes_on_two_workers_and_a_rerun_runs_nothing(lab_cluster, reference, tiny_spec, tmp_path):
    out = tmp_path / "sweep"
    first = nrx.sweep(tiny_spec, out=out, scheduler=lab_cluster.address, show_progress=False)
    assert first.ok, first.summary()
    assert sorted(first.executed) == sorted(j.id for j in first.jobs)
    store = Store(out)
    assert {store.record(j.id)["worker"] for j in first.jobs} == {"w0", "w1"}   # both workers took jobs

    again = nrx.sweep(tiny_spec, out=out, scheduler=lab_cluster.address, show_progress=False)
    assert again.executed == []
    assert sorted(again.done_before) == sorted(j.id for j in first.jobs)
    xr.testing.assert_identical(first.dataset(), reference[1])


def test_a_failing_job_is_retried_then_reported_and_the_other_jobs_are_kept(lab_cluster, tiny_spec, tmp_path):
    spec = yaml.safe_load(tiny_spec.read_text())
    spec["retries"] = 2
    spec["runs"]["reactivation"]["trials"] = 5     # new run and statistic jobs, besides the failing ones
    marker = tmp_path / "attempts.txt"
    spec["statistics"]["boom"] = {"statistic": "custom", "function": "sweep_flaky:explode", "of": "reactivation",
                                  "marker": str(marker)}
    result = nrx.sweep(spec, out=tmp_path / "sweep", scheduler=lab_cluster.address, show_progress=False)

    boom = [j.id for j in result.jobs if j.labels.get("statistic") == "boom"]
    assert sorted(result.failed) == sorted(boom) and len(boom) == 4
    assert all("RuntimeError: deliberate failure in a test statistic" in m for m in result.failed.values())
    assert len(marker.read_text().splitlines()) == 4 * (1 + 2)     # each: first attempt + 2 retries
    assert "FAILED" in result.summary() and "deliberate failure" in result.summary()
    store = Store(result.out)
    others = [j for j in result.jobs if j.id not in boom]
    assert all(store.is_done(j.id) for j in others)
    assert not any(store.path(i).exists() for i in boom)
    ds = result.dataset()
    assert ds["boom"].isnull().all() and sorted(json.loads(ds["boom"].attrs["missing_jobs"])) == sorted(boom)
    assert not ds["total_variance"].isnull().any()


def test_killing_a_worker_in_the_middle_still_completes_every_job(lab_cluster, reference, tiny_spec, tmp_path):
    out = tmp_path / "sweep"
    box = {}
    thread = threading.Thread(target=lambda: box.update(
        result=nrx.sweep(tiny_spec, out=out, scheduler=lab_cluster.address, show_progress=False)))
    thread.start()
    n_jobs = len(reference[0].jobs)
    end = time.monotonic() + 120
    while not list(out.glob("jobs/*/done.json")) and time.monotonic() < end:
        time.sleep(0.05)
    done_at_kill = len(list(out.glob("jobs/*/done.json")))
    victim = lab_cluster.workers[0]
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    thread.join(timeout=300)
    assert not thread.is_alive()
    assert 0 < done_at_kill < n_jobs     # killed in the middle of the sweep

    result = box["result"]
    assert result.ok, result.summary()
    store = Store(out)
    assert all(store.is_done(j.id) for j in result.jobs)
    xr.testing.assert_identical(result.dataset(), reference[1])
