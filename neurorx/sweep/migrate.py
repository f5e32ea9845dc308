"""Renaming a store's job folders from an older job-id scheme to the current one, so nothing is recomputed.

>>> from neurorx.sweep.migrate import migrate
>>> report = migrate("protocols/sweeps/paper_five_seeds.yaml")          # doctest: +SKIP
>>> print(report.summary())                                              # doctest: +SKIP

The spec is expanded under both schemes; the two lists hold the same jobs in the same order
(:func:`neurorx.sweep.grid.expand`), which pairs each old id with its new one. For each pair, the finished
folder ``jobs/<old>`` is renamed to ``jobs/<new>`` (one ``rename``) and the ids in its ``done.json`` and
``job.json`` are rewritten; a training's checkpoint folder ``.<old>.work`` follows its job. Running it again,
or after an interruption, finishes what is left: a folder already under its new name only has its records
checked. When every job is done the store records scheme 2 (:data:`neurorx.sweep.store.STORE_RECORD`), and a
later migration does nothing. Nothing is deleted.

Notes
-----
Scheme 1 did not record the cells' parameters or a custom statistic's source, so migration assumes
the code and settings are those the store was written with (what scheme 1 itself assumed). Custom-statistic
jobs, cheap to redo, are not migrated: the sweep recomputes them from the migrated recordings.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from neurorx.errors import ConfigurationError
from neurorx.io import atomic_write_bytes
from neurorx.sweep.grid import expand
from neurorx.sweep.job import ID_SCHEME
from neurorx.sweep.spec import default_out, load_spec
from neurorx.sweep.store import DONE, Store

__all__ = ["MigrationReport", "migrate", "old_scheme_jobs"]


@dataclass
class MigrationReport:
    """What :func:`migrate` did.

    Attributes
    ----------
    renamed : dict of str -> str
        Finished job folders renamed, old id -> new id.
    work_renamed : dict of str -> str
        Scratch (checkpoint) folders renamed, old id -> new id.
    already : list of str
        New ids already in place (before, or from an earlier, interrupted migration).
    shadowed : dict of str -> str
        Old folders left where they are because their new id was already taken by another one (two old jobs
        that differ only in a card's label or description name one new job), old id -> new id.
    recompute : list of str
        Old ids of finished custom-statistic jobs, not migrated (see the module notes).
    current : bool
        The store was named by the current scheme already; nothing was done.
    """

    renamed: dict[str, str] = field(default_factory=dict)
    work_renamed: dict[str, str] = field(default_factory=dict)
    already: list[str] = field(default_factory=list)
    shadowed: dict[str, str] = field(default_factory=dict)
    recompute: list[str] = field(default_factory=list)
    current: bool = False

    def summary(self) -> str:
        """One line per kind of change."""
        if self.current:
            return f"the store's folders are named by the id scheme {ID_SCHEME} already: nothing to migrate"
        lines = [f"renamed {len(self.renamed)} finished job folder(s) and {len(self.work_renamed)} checkpoint "
                 f"folder(s) to the id scheme {ID_SCHEME}; {len(self.already)} already had their new names"]
        if self.recompute:
            lines.append(f"left {len(self.recompute)} custom-statistic job(s) to be recomputed by the next run")
        if self.shadowed:
            lines.append(f"left {len(self.shadowed)} old folder(s) whose new id another folder took: "
                         + ", ".join(sorted(self.shadowed)))
        return "\n".join(lines)


def _pairs(spec, old: int) -> dict[str, tuple]:
    """Map each old id to (old job, new job), in expansion order (a job before the jobs that read it)."""
    pairs: dict[str, tuple] = {}
    for o, n in zip(expand(spec, unique=False, scheme=old), expand(spec, unique=False), strict=True):
        pairs.setdefault(o.id, (o, n))
    return pairs


def _migratable(job) -> bool:
    return not job.config.get("function")          # custom statistics are recomputed (module notes)


def old_scheme_jobs(spec, store: Store, old: int = 1) -> list[str]:
    """Ids of the spec's jobs that ``store`` holds under scheme ``old`` only: finished, or a training's checkpoint."""
    found = []
    for o, n in _pairs(spec, old).values():
        if o.id == n.id or not _migratable(o) or store.is_done(n.id):
            continue
        if store.is_done(o.id) or (store.work_dir(o.id).is_dir() and not store.work_dir(n.id).exists()):
            found.append(o.id)
    return found


def _refuse_if_live(store: Store) -> None:
    """Refuse to migrate while any job of the store is running (holds its scratch folder's lock)."""
    if not store.jobs_dir.is_dir():
        return
    for lock in store.jobs_dir.glob(".*.work/.lock"):
        with open(lock, "a+b") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ConfigurationError(f"a job is running in {lock.parent} (its lock is held): stop the sweep, "
                                         "then run --migrate again") from None
            fcntl.flock(fh, fcntl.LOCK_UN)


def _rewrite_records(folder: Path, job) -> None:
    """Put the new id and input ids into a finished folder's ``job.json`` and ``done.json``."""
    for name, keys in (("job.json", {"id": job.id, "inputs": list(job.inputs)}),
                       (DONE, {"id": job.id, "inputs": list(job.inputs)})):
        path = folder / name
        if not path.is_file():
            continue
        record = json.loads(path.read_text(encoding="utf-8"))
        if all(record.get(k) == v for k, v in keys.items()):
            continue
        record.update(keys)
        atomic_write_bytes(path, json.dumps(record, indent=1, sort_keys=True).encode(), overwrite=True)


def migrate(spec, out=None, *, old: int = 1) -> MigrationReport:
    """Rename the folders of ``spec``'s jobs in its store from id scheme ``old`` to the current one.

    Parameters
    ----------
    spec : str, Path, dict or SweepSpec
    out : path, optional
        The sweep's output folder (default: the spec's, as :func:`neurorx.sweep.sweep`).
    old : int
        The scheme the store was written with.

    Returns
    -------
    MigrationReport

    Raises
    ------
    ConfigurationError
        If a job of the store is running (stop the sweep first).
    """
    spec = load_spec(spec)
    store = Store(out if out is not None else default_out(spec))
    report = MigrationReport()
    if store.scheme() == ID_SCHEME:
        report.current = True
        return report
    _refuse_if_live(store)
    for o, n in _pairs(spec, old).values():
        if o.id == n.id:
            continue
        if not _migratable(o):
            if store.is_done(o.id):
                report.recompute.append(o.id)
            continue
        if store.is_done(n.id):
            _rewrite_records(store.path(n.id), n)
            if store.is_done(o.id):
                report.shadowed[o.id] = n.id
            elif n.id not in report.already and n.id not in report.renamed.values():
                report.already.append(n.id)
        elif store.is_done(o.id):
            if store.path(n.id).exists():          # a new-id folder without a completion record: not a result
                raise ConfigurationError(f"{store.path(n.id)} exists without {DONE}; move it away, then run "
                                         "--migrate again")
            os.rename(store.path(o.id), store.path(n.id))
            _rewrite_records(store.path(n.id), n)
            report.renamed[o.id] = n.id
        old_work, new_work = store.work_dir(o.id), store.work_dir(n.id)
        if old_work.is_dir() and not new_work.exists() and not store.is_done(n.id):
            os.rename(old_work, new_work)
            report.work_renamed[o.id] = n.id
    if store.jobs_dir.is_dir():
        store.mark_scheme()
    return report
