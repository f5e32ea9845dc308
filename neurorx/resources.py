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

import contextlib
import math
import os
from collections.abc import Iterator

from neurorx.errors import ResourceError

__all__ = [
    "LIMITS",
    "MAX_SIMULATION_SECONDS",
    "available_memory",
    "check_count",
    "check_duration",
    "check_grid",
    "check_memory",
    "check_resamples",
    "check_simulation_time",
    "check_sweep_spec",
    "check_workers",
    "format_bytes",
    "protocol_memory",
    "raised_limits",
    "resample_memory",
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


#: Largest counts a request may ask for unless the limit is raised on purpose (:func:`raised_limits`, or the
#: command line's ``--max-jobs`` / ``--max-resamples``): jobs of a sweep (also E/I runs), and bootstrap
#: resamples or permutations of one test.
LIMITS: dict[str, int] = {"jobs": 100_000, "resamples": 1_000_000}
#: How each limit is raised, named in refusals.
_RAISE = {"jobs": "--max-jobs N (raised_limits(jobs=N))", "resamples": "--max-resamples N (raised_limits(resamples=N))"}


@contextlib.contextmanager
def raised_limits(**limits: int) -> Iterator[dict[str, int]]:
    """Raise (or lower) :data:`LIMITS` inside a ``with`` block: ``with raised_limits(jobs=10**6): sweep(...)``."""
    unknown = set(limits) - set(LIMITS)
    if unknown:
        from neurorx.errors import ConfigurationError

        raise ConfigurationError(f"unknown limit(s) {sorted(unknown)}; the limits are {sorted(LIMITS)}")
    from neurorx.checks import positive_int

    old = dict(LIMITS)
    LIMITS.update({k: positive_int(v, f"limit {k}") for k, v in limits.items()})
    try:
        yield LIMITS
    finally:
        LIMITS.clear()
        LIMITS.update(old)


def check_count(n, what: str, fix: str, *, limit: str = "jobs") -> int:
    """Refuse a count above ``LIMITS[limit]`` before anything of that size is built; returns ``n``.

    ``n`` is an exact integer (a product of grid sizes, computed without expanding the grid). The message
    names the count, the limit, how to ask for less (``fix``) and how to raise the limit on purpose.
    """
    cap = LIMITS[limit]
    if n > cap:
        raise ResourceError(f"{what} is {n:,}, above the limit of {cap:,}; {fix}, or raise the limit on purpose "
                            f"with {_RAISE[limit]}")
    return int(n)


def check_grid(sizes: dict[str, int], what: str = "this grid", *, limit: str = "jobs",
               fix: str = "use fewer values along one axis") -> int:
    """Count the cells of a grid from its axis sizes (never expanding it) and refuse too many; returns the count.

    Parameters
    ----------
    sizes : dict
        Axis name -> number of values, e.g. ``{"conditions": 4, "seeds": 10**7}``.
    what : str
        What the grid is, for the message.
    """
    n = math.prod(int(v) for v in sizes.values())
    shape = " x ".join(f"{v:,} {k}" for k, v in sizes.items())
    return check_count(n, f"{what} ({shape})", fix, limit=limit)


def resample_memory(n_resamples: int, rows: int) -> float:
    """Bytes of the resampling indices of a bootstrap or permutation test: :math:`8 n_{res} n_{rows}`.

    :func:`scipy.stats.bootstrap` and :func:`scipy.stats.permutation_test` draw the index arrays of all
    resamples at once (one int64 per row and resample), which dominates their memory.
    """
    return 8.0 * float(n_resamples) * float(rows)


def check_resamples(n_resamples: int, rows: int, what: str) -> int:
    """Refuse a resampling test that needs too many resamples or too much memory, before drawing any."""
    check_count(n_resamples, f"{what}: the number of resamples", "ask for fewer (1999 resolves a 95% interval, "
                "999 permutations resolve p to 0.001)", limit="resamples")
    check_memory(resample_memory(n_resamples, rows), f"{what} ({n_resamples:,} resamples of {rows:,} rows)",
                 "ask for fewer resamples")
    return n_resamples


def check_sweep_spec(spec) -> dict[str, int]:
    """Count a sweep's jobs from its axis sizes and check its largest training and run, before any expansion.

    Parameters
    ----------
    spec : neurorx.sweep.spec.SweepSpec
        A parsed spec (seeds, conditions, backends and trials as given).

    Returns
    -------
    dict
        ``{"trainings": ..., "runs": ..., "statistics": ..., "jobs": ...}`` (statistics: an upper bound).

    Raises
    ------
    ResourceError
        If the jobs exceed ``LIMITS["jobs"]``, or one training or run needs more memory than is available
        (or a run would take more than :data:`MAX_SIMULATION_SECONDS`).

    Notes
    -----
    Trainings: conditions x seeds. Runs: for each run, its conditions x training seeds x backends x run seeds.
    Statistics: at most one job per statistic and run job. Each training is checked with
    :func:`training_memory` on its resolved configuration, each run with :func:`protocol_memory` and
    :func:`check_simulation_time` on the largest network it reads.
    """
    from neurorx.sweep.spec import resolve_training
    from neurorx.training import Config
    from neurorx.training.trainer import check_training_resources

    train = spec.train
    trainings = len(train.conditions) * len(train.seeds)
    runs = sum(len(r.conditions or train.names) * len(train.seeds) * len(r.backends) * len(r.seeds)
               for r in spec.runs)
    stats = len(spec.statistics) * max(1, runs)
    total = trainings + runs + stats
    check_count(total, f"this sweep's job count ({trainings:,} trainings + {runs:,} runs + up to {stats:,} "
                f"statistics)", "use fewer seeds, conditions, backends or statistics")
    nets = {}
    for cond in train.conditions:
        cfg = Config.from_dict(resolve_training(train, cond, train.seeds[0]))
        task = cfg.build_task()
        check_training_resources(cfg, task)
        nets[cond.name] = (cfg, task)
    for run in spec.runs:
        steps = sum(int(p["steps"]) for p in run.protocol)
        for name in run.conditions or train.names:
            cfg, task = nets[name]
            dims = 1 if getattr(task, "circular", False) else 2
            need = protocol_memory(trials=run.trials, steps=steps * run.dt_factor, n_rec=cfg.rnn.n_rec,
                                   n_out=task.n_cells, n_in=task.n_in, dims=dims, record=tuple(run.record),
                                   every=run.every)
            check_memory(need, f"run {run.name!r} ({run.trials:,} trials x {steps:,} steps of {name})",
                         "use fewer trials or steps, or record h less often (every: k)")
            check_simulation_time(trials=run.trials, n_rec=cfg.rnn.n_rec, steps=steps, dt_factor=run.dt_factor,
                                  what=f"run {run.name!r} of {name}")
    return {"trainings": trainings, "runs": runs, "statistics": stats, "jobs": total}


#: Lower bound on the memory of one worker process (Python with numpy and torch imported), in bytes.
WORKER_BYTES = 2e8


def check_workers(workers: int, what: str = "workers", *, threads: int = 1) -> int:
    """Refuse more worker processes (or threads per worker) than this machine can hold, before starting any.

    Each process needs at least :data:`WORKER_BYTES`; threads per worker may not exceed 4 x the cores.
    """
    from neurorx.checks import positive_int

    workers = positive_int(workers, what)
    threads = positive_int(threads, "threads")
    check_memory(workers * WORKER_BYTES, f"{workers:,} worker processes", f"use fewer {what} (at most about "
                 f"{max(1, int(_MEMORY_FRACTION * available_memory() // WORKER_BYTES)):,} here)")
    cores = os.cpu_count() or 1
    if threads > 4 * cores:
        raise ResourceError(f"{threads:,} threads per worker on a machine with {cores} cores; use at most {cores}")
    return workers


def check_duration(seconds: float, what: str, fix: str, *, limit: float = MAX_SIMULATION_SECONDS) -> float:
    """Refuse work whose lower-bound duration ``seconds`` exceeds ``limit`` (default: a day); returns it."""
    if seconds > limit:
        raise ResourceError(f"{what} would take at least {seconds / 3600:.3g} hours (limit {limit / 3600:.3g}); {fix}")
    return seconds


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
