"""Protocols: sequences of phases (active behaviour, quiescence, ...) run on any backend.

>>> protocol = Protocol([Active(steps=100), Quiescent(steps=1000)])       # doctest: +SKIP
>>> rec = protocol.run(net, backend="brian2", trials=200, seed=0)         # doctest: +SKIP

A phase says how long it lasts, what input the network gets, which noise is on, and whether it continues
from the previous phase's state or resets to the encoded start. Write new phases by subclassing
:class:`Phase` and overriding :meth:`Phase.inputs`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurorx.backends import get_backend
from neurorx.backends.base import Segment, check_dt_factor, check_positive_int
from neurorx.noise import PLACEMENTS, NoiseModel, OutputNoise, make_noise, with_changes
from neurorx.provenance import provenance
from neurorx.recording import Recording
from neurorx.units import as_seconds

__all__ = ["Active", "Hook", "Inputs", "Phase", "Protocol", "Quiescent"]

_STARTS = ("continue", "reset")


@dataclass
class PhaseContext:
    """What a phase sees when it makes its inputs: the run so far."""

    network: Any
    task: Any
    trials: int
    seed: int
    index: int
    start_states: np.ndarray
    last_states: np.ndarray


@dataclass(frozen=True)
class Phase:
    """A stretch of a protocol.

    Parameters
    ----------
    steps : int, optional
        Duration in training steps.
    duration : brian2.Quantity, optional
        Duration as a time (a whole number of training steps); give ``steps`` or ``duration``.
    noise : NoiseModel, str, dict or mapping placement -> model, optional
        Replace the network's training noise in this phase (a single model replaces the one of its
        placement; a mapping replaces all). ``None`` keeps the training noise.
    noise_scale : float
        Multiply the phase's noise amplitude (variance by its square).
    start : {"continue", "reset"}
        Continue from the previous phase's final state, or reset to the encoded start
        :math:`h_0 = W_{enc}c(s_0)` of the protocol's start states (the same for every reset phase).
    label : str, optional
        Name used in the recording; the phase kind by default.
    """

    steps: int | None = None
    duration: Any = None
    noise: Any = None
    noise_scale: float = 1.0
    start: str = "continue"
    label: str | None = None

    kind = "phase"

    def __post_init__(self):
        if (self.steps is None) == (self.duration is None):
            raise ValueError(f"{type(self).__name__}: give exactly one of steps=... or duration=...")
        if self.steps is not None:
            check_positive_int(self.steps, f"{type(self).__name__}: steps")
        if self.duration is not None:
            as_seconds(self.duration, f"{type(self).__name__}: duration")
        if not (isinstance(self.noise_scale, int | float) and math.isfinite(self.noise_scale)
                and self.noise_scale >= 0):
            raise ValueError(f"{type(self).__name__}: noise_scale must be a finite number >= 0, "
                             f"got {self.noise_scale!r}")
        if self.start not in _STARTS:
            raise ValueError(f"{type(self).__name__}: start must be one of {_STARTS}, got {self.start!r}")
        self._noise_override()   # unknown names or placements fail here, naming the phase

    def _noise_override(self) -> dict[str, NoiseModel] | None:
        """The ``noise`` argument as placement -> model (``None``: keep the training noise).

        A mapping's keys are placements; a model given under a key takes that placement.
        """
        if self.noise is None:
            return None
        where = f"{type(self).__name__}(noise=...)"
        try:
            if isinstance(self.noise, Mapping) and "name" not in self.noise:
                models = {}
                for placement, spec in self.noise.items():
                    if placement not in PLACEMENTS:
                        raise ValueError(f"unknown noise placement {placement!r}; the keys of a noise mapping "
                                         f"are placements, one of {PLACEMENTS}")
                    model = make_noise(spec)
                    if model.placement != placement and not model.is_zero:
                        model = with_changes(model, placement=placement)
                    models[placement] = model
                return models
            model = make_noise(self.noise)
        except (KeyError, TypeError, ValueError) as err:
            raise type(err)(f"{where}: {err.args[0] if err.args else err}") from None
        return {model.placement: model}

    @property
    def name(self) -> str:
        """The label in recordings."""
        return self.label or self.kind

    def n_steps(self, network) -> int:
        """Duration in training steps."""
        if self.steps is not None:
            return int(self.steps)
        seconds = as_seconds(self.duration, "duration")
        n = seconds / network.dt
        if abs(n - round(n)) > 1e-6 * max(1.0, n) or round(n) < 1:
            raise ValueError(f"{type(self).__name__}: duration {self.duration} is not a whole number of training "
                             f"steps of {network.dt * 1e3:g} ms")
        return round(n)

    def noise_models(self, network) -> dict[str, NoiseModel]:
        """The noise of this phase, placement -> model, after override and scaling."""
        models = dict(network.noise)
        override = self._noise_override()
        if override is not None:
            if isinstance(self.noise, Mapping) and "name" not in self.noise:
                models = override      # a mapping replaces all of the training noise
            else:
                models.update(override)
        return {p: m.scaled(self.noise_scale) for p, m in models.items()}

    def inputs(self, ctx: PhaseContext, steps: int) -> tuple[np.ndarray, np.ndarray]:
        """Inputs ``(B, steps, n_in)`` and true states ``(B, steps, d)`` of this phase."""
        raise NotImplementedError

    def describe(self, network) -> dict:
        """JSON-able description."""
        return {"kind": self.kind, "label": self.name, "steps": self.n_steps(network), "start": self.start,
                "noise_scale": self.noise_scale,
                "noise": {p: m.to_dict() for p, m in self.noise_models(network).items()}}


@dataclass(frozen=True)
class Active(Phase):
    """Active behaviour: inputs are trajectories sampled from the task.

    With ``start="reset"`` (the default) trajectories begin at the protocol's start states and the network at
    their encoding; with ``start="continue"`` they begin where the animal last was (the last true state).
    """

    start: str = "reset"
    kind = "active"

    def inputs(self, ctx: PhaseContext, steps: int):
        init = ctx.start_states if self.start == "reset" else ctx.last_states
        batch = ctx.task.sample(ctx.trials, steps, seed=_derive_seed(ctx.seed, ctx.index), init_state=init)
        return batch.inputs, batch.states


@dataclass(frozen=True)
class Quiescent(Phase):
    """Quiescence (sleep-like): zero input, noise scaled by :math:`\\sqrt 2` (the paper's doubled variance).

    The animal does not move: the true state holds the last one. The first phase of a protocol always resets.
    """

    noise_scale: float = math.sqrt(2.0)
    kind = "quiescent"

    def inputs(self, ctx: PhaseContext, steps: int):
        n_in = ctx.network.n_in
        states = np.repeat(ctx.last_states[:, None, :], steps, axis=1)
        return np.zeros((ctx.trials, steps, n_in)), states


@dataclass(frozen=True)
class Inputs(Phase):
    """A phase driven by a user array of inputs, shape ``(B, T, n_in)`` or ``(T, n_in)`` (same for all trials)."""

    values: Any = None
    kind = "inputs"

    def __post_init__(self):
        if self.values is None:
            raise ValueError("Inputs: give values=array of shape (trials, steps, n_in) or (steps, n_in)")
        values = np.asarray(self.values, dtype=np.float64)
        if values.ndim not in (2, 3):
            raise ValueError(f"Inputs: values must have shape (trials, steps, n_in) or (steps, n_in); "
                             f"got {values.shape}")
        if not np.all(np.isfinite(values)):
            raise ValueError("Inputs: values contain NaN or inf")
        object.__setattr__(self, "values", values)
        if self.steps is None and self.duration is None:
            object.__setattr__(self, "steps", values.shape[-2])
        super().__post_init__()

    def inputs(self, ctx: PhaseContext, steps: int):
        v = self.values
        if v.shape[-1] != ctx.network.n_in:
            raise ValueError(f"Inputs: values have {v.shape[-1]} input channels but the network takes "
                             f"{ctx.network.n_in}")
        if v.shape[-2] != steps:
            raise ValueError(f"Inputs: values have {v.shape[-2]} steps but the phase lasts {steps}")
        if v.ndim == 3 and v.shape[0] != ctx.trials:
            raise ValueError(f"Inputs: values are for {v.shape[0]} trials but the run has {ctx.trials}")
        v = np.broadcast_to(v, (ctx.trials, steps, v.shape[-1])).copy()
        states = np.full((ctx.trials, steps, ctx.last_states.shape[-1]), np.nan)
        return v, states


class Hook:
    """An analysis that consumes a run chunk by chunk, so large runs need not keep hidden states.

    Subclasses override :meth:`update` (called with each chunk, in time order, with the phase label, the
    step indices and the arrays ``h (B, n, N)``, ``y (B, n, n_out)``, ``decoded (B, n, d)``) and
    :meth:`result` (a dict of arrays stored in ``Recording.hooks[name]``). The same hook works on every
    backend.
    """

    name = "hook"

    def start(self, network, trials: int, phases: list[dict]) -> None:
        """Called once before the run."""

    def update(self, phase: str, steps: np.ndarray, h: np.ndarray, y: np.ndarray, decoded: np.ndarray) -> None:
        """Consume one chunk."""
        raise NotImplementedError

    def result(self) -> dict[str, np.ndarray]:
        """The hook's result."""
        raise NotImplementedError


#: Options of a backend's ``simulate`` that :meth:`Protocol.run` sets itself, and what to use instead.
_PROTOCOL_OPTIONS = {
    "chunk_steps": "the protocol picks the chunk length from memory_budget=...",
    "record_every": "use record=('h',) and every=k (decoded outputs are kept for every step)",
}


def _check_backend_options(backend: str, impl, options: Mapping[str, Any]) -> None:
    """Refuse options the protocol sets itself and options the backend does not take, naming the fix."""
    from neurorx.backends import all_backends

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


def _derive_seed(seed: int, *keys: int) -> int:
    return int(np.random.SeedSequence([int(seed), *map(int, keys)]).generate_state(1)[0])


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
        """Resolve the phases into backend segments plus true states (one entry per phase)."""
        start_states = task.sample(trials, 1, seed=_derive_seed(seed, 10_000)).init_state
        start_h = network.encode_init(task.encode(start_states))
        last = np.asarray(start_states, dtype=np.float64)
        segments, states, t0 = [], [], 0.0
        for i, phase in enumerate(self.phases):
            steps = phase.n_steps(network)
            ctx = PhaseContext(network, task, trials, seed, i, start_states, last)
            inputs, true = phase.inputs(ctx, steps)
            if inputs.shape != (trials, steps, network.n_in):
                raise ValueError(f"phase {i} ({phase.name}) made inputs of shape {inputs.shape}; expected "
                                 f"{(trials, steps, network.n_in)} = (trials, steps, n_in)")
            if not np.all(np.isfinite(inputs)):
                raise ValueError(f"phase {i} ({phase.name}) made inputs containing NaN or inf; check its inputs()")
            reset = phase.start == "reset" or i == 0
            segments.append(Segment(name=phase.name, steps=steps, inputs=inputs,
                                    noise=phase.noise_models(network), h0=start_h if reset else None, t0=t0))
            states.append(true)
            if np.isfinite(true[:, -1]).all():
                last = true[:, -1]
            t0 += steps * network.dt
        return segments, states

    def run(self, network, backend: str = "torch", trials: int = 200, seed: int = 0, *, record: Sequence[str] = (),
            every: int = 1, hooks: Sequence[Hook] = (), task=None, dt_factor: int = 1, progress: bool = False,
            memory_budget: float = 32e6, **backend_options) -> Recording:
        """Run the protocol and return a :class:`~neurorx.recording.Recording`.

        Parameters
        ----------
        network : RateNetwork
        backend : {"torch", "brian2"}
        trials : int
            Number of trials B, simulated in parallel.
        seed : int
            Seeds trajectories, start states and noise.
        record : sequence of {"h", "y"}
            Also record hidden states / raw outputs (8 bytes x B x N per recorded step), every ``every`` steps.
        hooks : sequence of Hook
            Analyses fed chunk by chunk; results in ``Recording.hooks``.
        task : task, optional
            Overrides ``network.task`` (needed if the network carries none).
        dt_factor : int
            Simulate at ``dt = network.dt / dt_factor``.
        progress : bool
            Show a progress bar.
        memory_budget : float
            Bytes of hidden state handled per chunk (bounds memory for large B, N); backends that take a
            ``memory_budget`` option get it too (the torch backend bounds its noise and input temporaries with
            it, advancing trials in groups if one step of all trials does not fit). Results do not depend on
            it.
        **backend_options
            Passed to the backend (e.g. ``coupling="matmul"``, ``dtype="float32"``).
        """
        task = task if task is not None else network.task
        if task is None:
            raise ValueError("the network carries no task; pass task=SpatialNavigation(...) or HeadDirection(...)")
        trials = check_positive_int(trials, "trials")
        every = check_positive_int(every, "every")
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer (a run is reproducible from it); got {seed!r}")
        unknown = set(record) - {"h", "y"}
        if unknown or isinstance(record, str):
            raise ValueError(f"record takes a sequence of 'h' and/or 'y'; got {record!r}")
        impl = get_backend(backend)
        _check_backend_options(backend, impl, backend_options)
        dt_factor = check_dt_factor(dt_factor)
        segments, true_states = self.segments(network, task, trials, seed)
        total = sum(s.steps for s in segments)
        chunk = int(max(1, min(200, memory_budget // (8 * trials * max(network.n_rec, network.n_out)))))
        if "memory_budget" in (getattr(impl, "options", None) or ()):
            backend_options["memory_budget"] = memory_budget
        d = np.asarray(true_states[0]).shape[-1]
        decoded = np.empty((trials, total, d))
        rec_index = np.arange(0, total, every) if record else np.zeros(0, dtype=np.int64)
        h_rec = np.empty((trials, len(rec_index), network.n_rec), dtype=np.float32 if backend_options.get(
            "dtype") == "float32" else np.float64) if "h" in record else None
        y_rec = np.empty((trials, len(rec_index), network.n_out)) if "y" in record else None
        phase_info = []
        offsets = np.cumsum([0] + [s.steps for s in segments])
        for i, ph in enumerate(self.phases):
            phase_info.append({**ph.describe(network), "start": int(offsets[i]), "stop": int(offsets[i + 1])})
        for hk in hooks:
            hk.start(network, trials, phase_info)
        out_noise = OutputNoise([s.noise.get("output") for s in segments], (trials, network.n_out), network.dt,
                                seed=_derive_seed(seed, 20_000))
        bar = _progress(total, progress, f"{backend} run")
        for ch in impl.simulate(network, segments, trials=trials, seed=seed, dt_factor=dt_factor,
                                chunk_steps=chunk, **backend_options):
            m = ch.h.shape[1]
            g0 = offsets[ch.segment] + ch.start
            steps = np.arange(g0, g0 + m)
            y = network.readout(ch.h)
            y = out_noise.apply(ch.segment, y)
            dec = task.decode(y)
            decoded[:, g0 : g0 + m] = dec
            if record:
                sel = np.isin(rec_index, steps)
                idx = rec_index[sel] - g0
                if h_rec is not None:
                    h_rec[:, sel] = ch.h[:, idx]
                if y_rec is not None:
                    y_rec[:, sel] = y[:, idx]
            for hk in hooks:
                hk.update(segments[ch.segment].name, steps, ch.h, y, dec)
            bar.update(m)
        bar.close()
        phase_labels = np.concatenate([np.full(s.steps, s.name) for s in segments])
        phase_index = np.concatenate([np.full(s.steps, i) for i, s in enumerate(segments)])
        meta = {
            "network": network.summary(),
            "network_provenance": network.provenance,
            "protocol": [dict(p) for p in phase_info],
            "backend": backend,
            "task": getattr(task, "name", type(task).__name__),
            "circular": bool(getattr(task, "circular", False)),
            "backend_options": {k: v for k, v in backend_options.items() if isinstance(v, str | int | float)},
            "dt": network.dt,
            "dt_factor": dt_factor,
            "trials": trials,
            "seed": seed,
            "every": every,
            "versions": provenance(seed),
        }
        return Recording(
            t=(np.arange(total) + 1) * network.dt, phase=phase_labels, phase_index=phase_index,
            decoded=decoded, states=np.concatenate(true_states, axis=1),
            inputs=np.concatenate([s.inputs for s in segments], axis=1), h=h_rec, y=y_rec,
            record_index=rec_index, phases=phase_info,
            hooks={hk.name: hk.result() for hk in hooks}, meta=meta,
        )


    def run_each(self, network, backends: Sequence[str] = ("torch", "brian2"), *,
                 options: Mapping[str, dict] | None = None, **kwargs) -> dict[str, Recording]:
        """Run on several backends with the same seed and settings: ``{backend: Recording}``.

        ``options`` gives per-backend options, e.g. ``{"brian2": {"target": "cython"}}``; ``kwargs`` go to
        every :meth:`run`.
        """
        options = options or {}
        return {b: self.run(network, backend=b, **kwargs, **options.get(b, {})) for b in backends}


class _NoBar:
    def update(self, n):
        pass

    def close(self):
        pass


def _progress(total: int, enabled: bool, desc: str):
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="step")
