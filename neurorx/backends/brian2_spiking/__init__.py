"""The ``"brian2-spiking"`` backend: trained rate networks run as spiking populations (Poisson or LIF) in Brian2.

See :mod:`neurorx.backends.brian2_spiking.run` for the population code and docs/spiking.md for measurements.
"""

from neurorx.backends.brian2_spiking.lambda_search import ScaleSearch, search_scale
from neurorx.backends.brian2_spiking.neurons import lif_inverse_rate, lif_rate, neuron_gains
from neurorx.backends.brian2_spiking.run import SpikeChunk, SpikingBackend, simulate
from neurorx.backends.brian2_spiking.settings import NEURON_MODELS, NOISE_MODES, LIFParams, SpikingSettings

__all__ = ["NEURON_MODELS", "NOISE_MODES", "LIFParams", "ScaleSearch", "SpikeChunk", "SpikingBackend",
           "SpikingSettings", "lif_inverse_rate", "lif_rate", "neuron_gains", "search_scale", "simulate"]
