"""neurorx: noisy path-integrating rate RNNs, trained in torch, run in Brian2, analysed for reactivation.

Reproduces and extends Krishna, Bredenberg, Levenstein, Richards & Lajoie, *Sufficient conditions for
offline reactivation in recurrent neural networks* (ICLR 2024).
"""

from neurorx._version import __version__
from neurorx.network import RateNetwork, load
from neurorx.noise import FrozenNoise, NoNoise, OUNoise, ReferenceUniformNoise, WhiteNoise

__all__ = [
    "FrozenNoise",
    "NoNoise",
    "OUNoise",
    "RateNetwork",
    "ReferenceUniformNoise",
    "WhiteNoise",
    "__version__",
    "load",
]
