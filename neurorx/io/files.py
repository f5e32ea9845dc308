"""Safe file I/O: plain ``.npz`` arrays plus JSON metadata, atomic writes, never a pickle.

Every neurorx file is one ``.npz`` archive holding numeric arrays and one string array ``__meta__`` with
JSON. Reading uses ``numpy.load(..., allow_pickle=False)``, so a file can never execute code.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from neurorx.errors import DirectoryGivenError, FileFormatError, OutputPathError
from neurorx.staging import staged_file

__all__ = ["CorruptFileError", "atomic_write_bytes", "check_output_dir", "check_output_file", "read_npz", "write_npz"]

META_KEY = "__meta__"


class CorruptFileError(FileFormatError):
    """A neurorx file that cannot be read: truncated, corrupt, or not a neurorx file."""


def _writable_parent(path: Path, what: str) -> None:
    """Raise unless the nearest existing ancestor of ``path`` is a writable directory."""
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputPathError(f"cannot write {what} {path}: {parent} is a file, not a folder; choose a "
                                      f"path under a folder")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise OutputPathError(f"cannot write {what} {path}: the folder {parent} is not writable; choose a "
                                      f"folder you can write to")
            return


def check_output_dir(path: str | Path) -> Path:
    """Check, before any work starts, that ``path`` can be an output folder (existing or to be made).

    Raises
    ------
    OutputPathError
        If ``path`` is an existing file, lies under a file, or under a folder that is not writable.
    """
    path = Path(path)
    if path.exists():
        if not path.is_dir():
            raise OutputPathError(f"output folder {path} is an existing file; give a folder (new or existing)")
        if not os.access(path, os.W_OK | os.X_OK):
            raise OutputPathError(f"output folder {path} is not writable; choose a folder you can write to")
        return path
    _writable_parent(path, "the output folder")
    return path


def check_output_file(path: str | Path, *, overwrite: bool = False) -> Path:
    """Check, before any work starts, that a result can be saved as the file ``path``.

    Raises
    ------
    OutputPathError
        If ``path`` is a directory (a :class:`~neurorx.errors.DirectoryGivenError`, also an
        ``IsADirectoryError``), lies under a file, or under a folder that is not writable.
    FileExistsError
        If ``path`` exists and ``overwrite`` is false: nothing already saved is replaced silently.
    """
    path = Path(path)
    if path.is_dir():
        raise DirectoryGivenError(f"{path} is a directory; give a file name inside it, e.g. {path / 'result.npz'}")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True (or --force on the command line) to replace it")
    _writable_parent(path, "the file")
    return path


def atomic_write_bytes(path: str | Path, data: bytes, *, overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file + rename): never a half-written file.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is false: nothing already saved is replaced silently.
    OutputPathError
        If the file cannot be written (under a file, a read-only folder, a full disk); a previous file of
        that name is left as it was.
    """
    with staged_file(path, overwrite=overwrite) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return path


def write_npz(path: str | Path, arrays: dict[str, np.ndarray], meta: dict, *, overwrite: bool = False) -> Path:
    """Save ``arrays`` and JSON ``meta`` to one ``.npz`` file atomically."""
    for key, arr in arrays.items():
        if np.asarray(arr).dtype == object:
            raise TypeError(f"array {key!r} has dtype object; only numeric/string arrays are stored")
    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()}, **{META_KEY: np.array(json.dumps(meta))})
    return atomic_write_bytes(path, buf.getvalue(), overwrite=overwrite)


def read_npz(path: str | Path, kind: str = "neurorx file") -> tuple[dict[str, np.ndarray], dict]:
    """Read a file written by :func:`write_npz`; returns ``(arrays, meta)``.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    CorruptFileError
        If the file is truncated, corrupt, holds pickled objects, or lacks the metadata.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such {kind}: {path}")
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory, not a {kind}; give the .npz file inside it")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic[:2] != b"PK":   # every .npz is a zip archive
        hint = (" It looks like a model card: the network is the .npz file of the same name next to it."
                if path.suffix in (".yml", ".yaml") else "")
        raise CorruptFileError(f"{path} is not a {kind}: neurorx files are .npz (zip) archives of plain arrays "
                               f"with JSON metadata, and this file does not start like one.{hint}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as err:
        raise CorruptFileError(
            f"{path} is not a readable {kind} (truncated or corrupt: {err}). Re-create it (e.g. retrain or "
            f"re-download); neurorx files are .npz archives of plain arrays with JSON metadata."
        ) from None
    if META_KEY not in arrays:
        raise CorruptFileError(f"{path} has no neurorx metadata; it is not a {kind} written by neurorx")
    try:
        meta = json.loads(str(arrays.pop(META_KEY)))
    except json.JSONDecodeError as err:
        raise CorruptFileError(f"{path}: metadata is not valid JSON ({err}); the file is corrupt") from None
    return arrays, meta
