"""Run a sweep's jobs on Dask (``dask.distributed``): a local cluster, any running scheduler, or in process.

Only jobs that are not done are submitted, each as a Dask future that depends on the futures of the jobs it
reads. Dask schedules them, retries a failing job ``retries`` times (``Client.submit(..., retries=)``) and
moves the work of a lost worker to the others; this module only submits, watches and reports. A job that
fails the same way on every attempt (:data:`neurorx.sweep.worker.DETERMINISTIC_ERRORS`) is reported by the
worker without raising, so it is not retried, and its dependants report themselves skipped.
"""

from __future__ import annotations

import os
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import dask
import xarray as xr
from dask.utils import parse_timedelta
from distributed import Client, LocalCluster, as_completed

from neurorx.errors import ConfigurationError, SimulationError
from neurorx.io import CorruptFileError
from neurorx.progress import NoBar, get_logger, progress
from neurorx.sweep import local_workers
from neurorx.sweep.gather import gather as gather_results
from neurorx.sweep.gather import save_netcdf
from neurorx.sweep.grid import expand
from neurorx.sweep.job import Job
from neurorx.sweep.migrate import old_scheme_jobs
from neurorx.sweep.spec import SweepSpec, TrainSpec, default_out, load_spec
from neurorx.sweep.store import NOT_DONE, Store
from neurorx.sweep.worker import execute
from neurorx.training.checkpoint import load_checkpoint
from neurorx.training.trainer import resumable_checkpoint

__all__ = ["THREAD_ENV", "SweepResult", "default_out", "format_plan", "plan", "priorities", "run_jobs", "sweep",
           "unsound"]

#: Environment of local workers: one thread for every numerical library (set before they import).
THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
              "NUMEXPR_NUM_THREADS": "1", "VECLIB_MAXIMUM_THREADS": "1"}

#: Dask settings of the clusters a sweep starts. ``worker-saturation`` 1.0: a worker is given a job waiting
#: for a worker only when it has a free thread, so the waiting job is chosen by priority (:func:`priorities`)
#: when the thread frees; with Dask's default (1.1) a worker holds a second job in advance and a seed's
#: statistics could wait behind the next seed's training. (The new network's runs can still arrive after the
#: next training was chosen: see :func:`priorities`.) Start a scheduler of your own with
#: ``DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION=1.0`` for the same order. Communication timeouts of 10
#: minutes (Dask's are 30 s) and a worker time-to-live of 15 minutes: a sweep run at low priority on a busy
#: machine starves its scheduler and workers for minutes at a time, and with Dask's defaults the heartbeats
#: time out and the whole sweep stops with ``TimeoutError`` (measured: a ``nice 19`` sweep at a load average
#: of 20 on 2 cores); a worker process that dies is still noticed at once by its nanny.
LOCAL_SCHEDULER_CONFIG = {"distributed.scheduler.worker-saturation": 1.0,
                          "distributed.comm.timeouts.connect": "600s",
                          "distributed.comm.timeouts.tcp": "600s",
                          "distributed.scheduler.worker-ttl": "15 minutes"}
#: Seconds an attempt's temporary folders are left alone before :meth:`Store.remove_stale` may remove them when a
#: sweep starts (and only when no live process owns them): the workers' time-to-live.
STALE_AFTER = parse_timedelta(LOCAL_SCHEDULER_CONFIG["distributed.scheduler.worker-ttl"])

_log = get_logger("sweep")


@dataclass
class SweepResult:
    """What a sweep did.

    Attributes
    ----------
    spec : SweepSpec
    out : Path
        The output folder (``jobs/`` and ``results.nc``).
    jobs : list of Job
        Every job of the spec.
    done_before : list of str
        Ids already done when the sweep started (not submitted).
    executed : list of str
        Ids run now.
    failed : dict of str -> str
        Ids that raised after their retries, with the error message.
    skipped : dict of str -> str
        Ids not run because a job they read failed (which one).
    results : Path or None
        The NetCDF file of the gathered results (``None`` for a dry run).
    dashboard : str or None
        The Dask dashboard address, when there is one.
    """

    spec: SweepSpec
    out: Path
    jobs: list[Job]
    done_before: list[str] = field(default_factory=list)
    executed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    results: Path | None = None
    dashboard: str | None = None

    @property
    def ok(self) -> bool:
        """Every job is done."""
        return not self.failed and not self.skipped

    def job(self, job_id: str) -> Job:
        """The job with this id."""
        return next(j for j in self.jobs if j.id == job_id)

    def dataset(self):
        """The gathered results as an ``xarray.Dataset`` (read from :attr:`results`)."""
        with xr.open_dataset(self.results) as ds:
            return ds.load()

    def summary(self) -> str:
        """A few lines: counts, failures, where the results are."""
        lines = [f"sweep {self.spec.name!r}: {len(self.jobs)} jobs, {len(self.done_before)} already done, "
                 f"{len(self.executed)} run now, {len(self.failed)} failed, {len(self.skipped)} skipped"]
        for i, msg in self.failed.items():
            lines.append(f"  FAILED {self.job(i).describe()} ({i}): {msg}")
        for i, why in self.skipped.items():
            lines.append(f"  skipped {self.job(i).describe()} ({i}): {why}")
        if self.results:
            lines.append(f"results: {self.results}")
        if not self.ok:
            lines.append("finished jobs are kept; fix the cause and run the same command again to do the rest")
        return "\n".join(lines)


def plan(spec, out=None) -> tuple[SweepSpec, Store, list[Job], set[str]]:
    """Validate ``spec`` and expand it: ``(spec, store, jobs, ids already done)``; starts nothing."""
    spec = load_spec(spec)
    store = Store(out if out is not None else default_out(spec))
    scheme = store.scheme()                      # refuses an unreadable store record in one line
    jobs = expand(spec)
    done = store.done_ids(j.id for j in jobs) - set(unsound(jobs, store))
    if len(done) < len(jobs) and scheme == 1:
        old = old_scheme_jobs(spec, store)
        if old:
            raise ConfigurationError(
                f"{len(old)} job(s) of this spec in {store.root} (finished, or trainings with checkpoints) are "
                "named by the job-id scheme 1 of "
                f"earlier neurorx versions; run `neurorx sweep {spec.source or 'SPEC'} --migrate` once to rename "
                "them (nothing is recomputed), or give another --out")
    return spec, store, jobs, done


def unsound(jobs: list[Job], store: Store) -> dict[str, str]:
    """The finished jobs to recompute, with why: the damaged ones (:meth:`Store.problem`) and every finished job
    that reads one, directly or through others.
    """
    tainted: set[str] = set()
    out: dict[str, str] = {}
    for job in jobs:                               # expand lists a job after the jobs it reads
        why = store.problem(job.id)
        bad = next((i for i in job.inputs if i in tainted), None)
        if why not in (None, NOT_DONE):
            tainted.add(job.id)
            out[job.id] = why
        elif bad is not None:
            tainted.add(job.id)
            if why is None:
                out[job.id] = f"reads the damaged job {bad}"
    return out


def format_plan(jobs: list[Job], done: set[str], store: Store | None = None) -> str:
    """The job list of a dry run: one line per job, with its state.

    With ``store``, a training that an earlier attempt checkpointed says at which batch it resumes.
    """
    lines = []
    bad = unsound(jobs, store) if store is not None else {}
    for kind in ("train", "run", "statistic"):
        sel = [j for j in jobs if j.kind == kind]
        if not sel:
            continue
        n_done = sum(j.id in done for j in sel)
        lines.append(f"{kind} jobs: {len(sel)} ({n_done} done)")
        lines += [f"  [{_state(j, done, store, bad)}] {j.id}  {j.describe()}" for j in sel]
    lines.append(f"total: {len(jobs)} jobs, {len(done)} done, {len(jobs) - len(done)} to run")
    return "\n".join(lines)


def _state(job: Job, done: set[str], store: Store | None, bad: dict[str, str]) -> str:
    if job.id in done:
        return "done"
    if job.id in bad:
        return f"todo, {bad[job.id]}"
    batch = _checkpoint_batch(store.work_dir(job.id)) if store is not None and job.kind == "train" else None
    if batch is None:
        return "todo"
    return f"todo, resumes at batch {batch}/{job.config['config']['trainer']['n_epochs']}"


def _checkpoint_batch(work: Path) -> int | None:
    """The batch of the checkpoint a training job's scratch folder holds (``None``: none, or unreadable)."""
    path = resumable_checkpoint(work)
    if path is None:
        return None
    try:
        return int(load_checkpoint(path)[1]["batch"])
    except (CorruptFileError, KeyError, OSError, ValueError):
        return None


def _client(scheduler, workers):
    """``(client, cluster or None)`` for ``scheduler``: None = LocalCluster, "sync" = in process, or an address.

    The workers of a local cluster leave Ctrl+C to this process (:mod:`neurorx.sweep.local_workers`).
    """
    if isinstance(scheduler, Client):
        return scheduler, None
    if scheduler is None:
        n = workers or len(os.sched_getaffinity(0))
        if n < 1:
            raise ConfigurationError(f"workers must be a positive integer; got {workers}")
        try:   # ":0": a free port, never another cluster's 8787
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                                   env=dict(THREAD_ENV), silence_logs=40, preload=[local_workers.MODULE])
        except RuntimeError as err:
            raise SimulationError(
                f"the local Dask cluster's worker processes did not start ({err or type(err).__name__}). In a "
                "script, call neurorx.sweep under `if __name__ == \"__main__\":` (worker processes import the "
                "script again), or run `neurorx sweep SPEC.yaml`, or use scheduler=\"sync\"") from None
        return Client(cluster), cluster
    if scheduler == "sync":
        if workers not in (None, 1):
            raise ConfigurationError("scheduler='sync' runs one job at a time in this process; drop workers=")
        cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0",
                               silence_logs=40)
        return Client(cluster), cluster
    if workers is not None:
        raise ConfigurationError("workers= starts a local cluster; with scheduler=ADDRESS the scheduler's own "
                                 "workers run the jobs (start more with `dask worker ADDRESS --nthreads 1`)")
    try:
        return Client(scheduler, timeout="20s"), None
    except (OSError, TimeoutError) as err:
        raise ConfigurationError(f"cannot reach the Dask scheduler at {scheduler!r} ({err}); start one with "
                                 "`dask scheduler` and give the address it prints (tcp://HOST:8786)") from None


def _has_bokeh() -> bool:
    try:
        import bokeh  # noqa: F401  (optional: only Dask's dashboard needs it)
    except ImportError:
        return False
    return True


def sweep(spec, *, out=None, scheduler=None, workers: int | None = None, dry_run: bool = False,
          show_progress: bool = True, gather: bool = True, gather_only: bool = False) -> SweepResult:
    """Run a sweep: validate the spec, expand it into jobs, run what is not done on Dask, gather the results.

    Parameters
    ----------
    spec : str, Path, dict or SweepSpec
        A sweep spec (YAML file, see :mod:`neurorx.sweep.spec`).
    out : path, optional
        Output folder (default: the spec's ``out``, else ``runs/sweeps/<name>``).
    scheduler : None, "sync", str or distributed.Client
        ``None``: a ``LocalCluster`` with ``workers`` single-threaded worker processes (default: one per
        core); ``"sync"``: one job at a time in this process (debugging, reference results); an address
        (``tcp://host:8786``) or a ``Client``: any running Dask scheduler and its workers, which must see
        ``out`` (a shared file system).
    workers : int, optional
        Workers of the local cluster.
    dry_run : bool
        Only list the jobs and which are done.
    show_progress : bool
        Progress bar on stderr.
    gather : bool
        Gather the finished statistics into ``OUT/results.nc``.
    gather_only : bool
        Run nothing: gather the statistics of the jobs finished so far into ``OUT/results.nc`` (the others
        are NaN and listed in each variable's ``missing_jobs``), e.g. to look at a sweep still running.

    Returns
    -------
    SweepResult
        Also when jobs failed (see :attr:`SweepResult.failed`); the other jobs are finished and kept.
    """
    spec, store, jobs, done = plan(spec, out)
    result = SweepResult(spec, store.root, jobs, done_before=sorted(done))
    if dry_run:
        print(format_plan(jobs, done, store))
        return result
    pending = [] if gather_only else [j for j in jobs if j.id not in done]
    if not gather_only:
        for job_id, why in unsound(jobs, store).items():
            _log.warning(f"job {job_id}: {why}, recomputing")
            store.discard(job_id)
    if pending and store.scheme() is None:
        store.mark_scheme()
    if pending:
        _submit_and_wait(spec, store, pending, result, scheduler, workers, show_progress)
    if gather:
        ds = gather_results(spec, store)
        result.results = save_netcdf(ds, store.root / "results.nc")
    return result


@dataclass(frozen=True)
class _JobList:
    """What :func:`_submit_and_wait` reads of a spec, for jobs that come from elsewhere (:func:`run_jobs`)."""

    name: str
    retries: int = 0
    train: TrainSpec = field(default_factory=lambda: TrainSpec(()))


def run_jobs(jobs: list[Job], out, *, name: str, scheduler=None, workers: int | None = None, retries: int = 0,
             show_progress: bool = True) -> SweepResult:
    """Run jobs made elsewhere (e.g. :func:`neurorx.ei.jobs.grid_jobs`) into the store ``out``, as :func:`sweep`.

    Only the jobs not done (or damaged: recomputed) are submitted; ``scheduler`` and ``workers`` as for
    :func:`sweep`. The caller gathers the results (the jobs' kinds define what they are).
    """
    store = Store(out)
    jobs = list(jobs)
    done = store.done_ids(j.id for j in jobs) - set(unsound(jobs, store))
    for job_id, why in unsound(jobs, store).items():
        _log.warning(f"job {job_id}: {why}, recomputing")
        store.discard(job_id)
    spec = _JobList(name, retries)
    result = SweepResult(spec, store.root, jobs, done_before=sorted(done))
    pending = [j for j in jobs if j.id not in done]
    if pending and store.scheme() is None:
        store.mark_scheme()
    if pending:
        _submit_and_wait(spec, store, pending, result, scheduler, workers, show_progress)
    return result


def priorities(spec, jobs) -> dict[str, int]:
    """Dask priorities (higher runs first): trainings seed by seed, runs and statistics before waiting trainings.

    Trainings are ranked by the position of their seed in the spec (every condition's first seed, then every
    condition's second, ...), so a sweep stopped half way holds whole seeds -- each with all its conditions,
    which is what a statistic across conditions (the KL matrix) needs -- rather than all seeds of the first
    conditions. Runs and statistics outrank every training waiting for a worker, so they are computed as soon
    as a worker is free, before the trainings still waiting.

    On worker processes this is a preference, not a guarantee: a worker that has just finished a training may
    start the next training it was sent before the new network's runs reach it (measured on the paper's sweep
    with two workers: the runs of the first two networks waited behind the next two trainings).
    """
    seeds = list(spec.train.seeds)
    return {j.id: -seeds.index(j.labels["seed"]) if j.kind == "train" else 1 for j in jobs}


def _submit_and_wait(spec, store, pending, result, scheduler, workers, show_progress) -> None:
    store.root.mkdir(parents=True, exist_ok=True)
    removed = store.remove_stale(STALE_AFTER)
    if removed:
        _log.info(f"sweep {spec.name!r}: removed {len(removed)} folders and owner files of killed attempts "
                  "(no live process owned them; training checkpoints are kept)")
    with dask.config.set(LOCAL_SCHEDULER_CONFIG):     # read by the clusters started here and the client's comms
        _submit_and_wait_configured(spec, store, pending, result, scheduler, workers, show_progress)


def _submit_and_wait_configured(spec, store, pending, result, scheduler, workers, show_progress) -> None:
    client, cluster = _client(scheduler, workers)
    token = uuid.uuid4().hex[:8]
    futures = {}
    try:
        link = getattr(client, "dashboard_link", None) if _has_bokeh() else None
        result.dashboard = link
        n_workers = len(client.scheduler_info(n_workers=-1).get("workers", {}))
        _log.info(f"sweep {spec.name!r}: {len(pending)} jobs to run on {n_workers} worker(s)"
                  + (f"; dashboard {link}" if link else " (dashboard: install bokeh for Dask's dashboard)"))
        rank = priorities(spec, pending)
        # Trainings first, highest rank first, then the rest in dependency order (the sort is stable): the
        # scheduler gives the first jobs submitted to idle workers before it has seen the others' priorities.
        for job in sorted(pending, key=lambda j: (j.kind != "train", -rank[j.id])):
            deps = [futures[i] for i in job.inputs if i in futures]
            futures[job.id] = client.submit(execute, job.to_dict(), str(store.root.resolve()), *deps,
                                            key=f"{job.kind}-{job.id.split('-', 1)[1]}-{token}",
                                            retries=spec.retries, pure=False, priority=rank[job.id])
        by_key = {f.key: i for i, f in futures.items()}
        bar = progress(len(pending), f"sweep {spec.name}", "job", enabled=show_progress,
                       tty_only="ipykernel" not in sys.modules)   # a terminal or a notebook, not a log file
        jobs = {j.id: j for j in pending}
        log_each = show_progress and isinstance(bar, NoBar)    # a log file: one line per finished job instead
        for count, fut in enumerate(as_completed(list(futures.values())), 1):
            job_id = by_key[fut.key]
            done = fut.result() if fut.status == "finished" else None
            if done is not None and done["status"] == "ran":
                result.executed.append(job_id)
            elif done is not None and done["status"] == "failed":
                result.failed[job_id] = done["error"]
                _log.warning(f"job {job_id} ({jobs[job_id].describe().strip()}) failed: {done['error']} "
                             "(not retried: it would fail the same way)")
            elif done is not None and done["status"] == "skipped":
                result.skipped[job_id] = done["error"]
            if log_each:
                took = f"{done['seconds']:.0f} s" if done is not None else fut.status
                what = " ".join(jobs[job_id].describe().split())
                _log.info(f"sweep {spec.name!r}: {count}/{len(pending)} {what} ({took})")
            bar.update(1)
        bar.close()
        for job in pending:   # dependency order: a failed input is reported before its dependants
            fut = futures[job.id]
            if fut.status == "finished" and job.id not in result.skipped:
                continue
            bad = [i for i in job.inputs if i in result.failed or i in result.skipped]
            if bad:
                result.skipped[job.id] = f"input job {bad[0]} ({jobs[bad[0]].describe().strip()}) did not finish"
            elif fut.status != "finished":
                err = fut.exception()
                first = str(err).strip().splitlines()[0] if str(err).strip() else ""
                result.failed[job.id] = f"{type(err).__name__}: {first}"
                _log.warning(f"job {job.id} ({job.describe().strip()}) failed after {spec.retries} retries: "
                             f"{result.failed[job.id]}")
    except KeyboardInterrupt:
        print(f"\ninterrupted: finished jobs are kept in {store.root}; run the same command again to do the rest",
              file=sys.stderr)
        raise
    finally:
        for f in futures.values():
            f.release()
        if client is not scheduler:   # a Client the caller gave stays open
            client.close()
        if cluster is not None:
            cluster.close()
