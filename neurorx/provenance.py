"""Provenance: versions, git commit and time, saved next to every result."""

from __future__ import annotations

import datetime as _dt
import platform
import subprocess
from pathlib import Path

__all__ = ["git_commit", "provenance"]


def git_commit(path: str | Path | None = None) -> str | None:
    """The git commit of the neurorx checkout (``None`` if not in a git work tree); ``+dirty`` if modified."""
    root = Path(path) if path else Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return sha + ("+dirty" if dirty else "") if sha else None


def provenance(seed: int | None = None, **extra) -> dict:
    """Versions of neurorx and its dependencies, git commit, time and ``seed`` as a JSON-able dict."""
    import brian2
    import numpy
    import scipy
    import torch

    from neurorx._version import __version__

    out = {
        "neurorx": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "brian2": brian2.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "platform": platform.platform(),
        "git_commit": git_commit(),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "seed": seed,
    }
    out.update(extra)
    return out
