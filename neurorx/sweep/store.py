r"""The job store: one folder per job, named by a hash of what determines its outputs.

Layout of a sweep's output folder::

    OUT/jobs/<kind>-<hash>/        a finished job: its files, and done.json written last
    OUT/jobs/.<kind>-<hash>.<token>.tmp/   a job being written (ignored; removed when it fails, and the
                                          folders of killed attempts when the job is done)
    OUT/jobs/.<kind>-<hash>.<token>.tmp.owner   its attempt's owner lock (host and pid; held while it runs)
    OUT/jobs/.<kind>-<hash>.<token>.tmp.work/   that attempt's private scratch folder (see below)
    OUT/jobs/.<kind>-<hash>.work/  a job's scratch folder, kept across attempts (training checkpoints)
    OUT/results.nc                 the gathered results (neurorx.sweep.gather)
    OUT/store.json                 the job-id scheme the folders are named by (STORE_RECORD)

A job counts as done when its completion record ``done.json`` parses and the outputs it lists are there with
their recorded sizes (:meth:`Store.problem`; :meth:`Store.problem` with ``verify=True``, which
``neurorx sweep SPEC --verify`` runs, also checks their sha256 content hashes). A job folder that fails this
is *damaged*: the sweep reports it once and recomputes it with every job that reads it. Records written
before they held hashes list only file names: their files count by their existence, and ``--verify`` adds
their hashes. Its outputs and then its completion record are written into a fresh temporary folder, which is
renamed into place in one step when the job function returns. A job killed at any point therefore leaves
either nothing or a temporary folder, and is redone by the next run of the sweep; of two attempts that
finish together, the first rename wins and the other's folder is discarded. What a job keeps in its
scratch folder (a training job: its last checkpoint) survives the kill, so the next attempt continues from it
instead of starting afresh; the scratch folder is removed once the job is done. One attempt at a time holds
it (an advisory ``flock``, released by the operating system when the process dies); a concurrent attempt
works in a private scratch folder instead, which no later attempt reads.

Each attempt also holds the ``flock`` of its owner file (:func:`owned`) while it runs. The temporary folders of
attempts that were killed and whose job never finished would otherwise stay; :meth:`Store.remove_stale`, which
a sweep calls when it starts, removes an attempt's temporary folder, private scratch folder and owner file when
they are older than ``min_age`` and no live process owns them: its owner lock is free (and, for an owner on
this machine, its process is gone), or, for a folder without an owner file (written by an earlier neurorx),
its job is done or has no scratch folder (every running attempt holds one). The job's scratch folder
``.<kind>-<hash>.work``, the checkpoint the next attempt resumes from, is never removed there. Without advisory
locks (no ``fcntl``) nothing is removed: a live attempt cannot be told from a dead one.

The job ids that name the folders are :func:`neurorx.sweep.job.job_id`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import time
import uuid
from pathlib import Path

from neurorx.errors import OutputPathError
from neurorx.io import atomic_write_bytes
from neurorx.sweep.job import ID_SCHEME

__all__ = ["DAMAGED", "DONE", "NOT_DONE", "OWNER_SUFFIX", "RECORDS", "STORE_RECORD", "Store", "discard_scratch",
           "file_digest", "finish", "output_digests", "owned", "scratch"]

#: The completion record of a job folder.
DONE = "done.json"
#: The mark :func:`neurorx.sweep.verify.verify` leaves in a finished job folder whose outputs do not match
#: their hashes (``{"why": ...}``): the job then counts as damaged, and the next run recomputes it.
DAMAGED = "damaged.json"
#: The files of a job folder that are its records, not its outputs (not hashed).
RECORDS = (DONE, "job.json", DAMAGED)
#: :meth:`Store.problem` of a job without a completion record.
NOT_DONE = "not done"
#: The suffix of an attempt's owner file, beside its temporary folder: ``.<id>.<token>.tmp.owner``.
OWNER_SUFFIX = ".owner"
#: The suffix of an attempt's temporary folder.
TMP_SUFFIX = ".tmp"
#: A store's own record, ``{"id_scheme": 2}``: the scheme its folders are named by. Stores written before
#: scheme 2 have none.
STORE_RECORD = "store.json"


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
        """Whether the job finished and its outputs are there (:meth:`problem` is ``None``)."""
        return self.problem(job_id) is None

    def problem(self, job_id: str, *, verify: bool = False) -> str | None:
        """Why the job does not count as done, or ``None`` when it does.

        Returns
        -------
        str or None
            :data:`NOT_DONE` (no completion record), ``"done.json damaged"`` (the record does not parse),
            ``"<file> missing"`` or ``"<file> damaged"`` (an output the record lists is
            gone, or has another size; with ``verify``, also another sha256; or :meth:`mark_damaged` marked
            it), or ``None``.
        """
        folder = self.path(job_id)
        if not (folder / DONE).is_file():
            return NOT_DONE
        if (folder / DAMAGED).is_file():
            try:
                return str(json.loads((folder / DAMAGED).read_text(encoding="utf-8"))["why"])
            except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
                return "damaged"
        try:
            record = json.loads((folder / DONE).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            return f"{DONE} damaged"
        if not isinstance(record, dict):
            return f"{DONE} damaged"
        outputs = record.get("outputs")
        if isinstance(outputs, dict):
            for name, digest in outputs.items():
                path = folder / name
                if not path.is_file():
                    return f"{name} missing"
                if not isinstance(digest, dict) or path.stat().st_size != digest.get("size"):
                    return f"{name} damaged"
                if verify and file_digest(path)["sha256"] != digest.get("sha256"):
                    return f"{name} damaged"
            return None
        files = record.get("files")                   # a record without hashes: its files by their existence
        if not isinstance(files, list):
            return f"{DONE} damaged"
        for name in files:
            if isinstance(name, str) and name not in RECORDS and not (folder / name).is_file():
                return f"{name} missing"
        return None

    def add_digests(self, job_id: str) -> bool:
        """Add the outputs' sizes and hashes to a sound record that has none; whether it did."""
        record = self.record(job_id)
        if isinstance(record.get("outputs"), dict):
            return False
        record["outputs"] = output_digests(self.path(job_id))
        atomic_write_bytes(self.path(job_id) / DONE, json.dumps(record, indent=1, sort_keys=True).encode(),
                           overwrite=True)
        return True

    def mark_damaged(self, job_id: str, why: str) -> None:
        """Mark a finished job as damaged (:data:`DAMAGED`), so that it counts as such until it is recomputed."""
        atomic_write_bytes(self.path(job_id) / DAMAGED, json.dumps({"why": why}).encode(), overwrite=True)

    def discard(self, job_id: str) -> None:
        """Remove a job's folder (moved out of the way in one step, then deleted), so the job runs again."""
        folder = self.path(job_id)
        stale = self.jobs_dir / f".{job_id}.{uuid.uuid4().hex[:8]}.stale.tmp"
        with contextlib.suppress(FileNotFoundError):
            os.replace(folder, stale)
        shutil.rmtree(stale, ignore_errors=True)

    def discard_attempts(self, job_id: str) -> list[Path]:
        """Remove the temporary folders and owner files of every attempt of a finished job (a live attempt's
        result would be discarded: the job is done); returns the paths removed.
        """
        return _remove(sorted(self.jobs_dir.glob(f".{job_id}.*{TMP_SUFFIX}*")))

    def remove_stale(self, min_age: float) -> list[Path]:
        """Remove what killed attempts left, as the module docstring says; returns the paths removed.

        Parameters
        ----------
        min_age : float
            Seconds since anything of an attempt (its temporary folder, private scratch folder or owner file)
            last changed before it may be removed (a sweep passes its workers' time-to-live).
        """
        try:
            import fcntl  # POSIX only: without advisory locks a live attempt cannot be told from a dead one
        except ImportError:
            return []
        if not self.jobs_dir.is_dir():
            return []
        attempts = {_attempt_of(p.name) for p in self.jobs_dir.glob(f".*{TMP_SUFFIX}*")} - {None}
        removed = []
        now = time.time()
        for name in sorted(attempts):
            parts = [self.jobs_dir / f"{name}{suffix}" for suffix in ("", ".work", OWNER_SUFFIX)]
            ages = [now - p.lstat().st_mtime for p in parts if os.path.lexists(p)]
            if not ages or min(ages) < min_age:
                continue
            owner = parts[2]
            if owner.is_file():
                try:
                    with open(owner, "r+", encoding="utf-8") as fh:
                        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)     # fails while the owner runs
                        if _alive_here(fh.read()):
                            continue
                        removed += _remove(parts)
                except OSError:                # held (a live attempt), or gone meanwhile
                    continue
            else:
                job_id = name[1:].split(".")[0]
                if self.is_done(job_id) or not self.work_dir(job_id).exists():
                    removed += _remove(parts)
        return removed

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
                scheme = json.loads(record.read_text(encoding="utf-8"))["id_scheme"]
            except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as err:
                raise OutputPathError(f"{record} is not a neurorx store record ({type(err).__name__}: {err}); "
                                      'restore it (a store written by this version holds {"id_scheme": 2})') from None
            if isinstance(scheme, bool) or scheme not in (1, ID_SCHEME):
                raise OutputPathError(f"{record} names the job-id scheme {scheme!r}, which this neurorx does not know "
                                      f"(it knows 1 and {ID_SCHEME}); use the neurorx that wrote the store, or "
                                      "another --out")
            return int(scheme)
        has_jobs = self.jobs_dir.is_dir() and any(True for _ in self.jobs_dir.iterdir())
        return 1 if has_jobs else None

    def mark_scheme(self, scheme: int | None = None) -> None:
        """Record the job-id scheme the store's folders are named by (default: this version's)."""
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.root / STORE_RECORD,
                           json.dumps({"id_scheme": scheme or ID_SCHEME}).encode(), overwrite=True)


def _attempt_of(name: str) -> str | None:
    """``.<id>.<token>.tmp`` of the name of an attempt's folder or owner file, None for anything else."""
    head, sep, tail = name.rpartition(TMP_SUFFIX)
    if not sep or not name.startswith(".") or tail not in ("", ".work", OWNER_SUFFIX) or head.count(".") < 2:
        return None
    return head + TMP_SUFFIX


def _alive_here(owner: str) -> bool:
    """Whether the owner file's ``host pid`` names a live process on this machine (its lock aside)."""
    host, _, pid = owner.strip().partition(" ")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:               # a live process of another user
        return True
    return True


def _remove(parts: list[Path]) -> list[Path]:
    """Remove an attempt's folders, then its owner file (last: while it exists, the folders are owned)."""
    gone = []
    for p in parts:
        if not os.path.lexists(p):
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        if not os.path.lexists(p):
            gone.append(p)
    return gone


@contextlib.contextmanager
def owned(tmp: Path):
    """Hold the owner file of an attempt's temporary folder ``tmp`` (``tmp.owner``: host and pid, locked) while
    the attempt runs; the file is removed when it ends. Create ``tmp`` inside this context.
    """
    try:
        import fcntl  # POSIX only
    except ImportError:
        yield
        return
    owner = tmp.with_name(tmp.name + OWNER_SUFFIX)
    with open(owner, "w", encoding="utf-8") as fh:
        with contextlib.suppress(OSError):        # a fresh file of this attempt: nobody else holds its lock
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fh.write(f"{socket.gethostname()} {os.getpid()}\n")
        fh.flush()
        try:
            yield
        finally:
            with contextlib.suppress(FileNotFoundError):
                owner.unlink()                    # before the lock goes: never a free lock on a live folder


def file_digest(path: Path) -> dict:
    """``{"size": bytes, "sha256": hex}`` of a file (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return {"size": Path(path).stat().st_size, "sha256": h.hexdigest()}


def output_digests(folder: Path) -> dict:
    """:func:`file_digest` of every output file of a job folder (not its :data:`RECORDS`)."""
    return {p.name: file_digest(p) for p in sorted(Path(folder).iterdir()) if p.is_file() and p.name not in RECORDS}


def finish(store: Store, job_id: str, tmp: Path, record: dict) -> str:
    """Put the completion record into ``tmp`` and rename it into place.

    Returns ``"ran"``, or ``"cached"`` when another attempt of the job finished first (its folder is kept,
    ``tmp`` discarded).
    """
    final = store.path(job_id)
    try:
        # the completion record goes in before the rename: the folder appears complete or not at all
        atomic_write_bytes(tmp / DONE, json.dumps(record, indent=1, sort_keys=True, default=str).encode())
        if final.exists() and not store.is_done(job_id):
            # a damaged folder, or one without its record (an attempt of an earlier neurorx, killed between
            # rename and record): moved out of the way in one step, then deleted
            store.discard(job_id)
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


def discard_scratch(shared: Path) -> None:
    """Remove a done job's scratch folder, unless a live attempt holds it (that one removes it when it ends)."""
    try:
        import fcntl  # POSIX only: without it, no advisory locks
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
def scratch(shared: Path, tmp: Path):
    """The job's scratch folder ``shared``, locked for this attempt; a private one if another attempt holds it."""
    try:
        import fcntl  # POSIX only
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
