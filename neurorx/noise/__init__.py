"""Noise models, each defined in continuous time and drawing its own discrete increments.

A noise model describes a term added to the dynamics of a state variable ``h`` (dimensionless rates):

.. math:: dh = f(h, x)\\,dt + dN_t,

where :math:`dN_t` is the noise's contribution over ``dt``. Every model states (i) its continuous-time form,
(ii) the increments it adds over Euler–Maruyama steps of size ``dt`` (:meth:`NoiseModel.sample`,
:meth:`NoiseModel.sample_steps`), (iii) the per-step moments of an increment (:meth:`NoiseModel.step_moments`),
and (iv) its Brian2 equation terms, with any array they read (:meth:`NoiseModel.brian2_terms`). Both backends
derive their update from these methods; none of them tests for a noise type.

Placement: ``"recurrent"`` (added to the hidden state; the default), ``"input"`` (added to each input
sample, held for the sample period) or ``"output"`` (added to the readout); :mod:`neurorx.noise.placement`
is the one piece that applies them.

Times are seconds internally. Diffusion coefficients ``sigma`` are in :math:`s^{-1/2}`: the per-step
standard deviation of white noise at step ``dt`` is ``sigma*sqrt(dt)``. Constructors accept Brian2
quantities (``0.0707/sqrt(second)``) or plain floats in these SI units; time fields also accept strings
(``"50 ms"``) and are parsed by :func:`neurorx.units.parse_time`.

Layout: one module per model (:mod:`~neurorx.noise.none`, :mod:`~neurorx.noise.white`,
:mod:`~neurorx.noise.reference_uniform`, :mod:`~neurorx.noise.ou`, :mod:`~neurorx.noise.frozen`,
:mod:`~neurorx.noise.drift_white`, with :func:`~neurorx.noise.matched_noise`, the moment-matched swap), the base
class (:mod:`~neurorx.noise.base`), the Gaussian step the white-noise models share (:mod:`~neurorx.noise.gaussian`),
names and dicts (:mod:`~neurorx.noise.spec`) and placements
(:mod:`~neurorx.noise.placement`).
"""

# isort: off
# The models register in this order (NOISE_MODELS lists them so): none, white, reference_uniform, ou, frozen,
# drift_white.
from neurorx.noise.base import (
    NOISE_MODELS,
    PLACEMENTS,
    Brian2Terms,
    MemorylessNoise,
    NoiseModel,
    time_field,
    with_changes,
)
from neurorx.noise.none import NoNoise
from neurorx.noise.white import WhiteNoise
from neurorx.noise.reference_uniform import ReferenceUniformNoise
from neurorx.noise.ou import OUNoise
from neurorx.noise.frozen import FrozenNoise
from neurorx.noise.drift_white import DriftWhiteNoise, matched_noise
# isort: on
from neurorx.noise.placement import DRAW_ORDER, NoiseStream, OutputNoise, add_increments, draw_placed, sample_steps
from neurorx.noise.spec import make_noise, noise_from_dict

__all__ = [
    "DRAW_ORDER",
    "NOISE_MODELS",
    "PLACEMENTS",
    "Brian2Terms",
    "DriftWhiteNoise",
    "FrozenNoise",
    "MemorylessNoise",
    "NoNoise",
    "NoiseModel",
    "NoiseStream",
    "OUNoise",
    "OutputNoise",
    "ReferenceUniformNoise",
    "WhiteNoise",
    "add_increments",
    "draw_placed",
    "make_noise",
    "matched_noise",
    "noise_from_dict",
    "sample_steps",
    "time_field",
    "with_changes",
]
