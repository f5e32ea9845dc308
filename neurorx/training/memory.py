"""Reuse of freed memory for the large temporaries of a training step (glibc ``mallopt``).

A training step allocates and frees a dozen arrays of ``T x B x N`` floats (41 MB each for the spatial
network). glibc serves allocations above its mmap threshold (at most 32 MB) with fresh ``mmap`` pages and
returns them on ``free``, so every step pays the kernel for zeroing and mapping those pages again: about a
fifth of a spatial step and a quarter of a head-direction step on the reference 2-core machine. Inside
:func:`reuse_freed_memory`, glibc is told to take large blocks from its heap and not to return freed memory
to the system, so the same pages are reused from step to step. Elsewhere (non-glibc systems) it does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import sys

__all__ = ["reuse_freed_memory"]

# mallopt parameters (glibc malloc.h) and glibc's defaults
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4
_DEFAULT_TRIM_THRESHOLD, _DEFAULT_MMAP_MAX = 128 * 1024, 65536


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        return libc
    except (OSError, AttributeError):
        return None


@contextlib.contextmanager
def reuse_freed_memory(enabled: bool = True):
    """Within the block, keep freed memory in the process heap for reuse (glibc only; otherwise a no-op).

    On exit glibc's default settings are restored and free memory at the top of the heap is returned to the
    system (``malloc_trim``).
    """
    libc = _libc() if enabled else None
    if libc is None:
        yield False
        return
    ok = bool(libc.mallopt(_M_MMAP_MAX, 0)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))
    try:
        yield ok
    finally:
        libc.mallopt(_M_MMAP_MAX, _DEFAULT_MMAP_MAX)
        libc.mallopt(_M_TRIM_THRESHOLD, _DEFAULT_TRIM_THRESHOLD)
        libc.malloc_trim(0)
