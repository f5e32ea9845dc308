"""Every registered noise model, on every registered backend, adds increments with its own ``step_moments``.

The network has no dynamics of its own (vanilla identity cell, ``W_rec = I``, no bias: the drift
:math:`-h + (W_{rec}h + W_{in}x) = W_{in}x` vanishes without input), so the change of the state over a step is
the noise alone: the recurrent increment itself, or ``a`` times the input increment when the noise is on the
inputs and ``W_in = I``. Nothing here names a model or a backend: both lists come from the registries, and the
model defined below (registered from this file, nothing else touched) is checked like the built-in ones.
"""

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest
import torch
from brian2 import ms

from neurorx import RateNetwork
from neurorx.backends import Segment, get_backend
from neurorx.noise import NOISE_MODELS, Brian2Terms, MemorylessNoise, with_changes

TRIALS, UNITS, STEPS = 64, 16, 40      # 1024 independent series of 40 increments
DT, A = 0.02, 0.2                      # training step (s), dt / tau


@NOISE_MODELS.register("test_laplace")
@dataclass(frozen=True)
class LaplaceNoise(MemorylessNoise):
    """Laplace increments of scale ``b*sqrt(dt)`` per step (variance ``2 b^2 dt``): a model that exists only in
    this test file.

    Its Brian2 form is its diffusion analogue, Gaussian with the same variance (Brian2 integrates Gaussian
    white noise only), so both backends match the same :meth:`step_moments`.
    """

    name: ClassVar[str] = "test_laplace"
    b: float = 0.0

    @property
    def is_zero(self) -> bool:
        return self.b == 0.0

    def scaled(self, k):
        return with_changes(self, b=self.b * abs(float(k)))

    def sample(self, shape, dt, generator, state=None, dtype=torch.float64, device=None):
        if self.is_zero:
            return None, state
        u = 1.0 - torch.rand((2, *shape), generator=generator, dtype=dtype, device=device)   # in (0, 1]
        return (u[0].log() - u[1].log()).mul_(self.b * math.sqrt(dt)), state   # difference of exponentials

    def step_moments(self, dt):
        return 0.0, 2.0 * self.b**2 * dt

    def brian2_terms(self, prefix, **run):
        return Brian2Terms(rhs=f"{prefix}sigma*xi_{prefix}",
                           parameters={f"{prefix}sigma": (math.sqrt(2.0) * self.b, "second**-0.5")})

    @classmethod
    def example(cls, steps, shape, dt, *, placement="recurrent", seed=0):
        return cls(b=0.3, placement=placement)


def still_network(placement: str) -> RateNetwork:
    """A network whose state changes only by noise: identity activation, ``W_rec = I``, no bias; the inputs
    map one to one onto the units for input noise, and are ignored otherwise."""
    w_in = np.eye(UNITS) if placement == "input" else np.zeros((UNITS, 1))
    return RateNetwork.from_arrays(encoder=np.zeros((UNITS, 1)), w_in=w_in, w_rec=np.eye(UNITS),
                                   w_out=np.zeros((1, UNITS)), tau=DT / A * 1000 * ms, dt=DT * 1000 * ms,
                                   cell="vanilla", activation="identity")


def increments_on(backend, model, placement: str) -> np.ndarray:
    """The increments the backend adds, ``(TRIALS*UNITS, STEPS)``: one row per independent series."""
    net = still_network(placement)
    x = np.zeros((TRIALS, STEPS, net.n_in))
    segs = [Segment("noise", STEPS, x, {placement: model}, np.zeros((TRIALS, UNITS)))]
    options = {"target": "numpy"} if "target" in backend.options else {}   # no compilation in tests
    chunks = backend.simulate(net, segs, trials=TRIALS, seed=3, chunk_steps=STEPS, **options)
    h = np.concatenate([c.h for c in chunks], axis=1)
    d = np.diff(h, axis=1, prepend=0.0)
    if placement == "input":
        d = d / A
    return d.transpose(0, 2, 1).reshape(TRIALS * UNITS, STEPS)


def test_the_test_file_model_is_registered_like_the_others():
    assert NOISE_MODELS.get("test_laplace") is LaplaceNoise


@pytest.mark.parametrize("placement", ["recurrent", "input"])
@pytest.mark.parametrize("name", NOISE_MODELS.names())
def test_every_noise_model_adds_increments_with_its_step_moments(backend, name, placement):
    reason = getattr(get_backend(backend), "unsupported", lambda net: None)(still_network(placement))
    if reason:   # spiking: the noise moments on silent units are checked in tests/backends/test_spiking_noise.py
        pytest.skip(reason)
    model = NOISE_MODELS.get(name).example(STEPS, (TRIALS, UNITS), DT, placement=placement, seed=5)
    mean, var = model.step_moments(DT)
    x = increments_on(get_backend(backend), model, placement)
    # Series (trials x units) are independent: the spread of their time averages gives honest standard errors
    # whatever the correlation in time (OU).
    k = x.shape[0]
    mean_u, var_u = x.mean(axis=1), x.var(axis=1)
    got_mean, got_var = mean_u.mean(), var_u.mean() + mean_u.var()
    se_mean, se_var = mean_u.std() / math.sqrt(k), var_u.std() / math.sqrt(k)
    tiny = 1e-12 * max(var, 1e-12)
    assert abs(got_mean - mean) <= 6 * se_mean + 1e-9 * (abs(mean) + math.sqrt(var)) + 1e-15, (got_mean, mean)
    assert abs(got_var - var) <= 6 * se_var + 1e-6 * var + tiny, (got_var, var, se_var)
    if var > 0:
        assert se_var < 0.1 * var   # the check resolves a 10 % error in the variance
