"""Import Brian2 once and undo the process-wide changes it makes at import time.

Importing Brian2 (which ``neurorx.units`` and the noise models do) replaces ``sys.excepthook`` with a hook
that prints "Brian 2 encountered an unexpected error ... report this issue" and writes log files for every
uncaught exception, the user's own included, and wraps the SIGINT handler in one that calls the previous
handler, which fails with ``TypeError: 'Handlers' object is not callable`` when that was ``SIG_IGN`` (a job
started in the background). neurorx is a library: a script that imports it must behave as it would without
it, so the previous exception hook is put back, and a non-callable previous SIGINT handler is replaced by
Python's default (``KeyboardInterrupt``).
"""

from __future__ import annotations

import signal
import sys

_previous_hook = sys.excepthook

import brian2  # noqa: E402  (imported here on purpose, after saving the hook)

if sys.excepthook is not _previous_hook and getattr(sys.excepthook, "__module__", "").startswith("brian2"):
    sys.excepthook = _previous_hook

_handler = signal.getsignal(signal.SIGINT)
if hasattr(_handler, "previous_handler") and not callable(_handler.previous_handler):
    _handler.previous_handler = signal.default_int_handler

__all__: list[str] = []
del brian2
