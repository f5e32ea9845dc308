"""Estimates of the memory and time a request needs, checked before anything is allocated.

A request too large for the machine (``rnn.n_rec=1e9``, ten million trials, a step a billion times finer than
the training step) is refused up front with the estimate and the way to lower it, instead of failing deep
inside torch or numpy after minutes of work (and after a partial output folder was written).

Notes
-----
The estimates count the arrays that dominate, in bytes (``b`` bytes per number):

- training: parameters :math:`P = GN(N + n_{in}) + N n_{init} + n_{out} N`, with gradients and Adam's two
  moments :math:`4Pb`; plus what backpropagation through time keeps for one batch of ``B`` trajectories of
  ``T`` steps, :math:`TB(3GN + 2n_{out})b` (pre-activations, gates and states per step; outputs and
  targets), plus the test batch. It is a lower bound: temporaries come on top.
- protocols: the arrays a :class:`~neurorx.recording.Recording` keeps, :math:`8BT(2d + n_{in})` (decoded,
  true states, inputs) plus recorded ``h``/``y`` every ``every`` steps, plus one chunk of work.
- simulation time: at least :math:`10^{-5}` s per integration step (each backend's per-step overhead) plus
  :math:`10^{-9}` s per unit and step (no simulator here is faster), i.e. :math:`Tk(10^{-5} + 10^{-9}BN)` for
  ``T`` training steps at ``dt_factor`` ``k``.
"""

from __future__ import annotations

import os

from neurorx.errors import ResourceError

__all__ = [
    "MAX_SIMULATION_SECONDS",
    "available_memory",
    "check_memory",
    "check_simulation_time",
    "format_bytes",
    "protocol_memory",
    "training_memory",
]

#: Runs estimated to take longer than this (seconds) are refused: a day.
MAX_SIMULATION_SECONDS = 86_400.0
#: Lower bound on the cost of one unit over one integration step (seconds).
_SECONDS_PER_UNIT_STEP = 1e-9
#: Lower bound on the fixed cost of one integration step of any backend (seconds).
_SECONDS_PER_STEP = 1e-5
#: Fraction of the available memory a request may use.
_MEMORY_FRACTION = 0.9


def format_bytes(n: float) -> str:
    """``n`` bytes as a short human-readable string (``"1.5 GB"``)."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.3g} {unit}"
        n /= 1000.0
    return f"{n:.3g} PB"


def available_memory() -> float:
    """Bytes of memory available to a new allocation (``MemAvailable`` of ``/proc/meminfo``, else physical)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return float("inf")


def training_memory(*, n_rec: int, n_in: int, n_out: int, n_init: int, gates: int, batch: int, steps: int,
                    test_batch: int = 0, bytes_per_number: int = 4) -> float:
    """Lower bound on the bytes one training run holds (see the module notes)."""
    params = gates * n_rec * (n_rec + n_in) + n_rec * n_init + n_out * n_rec
    per_trajectory = steps * (3 * gates * n_rec + 2 * n_out)
    return float(bytes_per_number) * (4.0 * params + (batch + test_batch) * per_trajectory)


def protocol_memory(*, trials: int, steps: int, n_rec: int, n_out: int, n_in: int, dims: int,
                    record: tuple[str, ...] = (), every: int = 1, chunk_bytes: float = 0.0,
                    h_bytes: int = 8) -> float:
    """Lower bound on the bytes a protocol run keeps (see the module notes)."""
    kept = 8.0 * trials * steps * (2 * dims + n_in)
    recorded = -(-steps // max(1, every))
    if "h" in record:
        kept += float(h_bytes) * trials * recorded * n_rec
    if "y" in record:
        kept += 8.0 * trials * recorded * n_out
    return kept + float(chunk_bytes)


def check_memory(required: float, what: str, fix: str, *, available: float | None = None) -> None:
    """Raise :class:`~neurorx.errors.ResourceError` if ``required`` bytes exceed the available memory.

    Parameters
    ----------
    required : float
        The estimate, in bytes.
    what : str
        What needs it ("this training run", "this protocol").
    fix : str
        How to lower it, named in the message.
    available : float, optional
        Bytes available (default: :func:`available_memory`).
    """
    available = available_memory() if available is None else float(available)
    if required > _MEMORY_FRACTION * available:
        raise ResourceError(f"{what} needs at least {format_bytes(required)} of memory, but "
                            f"{format_bytes(available)} is available; {fix}")


def check_simulation_time(*, trials: int, n_rec: int, steps: int, dt_factor: int, what: str = "this run",
                          limit: float = MAX_SIMULATION_SECONDS) -> float:
    """Return a lower bound on the run time (seconds); raise :class:`ResourceError` if it exceeds ``limit``."""
    seconds = float(steps) * float(dt_factor) * (_SECONDS_PER_STEP + _SECONDS_PER_UNIT_STEP * float(trials) * n_rec)
    if seconds > limit:
        raise ResourceError(
            f"{what} would take at least {seconds / 3600:.3g} hours ({steps} steps x dt_factor {dt_factor} x "
            f"{trials} trials x {n_rec} units); lower dt_factor (the step is the training step / dt_factor), the "
            f"number of steps or of trials")
    return seconds
