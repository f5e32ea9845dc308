"""Staging files: write to a temporary file beside the target, then rename it into place.

Every neurorx writer that must never leave a half-written file (``.npz`` archives, NetCDF recordings and sweep
results, JSON reports) stages through :func:`staged_file`. The temporary file comes from
:func:`tempfile.mkstemp`, which creates it readable by its owner only (``-rw-------``); :func:`staged_file`
gives it the permissions any other new file of the user gets (``0o666`` less the umask, usually
``-rw-r--r--`` or ``-rw-rw-r--``) before the rename, so that a lab's shared results stay readable by the lab.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["default_file_mode", "staged_file"]


def default_file_mode() -> int:
    """The permission bits a new file gets from ``open(path, "w")``: ``0o666`` less the process umask."""
    umask = os.umask(0)       # reading the umask means setting it; restored at once
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def staged_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success give it the usual permissions and rename it to ``path``.

    The caller writes the complete file to the yielded path (by name: NetCDF and zip writers open it
    themselves). If the block raises, the temporary file is removed and ``path`` is left as it was.

    Examples
    --------
    >>> with staged_file("results.nc") as tmp:                     # doctest: +SKIP
    ...     dataset.to_netcdf(tmp)

    Notes
    -----
    The rename (:func:`os.replace`) is atomic on one file system, so a reader sees the old file or the new
    one, never a part. The mode is :func:`default_file_mode`, applied with :func:`os.chmod` because
    :func:`tempfile.mkstemp` always creates ``0o600``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, default_file_mode())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
