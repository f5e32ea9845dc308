"""Start-up of the worker processes of the local Dask cluster a sweep starts: they leave Ctrl+C to the command.

Ctrl+C in a terminal sends SIGINT to the whole foreground process group, the cluster's worker processes
included. A worker that takes it raises ``KeyboardInterrupt`` inside its event loop and prints
``CancelledError`` / ``CommClosedError`` tracebacks while it dies, racing the command's own orderly shutdown,
so what Ctrl+C prints would depend on timing. :func:`neurorx.sweep.runner` names this module as the workers'
Dask *preload*: each worker process ignores SIGINT from the moment it starts, and only the command's main
process takes Ctrl+C; it then closes the client and the cluster, which stop the workers (within Dask's close
timeout). SIGTERM keeps its default in the workers.
"""

from __future__ import annotations

import signal
import threading

__all__ = ["MODULE", "dask_setup"]

#: This module's name, as the ``preload`` of a ``LocalCluster``.
MODULE = __name__


def dask_setup(worker) -> None:
    """Ignore SIGINT in this worker process (Dask calls this when the worker starts).

    Workers in the command's own process (``processes=False``) are left alone: there SIGINT is the command's.
    """
    if threading.current_thread() is threading.main_thread() and worker is not None:
        import multiprocessing

        if multiprocessing.parent_process() is not None:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
