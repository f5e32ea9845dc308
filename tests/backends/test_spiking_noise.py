"""Every registered noise model, as recurrent noise of the ``brian2-spiking`` backend, adds its own increments.

On silent units (ReLU of a large negative bias, no recurrence) no neuron fires, so the change of the trace over
a step is the injected noise alone; the check is the one of ``test_noise_models_on_backends.py`` (whose
identity-activation network a spiking backend refuses), run for every registered model.
"""

import math

import numpy as np
import pytest
from brian2 import ms
from test_noise_models_on_backends import DT, STEPS, TRIALS, UNITS

from neurorx import RateNetwork
from neurorx.backends import Segment, get_backend
from neurorx.noise import NOISE_MODELS


def silent_network() -> RateNetwork:
    return RateNetwork.from_arrays(encoder=np.zeros((UNITS, 1)), w_in=np.zeros((UNITS, 1)),
                                   w_rec=np.zeros((UNITS, UNITS)), w_out=np.zeros((1, UNITS)),
                                   bias=np.full(UNITS, -10.0), tau=DT / 0.2 * 1000 * ms, dt=DT * 1000 * ms,
                                   cell="vanilla", activation="relu")


@pytest.mark.parametrize("name", NOISE_MODELS.names())
def test_every_noise_model_moves_silent_traces_by_its_step_moments(name):
    model = NOISE_MODELS.get(name).example(STEPS, (TRIALS, UNITS), DT, placement="recurrent", seed=5)
    mean, var = model.step_moments(DT)
    net = silent_network()
    segs = [Segment("noise", STEPS, np.zeros((TRIALS, STEPS, 1)), {"recurrent": model}, np.zeros((TRIALS, UNITS)))]
    chunks = get_backend("brian2-spiking").simulate(net, segs, trials=TRIALS, seed=3, chunk_steps=STEPS,
                                                    target="numpy", per_unit=1)
    h = np.concatenate([c.h for c in chunks], axis=1)
    # the trace decays by (1 - a) per step: the increment is h_{n+1} - (1 - a) h_n
    prev = np.concatenate([np.zeros((TRIALS, 1, UNITS)), h[:, :-1]], axis=1)
    x = (h - 0.8 * prev).transpose(0, 2, 1).reshape(TRIALS * UNITS, STEPS)
    mean_u, var_u = x.mean(axis=1), x.var(axis=1)
    k = x.shape[0]
    got_mean, got_var = mean_u.mean(), var_u.mean() + mean_u.var()
    se_mean, se_var = mean_u.std() / math.sqrt(k), var_u.std() / math.sqrt(k)
    assert abs(got_mean - mean) <= 6 * se_mean + 1e-9 * (abs(mean) + math.sqrt(var)) + 1e-15, (got_mean, mean)
    assert abs(got_var - var) <= 6 * se_var + 1e-6 * var + 1e-12 * max(var, 1e-12), (got_var, var, se_var)
