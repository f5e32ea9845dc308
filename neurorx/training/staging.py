"""The files of a training run: its output folder, the staging folder of a replacement, the metrics lines.

A run writes :data:`OUTPUT_FILES` into its output folder. ``--force`` onto finished outputs never deletes them
up front: the new run writes into ``DIR/.replacing/`` and its files replace the old ones only once it has
finished (:func:`swap_in`); interrupted or diverged, it leaves the old outputs as they were, and ``--resume``
continues it (:func:`resumable_checkpoint`).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from neurorx.errors import OutputPathError
from neurorx.io import CorruptFileError, atomic_write_bytes, check_output_dir

__all__ = ["OUTPUT_FILES", "SNAPSHOT_DIR", "STAGING_DIR", "append_metrics", "prepare_output", "resumable_checkpoint",
           "swap_in", "trim_metrics"]

#: Files a training run writes into its output folder.
OUTPUT_FILES = ("config.yaml", "metrics.jsonl", "checkpoint.npz", "network.npz", "learning_curve.png")
#: Folder of the intermediate networks (``trainer.snapshot_every``): ``snapshots/batch_XXXXXX.npz``.
SNAPSHOT_DIR = "snapshots"
#: Folder inside the output folder where a ``--force`` replacement trains until it has finished.
STAGING_DIR = ".replacing"


def resumable_checkpoint(out: str | Path) -> Path | None:
    """The checkpoint that ``train(config, out, resume=True)`` continues from, or ``None``.

    An interrupted ``--force`` replacement's (``out/.replacing/checkpoint.npz``) comes first, then
    ``out/checkpoint.npz``.
    """
    out = Path(out)
    return next((p for p in (out / STAGING_DIR / "checkpoint.npz", out / "checkpoint.npz") if p.is_file()), None)


def prepare_output(out: Path, *, force: bool, resume: bool) -> Path:
    """Check the output folder ``out`` before any work and return the folder the run writes into.

    That is ``out`` itself, or its staging folder for a forced replacement of finished outputs (or the
    resumption of an interrupted one). Raises ``FileExistsError`` for outputs that would be replaced without
    ``force`` and ``FileNotFoundError`` for a ``resume`` without a checkpoint.
    """
    check_output_dir(out)
    staging = out / STAGING_DIR
    existing = [n for n in OUTPUT_FILES if (out / n).exists()]
    if resume:
        found = resumable_checkpoint(out)
        if found is None:
            raise FileNotFoundError(f"cannot resume: no checkpoint.npz in {out}; run without --resume "
                                    f"to start training there")
        return staging if found.parent == staging else out
    if existing and not force:
        raise FileExistsError(
            f"{out} already holds training outputs ({', '.join(existing)}); pass force=True (--force) "
            f"to replace them once the new run has finished, or resume=True (--resume) to continue from the "
            f"checkpoint"
        )
    if staging.exists():
        shutil.rmtree(staging)          # an earlier interrupted replacement: --force starts afresh
    work = staging if existing else out
    work.mkdir(parents=True, exist_ok=True)
    return work


def swap_in(work: Path, out: Path) -> None:
    """Move a finished staging run's files from ``work`` over those in ``out`` (the network last), then drop it."""
    if work == out:
        return
    order = [n for n in OUTPUT_FILES if n != "network.npz"] + ["network.npz"]
    for name in order:
        new, old = work / name, out / name
        if new.exists():
            os.replace(new, old)
        elif old.exists():
            old.unlink()                # the old run's file has no counterpart in the new one
    new, old = work / SNAPSHOT_DIR, out / SNAPSHOT_DIR
    if old.exists():
        shutil.rmtree(old)              # the old run's snapshots belong to the old network
    if new.exists():
        os.replace(new, old)
    shutil.rmtree(work, ignore_errors=True)


def append_metrics(folder: Path, record: dict) -> None:
    """Append one JSON line to ``folder/metrics.jsonl``."""
    try:
        with open(folder / "metrics.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
    except OSError as err:
        raise OutputPathError(f"could not write {folder / 'metrics.jsonl'}: {err.strerror or err}; free some "
                              f"space or choose another folder, then continue with --resume (the last "
                              f"checkpoint is kept)") from err


def trim_metrics(folder: Path, batch: int) -> None:
    """Drop the lines of ``folder/metrics.jsonl`` written after batch ``batch`` (a resumed run rewrites them)."""
    mpath = folder / "metrics.jsonl"
    if not mpath.exists():
        return
    text = mpath.read_text(encoding="utf-8")
    lines = text.splitlines()
    if lines and not text.endswith("\n"):
        try:
            _line_batch(lines[-1])
        except CorruptFileError:
            lines.pop()     # a line cut short by a kill while it was appended (after the checkpoint)
    kept = [line for line in lines if line.strip() and _line_batch(line) <= batch]
    atomic_write_bytes(mpath, "".join(f"{line}\n" for line in kept).encode(), overwrite=True)


def _line_batch(line: str) -> int:
    try:
        return int(json.loads(line).get("batch", 0))
    except (json.JSONDecodeError, AttributeError, TypeError, ValueError):
        raise CorruptFileError(f"metrics.jsonl holds a line that is not a JSON record: {line[:80]!r}") from None
