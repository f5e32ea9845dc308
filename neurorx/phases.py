"""Phases: the stretches a protocol is made of (active behaviour, quiescence, user inputs, ...).

A phase says how long it lasts, what input the network gets, which noise is on, and whether it continues
from the previous phase's state or resets to the encoded start. Every :class:`Phase` subclass that sets its
own ``kind`` is registered in :data:`PHASES` under that kind, so the command line (``neurorx run --phases
KIND:STEPS``) and the generic tests find it without further edits:

>>> class Ramp(Phase):                                   # doctest: +SKIP
...     kind = "ramp"
...     def inputs(self, ctx, steps): ...

A phase makes its inputs and true states in chunks of steps (:meth:`Phase.input_chunks`), and
:func:`resolve_phases` writes them, chunk by chunk, into the protocol's input and state arrays (the ones the
:class:`~neurorx.recording.Recording` keeps), so a phase's own memory does not grow with its length. A user
phase may define :meth:`Phase.inputs` (whole arrays) instead; it is then cut into chunks.

Pass ``register=False`` in the class statement (``class Draft(Phase, register=False)``) to keep a subclass
out of the registry.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurorx.backends.base import Segment, check_positive_int
from neurorx.noise import PLACEMENTS, NoiseModel, make_noise, with_changes
from neurorx.registry import Registry
from neurorx.seeds import derive_seed
from neurorx.units import as_seconds

__all__ = ["INPUT_CHUNK_BYTES", "PHASES", "PHASE_INPUTS", "Active", "Inputs", "Phase", "PhaseContext", "Quiescent",
           "ResolvedPhases", "input_chunk_steps", "resolve_phases"]

_STARTS = ("continue", "reset")

#: Seed purpose (:mod:`neurorx.seeds`) of the task trajectories a phase samples; the key is the phase index.
PHASE_INPUTS = 100

#: Bytes of one ``(trials, steps)`` float64 array of a chunk of phase inputs (sets :func:`input_chunk_steps`).
INPUT_CHUNK_BYTES = 8e6


def input_chunk_steps(trials: int) -> int:
    """Steps per chunk of phase inputs: a ``(trials, steps)`` float64 array within :data:`INPUT_CHUNK_BYTES`,
    at least 1 and at most 1024 steps.
    """
    return int(max(1, min(1024, INPUT_CHUNK_BYTES // (8 * trials))))


class _PhaseRegistry(Registry):
    """The phase registry: a class defined again under the same module and name (a re-run notebook cell)
    replaces its earlier definition; a different class claiming a registered kind is refused.
    """

    def add_phase(self, cls: type) -> None:
        """Register ``cls`` under ``cls.kind``."""
        kind = cls.kind
        if kind in self:
            old = self.get(kind)
            if (old.__module__, old.__qualname__) != (cls.__module__, cls.__qualname__):
                raise ValueError(f"phase kind {kind!r} is already registered by {old.__module__}.{old.__qualname__}; "
                                 f"give {cls.__qualname__} another kind = '...'")
            self.replace(kind, cls)
            return
        self.add(kind, cls)


#: Every phase kind, ``kind -> Phase subclass``: the built-ins and every subclass that sets its own ``kind``.
PHASES: _PhaseRegistry = _PhaseRegistry("phase")


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

    def __init_subclass__(cls, register: bool = True, **kwargs):
        super().__init_subclass__(**kwargs)
        if register and "kind" in cls.__dict__:
            PHASES.add_phase(cls)

    @classmethod
    def example(cls, network, steps: int) -> Phase:
        """An instance lasting ``steps`` steps with default settings, for generic checks over :data:`PHASES`.

        Phases that need more than a duration (e.g. :class:`Inputs`) override this.
        """
        return cls(steps=steps)

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
        scaled = {p: m.scaled(self.noise_scale) for p, m in models.items()}
        for placement, model in scaled.items():
            model.check_finite(network.dt, f"phase {self.name!r} ({placement} noise, noise_scale={self.noise_scale:g})")
        return scaled

    def input_chunks(self, ctx: PhaseContext, steps: int, chunk: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Inputs ``(B, n, n_in)`` and true states ``(B, n, d)`` of consecutive steps, ``n <= chunk`` at a time,
        covering the phase's ``steps`` steps in order.

        This default cuts the arrays of :meth:`inputs` into chunks; the built-in phases make each chunk as it is
        asked for, so their memory does not grow with ``steps``.
        """
        if type(self).inputs is Phase.inputs:
            raise NotImplementedError(f"{type(self).__name__} defines neither inputs(ctx, steps) nor "
                                      f"input_chunks(ctx, steps, chunk); define one of them")
        inputs, states = self.inputs(ctx, steps)
        expected = (ctx.trials, steps, ctx.network.n_in)
        if np.shape(inputs) != expected:
            raise ValueError(f"phase {ctx.index} ({self.name}) made inputs of shape {np.shape(inputs)}; expected "
                             f"{expected} = (trials, steps, n_in)")
        for start in range(0, steps, chunk):
            yield inputs[:, start:start + chunk], states[:, start:start + chunk]

    def inputs(self, ctx: PhaseContext, steps: int) -> tuple[np.ndarray, np.ndarray]:
        """Inputs ``(B, steps, n_in)`` and true states ``(B, steps, d)`` of this phase, whole.

        This default joins the chunks of :meth:`input_chunks`.
        """
        if type(self).input_chunks is Phase.input_chunks:
            raise NotImplementedError(f"{type(self).__name__} defines neither inputs(ctx, steps) nor "
                                      f"input_chunks(ctx, steps, chunk); define one of them")
        parts = list(self.input_chunks(ctx, steps, steps))
        return np.concatenate([p[0] for p in parts], axis=1), np.concatenate([p[1] for p in parts], axis=1)

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

    def input_chunks(self, ctx: PhaseContext, steps: int, chunk: int):
        """The task's trajectories (``task.stream``: its inputs and states, without the cell-code targets)."""
        init = ctx.start_states if self.start == "reset" else ctx.last_states
        stream = ctx.task.stream(ctx.trials, steps, seed=derive_seed(ctx.seed, PHASE_INPUTS, ctx.index),
                                 init_state=init)
        for start in range(0, steps, chunk):
            yield stream.take(min(chunk, steps - start))


@dataclass(frozen=True)
class Quiescent(Phase):
    """Quiescence (sleep-like): zero input, noise scaled by :math:`\\sqrt 2` (the paper's doubled variance).

    The animal does not move: the true state holds the last one. The first phase of a protocol always resets.
    """

    noise_scale: float = math.sqrt(2.0)
    kind = "quiescent"

    def input_chunks(self, ctx: PhaseContext, steps: int, chunk: int):
        """Zero inputs; the true state stays the last one."""
        for start in range(0, steps, chunk):
            n = min(chunk, steps - start)
            yield (np.zeros((ctx.trials, n, ctx.network.n_in)),
                   np.broadcast_to(ctx.last_states[:, None, :], (ctx.trials, n, ctx.last_states.shape[-1])))


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

    @classmethod
    def example(cls, network, steps: int) -> Inputs:
        """Zero inputs for ``steps`` steps."""
        return cls(values=np.zeros((steps, network.n_in)))

    def input_chunks(self, ctx: PhaseContext, steps: int, chunk: int):
        """Slices of ``values`` (the same for every trial when 2-D); the true state is unknown (NaN)."""
        v = self.values
        if v.shape[-1] != ctx.network.n_in:
            raise ValueError(f"Inputs: values have {v.shape[-1]} input channels but the network takes "
                             f"{ctx.network.n_in}")
        if v.shape[-2] != steps:
            raise ValueError(f"Inputs: values have {v.shape[-2]} steps but the phase lasts {steps}")
        if v.ndim == 3 and v.shape[0] != ctx.trials:
            raise ValueError(f"Inputs: values are for {v.shape[0]} trials but the run has {ctx.trials}")
        v = np.broadcast_to(v, (ctx.trials, steps, v.shape[-1]))
        for start in range(0, steps, chunk):
            n = min(chunk, steps - start)
            yield v[:, start:start + n], np.full((ctx.trials, n, ctx.last_states.shape[-1]), np.nan)


@dataclass(frozen=True, eq=False)
class ResolvedPhases:
    """A protocol's phases, resolved for one run.

    Attributes
    ----------
    segments : list of Segment
        One per phase; each segment's ``inputs`` is its slice of ``inputs`` (a view, not a copy).
    inputs : ndarray (B, T, n_in)
        The inputs of every step.
    states : ndarray (B, T, d)
        The true states after every step (NaN where a phase does not know them).
    """

    segments: list[Segment]
    inputs: np.ndarray
    states: np.ndarray


def resolve_phases(phases: Sequence[Phase], network, task, trials: int, seed: int, start_states: np.ndarray,
                   start_h: np.ndarray) -> ResolvedPhases:
    """Resolve ``phases`` into backend segments, writing each phase's inputs and true states chunk by chunk.

    Every reset phase (and the first) starts at ``start_h``; a phase sees the last known true state of the
    phases before it (``start_states`` at first). Memory besides the two returned arrays is one chunk
    (:func:`input_chunk_steps`) of one phase.
    """
    lengths = [p.n_steps(network) for p in phases]
    total = sum(lengths)
    start_states = np.asarray(start_states, dtype=np.float64)
    inputs = np.empty((trials, total, network.n_in))
    states = np.empty((trials, total, start_states.shape[-1]))
    chunk = input_chunk_steps(trials)
    last, t0, offset, segments = start_states, 0.0, 0, []
    for i, (phase, steps) in enumerate(zip(phases, lengths, strict=True)):
        ctx = PhaseContext(network, task, trials, seed, i, start_states, last)
        _write_phase(phase, i, ctx, steps, chunk, inputs[:, offset:offset + steps], states[:, offset:offset + steps])
        reset = phase.start == "reset" or i == 0
        segments.append(Segment(name=phase.name, steps=steps, inputs=inputs[:, offset:offset + steps],
                                noise=phase.noise_models(network), h0=start_h if reset else None, t0=t0))
        if np.isfinite(states[:, offset + steps - 1]).all():
            last = states[:, offset + steps - 1].copy()
        t0 += steps * network.dt
        offset += steps
    return ResolvedPhases(segments, inputs, states)


def _write_phase(phase: Phase, index: int, ctx: PhaseContext, steps: int, chunk: int, inputs: np.ndarray,
                 states: np.ndarray) -> None:
    """Write ``phase``'s chunks into ``inputs`` (B, steps, n_in) and ``states`` (B, steps, d), checking each."""
    done = 0
    for x, s in phase.input_chunks(ctx, steps, chunk):
        n = np.shape(x)[1] if np.ndim(x) == 3 else -1
        if np.shape(x) != (ctx.trials, n, inputs.shape[-1]) or not 1 <= n <= steps - done:
            raise ValueError(f"phase {index} ({phase.name}) made inputs of shape {np.shape(x)} at step {done}; "
                             f"expected {(ctx.trials, steps, inputs.shape[-1])} = (trials, steps, n_in) in all")
        if np.shape(s) != (ctx.trials, n, states.shape[-1]):
            raise ValueError(f"phase {index} ({phase.name}) made true states of shape {np.shape(s)} at step "
                             f"{done}; expected {(ctx.trials, n, states.shape[-1])} = (trials, steps, d)")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"phase {index} ({phase.name}) made inputs containing NaN or inf; check its inputs()")
        inputs[:, done:done + n] = x
        states[:, done:done + n] = s
        done += n
    if done != steps:
        raise ValueError(f"phase {index} ({phase.name}) made inputs of shape {(ctx.trials, done, inputs.shape[-1])}; "
                         f"expected {(ctx.trials, steps, inputs.shape[-1])} = (trials, steps, n_in)")


def phase_from_spec(kind: str, steps: int, **options) -> Phase:
    """A registered phase by its kind: ``PHASES.get(kind)(steps=steps, **options)``, failing with one line."""
    cls = PHASES.get(kind)
    try:
        return cls(steps=steps, **options)
    except TypeError as err:
        raise ValueError(f"phase {kind!r}: {err}") from None
