"""A hint when the machine is too busy for a training's torch threads.

torch's intra-op threads wait for each other at every step; when other processes keep the cores busy, a
descheduled thread stalls the others and a training can run several times slower than with one thread. The
one-minute load average (``os.getloadavg``) says so without sampling or waiting.
"""

from __future__ import annotations

import os

__all__ = ["busy_machine_note"]


def busy_machine_note(threads: int) -> str | None:
    """A log line advising fewer threads when the load leaves fewer than ``threads`` cores free, else ``None``."""
    if threads < 2:
        return None
    try:
        load = os.getloadavg()[0]
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    except OSError:
        return None
    if not cores or load <= cores - threads + 0.5:
        return None
    return (f"note: the machine's load is {load:.1f} on {cores} cores. With {threads} torch threads each step "
            f"waits for descheduled threads and training can be several times slower; run one training at a time, "
            f"or set trainer.threads=1 for concurrent jobs.")
