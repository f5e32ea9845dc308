"""``FrozenNoise``: prescribed increments, the same noise path on every backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
from brian2.units.allunits import hertz, second

from neurorx.noise.base import NOISE_MODELS, Brian2Terms, NoiseModel, time_field, with_changes

__all__ = ["FrozenNoise"]


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
    In Brian2 the increments enter as the model's own ``TimedArray`` ``<prefix>rate`` of rates
    ``increment/dt`` (:attr:`Brian2Terms.arrays`), scaled by the ``(shared)`` parameter ``<prefix>gain``.
    The state of a run is the number of simulation steps already used.
    """

    name: ClassVar[str] = "frozen"
    storable: ClassVar[bool] = False
    increments: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0)))
    dt: float = time_field(0.02, "the step the increments are given at")

    def __post_init__(self):
        super().__post_init__()
        inc = np.array(self.increments, dtype=np.float64, copy=True)
        if inc.ndim != 3:
            raise ValueError(f"FrozenNoise.increments must have shape (steps, trials, units); got {inc.shape}")
        if not np.all(np.isfinite(inc)):
            raise ValueError("FrozenNoise.increments contain NaN or inf")
        inc.setflags(write=False)
        object.__setattr__(self, "increments", inc)

    def scaled(self, k: float) -> FrozenNoise:
        return with_changes(self, increments=self.increments * float(k))

    def for_trials(self, rows: slice) -> FrozenNoise:
        return with_changes(self, increments=self.increments[:, rows])

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

    def check_shape(self, trials: int, units: int) -> None:
        """Raise a clear error unless the increments are for ``trials`` trials of ``units`` units."""
        if self.increments.shape[1:] != (trials, units):
            raise ValueError(
                f"FrozenNoise increments have shape {self.increments.shape} = (steps, trials, units) but the run "
                f"has {trials} trials of {units} units; give increments of shape (steps, {trials}, {units})."
            )

    def coarsened(self, dt: float, steps: int | None = None, start: int = 0) -> np.ndarray:
        """Increments at simulation step ``dt``: steps ``start .. start+steps-1``, shape (steps, B, N).

        The one place the given increments are sliced and summed; ``steps=None`` takes all that remain.
        """
        m = self.factor(dt)
        n_avail = self.increments.shape[0] // m
        steps = n_avail - start if steps is None else steps
        if start + steps > n_avail:
            raise ValueError(
                f"FrozenNoise holds {self.increments.shape[0]} increments at dt={self.dt:g} s, enough for "
                f"{n_avail} steps of {dt:g} s, but {start + steps} are needed; supply more increments."
            )
        inc = self.increments[start * m : (start + steps) * m]
        return inc.reshape(steps, m, *inc.shape[1:]).sum(axis=1)

    def check_run(self, steps: int, shape, dt: float) -> None:
        self.check_shape(*shape)
        self.coarsened(dt, 0, steps)   # raises unless ``steps`` steps of ``dt`` are available

    def initial_state(self, shape, dt, generator, dtype=torch.float64, device=None):
        return 0

    def sample_steps(self, steps, shape, dt, generator, state=None, dtype=torch.float64, device=None):
        start = 0 if state is None else int(state)
        if tuple(self.increments.shape[1:]) != tuple(shape):
            raise ValueError(
                f"FrozenNoise increments have per-step shape {tuple(self.increments.shape[1:])} but the run needs "
                f"{tuple(shape)} = (trials, units); give increments of shape (steps, {', '.join(map(str, shape))})."
            )
        inc = self.coarsened(dt, steps, start)
        return torch.as_tensor(inc, dtype=dtype, device=device), start + steps

    def sample(self, shape, dt, generator, state=None, dtype=torch.float64, device=None):
        inc, state = self.sample_steps(1, shape, dt, generator, state, dtype, device)
        return inc[0], state

    def step_moments(self, dt: float) -> tuple[float, float]:
        c = self.coarsened(dt)
        return float(c.mean()), float(c.var())

    def brian2_terms(self, prefix: str, *, dt: float | None = None, steps: int | None = None,
                     shape: tuple[int, int] | None = None) -> Brian2Terms:
        arrays = {}
        if dt is not None:
            if shape is not None:
                self.check_shape(*shape)
            inc = self.coarsened(dt, steps)
            arrays[f"{prefix}rate"] = (inc.reshape(inc.shape[0], -1) / dt, hertz)   # increment/dt, trial-major
        return Brian2Terms(rhs=f"{prefix}gain*{prefix}rate(t, i)", parameters={f"{prefix}gain": (1.0, "1")},
                           arrays=arrays)

    @classmethod
    def example(cls, steps, shape, dt, *, placement="recurrent", seed=0) -> FrozenNoise:
        inc = 0.1 * np.random.default_rng(seed).normal(size=(steps, *shape))
        return cls(inc, dt=dt * second, placement=placement)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "placement": self.placement, "dt": self.dt,
                "shape": list(self.increments.shape)}
