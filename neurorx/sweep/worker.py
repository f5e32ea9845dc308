"""What a Dask worker does with one job: set up its environment, run the job into the store, report.

:func:`execute` is the function the runner submits. It runs a job unless the store holds it done, writes its
outputs and completion record into a temporary folder renamed into place (:mod:`neurorx.sweep.store`), and
returns a small record. An error that every attempt would raise again (:data:`DETERMINISTIC_ERRORS`: an
invalid configuration, a statistic that does not fit the task, mismatched shapes) is returned as a failure
rather than raised, so Dask does not retry it and the sweep reports it in one line; any other error is
raised, and Dask retries the job.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import torch
from distributed import get_worker
from threadpoolctl import threadpool_limits

from neurorx.errors import FileFormatError
from neurorx.io import atomic_write_bytes
from neurorx.provenance import provenance
from neurorx.sweep.job import Job, job_kind
from neurorx.sweep.store import Store, discard_scratch, finish, output_digests, owned, scratch

__all__ = ["DETERMINISTIC_ERRORS", "brian2_cache_dir", "execute", "worker_environment", "worker_name"]

#: Errors a job raises again on every attempt: returned as a failure (status ``"failed"``), never retried.
#: (:class:`neurorx.errors.ConfigurationError` is a ``ValueError``.)
DETERMINISTIC_ERRORS = (ValueError, TypeError, FileFormatError)

_WORKER_CACHE: dict[str, str] = {}
_PROVENANCE: dict = {}


def worker_name() -> str:
    """The Dask worker's name (``pid<N>`` outside a worker), safe as a folder name."""
    try:
        name = str(get_worker().name)
    except ValueError:                        # not in a Dask worker
        name = f"pid{os.getpid()}"
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def brian2_cache_dir() -> str:
    """The Cython cache folder of this worker for Brian2 (workers never compile into one folder at once)."""
    name = worker_name()
    if name not in _WORKER_CACHE:
        path = Path(tempfile.gettempdir()) / "neurorx-brian2-cache" / f"{name}-{os.getpid()}"
        path.mkdir(parents=True, exist_ok=True)
        _WORKER_CACHE[name] = str(path)
    return _WORKER_CACHE[name]


@contextlib.contextmanager
def worker_environment():
    """One torch thread and one BLAS/OpenMP thread while a job runs (restored afterwards).

    A worker runs one job per core, so threads inside a job would only compete; and with one thread a
    job's numbers do not depend on the machine it runs on.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(before)


def _provenance() -> dict:
    """Versions and git commit of this worker process (looked up once per process)."""
    if not _PROVENANCE:
        _PROVENANCE.update(provenance())
        _PROVENANCE.pop("created", None)
        _PROVENANCE.pop("seed", None)
    return dict(_PROVENANCE)


def _report(job: Job, status: str, seconds: float = 0.0, error: str | None = None) -> dict:
    out = {"id": job.id, "status": status, "seconds": seconds, "worker": worker_name()}
    if error is not None:
        out["error"] = error
    return out


def execute(job: dict, root: str, *dependencies) -> dict:
    """Run one job (the function a Dask worker calls), unless it is already done.

    Parameters
    ----------
    job : dict
        :meth:`neurorx.sweep.job.Job.to_dict`.
    root : str
        The sweep's output folder (shared by every worker).
    *dependencies
        Results of the jobs it depends on (passed only so that Dask runs it after them).

    Returns
    -------
    dict
        ``id``, ``status``, ``seconds`` and ``worker``; ``status`` is ``"ran"``, ``"cached"`` (done before),
        ``"failed"`` (a deterministic error, in ``error``: one line) or ``"skipped"`` (an input job is not
        done, named in ``error``).

    Raises
    ------
    Exception
        Any other error of the job (Dask retries it).
    """
    job = Job.from_dict(job)
    store = Store(root)
    if store.is_done(job.id):
        if store.work_dir(job.id).exists():     # left by an attempt killed after another one finished the job
            discard_scratch(store.work_dir(job.id))
        return _report(job, "cached")
    missing = [i for i in job.inputs if not store.is_done(i)]
    if missing:
        return _report(job, "skipped", error=f"input job {missing[0]} is not done")
    fn = job_kind(job.kind).fn
    store.jobs_dir.mkdir(parents=True, exist_ok=True)
    tmp = store.jobs_dir / f".{job.id}.{uuid.uuid4().hex[:8]}.tmp"
    with owned(tmp):                  # the owner lock: Store.remove_stale leaves the folders of a live attempt
        tmp.mkdir()
        start = time.perf_counter()
        try:
            with worker_environment(), scratch(store.work_dir(job.id), tmp) as work:
                fn(job.config, [store.path(i) for i in job.inputs], tmp, work)
            atomic_write_bytes(tmp / "job.json", json.dumps(job.to_dict(), indent=1, sort_keys=True).encode())
        except DETERMINISTIC_ERRORS as err:
            shutil.rmtree(tmp, ignore_errors=True)
            first = str(err).strip().splitlines()[0] if str(err).strip() else ""
            return _report(job, "failed", time.perf_counter() - start, f"{type(err).__name__}: {first}")
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        seconds = time.perf_counter() - start
        record = {"id": job.id, "kind": job.kind, "labels": job.labels, "inputs": list(job.inputs),
                  "seconds": round(seconds, 3), "worker": worker_name(),
                  "files": sorted(p.name for p in tmp.iterdir()), "outputs": output_digests(tmp),
                  "finished": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"), "provenance": _provenance()}
        status = finish(store, job.id, tmp, record)
    discard_scratch(store.work_dir(job.id))
    store.discard_attempts(job.id)    # killed attempts' folders and owner files
    return _report(job, status, seconds)

