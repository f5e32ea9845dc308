"""Noise models, each defined in continuous time and knowing its discrete step.

A noise model describes a term added to the dynamics of a state variable ``h`` (dimensionless rates):

.. math:: dh = f(h, x)\\,dt + dN_t,

where :math:`dN_t` is the noise's contribution over ``dt``. Every model states (i) its continuous-time form,
(ii) the increment it adds over one Euler–Maruyama step of size ``dt`` (:meth:`NoiseModel.sample`), (iii)
the per-step moments of that increment (:meth:`NoiseModel.step_moments`), and (iv) the equivalent Brian2
equation terms (:meth:`NoiseModel.brian2_terms`). Both backends derive their update from these methods.

Placement: ``"recurrent"`` (added to the hidden state; the default), ``"input"`` (added to each input
sample, held for the sample period) or ``"output"`` (added to the readout).

Times are seconds internally. Diffusion coefficients ``sigma`` are in :math:`s^{-1/2}`: the per-step
standard deviation of white noise at step ``dt`` is ``sigma*sqrt(dt)``. Constructors accept Brian2
quantities (``0.0707/sqrt(second)``) or plain floats in these SI units.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, ClassVar

import numpy as np
import torch
from brian2.units.allunits import second
from brian2.units.fundamentalunits import Quantity, get_dimensions

from neurorx.registry import Registry
from neurorx.units import as_seconds, check_bare_seconds

__all__ = [
    "NOISE_MODELS",
    "PLACEMENTS",
    "Brian2Terms",
    "FrozenNoise",
    "NoNoise",
    "NoiseModel",
    "OUNoise",
    "ReferenceUniformNoise",
    "WhiteNoise",
    "noise_from_dict",
]

PLACEMENTS = ("recurrent", "input", "output")
NOISE_MODELS: Registry[type[NoiseModel]] = Registry("noise model")

# Tolerance (relative) for deciding that a simulation step equals a model's reference step.
_DT_RTOL = 1e-9


def _diffusion_value(value, name: str) -> float:
    """Return a diffusion coefficient in s^-1/2 from a Brian2 quantity or a float."""
    if isinstance(value, Quantity):
        if get_dimensions(value) != get_dimensions(second**-0.5):
            raise TypeError(f"{name} must have units of second**-0.5 (e.g. 0.07/sqrt(second)); got {value!r}")
        value = float(np.asarray(value))
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite, non-negative number (s^-1/2); got {value!r}")
    return value


_TRUSTED_TIMES: contextvars.ContextVar[bool] = contextvars.ContextVar("neurorx_trusted_times", default=False)


@contextlib.contextmanager
def trusted_times():
    """Inside this block plain-number times are taken as seconds without the one-second guard.

    For times that are already seconds: read back from a file neurorx wrote, or carried over by
    :meth:`NoiseModel.scaled`. User input goes through the guard of :func:`_time_value`.
    """
    token = _TRUSTED_TIMES.set(True)
    try:
        yield
    finally:
        _TRUSTED_TIMES.reset(token)


def with_changes(model, **changes):
    """``dataclasses.replace`` for a noise model whose times are already in seconds."""
    with trusted_times():
        return replace(model, **changes)


def _time_value(value, name: str) -> float:
    """Return a time in seconds from a Brian2 quantity or a float (seconds).

    A bare number of one second or more is refused (it is almost always meant in ms: ``dt_train=20``); give
    such times with units (``2*second``).
    """
    if isinstance(value, Quantity):
        return as_seconds(value, name)
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive time in seconds (or a Brian2 quantity); got {value!r}")
    return value if _TRUSTED_TIMES.get() else check_bare_seconds(value, name)


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
    """

    rhs: str
    parameters: dict[str, tuple[float, str]] = field(default_factory=dict)
    equations: str = ""


@dataclass(frozen=True)
class NoiseModel:
    """Base class of the noise models. Subclasses are frozen dataclasses registered in ``NOISE_MODELS``."""

    name: ClassVar[str] = "base"
    placement: str = field(default="recurrent", kw_only=True)

    def __post_init__(self):
        if self.placement not in PLACEMENTS:
            raise ValueError(f"noise placement must be one of {PLACEMENTS}, got {self.placement!r}")

    # -- public API -------------------------------------------------------------------------------
    @property
    def is_zero(self) -> bool:
        """True if the model adds nothing."""
        return False

    def scaled(self, k: float) -> NoiseModel:
        """Return the model with its amplitude multiplied by ``k`` (variance by ``k**2``)."""
        raise NotImplementedError

    def initial_state(self, shape, dt: float, generator: torch.Generator | None, dtype=torch.float64):
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

    def step_moments(self, dt: float) -> tuple[float, float]:
        """Mean and variance of one unit's increment over a step ``dt`` (stationary, for stateful models)."""
        raise NotImplementedError

    def brian2_terms(self, prefix: str) -> Brian2Terms:
        """Brian2 equation terms; names start with ``prefix`` so several models can coexist."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """JSON-able description (arrays excluded; see :class:`FrozenNoise`)."""
        out = {"name": self.name}
        out.update(asdict(self))
        return out


@NOISE_MODELS.register("none")
@dataclass(frozen=True)
class NoNoise(NoiseModel):
    """No noise: :math:`dN_t = 0`."""

    name: ClassVar[str] = "none"

    @property
    def is_zero(self) -> bool:
        return True

    def scaled(self, k: float) -> NoNoise:
        return self

    def sample(self, shape, dt, generator, state=None, dtype=torch.float64, device=None):
        return None, state

    def step_moments(self, dt: float) -> tuple[float, float]:
        return 0.0, 0.0

    def brian2_terms(self, prefix: str) -> Brian2Terms:
        return Brian2Terms(rhs="0*Hz")


@NOISE_MODELS.register("white")
@dataclass(frozen=True)
class WhiteNoise(NoiseModel):
    """Gaussian white noise with diffusion coefficient ``sigma``.

    Parameters
    ----------
    sigma : float or brian2.Quantity
        Diffusion coefficient in :math:`s^{-1/2}`.
    placement : str
        ``"recurrent"``, ``"input"`` or ``"output"``.

    Notes
    -----
    Continuous time: :math:`dN_t = \\sigma\\,dW_t`. One Euler–Maruyama step of size :math:`\\Delta t` adds
    :math:`\\sigma\\sqrt{\\Delta t}\\,\\xi`, :math:`\\xi\\sim\\mathcal N(0,1)`. In Brian2: ``+ sigma*xi``.
    The paper's per-step standard deviation :math:`s` at training step :math:`D` is
    :math:`\\sigma = s/\\sqrt{D}` (see :meth:`from_step_std`).
    """

    name: ClassVar[str] = "white"
    sigma: float = 0.0

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "sigma", _diffusion_value(self.sigma, "WhiteNoise.sigma"))

    @classmethod
    def from_step_std(cls, std: float, dt, placement: str = "recurrent") -> WhiteNoise:
        """White noise whose increment over one step ``dt`` has standard deviation ``std``."""
        dt_s = _time_value(dt, "dt")
        return cls(sigma=float(std) / math.sqrt(dt_s), placement=placement)

    @property
    def is_zero(self) -> bool:
        return self.sigma == 0.0

    def scaled(self, k: float) -> WhiteNoise:
        return with_changes(self, sigma=self.sigma * abs(float(k)))

    def sample(self, shape, dt, generator, state=None, dtype=torch.float64, device=None):
        if self.is_zero:
            return None, state
        z = torch.randn(shape, generator=generator, dtype=dtype, device=device)
        return z.mul_(self.sigma * math.sqrt(dt)), state

    def step_moments(self, dt: float) -> tuple[float, float]:
        return 0.0, self.sigma**2 * dt

    def brian2_terms(self, prefix: str) -> Brian2Terms:
        return Brian2Terms(
            rhs=f"{prefix}sigma*xi_{prefix}",
            parameters={f"{prefix}sigma": (self.sigma, "second**-0.5")},
        )


@NOISE_MODELS.register("reference_uniform")
@dataclass(frozen=True)
class ReferenceUniformNoise(NoiseModel):
    """The reference code's noise: ``scale * U[0, 1)`` added once per training step ``dt_train``.

    Parameters
    ----------
    scale : float
        The reference code's ``sqrt(sigma2_rec)`` (0.01 spatial, 0.1 head direction).
    dt_train : float or brian2.Quantity
        The training step (seconds) the reference noise was drawn at (0.02 s in the paper).
    exact_uniform : bool
        When a simulation step equals ``dt_train``, draw the uniform numbers themselves (the trained
        dynamics, bit-for-bit in distribution). Otherwise, and at any other step, use the continuous analogue.
        Only the torch backend draws uniforms; the Brian2 backend always integrates the continuous analogue
        (an SDE), so at ``dt_factor=1`` the two backends agree in the mean and variance of every increment,
        not in its distribution.

    Notes
    -----
    Per training step the increment :math:`s\\,U[0,1)` has mean :math:`s/2` and variance :math:`s^2/12`: it is
    mostly a constant positive drive. Its continuous-time analogue, matching both moments at
    :math:`\\Delta t = D` (``dt_train``), is a drift plus a diffusion,

    .. math:: dN_t = \\mu\\,dt + c\\,dW_t, \\qquad \\mu = \\frac{s}{2D},\\qquad c = \\frac{s}{\\sqrt{12D}}.

    Both depend on the training step :math:`D`: the same network trained at another step would have another
    analogue. At a simulation step :math:`\\Delta t \\neq D` the increment is
    :math:`\\mu\\Delta t + c\\sqrt{\\Delta t}\\,\\xi`. :meth:`scaled` multiplies :math:`s` (so both the mean and the
    standard deviation), as the reference's quiescent ``sigma_rec *= sqrt(2)`` does.
    """

    name: ClassVar[str] = "reference_uniform"
    scale: float = 0.0
    dt_train: float = 0.02
    exact_uniform: bool = True

    def __post_init__(self):
        super().__post_init__()
        scale = float(self.scale)
        if not math.isfinite(scale) or scale < 0:
            raise ValueError(f"ReferenceUniformNoise.scale must be finite and >= 0, got {self.scale!r}")
        object.__setattr__(self, "scale", scale)
        object.__setattr__(self, "dt_train", _time_value(self.dt_train, "ReferenceUniformNoise.dt_train"))

    @property
    def is_zero(self) -> bool:
        return self.scale == 0.0

    @property
    def drift(self) -> float:
        """Continuous drift :math:`\\mu = s/(2D)` in 1/second."""
        return self.scale / (2.0 * self.dt_train)

    @property
    def diffusion(self) -> float:
        """Continuous diffusion :math:`c = s/\\sqrt{12D}` in :math:`s^{-1/2}`."""
        return self.scale / math.sqrt(12.0 * self.dt_train)

    def uses_uniform(self, dt: float) -> bool:
        """Whether a step of ``dt`` draws the reference's uniform numbers themselves."""
        return self.exact_uniform and abs(dt - self.dt_train) <= _DT_RTOL * self.dt_train

    def scaled(self, k: float) -> ReferenceUniformNoise:
        return with_changes(self, scale=self.scale * abs(float(k)))

    def sample(self, shape, dt, generator, state=None, dtype=torch.float64, device=None):
        if self.is_zero:
            return None, state
        if self.uses_uniform(dt):
            return torch.rand(shape, generator=generator, dtype=dtype, device=device).mul_(self.scale), state
        z = torch.randn(shape, generator=generator, dtype=dtype, device=device)
        return z.mul_(self.diffusion * math.sqrt(dt)).add_(self.drift * dt), state

    def step_moments(self, dt: float) -> tuple[float, float]:
        return self.drift * dt, self.diffusion**2 * dt

    def brian2_terms(self, prefix: str) -> Brian2Terms:
        return Brian2Terms(
            rhs=f"{prefix}mu + {prefix}sigma*xi_{prefix}",
            parameters={f"{prefix}mu": (self.drift, "Hz"), f"{prefix}sigma": (self.diffusion, "second**-0.5")},
        )


@NOISE_MODELS.register("ou")
@dataclass(frozen=True)
class OUNoise(NoiseModel):
    """Coloured (Ornstein–Uhlenbeck) noise: white noise of strength ``sigma`` low-pass filtered at ``tau_noise``.

    Parameters
    ----------
    sigma : float or brian2.Quantity
        Strength in :math:`s^{-1/2}`; as ``tau_noise -> 0`` the model tends to ``WhiteNoise(sigma)``.
    tau_noise : float or brian2.Quantity
        Correlation time (seconds).

    Notes
    -----
    The noise is a state :math:`\\eta` (units 1/second) added to :math:`dh/dt`:

    .. math:: dN_t = \\eta\\,dt,\\qquad d\\eta = -\\frac{\\eta}{\\tau_n}dt + \\frac{\\sigma}{\\tau_n}dW_t .

    The stationary variance of :math:`\\eta` is :math:`\\sigma^2/(2\\tau_n)`. Both backends integrate
    :math:`\\eta` with Euler–Maruyama, whose stationary variance at step :math:`\\Delta t` is
    :math:`\\sigma^2/(2\\tau_n) / (1 - b/2)` with :math:`b = \\Delta t/\\tau_n` (the step must satisfy
    :math:`b < 2`). The increment added to ``h`` over a step is :math:`\\eta\\,\\Delta t` with the value of
    :math:`\\eta` at the start of the step (explicit Euler, as Brian2's ``euler`` method does).
    """

    name: ClassVar[str] = "ou"
    sigma: float = 0.0
    tau_noise: float = 0.05

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "sigma", _diffusion_value(self.sigma, "OUNoise.sigma"))
        object.__setattr__(self, "tau_noise", _time_value(self.tau_noise, "OUNoise.tau_noise"))

    @property
    def is_zero(self) -> bool:
        return self.sigma == 0.0

    def scaled(self, k: float) -> OUNoise:
        return with_changes(self, sigma=self.sigma * abs(float(k)))

    def _check_dt(self, dt: float) -> float:
        b = dt / self.tau_noise
        if b >= 2.0:
            raise ValueError(
                f"OUNoise: the step dt={dt:g} s is unstable for tau_noise={self.tau_noise:g} s (needs "
                f"dt < 2*tau_noise); use a larger tau_noise or a smaller step (dt_factor)."
            )
        return b

    def stationary_variance(self, dt: float | None = None) -> float:
        """Stationary variance of :math:`\\eta`: exact (``dt=None``) or of the Euler scheme at step ``dt``."""
        var = self.sigma**2 / (2.0 * self.tau_noise)
        if dt is None:
            return var
        return var / (1.0 - self._check_dt(dt) / 2.0)

    def initial_state(self, shape, dt, generator, dtype=torch.float64, device=None):
        std = math.sqrt(self.stationary_variance(dt))
        return torch.randn(shape, generator=generator, dtype=dtype, device=device).mul_(std)

    def sample(self, shape, dt, generator, state=None, dtype=torch.float64, device=None):
        b = self._check_dt(dt)
        if state is None:
            state = self.initial_state(shape, dt, generator, dtype, device)
        increment = state * dt
        z = torch.randn(shape, generator=generator, dtype=dtype, device=device)
        new_state = state * (1.0 - b) + z.mul_(self.sigma / self.tau_noise * math.sqrt(dt))
        return increment, new_state

    def step_moments(self, dt: float) -> tuple[float, float]:
        return 0.0, self.stationary_variance(dt) * dt**2

    def brian2_terms(self, prefix: str) -> Brian2Terms:
        return Brian2Terms(
            rhs=f"{prefix}eta",
            parameters={
                f"{prefix}sigma": (self.sigma, "second**-0.5"),
                f"{prefix}tau": (self.tau_noise, "second"),
            },
            equations=f"d{prefix}eta/dt = -{prefix}eta/{prefix}tau + {prefix}sigma/{prefix}tau*xi_{prefix} : Hz",
        )


@NOISE_MODELS.register("frozen")
@dataclass(frozen=True, eq=False)
class FrozenNoise(NoiseModel):
    """Prescribed increments: the same noise path on every backend and every step size.

    Parameters
    ----------
    increments : array, shape (T, B, N)
        The increment added to each unit of each trial over each step of size ``dt`` (state units).
    dt : float or brian2.Quantity
        The step the increments are given at. A simulation at step ``m*dt`` (integer ``m``) uses sums of
        ``m`` consecutive increments, which is exact for Brownian increments; a finer step is an error.

    Notes
    -----
    Continuous time: :math:`dN_t = dW^{(\\text{given})}_t`. Increments are coarsened by summation, so a
    convergence study can run one Brownian path at several step sizes (as torchsde's ``BrownianInterval``).
    In Brian2 the increments enter as a ``TimedArray`` of rates ``increment/dt``.
    """

    name: ClassVar[str] = "frozen"
    increments: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0)))
    dt: float = 0.02

    def __post_init__(self):
        super().__post_init__()
        inc = np.array(self.increments, dtype=np.float64, copy=True)
        if inc.ndim != 3:
            raise ValueError(f"FrozenNoise.increments must have shape (steps, trials, units); got {inc.shape}")
        if not np.all(np.isfinite(inc)):
            raise ValueError("FrozenNoise.increments contain NaN or inf")
        inc.setflags(write=False)
        object.__setattr__(self, "increments", inc)
        object.__setattr__(self, "dt", _time_value(self.dt, "FrozenNoise.dt"))

    def scaled(self, k: float) -> FrozenNoise:
        return with_changes(self, increments=self.increments * float(k))

    def factor(self, dt: float) -> int:
        """Number of given increments per simulation step ``dt`` (an error if not a positive integer)."""
        m = dt / self.dt
        mi = round(m)
        if mi < 1 or abs(m - mi) > 1e-6 * max(1.0, m):
            raise ValueError(
                f"FrozenNoise was given at dt={self.dt:g} s and cannot be used at dt={dt:g} s: the simulation "
                f"step must be a whole multiple of the noise step. Generate the increments at the finest step."
            )
        return mi

    def coarsened(self, dt: float, steps: int | None = None) -> np.ndarray:
        """Increments at simulation step ``dt``: shape (steps, B, N)."""
        m = self.factor(dt)
        n_avail = self.increments.shape[0] // m
        steps = n_avail if steps is None else steps
        if steps > n_avail:
            raise ValueError(
                f"FrozenNoise holds {self.increments.shape[0]} increments at dt={self.dt:g} s, enough for "
                f"{n_avail} steps of {dt:g} s, but {steps} are needed; supply more increments."
            )
        inc = self.increments[: steps * m]
        return inc.reshape(steps, m, *inc.shape[1:]).sum(axis=1)

    def check_shape(self, trials: int, units: int) -> None:
        """Raise a clear error unless the increments are for ``trials`` trials of ``units`` units."""
        if self.increments.shape[1:] != (trials, units):
            raise ValueError(
                f"FrozenNoise increments have shape {self.increments.shape} = (steps, trials, units) but the run "
                f"has {trials} trials of {units} units; give increments of shape (steps, {trials}, {units})."
            )

    def initial_state(self, shape, dt, generator, dtype=torch.float64, device=None):
        return 0

    def sample(self, shape, dt, generator, state=None, dtype=torch.float64, device=None):
        idx = 0 if state is None else int(state)
        m = self.factor(dt)
        block = self.increments[idx * m : (idx + 1) * m]
        if block.shape[0] < m:
            raise ValueError(
                f"FrozenNoise ran out of increments after {idx} steps of {dt:g} s; supply more increments."
            )
        inc = torch.as_tensor(block.sum(axis=0), dtype=dtype, device=device)
        if tuple(inc.shape) != tuple(shape):
            raise ValueError(
                f"FrozenNoise increments have per-step shape {tuple(inc.shape)} but the run needs {tuple(shape)}"
                f" = (trials, units); give increments of shape (steps, {', '.join(map(str, shape))})."
            )
        return inc, idx + 1

    def step_moments(self, dt: float) -> tuple[float, float]:
        c = self.coarsened(dt)
        return float(c.mean()), float(c.var())

    def brian2_terms(self, prefix: str) -> Brian2Terms:
        # The TimedArray named f"{prefix}rate" (built by the backend from `coarsened`) holds increment/dt.
        return Brian2Terms(rhs=f"{prefix}gain*{prefix}rate(t, i)", parameters={f"{prefix}gain": (1.0, "1")})

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "placement": self.placement, "dt": self.dt,
                "shape": list(self.increments.shape)}


def noise_from_dict(d: dict[str, Any], *, trusted: bool = False) -> NoiseModel:
    """Build a noise model from a dict ``{"name": ..., **params}`` (e.g. :meth:`NoiseModel.to_dict` output).

    ``trusted=True`` for dicts neurorx wrote itself (a network file): their times are seconds already, so
    the one-second guard on bare times does not apply. Not for :class:`FrozenNoise`.
    """
    d = dict(d)
    name = d.pop("name", None)
    if name is None:
        raise ValueError(f"a noise dict needs a 'name', one of {NOISE_MODELS.names()}; got {d!r}")
    cls = NOISE_MODELS.get(name)
    if cls is FrozenNoise:
        raise ValueError("FrozenNoise holds arrays and is not stored in network files; pass it to a phase")
    allowed = {f.name for f in fields(cls)}
    unknown = set(d) - allowed
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)} for noise model {name!r}; allowed: {sorted(allowed)}")
    if trusted:
        with trusted_times():
            return cls(**d)
    return cls(**d)


def _refuse_bare_name(name: str) -> None:
    """Raise unless the model ``name`` is meaningful without parameters (only ``"none"`` is)."""
    cls = NOISE_MODELS.get(name)
    try:
        default = cls()
    except TypeError:
        default = None
    if default is None or isinstance(default, FrozenNoise):   # a frozen model's increments are the model
        problem = "incomplete"
    elif default.is_zero and not isinstance(default, NoNoise):
        problem = "silent (zero amplitude)"
    else:
        return
    fields_ = [f.name for f in fields(cls) if f.name != "placement"]
    raise ValueError(
        f"noise {name!r} needs its parameters ({', '.join(fields_)}); a bare name would be {problem}. Pass a "
        f"model, e.g. {cls.__name__}(...), or a dict {{'name': {name!r}, ...}} with them; 'none' means no noise"
    )


def make_noise(spec) -> NoiseModel:
    """Return a noise model from a model, a registry name, or a dict ``{"name": ..., **params}``."""
    if isinstance(spec, NoiseModel):
        return spec
    if spec is None:
        return NoNoise()
    if isinstance(spec, str):
        spec = {"name": spec}
    if isinstance(spec, dict):
        if spec.get("name") is not None and set(spec) <= {"name", "placement"}:
            _refuse_bare_name(spec["name"])
        return noise_from_dict(spec)
    raise TypeError(f"cannot make a noise model from {spec!r}; pass a NoiseModel, a name or a dict")


def sample_steps(model: NoiseModel, steps: int, shape, dt: float, generator, state=None,
                 dtype=torch.float64, device=None):
    """Increments of ``model`` for ``steps`` consecutive steps of ``dt``: a tensor ``(steps, *shape)``.

    Memoryless models draw all steps in one call; stateful ones (OU, frozen) step through their state.
    Returns ``(increments or None, state)``.
    """
    if model.is_zero:
        return None, state
    if isinstance(model, WhiteNoise | ReferenceUniformNoise):
        inc, _ = model.sample((steps, *shape), dt, generator, None, dtype, device)
        return inc, state
    if isinstance(model, FrozenNoise):
        start = 0 if state is None else int(state)
        m = model.factor(dt)
        block = model.increments[start * m : (start + steps) * m]
        if block.shape[0] < steps * m:
            raise ValueError(
                f"FrozenNoise holds {model.increments.shape[0]} increments at dt={model.dt:g} s; "
                f"{(start + steps) * m} are needed; supply more increments."
            )
        if tuple(block.shape[1:]) != tuple(shape):
            raise ValueError(
                f"FrozenNoise increments have per-step shape {tuple(block.shape[1:])} but the run needs "
                f"{tuple(shape)} = (trials, units); give increments of shape (steps, {', '.join(map(str, shape))})."
            )
        summed = block.reshape(steps, m, *block.shape[1:]).sum(axis=1)
        return torch.as_tensor(summed, dtype=dtype, device=device), start + steps
    out = []
    for _ in range(steps):
        inc, state = model.sample(shape, dt, generator, state, dtype, device)
        out.append(inc)
    return torch.stack(out), state
