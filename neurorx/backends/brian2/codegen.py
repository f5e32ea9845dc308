"""Brian2 code generation: targets, the prefs of one call, compilation with a numpy fallback, the draw order.

:func:`brian2_prefs` sets Brian2's code-generation target, cython cache and float dtype for one call and
restores them afterwards; :func:`compile_network` compiles every code object once (cython, or numpy when
compilation fails under ``"auto"``); :func:`euler_sorted_draws` is Brian2's ``euler`` with its Gaussian draws in
a fixed order.
"""

from __future__ import annotations

import contextlib
import gc
import re
import warnings

import brian2.core.network as _brian2_network_module
import numpy as np
from brian2 import Network, prefs, second
from brian2.devices.device import RuntimeDevice, get_device

from neurorx.backends.base import SimulationError
from neurorx.registry import Registry

__all__ = ["TARGETS", "brian2_prefs", "compile_network", "euler_sorted_draws", "is_standalone"]

TARGETS: Registry[str] = Registry("Brian2 code-generation target")
TARGETS.add("auto", "cython, falling back to numpy (with one warning) if compilation fails")
TARGETS.add("cython", "cython (needs a C compiler at run time); compilation errors are raised")
TARGETS.add("numpy", "numpy (no compilation; slower per step)")


def is_standalone() -> bool:
    """Whether a Brian2 standalone device (``cpp_standalone``, ...) is set rather than the runtime device."""
    return not isinstance(get_device(), RuntimeDevice)


class _YoungGenerationGC:
    """Stands in for the ``gc`` module inside ``brian2.core.network`` while the backend runs its network.

    ``Network.run`` calls ``gc.collect()`` on every call, only to warn about Brian2 objects that were created
    but never added to a network (the backend adds all of its objects). A full collection costs 0.1-0.3 s in
    a process that has imported torch, which dominated short chunked runs; collecting the youngest
    generation keeps the warning for fresh garbage at a negligible cost.
    """

    @staticmethod
    def collect(generation: int = 0) -> int:
        return gc.collect(0)


@contextlib.contextmanager
def brian2_prefs(target: str, cache_dir, dtype=np.float64):
    """Brian2 prefs for one call (code-generation target, cython cache, float dtype) and a cheap ``gc`` in ``run()``.

    ``dtype`` is Brian2's ``core.default_float_dtype``: the dtype of every float variable created and of the
    temporaries of the code generated inside the context, so a network built in float32 must also be run in
    it. With float32 the one warning Brian2's after-run check of the state makes on numpy 2 (it compares the
    float32 state with ``1e50``, which overflows the cast to float32) is silenced; the check itself still runs,
    and a NaN/inf state is reported by :func:`~neurorx.backends.base.check_finite`.
    """
    old_target = prefs["codegen.target"]
    old_cache = prefs["codegen.runtime.cython.cache_dir"]
    old_dtype = prefs["core.default_float_dtype"]
    swap_gc = getattr(_brian2_network_module, "gc", None) is gc
    prefs["codegen.target"] = target
    prefs["core.default_float_dtype"] = dtype
    if cache_dir is not None:
        prefs["codegen.runtime.cython.cache_dir"] = str(cache_dir)
    if swap_gc:
        _brian2_network_module.gc = _YoungGenerationGC
    try:
        with warnings.catch_warnings():
            if dtype is not np.float64:
                warnings.filterwarnings("ignore", message="overflow encountered in cast", category=RuntimeWarning,
                                        module=r"brian2\.groups\.group")
            yield
    finally:
        prefs["codegen.target"] = old_target
        prefs["codegen.runtime.cython.cache_dir"] = old_cache
        prefs["core.default_float_dtype"] = old_dtype
        if swap_gc:
            _brian2_network_module.gc = gc


def compile_network(net: Network, target: str, cache_dir, dtype=np.float64, *, failures: list[str]) -> str:
    """Compile every code object (a zero-length cython run); return the target to run with.

    ``"auto"`` falls back to numpy when compilation fails, warning once: the failure is appended to
    ``failures`` (the caller's record for its process), and a non-empty ``failures`` means numpy.
    """
    if target == "numpy" or (target == "auto" and failures):
        return "numpy"
    try:
        with brian2_prefs("cython", cache_dir, dtype):
            net.run(0 * second, namespace={})
        return "cython"
    except Exception as err:
        if target == "cython":
            raise SimulationError(
                f"Brian2 could not compile the network with the cython target ({type(err).__name__}: {err}). "
                "Install a C compiler and Cython, or pass target='numpy' (or 'auto' to fall back)."
            ) from err
        failures.append(f"{type(err).__name__}: {err}")
        warnings.warn(
            f"Brian2's cython target failed ({type(err).__name__}: {err}); the brian2 backend uses the "
            "slower numpy target from now on in this process. Install a C compiler to get cython.",
            RuntimeWarning, stacklevel=3,
        )
    return "numpy"


_DRAW = re.compile(r"^xi_\w* = dt\*\*\.5 \* randn\(\)$")


def euler_sorted_draws(equations, variables=None, method_options=None) -> str:
    """Brian2's ``euler`` (Euler–Maruyama) state updater, with its Gaussian draws in a fixed order.

    Notes
    -----
    Brian2 draws one ``randn()`` per stochastic variable ``xi_*`` at the start of every step, in the
    iteration order of a ``set`` of their names. That order follows Python's string hashing, which differs
    between processes (``PYTHONHASHSEED``): with two noise types in one network (white noise while active, an
    OU process during quiescence) the same seed gave other paths in another process. This updater sorts the
    draw statements by name; the update itself is ``euler``'s, unchanged.
    """
    from brian2.stateupdaters.explicit import euler

    lines = euler(equations, variables, method_options).split("\n")
    k = next((i for i, line in enumerate(lines) if not _DRAW.match(line)), len(lines))
    return "\n".join(sorted(lines[:k]) + lines[k:])
