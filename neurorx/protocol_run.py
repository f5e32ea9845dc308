"""The protocol runner: :class:`Protocol` and the small steps of :meth:`Protocol.run`.

>>> protocol = Protocol([Active(steps=100), Quiescent(steps=1000)])       # doctest: +SKIP
>>> rec = protocol.run(net, backend="brian2", trials=200, seed=0)         # doctest: +SKIP

A run is a pipeline of one-job pieces:

1. :func:`check_run` validates the arguments (one line per mistake, naming the fix);
2. :meth:`Protocol.segments` resolves the phases into backend :class:`~neurorx.backends.Segment` objects;
3. :func:`chunk_steps` sizes the chunks from the memory budget;
4. the backend turns segments into chunks of hidden states;
5. :func:`readout_stream` turns those into one stream of :class:`ReadoutChunk` (readout, output noise,
   decoding), which feeds the :class:`RecordingBuffers` and the hooks alike;
6. :func:`run_metadata` describes the run for the :class:`~neurorx.recording.Recording`.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurorx.backends import all_backends, get_backend
from neurorx.backends.base import Segment, check_dt_factor, check_positive_int
from neurorx.errors import ArgumentTypeError, ConfigurationError, StateRangeWarning
from neurorx.hooks import Hook
from neurorx.noise import OutputNoise
from neurorx.phases import Phase, ResolvedPhases, resolve_phases
from neurorx.progress import progress as progress_bar
from neurorx.provenance import provenance
from neurorx.recording import Recording
from neurorx.resources import check_memory, check_simulation_time, protocol_memory
from neurorx.seeds import derive_seed
from neurorx.spike_trains import SpikeCollector

#: Seconds a run with ``progress=None`` takes before its progress is shown.
PROGRESS_DELAY = 3.0

__all__ = [
    "OUTPUT_NOISE",
    "START_STATES",
    "Protocol",
    "ReadoutChunk",
    "RecordingBuffers",
    "check_run",
    "chunk_steps",
    "readout_stream",
    "run_metadata",
]

#: Seed purposes (:mod:`neurorx.seeds`) of the protocol's start states and of its output noise.
START_STATES, OUTPUT_NOISE = 101, 102

#: Options of a backend's ``simulate`` that :meth:`Protocol.run` sets itself, and what to use instead.
_PROTOCOL_OPTIONS = {
    "chunk_steps": "the protocol picks the chunk length from memory_budget=...",
    "record_every": "use record=('h',) and every=k (decoded outputs are kept for every step)",
}


# -- 1. validation -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunSettings:
    """The checked arguments of one run."""

    backend: str
    impl: Any
    task: Any
    trials: int
    seed: int
    record: tuple[str, ...]
    every: int
    dt_factor: int


def check_backend_options(backend: str, impl, options: Mapping[str, Any]) -> None:
    """Refuse options the protocol sets itself and options the backend does not take, naming the fix."""
    accepted = getattr(impl, "options", None)   # a backend that does not list its options gets them all
    for key in options:
        if key in _PROTOCOL_OPTIONS:
            raise ValueError(f"{key}= is set by Protocol.run, not passed to the backend: {_PROTOCOL_OPTIONS[key]}")
        if accepted is not None and key not in accepted:
            elsewhere = [name for name, other in all_backends().items() if key in getattr(other, "options", ())]
            plural = "s" if len(elsewhere) > 1 else ""
            hint = (f" ({key!r} is an option of the {', '.join(map(repr, elsewhere))} backend{plural})"
                    if elsewhere else "")
            raise ValueError(f"the {backend!r} backend takes no option {key!r}{hint}; its options are "
                             f"{', '.join(accepted) or 'none'}")


def check_run(network, backend: str, trials, seed, record, every, dt_factor, task, options) -> RunSettings:
    """Validate the arguments of :meth:`Protocol.run`; each mistake raises one line naming the fix."""
    task = task if task is not None else network.task
    if task is None:
        raise ValueError("the network carries no task; pass task=SpatialNavigation(...) or HeadDirection(...)")
    trials = check_positive_int(trials, "trials")
    every = check_positive_int(every, "every")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer (a run is reproducible from it); got {seed!r}")
    impl = get_backend(backend)
    extra = tuple(getattr(impl, "records", ()))   # what the backend records besides h and y ("spikes")
    if isinstance(record, str) or set(record) - {"h", "y", *extra}:
        spiking = [name for name, other in all_backends().items() if "spikes" in getattr(other, "records", ())]
        hint = (f"; 'spikes' needs a spiking backend ({', '.join(map(repr, spiking))})"
                if "spikes" in record and spiking and not isinstance(record, str) else "")
        raise ValueError(f"record takes a sequence of {', '.join(map(repr, ('h', 'y', *extra)))}; got {record!r}{hint}")
    check_backend_options(backend, impl, options)
    return RunSettings(backend, impl, task, trials, int(seed), tuple(record), every, check_dt_factor(dt_factor))


def check_memory_budget(memory_budget) -> float:
    """``memory_budget`` as a positive, finite number of bytes (a clear error otherwise)."""
    if isinstance(memory_budget, bool) or not isinstance(memory_budget, int | float | np.integer | np.floating) \
            or not math.isfinite(memory_budget) or memory_budget <= 0:
        raise ConfigurationError(f"memory_budget must be a positive number of bytes (e.g. 32e6); got {memory_budget!r}")
    return float(memory_budget)


def check_resources(protocol, network, cfg: RunSettings) -> None:
    """Refuse, before anything is allocated, a run that would not fit in memory or would take more than a day."""
    steps = sum(p.n_steps(network) for p in protocol.phases)
    dims = 1 if getattr(cfg.task, "circular", False) else 2
    need = protocol_memory(trials=cfg.trials, steps=steps, n_rec=network.n_rec, n_out=network.n_out,
                           n_in=network.n_in, dims=dims, record=_states(cfg.record), every=cfg.every)
    check_memory(need, f"this protocol ({cfg.trials} trials x {steps} steps)",
                 "use fewer trials or steps, record h/y less often (every=k) or not at all (decoded only), or "
                 "split the protocol into shorter runs")
    check_simulation_time(trials=cfg.trials, n_rec=network.n_rec, steps=steps, dt_factor=cfg.dt_factor,
                          what=f"this protocol on the {cfg.backend!r} backend")


class StateRange:
    """Warn once per run when hidden states leave a sane range (finite, but exploding)."""

    #: Largest magnitude a rate state is expected to reach.
    LIMIT = 1e6

    def __init__(self):
        self.warned = False

    def check(self, chunk) -> None:
        """Warn (once) if ``chunk.h`` holds a state of magnitude above :attr:`LIMIT`."""
        if self.warned or not chunk.h.size:
            return
        peak = max(float(chunk.h.max()), -float(chunk.h.min()))   # no |h| temporary on the hot path
        if peak > self.LIMIT:
            self.warned = True
            warnings.warn(f"hidden states reached |h| = {peak:.3g} in phase {chunk.phase!r} (step "
                          f"{int(chunk.steps[0]) + 1}): the network is unstable (exploding); check the weights "
                          f"(e.g. the spectral radius of w_rec), the input scale and the noise", StateRangeWarning,
                          stacklevel=4)


def _states(record) -> tuple[str, ...]:
    """The state arrays (``h``, ``y``) among the recorded things."""
    return tuple(r for r in record if r in ("h", "y"))


# -- 3. memory policy ----------------------------------------------------------------------------------------
def chunk_steps(memory_budget: float, trials: int, network) -> int:
    """Steps per chunk so that one chunk of states (8 bytes x B x max(N, n_out) per step) fits the budget.

    At least 1 and at most 200 steps.
    """
    return int(max(1, min(200, memory_budget // (8 * trials * max(network.n_rec, network.n_out)))))


def with_memory_budget(impl, options: dict, memory_budget: float) -> dict:
    """``options`` plus ``memory_budget`` for backends that take it (they bound their temporaries with it)."""
    if "memory_budget" in (getattr(impl, "options", None) or ()):
        return {**options, "memory_budget": memory_budget}
    return dict(options)


# -- 5. the readout stream -----------------------------------------------------------------------------------
@dataclass
class ReadoutChunk:
    """A chunk of a run after readout and decoding: what recordings and hooks consume.

    Attributes
    ----------
    segment : int
        Index of the phase.
    phase : str
        Its label.
    steps : ndarray (n,)
        Global step indices.
    h, y, decoded : ndarray (B, n, N), (B, n, n_out), (B, n, d)
        Hidden states, outputs (with output noise) and decoded outputs.
    """

    segment: int
    phase: str
    steps: np.ndarray
    h: np.ndarray
    y: np.ndarray
    decoded: np.ndarray


def readout_stream(chunks, network, task, segments: Sequence[Segment], trials: int,
                   seed: int) -> Iterator[ReadoutChunk]:
    """Turn a backend's chunks of hidden states into :class:`ReadoutChunk` objects, in time order.

    Notes
    -----
    :math:`y = W_{out} h + b_{out}` (+ the phase's output noise), decoded by ``task.decode``.
    """
    offsets = np.cumsum([0] + [s.steps for s in segments])
    out_noise = OutputNoise([s.noise.get("output") for s in segments], (trials, network.n_out), network.dt,
                            seed=derive_seed(seed, OUTPUT_NOISE, bits=64))
    for ch in chunks:
        g0 = offsets[ch.segment] + ch.start
        steps = np.arange(g0, g0 + ch.h.shape[1])
        y = out_noise.apply(ch.segment, network.readout(ch.h))
        yield ReadoutChunk(ch.segment, segments[ch.segment].name, steps, ch.h, y, task.decode(y))


# -- recording buffers ---------------------------------------------------------------------------------------
class RecordingBuffers:
    """Decoded outputs of every step, and ``h``/``y`` every ``every`` steps when recorded."""

    def __init__(self, network, trials: int, total: int, d: int, record: Sequence[str], every: int,
                 h_dtype=np.float64):
        self.decoded = np.empty((trials, total, d))
        self.index = np.arange(0, total, every) if record else np.zeros(0, dtype=np.int64)
        self.h = np.empty((trials, len(self.index), network.n_rec), dtype=h_dtype) if "h" in record else None
        self.y = np.empty((trials, len(self.index), network.n_out)) if "y" in record else None

    def update(self, chunk: ReadoutChunk) -> None:
        """Store one chunk."""
        g0 = chunk.steps[0]
        self.decoded[:, g0 : g0 + len(chunk.steps)] = chunk.decoded
        if self.h is None and self.y is None:
            return
        sel = np.isin(self.index, chunk.steps)
        idx = self.index[sel] - g0
        if self.h is not None:
            self.h[:, sel] = chunk.h[:, idx]
        if self.y is not None:
            self.y[:, sel] = chunk.y[:, idx]


# -- 6. metadata ---------------------------------------------------------------------------------------------
def phase_table(phases: Sequence[Phase], segments: Sequence[Segment], network) -> list[dict]:
    """Each phase's description with its ``start`` and ``stop`` step."""
    offsets = np.cumsum([0] + [s.steps for s in segments])
    return [{**ph.describe(network), "start": int(offsets[i]), "stop": int(offsets[i + 1])}
            for i, ph in enumerate(phases)]


def run_metadata(network, settings: RunSettings, phase_info: list[dict], backend_options: Mapping) -> dict:
    """The JSON-able ``Recording.meta`` of a run (network, protocol, backend, dt, seed, versions)."""
    task = settings.task
    return {
        "network": network.summary(),
        "network_provenance": network.provenance,
        "protocol": [dict(p) for p in phase_info],
        "backend": settings.backend,
        "task": getattr(task, "name", type(task).__name__),
        "circular": bool(getattr(task, "circular", False)),
        "backend_options": {k: v for k, v in backend_options.items() if isinstance(v, str | int | float)},
        "dt": network.dt,
        "alpha": network.alpha,
        "dt_factor": settings.dt_factor,
        "trials": settings.trials,
        "seed": settings.seed,
        "every": settings.every,
        "versions": provenance(settings.seed),
    }


# -- the protocol --------------------------------------------------------------------------------------------
@dataclass
class Protocol:
    """An ordered list of phases, run on a network with one backend.

    Parameters
    ----------
    phases : sequence of Phase
    """

    phases: Sequence[Phase] = field(default_factory=list)

    def __post_init__(self):
        if isinstance(self.phases, Phase):
            raise TypeError(f"Protocol takes a list of phases, e.g. Protocol([{type(self.phases).__name__}(...)]); "
                            "got a single phase")
        if isinstance(self.phases, str | bytes) or not isinstance(self.phases, Iterable):
            raise ArgumentTypeError(f"Protocol takes a list of phases, e.g. Protocol([Active(steps=100), "
                                    f"Quiescent(steps=1000)]); got {self.phases!r} ({type(self.phases).__name__})")
        self.phases = list(self.phases)
        if not self.phases:
            raise ValueError("a Protocol needs at least one phase, e.g. Protocol([Active(steps=100)])")
        for p in self.phases:
            if not isinstance(p, Phase):
                raise TypeError(f"protocol phases must be Phase objects (Active, Quiescent, ...); got {p!r}")

    def describe(self, network) -> list[dict]:
        """JSON-able description of every phase."""
        return [p.describe(network) for p in self.phases]

    def segments(self, network, task, trials: int, seed: int):
        """Resolve the phases into backend segments and the true states ``(B, T, d)`` of every step.

        Every reset phase starts at the encoding :math:`h_0 = W_{enc} c(s_0)` of the same start states
        :math:`s_0`, drawn from the task with the stream ``START_STATES`` of ``seed``.
        """
        resolved = self.resolve(network, task, trials, seed)
        return resolved.segments, resolved.states

    def resolve(self, network, task, trials: int, seed: int) -> ResolvedPhases:
        """The phases resolved for one run (:func:`~neurorx.phases.resolve_phases`): segments, inputs, states."""
        start_states = task.sample(trials, 1, seed=derive_seed(seed, START_STATES)).init_state
        start_h = network.encode_init(task.encode(start_states))
        return resolve_phases(self.phases, network, task, trials, seed, start_states, start_h)

    def run(self, network, backend: str = "torch", trials: int = 200, seed: int = 0, *, record: Sequence[str] = (),
            every: int = 1, hooks: Sequence[Hook] = (), task=None, dt_factor: int = 1, progress: bool | None = None,
            memory_budget: float = 32e6, **backend_options) -> Recording:
        """Run the protocol and return a :class:`~neurorx.recording.Recording`.

        Parameters
        ----------
        network : RateNetwork
        backend : str
            A registered backend ("torch", "brian2", ...).
        trials : int
            Number of trials B, simulated in parallel.
        seed : int
            Seeds trajectories, start states and noise.
        record : sequence of {"h", "y", "spikes"}
            Also record hidden states / raw outputs (8 bytes x B x N per recorded step), every ``every`` steps;
            ``"spikes"`` (spiking backends): spike times and neurons, sparse, of the ``spike_trials=`` trials.
        hooks : sequence of Hook
            Analyses fed chunk by chunk; results in ``Recording.hooks``.
        task : task, optional
            Overrides ``network.task`` (needed if the network carries none).
        dt_factor : int
            Simulate at ``dt = network.dt / dt_factor``.
        progress : bool or None
            ``None`` (default): progress appears once a run has taken :data:`PROGRESS_DELAY` seconds (a bar on a
            terminal, log lines otherwise); ``True`` from the start; ``False`` never.
        memory_budget : float
            Bytes of hidden state handled per chunk (bounds memory for large B, N); backends that take a
            ``memory_budget`` option get it too (the torch backend bounds its noise and input temporaries with
            it, advancing trials in groups if one step of all trials does not fit). Results do not depend on
            it.
        **backend_options
            Passed to the backend (e.g. ``coupling="matmul"``, ``dtype="float32"``).
        """
        if isinstance(network, str | os.PathLike):
            from neurorx.network import load

            network = load(network)      # a path or a shipped network's name
        cfg = check_run(network, backend, trials, seed, record, every, dt_factor, task, backend_options)
        memory_budget = check_memory_budget(memory_budget)
        check_resources(self, network, cfg)
        resolved = self.resolve(network, cfg.task, cfg.trials, cfg.seed)
        segments = resolved.segments
        total = sum(s.steps for s in segments)
        options = with_memory_budget(cfg.impl, backend_options, memory_budget)
        phase_info = phase_table(self.phases, segments, network)
        buffers = RecordingBuffers(network, cfg.trials, total, resolved.states.shape[-1],
                                   _states(cfg.record), cfg.every,
                                   np.float32 if options.get("dtype") == "float32" else np.float64)
        spikes = SpikeCollector() if "spikes" in cfg.record else None
        for hk in hooks:
            hk.start(network, cfg.trials, phase_info)
        chunks = cfg.impl.simulate(network, segments, trials=cfg.trials, seed=cfg.seed, dt_factor=cfg.dt_factor,
                                   chunk_steps=chunk_steps(memory_budget, cfg.trials, network), **options,
                                   **({"record_spikes": True} if spikes is not None else {}))
        if spikes is not None:
            chunks = spikes.collect(chunks)
        bar = progress_bar(total, f"{backend} run", "step", enabled=progress is not False,
                           delay=PROGRESS_DELAY if progress is None else 0.0)
        watch = StateRange()
        for chunk in readout_stream(chunks, network, cfg.task, segments, cfg.trials, cfg.seed):
            watch.check(chunk)
            buffers.update(chunk)
            for hk in hooks:
                hk.update(chunk.phase, chunk.steps, chunk.h, chunk.y, chunk.decoded)
            bar.update(len(chunk.steps))
        bar.close()
        return Recording(
            t=(np.arange(total) + 1) * network.dt,
            phase=np.concatenate([np.full(s.steps, s.name) for s in segments]),
            phase_index=np.concatenate([np.full(s.steps, i) for i, s in enumerate(segments)]),
            decoded=buffers.decoded, states=resolved.states, inputs=resolved.inputs, h=buffers.h, y=buffers.y,
            record_index=buffers.index, phases=phase_info, hooks={hk.name: hk.result() for hk in hooks},
            meta=run_metadata(network, cfg, phase_info, options),
            spikes=None if spikes is None else cfg.impl.spike_trains(spikes, network, cfg.trials, cfg.dt_factor,
                                                                     options),
        )

    def run_each(self, network, backends: Sequence[str] | None = None, *,
                 options: Mapping[str, dict] | None = None, **kwargs) -> dict[str, Recording]:
        """Run on several backends with the same seed and settings: ``{backend: Recording}``.

        ``backends`` defaults to every registered backend; ``options`` gives per-backend options, e.g.
        ``{"brian2": {"target": "cython"}}`` (options for backends not run are ignored); ``kwargs`` go to every
        :meth:`run`.
        """
        backends = list(all_backends()) if backends is None else list(backends)
        options = options or {}
        return {b: self.run(network, backend=b, **kwargs, **options.get(b, {})) for b in backends}
