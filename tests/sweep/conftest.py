"""Fixtures of the sweep tests: the tiny spec, a reference run in one process, a two-worker Dask cluster."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))   # sweep_flaky, the custom statistics of the tests

TINY = HERE / "tiny.yaml"


@pytest.fixture(scope="session")
def tiny_spec() -> Path:
    return TINY


def _sweep_sync(spec: Path, out: Path):
    """Run a sweep spec one job at a time in this process and check every job finished: the ``SweepResult``."""
    import neurorx as nrx

    result = nrx.sweep(spec, out=out, scheduler="sync", show_progress=False)
    assert result.ok, result.summary()
    return result


def _run_sync(spec: Path, out: Path):
    """Run a sweep spec one job at a time in this process: ``(SweepResult, Dataset)``."""
    result = _sweep_sync(spec, out)
    return result, result.dataset()


@pytest.fixture(scope="session")
def sync_sweep():
    """``run(spec, folder)``: write the spec dict as ``folder/<name>.yaml``, sweep it one job at a time in this
    process into ``folder/store`` and check every job finished; returns ``(spec path, SweepResult)``."""
    def run(spec: dict, folder: Path):
        path = folder / f"{spec['name']}.yaml"
        path.write_text(yaml.safe_dump(spec, allow_unicode=True))
        return path, _sweep_sync(path, folder / "store")
    return run


@pytest.fixture(scope="session")
def reference(tmp_path_factory):
    """The tiny sweep run one job at a time in this process: ``(SweepResult, Dataset)``."""
    return _run_sync(TINY, tmp_path_factory.mktemp("reference"))


def _env() -> dict:
    from neurorx.sweep.runner import THREAD_ENV

    path = os.pathsep.join(p for p in (str(ROOT), str(HERE), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, **THREAD_ENV, "PYTHONPATH": path}


def _wait_for(predicate, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.2)
    raise TimeoutError(f"timed out after {timeout} s waiting for {what}")


class LabCluster:
    """A scheduler and workers started as a lab would: ``dask scheduler`` and ``dask worker ADDR --nthreads 1``."""

    def __init__(self, folder: Path, n_workers: int = 2):
        self.folder = folder
        self.env = _env()
        sched_file = folder / "scheduler.json"
        self.log = open(folder / "dask.log", "w")
        self.scheduler = subprocess.Popen(
            [sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(sched_file)], env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        _wait_for(sched_file.exists, 90, "the scheduler file")
        _wait_for(lambda: "address" in json.loads(sched_file.read_text() or "{}"), 30, "the scheduler address")
        self.address = json.loads(sched_file.read_text())["address"]
        self.workers = [self.start_worker(f"w{i}") for i in range(n_workers)]
        from distributed import Client

        with Client(self.address, timeout="30s") as client:
            client.wait_for_workers(n_workers, timeout=120)

    def start_worker(self, name: str) -> subprocess.Popen:
        """``dask worker ADDRESS --nthreads 1`` (no nanny: the pid is the worker's own)."""
        return subprocess.Popen(
            [sys.executable, "-m", "dask", "worker", self.address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
             "--name", name, "--local-directory", str(self.folder / name)],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT)

    def close(self):
        for proc in [*self.workers, self.scheduler]:
            if proc.poll() is None:
                proc.terminate()
        for proc in [*self.workers, self.scheduler]:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def lab_cluster(tmp_path_factory):
    cluster = LabCluster(tmp_path_factory.mktemp("dask"))
    try:
        yield cluster
    finally:
        cluster.close()


TINY_HD = HERE / "tiny_hd.yaml"


@pytest.fixture(scope="session")
def tiny_hd_spec() -> Path:
    return TINY_HD


@pytest.fixture(scope="session")
def hd_reference(tmp_path_factory):
    """The tiny head-direction sweep run one job at a time in this process: ``(SweepResult, Dataset)``."""
    return _run_sync(TINY_HD, tmp_path_factory.mktemp("hd_reference"))


@pytest.fixture(scope="session")
def swept(reference, hd_reference, tiny_spec, tiny_hd_spec, tmp_path_factory):
    """Every applicable registered statistic swept over the tiny sweeps' recordings: circular -> (result, ds)."""
    import shutil

    from every_statistic import spec_entries

    import neurorx as nrx

    out = {}
    for circular, (base, path) in {False: (reference, tiny_spec), True: (hd_reference, tiny_hd_spec)}.items():
        spec = yaml.safe_load(path.read_text())
        spec["statistics"] = spec_entries(circular)
        store = tmp_path_factory.mktemp("every_statistic") / "store"
        shutil.copytree(base[0].out, store)
        result = nrx.sweep(spec, out=store, scheduler="sync", show_progress=False)
        assert result.ok, result.summary()
        assert all(j.kind == "statistic" for j in result.jobs if j.id in result.executed)   # nothing retrained
        out[circular] = result, result.dataset()
    return out


