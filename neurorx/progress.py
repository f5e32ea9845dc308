"""The one progress bar and the one logger of neurorx.

Long work (training, simulations, sweeps) shows a tqdm bar on an interactive terminal; log lines go through
the standard :mod:`logging` module under the ``"neurorx"`` logger, so users silence or redirect them as
for any library (``logging.getLogger("neurorx").setLevel(logging.WARNING)``). While a bar is shown, log
lines are written above it.
"""

from __future__ import annotations

import logging
import sys

__all__ = ["NoBar", "get_logger", "progress"]

_ROOT = "neurorx"


class _TqdmAwareHandler(logging.StreamHandler):
    """A stderr handler that writes through ``tqdm.write`` so that lines do not break a progress bar."""

    def emit(self, record):
        try:
            from tqdm.auto import tqdm

            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:   # logging must never raise
            self.handleError(record)


def get_logger(name: str | None = None) -> logging.Logger:
    """The ``neurorx`` logger (or its child ``neurorx.<name>``), writing plain lines to stderr at INFO.

    A handler is installed on the ``neurorx`` logger once, unless the application configured one itself.
    """
    root = logging.getLogger(_ROOT)
    if not root.handlers:
        handler = _TqdmAwareHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        root.propagate = False
    return root if not name else root.getChild(name)


class NoBar:
    """Stand-in for a progress bar when none is shown."""

    def update(self, n: int = 1) -> None:
        """Do nothing."""

    def set_postfix_str(self, s: str) -> None:
        """Do nothing."""

    def close(self) -> None:
        """Do nothing."""


def progress(total: int, desc: str, unit: str, *, enabled: bool = True, initial: int = 0, tty_only: bool = False):
    """A tqdm progress bar over ``total`` units, or a :class:`NoBar` when ``enabled`` is false.

    ``tty_only=True`` also hides the bar when stderr is not a terminal (logs of background jobs stay clean).
    """
    if not enabled or (tty_only and not sys.stderr.isatty()):
        return NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit=unit, dynamic_ncols=True)
