"""Phases: the stretches a protocol is made of (active behaviour, quiescence, user inputs, ...).

A phase says how long it lasts, what input the network gets, which noise is on, and whether it continues
from the previous phase's state or resets to the encoded start. Every :class:`Phase` subclass that sets its
own ``kind`` is registered in :data:`PHASES` under that kind, so the command line (``neurorx run --phases
KIND:STEPS``) and the generic tests find it without further edits:

>>> class Ramp(Phase):                                   # doctest: +SKIP
...     kind = "ramp"
...     def inputs(self, ctx, steps): ...

Pass ``register=False`` in the class statement (``class Draft(Phase, register=False)``) to keep a subclass
out of the registry.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurorx.backends.base import check_positive_int
from neurorx.noise import PLACEMENTS, NoiseModel, make_noise, with_changes
from neurorx.registry import Registry
from neurorx.seeds import derive_seed
from neurorx.units import as_seconds

__all__ = ["PHASES", "PHASE_INPUTS", "Active", "Inputs", "Phase", "PhaseContext", "Quiescent"]

_STARTS = ("continue", "reset")

#: Seed purpose (:mod:`neurorx.seeds`) of the task trajectories a phase samples; the key is the phase index.
PHASE_INPUTS = 100


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
        batch = ctx.task.sample(ctx.trials, steps, seed=derive_seed(ctx.seed, PHASE_INPUTS, ctx.index), init_state=init)
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

    @classmethod
    def example(cls, network, steps: int) -> Inputs:
        """Zero inputs for ``steps`` steps."""
        return cls(values=np.zeros((steps, network.n_in)))

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


def phase_from_spec(kind: str, steps: int, **options) -> Phase:
    """A registered phase by its kind: ``PHASES.get(kind)(steps=steps, **options)``, failing with one line."""
    cls = PHASES.get(kind)
    try:
        return cls(steps=steps, **options)
    except TypeError as err:
        raise ValueError(f"phase {kind!r}: {err}") from None
