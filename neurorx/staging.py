"""Staged outputs: a file or a folder of results appears under its name only once it is complete.

Every neurorx writer goes through this module (files through :func:`staged_file`, folders of several files
through :class:`StagedFolder`), so that an interruption (Ctrl+C, SIGTERM, SIGKILL, a full disk) or a failed
check never leaves a half-written file, a folder mixing old and new results, or an empty folder behind.

Notes
-----
A file is written to a temporary name beside its target and renamed onto it (``os.replace``: atomic on
POSIX file systems). A folder is built in a staging folder:

- a new folder is staged beside it (``.NAME.staging-PID-XXXX``) and renamed into place in one step;
- an existing folder (``force=True``) is staged inside it (``.staging-PID-XXXX``); its old outputs are then
  replaced file by file with SIGINT/SIGTERM blocked, the *completion file* (e.g. ``report.md``) removed first
  and moved in last, so that the folder never holds the completion file beside a mix of old and new results.

On failure the staging folder is removed (or kept, for writers that resume from it) and the target is left as
it was. Staging folders of dead processes (a SIGKILL) are removed by the next writer.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from neurorx.errors import OutputPathError

__all__ = ["StagedFolder", "default_file_mode", "os_error_message", "staged_file"]

_STAGING = re.compile(r"\.(?:.+\.)?staging-(\d+)-")


def os_error_message(err: OSError, path: str | Path, doing: str = "write") -> str:
    """One line naming the path, the cause and the fix of an ``OSError`` (``could not write X: ...; ...``)."""
    cause = err.strerror or str(err)
    fixes = {errno.ENOSPC: "free some space or choose another folder", errno.EDQUOT: "free some space or choose "
             "another folder", errno.EACCES: "choose a folder you can write to", errno.EPERM: "choose a folder you "
             "can write to", errno.EROFS: "choose a folder you can write to", errno.ENOENT: "check the path",
             errno.ENOTDIR: "check the path: a part of it is a file", errno.EISDIR: "give a file, not a folder",
             errno.EEXIST: "pass --force (overwrite=True) or choose another name"}
    return f"could not {doing} {path}: {cause}; {fixes.get(err.errno, 'choose another folder')}"


def default_file_mode() -> int:
    """The permission bits a new file gets from ``open(path, "w")``: ``0o666`` less the process umask.

    :func:`tempfile.mkstemp` creates ``0o600``; staged files get this mode before the rename, so that a lab's
    shared results stay readable by the lab.
    """
    umask = os.umask(0)       # reading the umask means setting it; restored at once
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def staged_file(path: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block succeeds, it is renamed onto ``path``.

    Parameters
    ----------
    path : str or Path
        The file to write.
    overwrite : bool
        Replace an existing ``path``; otherwise a ``FileExistsError`` is raised before anything is written.

    Raises
    ------
    OutputPathError
        If the file cannot be written (a directory of that name, a read-only folder, a full disk); an earlier
        file of that name is left as it was.
    """
    from neurorx.io import check_output_file

    path = check_output_file(path, overwrite=overwrite)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        yield Path(tmp)
        os.chmod(tmp, default_file_mode())  # mkstemp makes the file private; give it the usual permissions
        os.replace(tmp, path)
        tmp = None
    except OSError as err:
        if isinstance(err, OutputPathError):
            raise
        raise OutputPathError(f"{os_error_message(err, path)} (any previous {path.name} is unchanged)") from err
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_dead_staging(folder: Path) -> None:
    """Remove staging folders left in ``folder`` by processes that no longer run (a SIGKILL)."""
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            m = _STAGING.match(entry.name)
            if m and entry.is_dir() and int(m.group(1)) != os.getpid() and not _pid_alive(int(m.group(1))):
                shutil.rmtree(entry, ignore_errors=True)


@contextlib.contextmanager
def _signals_blocked():
    """SIGINT and SIGTERM wait until the block ends (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    sigs = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


class StagedFolder:
    """A folder of outputs built in a staging folder and moved into place when complete.

    Construct it before any work (it checks the target), then write into the folder it yields::

        folder = StagedFolder(out, complete="report.md", outputs=("report.md", "results.json"), force=force)
        ...                                   # validate everything else
        with folder as stage:                 # nothing exists under `out` until the block succeeds
            write(stage / "results.json"); write(stage / "report.md")

    Parameters
    ----------
    out : str or Path
        The output folder (new or existing).
    complete : str or None
        The file whose presence says the folder is complete (moved in last); ``None`` for a folder without
        one (its files are then replaced together, with SIGINT/SIGTERM blocked).
    outputs : tuple of str
        Every name this writer may produce in ``out``: old ones the new run does not produce are removed, so
        the folder never mixes two runs. Other files in ``out`` are left alone.
    force : bool
        Replace the outputs of an earlier run; without it a folder holding ``complete`` is refused.
    what : str
        What the folder holds, for messages ("demo report").
    keep_on_error : bool
        Keep the staging folder when the block fails (for writers that resume from it); it then has the fixed
        name :attr:`resume_name` inside ``out``.

    Raises
    ------
    FileExistsError
        If ``out`` holds ``complete`` and ``force`` is false.
    OutputPathError
        If ``out`` cannot be an output folder (a file, a read-only folder).
    """

    #: Name of a resumable staging folder inside an existing output folder.
    resume_name = ".replacing"

    def __init__(self, out: str | Path, *, complete: str | None, outputs: tuple[str, ...] = (), force: bool = False,
                 what: str = "results", keep_on_error: bool = False):
        from neurorx.io import check_output_dir

        self.out = check_output_dir(out)
        self.complete = complete
        self.outputs = tuple(dict.fromkeys((*outputs, complete) if complete else outputs))
        self.what = what
        self.keep_on_error = keep_on_error
        if complete and (self.out / complete).exists() and not force:
            raise FileExistsError(f"{self.out} already holds a {what} ({complete}); pass --force (force=True) to "
                                  f"replace it once the new one is complete, or choose another folder")
        self.stage: Path | None = None
        self._created: list[Path] = []

    def __enter__(self) -> Path:
        try:
            if self.out.is_dir():
                _remove_dead_staging(self.out)
                if self.keep_on_error:
                    self.stage = self.out / self.resume_name
                    self.stage.mkdir(exist_ok=True)
                else:
                    self.stage = Path(tempfile.mkdtemp(prefix=f".staging-{os.getpid()}-", dir=self.out))
            else:
                parent = self.out.parent
                missing = [p for p in (parent, *parent.parents) if not p.exists()]
                parent.mkdir(parents=True, exist_ok=True)
                self._created = missing          # removed again if the block fails
                _remove_dead_staging(parent)
                self.stage = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.staging-{os.getpid()}-", dir=parent))
        except OSError as err:
            raise OutputPathError(os_error_message(err, self.out)) from err
        return self.stage

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            try:
                self.commit()
            except OSError as err:
                self._discard()
                if isinstance(err, OutputPathError):
                    raise
                raise OutputPathError(f"{os_error_message(err, self.out)} (the earlier {self.what} is "
                                      f"unchanged)") from err
            return False
        if not self.keep_on_error:
            self._discard()
        return False

    def _discard(self) -> None:
        if self.stage is not None:
            shutil.rmtree(self.stage, ignore_errors=True)
        for folder in self._created:             # deepest first: leave no empty folder behind
            with contextlib.suppress(OSError):
                folder.rmdir()

    def commit(self) -> None:
        """Move the staged outputs into ``out`` (called when the ``with`` block succeeds)."""
        stage = self.stage
        with _signals_blocked():
            if not self.out.exists():
                os.rename(stage, self.out)
                self._fsync_dir(self.out.parent)
                return
            if self.complete:
                (self.out / self.complete).unlink(missing_ok=True)
            produced = {p.name for p in stage.iterdir()}
            for name in self.outputs:
                if name not in produced and name != self.complete:
                    self._remove(self.out / name)
            for name in sorted(produced - {self.complete}):
                target = self.out / name
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target)
                os.replace(stage / name, target)
            if self.complete and self.complete in produced:
                os.replace(stage / self.complete, self.out / self.complete)
            shutil.rmtree(stage, ignore_errors=True)
            self._fsync_dir(self.out)

    @staticmethod
    def _remove(path: Path) -> None:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)

    @staticmethod
    def _fsync_dir(folder: Path) -> None:
        with contextlib.suppress(OSError):
            fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
