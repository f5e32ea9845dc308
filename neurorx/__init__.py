"""neurorx: noisy path-integrating rate RNNs, trained in torch, run in Brian2, analysed for reactivation.

Reproduces and extends Krishna, Bredenberg, Levenstein, Richards & Lajoie, *Sufficient conditions for
offline reactivation in recurrent neural networks* (ICLR 2024).
"""

from neurorx import (
    _environment,  # noqa: F401  (first: imports Brian2 and undoes its global side effects)
    analysis,
    io,
    provenance,
    sweep,
    tasks,
)
from neurorx._version import __version__
from neurorx.compare import Comparison, compare
from neurorx.network import RateNetwork, load
from neurorx.noise import DriftWhiteNoise, FrozenNoise, NoNoise, OUNoise, ReferenceUniformNoise, WhiteNoise
from neurorx.protocols import PHASES, Active, Hook, Inputs, Phase, Protocol, Quiescent
from neurorx.recording import Recording
from neurorx.tasks import HeadDirection, SpatialNavigation

__all__ = [
    "PHASES",
    "Active",
    "Comparison",
    "DriftWhiteNoise",
    "FrozenNoise",
    "HeadDirection",
    "Hook",
    "Inputs",
    "NoNoise",
    "OUNoise",
    "Phase",
    "Protocol",
    "Quiescent",
    "RateNetwork",
    "Recording",
    "ReferenceUniformNoise",
    "SpatialNavigation",
    "WhiteNoise",
    "__version__",
    "analysis",
    "compare",
    "io",
    "load",
    "provenance",
    "sweep",
    "tasks",
]
