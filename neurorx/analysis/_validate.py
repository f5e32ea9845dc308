"""Input checks shared by the analysis functions.

Every public analysis function funnels its array arguments through these helpers, so that a wrong shape,
a NaN or an empty array produces one consistent error that says what is wrong *and* how to fix it.
"""

from __future__ import annotations

import numbers

import numpy as np

from neurorx.errors import ArgumentTypeError, ConfigurationError

__all__ = [
    "as_array",
    "as_box",
    "as_points",
    "as_trajectories",
    "check_finite",
    "check_int",
    "check_recording_values",
    "check_seed",
]

#: Decoded angles lie in (-π, π] (a circular decoder) or [0, 2π) (data); beyond ±2π they are not angles.
ANGLE_LIMIT = 2 * np.pi
#: Decoded positions farther from the centre than this many times the arena's half-width (the largest true
#: position) are not positions in the arena.
POSITION_FACTOR = 10.0


def as_array(x, name: str) -> np.ndarray:
    """Return ``x`` as a float64 numpy array, with a helpful error for tensors and non-numeric input."""
    if x is None:
        raise TypeError(
            f"{name} is None. If it came from a Recording (rec.h, rec.y), those arrays exist only when "
            "recorded: run the protocol with record=('h',) (and/or 'y'), or use rec.require('h')."
        )
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        # torch.Tensor (possibly on a GPU or requiring grad): convert explicitly rather than fail later.
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name} must be a numeric array (numpy array, list of numbers or torch tensor); got "
            f"{type(x).__name__}: {err}. Ragged nested lists are not accepted: stack them into one "
            f"rectangular array first."
        ) from None
    return arr


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` if ``arr`` contains NaN or infinite values, saying how many and where."""
    finite = np.isfinite(arr)
    if finite.all():
        return
    n_nan = int(np.isnan(arr).sum())
    n_inf = int(np.isinf(arr).sum())
    first = tuple(int(i) for i in np.argwhere(~finite)[0])
    raise ValueError(
        f"{name} contains {n_nan} NaN and {n_inf} infinite value(s) (first at index {first}). The "
        f"analyses need finite numbers: drop the affected rows (e.g. x[np.isfinite(x).all(axis=-1)]) "
        f"or find where the simulation diverged."
    )


def as_points(x, name: str, *, min_points: int = 1) -> np.ndarray:
    """Return ``x`` as a finite ``(n, d)`` float array of ``n >= min_points`` points."""
    arr = as_array(x, name)
    if arr.ndim != 2:
        if arr.ndim == 1:
            hint = f"for 1-D data pass {name}[:, None] (shape ({arr.shape[0]}, 1))"
        elif arr.ndim >= 3:
            hint = (
                f"to pool trajectories (B, T, d) into points use {name}.reshape(-1, {arr.shape[-1]}) "
                f"(shape ({int(np.prod(arr.shape[:-1]))}, {arr.shape[-1]}))"
            )
        else:
            hint = "a single point must be given as an array of shape (1, d)"
        raise ValueError(f"{name} must be a 2-D array of points with shape (n, d); got shape {arr.shape}: {hint}.")
    n, d = arr.shape
    if d == 0:
        raise ValueError(f"{name} has shape {arr.shape}: the points have no coordinates (d = 0).")
    if n == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); at least {min_points} point(s) are needed.")
    check_finite(arr, name)
    if n < min_points:
        raise ValueError(f"{name} has {n} point(s) (shape {arr.shape}); at least {min_points} are needed.")
    return arr


def as_trajectories(x, name: str, *, min_steps: int = 1) -> np.ndarray:
    """Return ``x`` as a finite ``(B, T, d)`` float array with ``T >= min_steps``."""
    arr = as_array(x, name)
    if arr.ndim != 3:
        if arr.ndim == 2:
            hint = (
                f"for a batch of 1-D signals (B, T) use {name}[..., None]; for one trajectory (T, d) use {name}[None]"
            )
        elif arr.ndim == 1:
            hint = f"for one 1-D trajectory (T,) use {name}[None, :, None]"
        else:
            hint = f"collapse the extra leading axes, e.g. {name}.reshape(-1, *{name}.shape[-2:])"
        raise ValueError(
            f"{name} must be a 3-D array of trajectories with shape (B, T, d) = (trials, time steps, "
            f"dimensions); got shape {arr.shape}: {hint}."
        )
    b, t, d = arr.shape
    if b == 0 or d == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); it needs at least one trajectory and one dimension.")
    if t < min_steps:
        raise ValueError(f"{name} has {t} time step(s) (shape {arr.shape}); at least {min_steps} are needed.")
    check_finite(arr, name)
    return arr


def check_int(value, name: str, *, minimum: int | None = None) -> int:
    """Return ``value`` as an int, refusing floats, bools and values below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ArgumentTypeError(f"{name} must be an integer; got {value!r} ({type(value).__name__}).")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ConfigurationError(f"{name} must be >= {minimum}; got {value}.")
    return value


def check_seed(seed, name: str = "seed"):
    """Accept ``None``, an int, or a numpy ``Generator``/``RandomState``; refuse anything else."""
    if seed is None or isinstance(seed, np.random.Generator | np.random.RandomState):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{name} must be None, a non-negative int or a numpy Generator/RandomState; got {seed!r}.")
    if seed < 0 or seed > 2**32 - 1:
        raise ValueError(f"{name} must be an integer in [0, 2**32 - 1]; got {seed}.")
    return int(seed)


def as_box(box, d: int, name: str = "box") -> np.ndarray:
    """Return a box as a ``(d, 2)`` array of ``[low, high]`` rows.

    ``box`` is either one ``(low, high)`` pair used for every dimension, or ``d`` such pairs.
    """
    arr = as_array(box, name)
    if arr.shape == (2,):
        arr = np.tile(arr, (d, 1))
    if arr.shape != (d, 2):
        raise ValueError(
            f"{name} must be one (low, high) pair for all {d} dimension(s), or an array of shape ({d}, 2); "
            f"got shape {arr.shape}."
        )
    check_finite(arr, name)
    if not np.all(arr[:, 1] > arr[:, 0]):
        raise ValueError(f"{name} must have high > low in every dimension; got {arr.tolist()}.")
    return arr


def check_recording_values(rec, name: str = "the recording") -> None:
    r"""Refuse a recording whose values are not results: non-finite, diverged or out of range.

    Statistics of such a recording would be printed as ordinary numbers (an energy distance of 1e29, a total
    variance of 3e28 rad²), so :func:`neurorx.compare` and every :class:`~neurorx.analysis.Statistic` of a
    recording call this first.

    Raises
    ------
    SimulationError
        Naming the array, how many trials are affected, the largest magnitude and the limit: NaN or infinite
        values in ``decoded``, ``h`` or ``y``, infinite ones in ``states`` (NaN there: no known true
        state); ``|h|`` above the exploding-state limit of the
        runner (:attr:`neurorx.protocol_run.StateRange.LIMIT`); decoded angles beyond ±2π; decoded positions more
        than :data:`POSITION_FACTOR` times the arena's half-width (the largest true position) from the centre.

    Notes
    -----
    The arena's half-width is estimated as :math:`\max_{b,t,i} |s_{bti}|` over the true states ``s`` (1 m if
    they are all zero), so the check needs no task object and also holds for recordings read from data.
    """
    from neurorx.errors import SimulationError
    from neurorx.protocol_run import StateRange

    fix = ("the run that made it diverged or the file was altered: re-run the protocol (e.g. with less noise, "
           "fewer steps or a stable network) and compare the new recording")
    circular = bool(getattr(rec, "meta", {}).get("circular", False))
    for array_name in ("decoded", "states", "h", "y"):
        arr = getattr(rec, array_name, None)
        if arr is None or not np.asarray(arr).size:
            continue
        arr = np.asarray(arr, dtype=np.float64)
        # true states may be unknown (NaN): a lab's sleep epoch has no measured path to compare with
        finite = np.isfinite(arr) | np.isnan(arr) if array_name == "states" else np.isfinite(arr)
        if not finite.all():
            trials = int((~finite).reshape(arr.shape[0], -1).any(axis=1).sum())
            raise SimulationError(f"{name}: {array_name} holds {int((~finite).sum())} NaN/infinite value(s) in "
                                  f"{trials} of {arr.shape[0]} trials; {fix}")
        peak = float(np.abs(arr).max())
        if array_name == "h":
            limit, what = StateRange.LIMIT, "hidden states"
        elif array_name == "decoded" and circular:
            limit, what = ANGLE_LIMIT, "decoded angles (rad)"
        elif array_name == "decoded":
            states = np.asarray(rec.states, dtype=np.float64)
            known = states[np.isfinite(states)]
            half = float(np.abs(known).max()) if known.size else 0.0
            limit, what = POSITION_FACTOR * (half if half > 0 else 1.0), "decoded positions (m)"
        else:
            continue
        if peak > limit:
            over = (np.abs(arr) > limit).reshape(arr.shape[0], -1).any(axis=1)
            raise SimulationError(f"{name}: {what} reach |{array_name}| = {peak:.3g}, beyond the limit "
                                  f"{limit:.3g}, in {int(over.sum())} of {arr.shape[0]} trials; {fix}")
