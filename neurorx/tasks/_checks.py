"""Argument validation shared by the task modules (clear, uniform error messages)."""

from __future__ import annotations

import math
import numbers

import numpy as np

from neurorx.checks import positive_int as check_int  # the one positive-integer check
from neurorx.registry import suggest

__all__ = [
    "as_array",
    "as_state_pair",
    "as_tensors",
    "check_bool",
    "check_choice",
    "check_float",
    "check_int",
    "check_seconds",
    "check_seed",
    "check_top_k",
    "is_torch",
    "make_rng",
]


def is_torch(x) -> bool:
    """True if ``x`` is a :class:`torch.Tensor` (without importing torch when it is not loaded)."""
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


def check_float(value, name: str, *, positive: bool = False, nonnegative: bool = False,
                maximum: float | None = None) -> float:
    """Return ``value`` as a finite ``float``, optionally checking its sign and an upper bound."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    if nonnegative and value < 0:
        raise ValueError(f"{name} must be non-negative, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value!r}")
    return value


def check_bool(value, name: str) -> bool:
    """Return ``value`` as a ``bool`` if it is ``True`` or ``False`` (numpy booleans too); otherwise raise."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_seed(value, name: str = "seed") -> int:
    """Return ``value`` as an ``int`` if it is a non-negative integer (not a bool); otherwise raise."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise TypeError(f"{name} must be a non-negative int, got {value!r}")
    return int(value)


def check_top_k(value, n_cells: int) -> int:
    """Return the number ``top_k`` of most active cells a decoder averages, checked to be in ``1..n_cells``."""
    top_k = check_int(value, "top_k")
    if top_k > n_cells:
        raise ValueError(f"top_k={top_k} exceeds n_cells={n_cells}")
    return top_k


def check_seconds(value, name: str) -> float:
    """Return a positive time step in seconds.

    A bare number is read as seconds (the reference code's convention, ``dt=0.02``), but only below one
    second (``dt=20`` is refused: it was meant in ms); a Brian2 quantity (e.g. ``20*ms``) is converted with
    :func:`neurorx.units.as_seconds`.
    """
    from neurorx.units import as_seconds, check_bare_seconds  # lazily: neurorx.units imports brian2

    if type(value).__module__.startswith("brian2"):
        return as_seconds(value, name)
    return check_bare_seconds(check_float(value, f"{name} (in seconds)", positive=True), name)


def check_choice(value, options, name: str) -> str:
    """Return ``value`` if it is one of ``options``; otherwise raise with the choices and a suggestion."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(
            f"unknown {name} {value!r}; choose one of {sorted(options)}." + suggest(value, options)
        )
    return value


def make_rng(seed, name: str = "seed") -> np.random.Generator:
    """A numpy :class:`~numpy.random.Generator` from an int seed (or pass a Generator through).

    ``None`` gives fresh OS entropy (not reproducible).
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise TypeError(f"{name} must be a non-negative int, None or a numpy Generator, got {seed!r}")
    return np.random.default_rng(int(seed))


def as_array(x, name: str, *, last_dim: int | None = None, min_ndim: int = 1) -> np.ndarray:
    """``x`` as a finite float64 numpy array, optionally checking the size of its last axis."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}: {err}") from None
    if arr.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s), got shape {arr.shape}")
    if last_dim is not None and arr.shape[-1] != last_dim:
        raise ValueError(f"{name} must have shape (..., {last_dim}), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains non-finite values (nan or inf)")
    return arr


def as_tensors(a, b):
    """Two array-likes as torch tensors on the device and dtype of whichever one already is a tensor."""
    import torch

    ref = a if is_torch(a) else b
    dtype = ref.dtype if torch.is_floating_point(ref) else torch.get_default_dtype()
    return (
        torch.as_tensor(a, dtype=dtype, device=ref.device),
        torch.as_tensor(b, dtype=dtype, device=ref.device),
    )


def as_state_pair(decoded, states, dim: int):
    """Decoded and true states of one kind: torch tensors when either is one (see :func:`as_tensors`),
    otherwise float64 numpy arrays checked to have shape ``(..., dim)``.
    """
    if is_torch(decoded) or is_torch(states):
        return as_tensors(decoded, states)
    decoded, states = np.asarray(decoded, dtype=np.float64), np.asarray(states, dtype=np.float64)
    if decoded.shape[-1:] != (dim,) or states.shape[-1:] != (dim,):
        raise ValueError(
            f"decoded and states must have shape (..., {dim}), got {decoded.shape} and {states.shape}"
        )
    return decoded, states
