r"""The job store: one folder per job, named by a hash of what determines its outputs.

Layout of a sweep's output folder::

    OUT/jobs/<kind>-<hash>/        a finished job: its files, and done.json written last
    OUT/jobs/.<kind>-<hash>.<token>.tmp/   a job being written (ignored; removed when it fails, and the
                                          folders of killed attempts when the job is done)
    OUT/jobs/.<kind>-<hash>.work/  a job's scratch folder, kept across attempts (training checkpoints)
    OUT/results.nc                 the gathered results (neurorx.sweep.gather)
    OUT/store.json                 the job-id scheme the folders are named by (STORE_RECORD)

A job counts as done exactly when ``done.json`` exists in its folder. Its outputs and then its completion
record are written into a fresh temporary folder, which is renamed into place in one step when the job
function returns. A job killed at any point therefore leaves either nothing or a temporary folder, and is
redone by the next run of the sweep; of two attempts that finish together, the first rename wins and the
other's folder is discarded. (A folder without ``done.json``, which earlier versions could leave, is redone
too.) What a job keeps in its
scratch folder (a training job: its last checkpoint) survives the kill, so the next attempt continues from it
instead of starting afresh; the scratch folder is removed once the job is done. One attempt at a time holds
it (an advisory ``flock``, released by the operating system when the process dies); a concurrent attempt
works in a private scratch folder instead.

Notes
-----
The id (scheme 2, :data:`ID_SCHEME`) is

.. math:: \mathrm{kind}\text{-}\mathrm{sha256}(\mathrm{json}(kind, identity, inputs, version, code, 2))[:20]

with ``identity`` what of the resolved configuration names the results
(:meth:`neurorx.sweep.jobs.JobKind.identity_of`: the config itself, except that a training's card is taken
without its ``label`` and ``description`` and with its cell's parameters resolved, and a custom statistic
adds the source text of its function), ``inputs`` the ids of the jobs it reads (themselves hashes of their
own identities and inputs), ``version`` the neurorx version and ``code`` the kind's
:attr:`~neurorx.sweep.jobs.JobKind.code_version`. JSON with sorted keys. Changing what a card trains, an
override, a protocol, a cell parameter, the package version or a kind's code version gives new ids and nothing
stale is reused; rewording a card's label or description does not retrain.

Scheme 1 (neurorx up to this change) hashed ``(kind, config, inputs, version)`` with the whole card;
:func:`neurorx.sweep.migrate.migrate` (``neurorx sweep SPEC --migrate``) renames a scheme-1 store's folders.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import shutil
import time
import uuid
from pathlib import Path

from neurorx.errors import OutputPathError, SimulationError
from neurorx.io import atomic_write_bytes

__all__ = ["DONE", "ID_SCHEME", "STORE_RECORD", "Store", "execute", "job_id"]

#: The completion record of a job folder.
DONE = "done.json"
#: The job-id scheme of this version (see the module notes; 1 is still computed, to migrate old stores).
ID_SCHEME = 2
#: A store's own record, ``{"id_scheme": 2}``: the scheme its folders are named by. Stores written before
#: scheme 2 have none.
STORE_RECORD = "store.json"


_PROVENANCE: dict = {}


def _provenance() -> dict:
    """Versions and git commit of this worker process (looked up once per process)."""
    if not _PROVENANCE:
        from neurorx.provenance import provenance

        _PROVENANCE.update(provenance())
        _PROVENANCE.pop("created", None)
        _PROVENANCE.pop("seed", None)
    return dict(_PROVENANCE)


def job_id(kind: str, config: dict, inputs=(), *, scheme: int = ID_SCHEME) -> str:
    """The content hash naming a job's folder (see the module notes); ``scheme`` 1 or 2."""
    from neurorx._version import __version__
    from neurorx.sweep.jobs import job_kind

    if scheme == 1:
        named = {"kind": kind, "config": config, "inputs": list(inputs), "neurorx": __version__}
    elif scheme == 2:
        entry = job_kind(kind)
        named = {"kind": kind, **entry.identity_of(config), "inputs": list(inputs), "neurorx": __version__,
                 "code": entry.code_version, "scheme": 2}
    else:
        raise ValueError(f"unknown job-id scheme {scheme!r}; the schemes are 1 and 2")
    blob = json.dumps(named, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return f"{kind}-{hashlib.sha256(blob.encode()).hexdigest()[:20]}"


class Store:
    """The job folders of one sweep output folder ``root``."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise OutputPathError(f"sweep output {self.root} exists and is not a folder; give a folder path")

    @property
    def jobs_dir(self) -> Path:
        """Where the job folders live."""
        return self.root / "jobs"

    def path(self, job_id: str) -> Path:
        """The folder of a job."""
        return self.jobs_dir / job_id

    def work_dir(self, job_id: str) -> Path:
        """The scratch folder of a job, kept across its attempts until it is done."""
        return self.jobs_dir / f".{job_id}.work"

    def is_done(self, job_id: str) -> bool:
        """Whether the job finished (its completion record exists)."""
        return (self.path(job_id) / DONE).is_file()

    def record(self, job_id: str) -> dict:
        """The completion record of a finished job."""
        return json.loads((self.path(job_id) / DONE).read_text(encoding="utf-8"))

    def done_ids(self, ids) -> set[str]:
        """The subset of ``ids`` already done."""
        return {i for i in ids if self.is_done(i)}

    def scheme(self) -> int | None:
        """The job-id scheme of the store's folders: its :data:`STORE_RECORD`'s, else 1 when it holds job folders
        (written before scheme 2), else ``None`` (a new store).
        """
        record = self.root / STORE_RECORD
        if record.is_file():
            try:
                return int(json.loads(record.read_text(encoding="utf-8"))["id_scheme"])
            except (ValueError, KeyError, TypeError) as err:
                raise OutputPathError(f"{record} is not a neurorx store record ({err}); restore it (a store "
                                      'written by this version holds {"id_scheme": 2})') from None
        has_jobs = self.jobs_dir.is_dir() and any(True for _ in self.jobs_dir.iterdir())
        return 1 if has_jobs else None

    def mark_scheme(self, scheme: int | None = None) -> None:
        """Record the job-id scheme the store's folders are named by (default: this version's)."""
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.root / STORE_RECORD,
                           json.dumps({"id_scheme": scheme or ID_SCHEME}).encode(), overwrite=True)


def execute(job: dict, root: str, *dependencies) -> dict:
    """Run one job (the function a Dask worker calls), unless it is already done.

    Parameters
    ----------
    job : dict
        :meth:`neurorx.sweep.jobs.Job.to_dict`.
    root : str
        The sweep's output folder (shared by every worker).
    *dependencies
        Results of the jobs it depends on (passed only so that Dask runs it after them).

    Returns
    -------
    dict
        ``id``, ``status`` ("ran" or "cached"), ``seconds`` and ``worker``.
    """
    from neurorx.sweep.jobs import Job, job_kind, worker_environment, worker_name

    job = Job.from_dict(job)
    store = Store(root)
    if store.is_done(job.id):
        if store.work_dir(job.id).exists():     # left by an attempt killed after another one finished the job
            _discard_scratch(store.work_dir(job.id))
        return {"id": job.id, "status": "cached", "seconds": 0.0, "worker": worker_name()}
    missing = [i for i in job.inputs if not store.is_done(i)]
    if missing:
        raise SimulationError(f"job {job.id} cannot start: its input job(s) {missing} are not done")
    fn = job_kind(job.kind).fn
    store.jobs_dir.mkdir(parents=True, exist_ok=True)
    tmp = store.jobs_dir / f".{job.id}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.mkdir()
    start = time.perf_counter()
    try:
        with worker_environment(), _scratch(store.work_dir(job.id), tmp) as work:
            fn(job.config, [store.path(i) for i in job.inputs], tmp, work)
        atomic_write_bytes(tmp / "job.json", json.dumps(job.to_dict(), indent=1, sort_keys=True).encode())
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    seconds = time.perf_counter() - start
    record = {"id": job.id, "kind": job.kind, "labels": job.labels, "inputs": list(job.inputs),
              "seconds": round(seconds, 3), "worker": worker_name(), "files": sorted(p.name for p in tmp.iterdir()),
              "finished": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"), "provenance": _provenance()}
    status = _finish(store, job.id, tmp, record)
    _discard_scratch(store.work_dir(job.id))
    for stale in store.jobs_dir.glob(f".{job.id}.*.tmp*"):   # killed attempts' folders (a live one's
        shutil.rmtree(stale, ignore_errors=True)             # result would be discarded: the job is done)
    return {"id": job.id, "status": status, "seconds": seconds, "worker": worker_name()}


def _finish(store: Store, job_id: str, tmp: Path, record: dict) -> str:
    """Put the completion record into ``tmp`` and rename it into place.

    Returns ``"ran"``, or ``"cached"`` when another attempt of the job finished first (its folder is kept,
    ``tmp`` discarded).
    """
    final = store.path(job_id)
    try:
        # the completion record goes in before the rename: the folder appears complete or not at all
        atomic_write_bytes(tmp / DONE, json.dumps(record, indent=1, sort_keys=True, default=str).encode())
        if final.exists() and not store.is_done(job_id):
            # a folder without its record (an attempt of an earlier neurorx, killed between rename and record):
            # move it out of the way in one step, then delete it
            stale = store.jobs_dir / f".{job_id}.{uuid.uuid4().hex[:8]}.stale.tmp"
            with contextlib.suppress(FileNotFoundError):
                os.replace(final, stale)
            shutil.rmtree(stale, ignore_errors=True)
        if store.is_done(job_id):
            shutil.rmtree(tmp, ignore_errors=True)
            return "cached"
        os.replace(tmp, final)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if store.is_done(job_id):   # another attempt renamed its folder in between
            return "cached"
        raise
    return "ran"


def _discard_scratch(shared: Path) -> None:
    """Remove a done job's scratch folder, unless a live attempt holds it (that one removes it when it ends)."""
    try:
        import fcntl
    except ImportError:
        shutil.rmtree(shared, ignore_errors=True)
        return
    try:
        with open(shared / ".lock", "a", encoding="utf-8") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            shutil.rmtree(shared, ignore_errors=True)
    except OSError:                           # no such folder, or a live attempt holds it
        return


@contextlib.contextmanager
def _private(tmp: Path):
    """A scratch folder for this attempt alone, beside (not inside) its output folder; removed afterwards."""
    private = tmp.with_name(f"{tmp.name}.work")
    try:
        yield private
    finally:
        shutil.rmtree(private, ignore_errors=True)


@contextlib.contextmanager
def _scratch(shared: Path, tmp: Path):
    """The job's scratch folder ``shared``, locked for this attempt; a private one if another attempt holds it."""
    try:
        import fcntl
    except ImportError:                       # no advisory locks (Windows): every attempt starts afresh
        fcntl = None
    if fcntl is None:
        with _private(tmp) as private:
            yield private
        return
    shared.mkdir(parents=True, exist_ok=True)
    with open(shared / ".lock", "w", encoding="utf-8") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:                       # a live attempt of the same job holds it
            with _private(tmp) as private:
                yield private
            return
        try:
            yield shared
        finally:
            with contextlib.suppress(FileNotFoundError):
                if not [p for p in shared.iterdir() if p.name != ".lock"]:
                    shutil.rmtree(shared, ignore_errors=True)    # the job kept nothing there
            fcntl.flock(lock, fcntl.LOCK_UN)
