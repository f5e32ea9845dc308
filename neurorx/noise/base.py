"""The noise-model base class, its Brian2 terms and the registry of noise models.

A noise model is a frozen dataclass registered in :data:`NOISE_MODELS`. It draws its own increments
(:meth:`NoiseModel.sample` for one step, :meth:`NoiseModel.sample_steps` for a block of steps), states the
moments of one increment (:meth:`NoiseModel.step_moments`) and its Brian2 form
(:meth:`NoiseModel.brian2_terms`, including any array it brings along). Backends, the trainer and the
protocol runner only call these methods: none of them tests for a noise type.

Time fields are declared on the dataclass with :func:`time_field` and parsed by
:func:`neurorx.units.parse_time` (Brian2 quantity, ``"50 ms"`` or a plain number of seconds below one
second; a bare number of one second or more is refused as almost surely meant in ms).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, ClassVar

import numpy as np
import torch
from brian2.units.allunits import second

from neurorx.errors import ConfigurationError
from neurorx.registry import Registry
from neurorx.units import parse_time, quantity_value

__all__ = ["NOISE_MODELS", "PLACEMENTS", "Brian2Terms", "MemorylessNoise", "NoiseModel", "time_field",
           "with_changes"]

#: Where a noise model's increments are added: the hidden state (default), each input sample, the readout.
PLACEMENTS = ("recurrent", "input", "output")
NOISE_MODELS: Registry[type[NoiseModel]] = Registry("noise model")

# Tolerance (relative) for deciding that a simulation step equals a model's reference step.
DT_RTOL = 1e-9


def time_field(default: float, doc: str = "") -> Any:
    """A dataclass field holding a time (seconds once parsed), declared as such for :class:`NoiseModel`.

    The value may be given as a Brian2 quantity, a string with a unit or a plain number of seconds; the base
    class parses it with :func:`neurorx.units.parse_time` (and its guard against bare numbers >= 1 s).
    """
    return field(default=default, metadata={"time": True, "doc": doc})


def diffusion_value(value, name: str) -> float:
    """Return a diffusion coefficient in s^-1/2 from a Brian2 quantity or a float."""
    return quantity_value(value, name, second**-0.5, unit_name="second**-0.5", short="s^-1/2",
                          example="0.07/sqrt(second)", nonnegative=True)


def _time_fields(cls) -> list[str]:
    return [f.name for f in fields(cls) if f.metadata.get("time")]


def with_changes(model: NoiseModel, **changes) -> NoiseModel:
    """``dataclasses.replace`` for a noise model whose times are already seconds (no bare-time guard).

    The model's own time fields are handed back as Brian2 quantities, which :func:`~neurorx.units.parse_time`
    accepts whatever their size; ``changes`` go through the usual parsing.
    """
    kept = {name: getattr(model, name) * second for name in _time_fields(type(model)) if name not in changes}
    return replace(model, **kept, **changes)


@dataclass(frozen=True)
class Brian2Terms:
    """The Brian2 form of a noise model.

    Attributes
    ----------
    rhs : str
        Term added to the right-hand side of ``dh/dt`` (units 1/second). Uses ``{prefix}`` names.
    parameters : dict
        ``name -> (value, unit)`` for ``(shared)`` parameters to declare (unit a Brian2 unit string, value in
        SI). Phases change noise by setting these parameters between ``run()`` calls.
    equations : str
        Extra equation lines (e.g. an Ornstein–Uhlenbeck state), possibly empty.
    arrays : dict
        ``name -> (values, unit)``: 2-D ``TimedArray`` s the terms read as ``name(t, i)``, ``values`` of shape
        ``(steps, B*N)`` at the simulation step (row ``n`` holds step ``n``, column ``i = trial*N + unit``) and
        ``unit`` a Brian2 unit. Only filled when :meth:`NoiseModel.brian2_terms` is given the run's ``dt``,
        ``steps`` and ``shape``; the backend builds one ``TimedArray`` per name over all segments (zeros where
        the model is not active).
    """

    rhs: str
    parameters: dict[str, tuple[float, str]] = field(default_factory=dict)
    equations: str = ""
    arrays: dict[str, tuple[np.ndarray, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class NoiseModel:
    """Base class of the noise models. Subclasses are frozen dataclasses registered in ``NOISE_MODELS``.

    A subclass defines :meth:`sample` (one step), :meth:`step_moments`, :meth:`scaled`, :meth:`brian2_terms`
    and :meth:`example`; the other methods have defaults that fit memoryless and stateful models alike.
    Declare time fields with :func:`time_field`.

    Attributes
    ----------
    storable : bool
        Whether the model is described by its fields alone (it can be a network's training noise and be saved
        in a network file). ``False`` for models holding arrays (:class:`~neurorx.noise.FrozenNoise`).
    """

    name: ClassVar[str] = "base"
    storable: ClassVar[bool] = True
    placement: str = field(default="recurrent", kw_only=True)

    def __post_init__(self):
        if self.placement not in PLACEMENTS:
            raise ValueError(f"noise placement must be one of {PLACEMENTS}, got {self.placement!r}")
        for name in _time_fields(type(self)):
            object.__setattr__(self, name, parse_time(getattr(self, name), f"{type(self).__name__}.{name}"))

    @classmethod
    def from_seconds(cls, **values) -> NoiseModel:
        """Build a model from fields whose times are plain seconds that neurorx wrote itself (a file, a
        config it parsed): those are taken as seconds whatever their size (no bare-time guard).
        """
        for name in _time_fields(cls):
            v = values.get(name)
            if isinstance(v, int | float) and not isinstance(v, bool):
                values[name] = float(v) * second
        return cls(**values)

    # -- public API -------------------------------------------------------------------------------
    @property
    def is_zero(self) -> bool:
        """True if the model adds nothing."""
        return False

    def scaled(self, k: float) -> NoiseModel:
        """Return the model with its amplitude multiplied by ``k`` (variance by ``k**2``)."""
        raise NotImplementedError

    def with_changes(self, **changes) -> NoiseModel:
        """A copy with some fields replaced (see :func:`with_changes`)."""
        return with_changes(self, **changes)

    def for_trials(self, rows: slice) -> NoiseModel:
        """The model for the trials ``rows`` of a run only (itself, unless it holds per-trial data)."""
        return self

    def initial_state(self, shape, dt: float, generator: torch.Generator | None, dtype=torch.float64,
                      device=None):
        """Initial internal state (``None`` for memoryless models)."""
        return None

    def sample(self, shape, dt: float, generator: torch.Generator | None, state=None, dtype=torch.float64,
               device=None):
        """Draw the increment added over one step of size ``dt`` (seconds).

        Returns
        -------
        increment : torch.Tensor or None
            Tensor of ``shape`` (``None`` if the model adds nothing).
        state
            The model's new internal state.
        """
        raise NotImplementedError

    def sample_steps(self, steps: int, shape, dt: float, generator: torch.Generator | None, state=None,
                     dtype=torch.float64, device=None):
        """Increments for ``steps`` consecutive steps of ``dt``: ``(tensor (steps, *shape) or None, state)``.

        The default steps through :meth:`sample`, carrying the state (right for every model);
        :class:`MemorylessNoise` draws all steps in one call.
        """
        if self.is_zero:
            return None, state
        out = []
        for _ in range(steps):
            inc, state = self.sample(shape, dt, generator, state, dtype, device)
            out.append(inc)
        return torch.stack(out), state

    def check_run(self, steps: int, shape, dt: float) -> None:
        """Raise ``ValueError`` (naming the fix) unless the model can supply ``steps`` increments of ``shape``
        at step ``dt``. The default asks :meth:`step_moments`, which refuses a step the model cannot take.
        """
        self.step_moments(dt)

    def step_moments(self, dt: float) -> tuple[float, float]:
        """Mean and variance of one unit's increment over a step ``dt`` (stationary, for stateful models)."""
        raise NotImplementedError

    def check_finite(self, dt: float, where: str) -> None:
        """Refuse parameters whose increments overflow (``noise_scale=1e300``): one line, before any run.

        Raises
        ------
        ConfigurationError
            If :meth:`step_moments` at ``dt`` overflows or is not finite.
        """
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                ok = all(math.isfinite(float(v)) for v in self.step_moments(dt))
        except OverflowError:
            ok = False
        except (NotImplementedError, ValueError):
            return                      # a model without moments, or a step it refuses: check_run names it
        if not ok:
            params = {k: v for k, v in self.to_dict().items() if isinstance(v, int | float) and not isinstance(v, bool)}
            raise ConfigurationError(f"{where}: the {self.name} noise {params} has an infinite step variance "
                                     f"(numeric overflow); use a smaller noise amplitude or noise_scale")

    def brian2_terms(self, prefix: str, *, dt: float | None = None, steps: int | None = None,
                     shape: tuple[int, int] | None = None) -> Brian2Terms:
        """Brian2 equation terms; names start with ``prefix`` so several models can coexist.

        ``dt`` (the simulation step), ``steps`` and ``shape`` ``(trials, units)`` describe the run; a model that
        brings arrays (:attr:`Brian2Terms.arrays`) needs them, the others ignore them.
        """
        raise NotImplementedError

    @classmethod
    def example(cls, steps: int, shape: tuple[int, ...], dt: float, *, placement: str = "recurrent",
                seed: int = 0) -> NoiseModel:
        """A typical, non-zero instance able to run ``steps`` steps of per-step ``shape`` at step ``dt``.

        Used by the tests that iterate :data:`NOISE_MODELS` (every model on every backend against its own
        :meth:`step_moments`); a new model defines it so that it is picked up without editing a test.
        """
        raise NotImplementedError(f"{cls.__name__} defines no example(); add one so the registry tests run it")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able description (arrays excluded; see :class:`~neurorx.noise.FrozenNoise`)."""
        out = {"name": self.name}
        out.update(asdict(self))
        return out


@dataclass(frozen=True)
class MemorylessNoise(NoiseModel):
    """A model whose increments are independent across steps: :meth:`sample_steps` draws them in one call."""

    def sample_steps(self, steps, shape, dt, generator, state=None, dtype=torch.float64, device=None):
        if self.is_zero:
            return None, state
        inc, _ = self.sample((steps, *shape), dt, generator, None, dtype, device)
        return inc, state
