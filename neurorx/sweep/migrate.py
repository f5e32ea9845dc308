"""Renaming a store's job folders from an older job-id scheme to the current one, so nothing is recomputed.

>>> from neurorx.sweep.migrate import migrate
>>> report = migrate("protocols/sweeps/paper_five_seeds.yaml")          # doctest: +SKIP
>>> print(report.summary())                                              # doctest: +SKIP

The spec is expanded under both schemes; the two lists hold the same jobs in the same order
(:func:`neurorx.sweep.jobs.expand`), which pairs each old id with its new one. For each pair, the finished
folder ``jobs/<old>`` is renamed to ``jobs/<new>`` (one ``rename``) and the ids in its ``done.json`` and
``job.json`` are rewritten; a training's checkpoint folder ``.<old>.work`` follows its job. Running it again,
or after an interruption, finishes what is left: a folder already under its new name only has its records
checked. Nothing is deleted.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from neurorx.errors import ConfigurationError
from neurorx.io import atomic_write_bytes
from neurorx.sweep.jobs import expand
from neurorx.sweep.spec import load_spec
from neurorx.sweep.store import DONE, ID_SCHEME, Store

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
    """

    renamed: dict[str, str] = field(default_factory=dict)
    work_renamed: dict[str, str] = field(default_factory=dict)
    already: list[str] = field(default_factory=list)
    shadowed: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        """One line per kind of change."""
        lines = [f"renamed {len(self.renamed)} finished job folder(s) and {len(self.work_renamed)} checkpoint "
                 f"folder(s) to the id scheme {ID_SCHEME}; {len(self.already)} already had their new names"]
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


def old_scheme_jobs(spec, store: Store, old: int = 1) -> list[str]:
    """Ids of the spec's jobs finished in ``store`` under scheme ``old`` and not yet under the current one."""
    return [o.id for o, n in _pairs(spec, old).values()
            if o.id != n.id and store.is_done(o.id) and not store.is_done(n.id)]


@contextlib.contextmanager
def _idle(work: Path):
    """Hold a scratch folder's lock while renaming it; refuse if a live attempt holds it."""
    lock = work / ".lock"
    if not lock.exists():
        yield
        return
    with open(lock, "a+b") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigurationError(f"a job is running in {work} (its lock is held): stop the sweep, then run "
                                     "--migrate again") from None
        try:
            yield
        finally:
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
    from neurorx.sweep.runner import default_out

    spec = load_spec(spec)
    store = Store(out if out is not None else default_out(spec))
    report = MigrationReport()
    for o, n in _pairs(spec, old).values():
        if o.id == n.id:
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
            with _idle(old_work):
                os.rename(old_work, new_work)
            report.work_renamed[o.id] = n.id
    return report
