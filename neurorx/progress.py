"""The one progress bar and the one logger of neurorx.

Long work (training, simulations, sweeps) shows a tqdm bar on an interactive terminal, and plain log lines
(no carriage returns) when stderr is a file or a pipe; log lines go through
the standard :mod:`logging` module under the ``"neurorx"`` logger, so users silence or redirect them as
for any library (``logging.getLogger("neurorx").setLevel(logging.WARNING)``). While a bar is shown, log
lines are written above it.
"""

from __future__ import annotations

import logging
import sys
import time

__all__ = ["LogBar", "NoBar", "get_logger", "progress"]

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


class LogBar:
    """Progress as plain log lines, for output that is not a terminal (a log file, a pipe, a notebook's stderr).

    Writes ``desc: n/total unit (p%), elapsed s, about r s left`` to the ``neurorx.progress`` logger at most every
    ``interval`` seconds, nothing before ``delay`` seconds have passed, and a closing line if it wrote any.
    """

    def __init__(self, total: int, desc: str, unit: str, *, initial: int = 0, delay: float = 0.0,
                 interval: float = 15.0):
        self.total, self.desc, self.unit, self.n = int(total), desc, unit, int(initial)
        self.initial = int(initial)
        self.delay, self.interval = float(delay), float(interval)
        self.start = self.last = time.monotonic()
        self.postfix = ""
        self.wrote = False
        self.log = get_logger("progress")

    def _line(self, now: float) -> str:
        done = self.n - self.initial
        elapsed = now - self.start
        pct = f" ({100 * self.n / self.total:.0f}%)" if self.total else ""
        left = ""
        if 0 < done < self.total and elapsed > 0:
            left = f", about {elapsed * (self.total - self.n) / done:.0f} s left"
        post = f", {self.postfix}" if self.postfix else ""
        return f"{self.desc}: {self.n}/{self.total} {self.unit}{pct}, {elapsed:.0f} s{left}{post}"

    def update(self, n: int = 1) -> None:
        """Advance by ``n`` units; log a line when one is due."""
        self.n += int(n)
        now = time.monotonic()
        if now - self.start >= self.delay and (not self.wrote or now - self.last >= self.interval):
            self.log.info(self._line(now))
            self.last, self.wrote = now, True

    def set_postfix_str(self, s: str) -> None:
        """Text appended to the next line."""
        self.postfix = s

    def close(self) -> None:
        """Log the final count if any line was written."""
        if self.wrote:
            self.log.info(f"{self.desc}: {self.n}/{self.total} {self.unit} in {time.monotonic() - self.start:.0f} s")
            self.wrote = False


def progress(total: int, desc: str, unit: str, *, enabled: bool = True, initial: int = 0, tty_only: bool = False,
             delay: float = 0.0):
    """A progress display over ``total`` units: a tqdm bar on a terminal, :class:`LogBar` lines otherwise.

    ``enabled=False`` gives a :class:`NoBar`. ``tty_only=True`` also gives a :class:`NoBar` when stderr is not a
    terminal (for callers that log their own lines there, e.g. a sweep's one line per job). ``delay``: show
    nothing for the first ``delay`` seconds, so short runs stay quiet.
    """
    if not enabled:
        return NoBar()
    if not sys.stderr.isatty():
        return NoBar() if tty_only else LogBar(total, desc, unit, initial=initial, delay=delay)
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit=unit, dynamic_ncols=True, delay=delay)
