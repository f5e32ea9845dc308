"""E/I networks with inhibition-mediated normalization and normalized errors (Eyono et al., arXiv 2603.17676).

Feed-forward networks with separate excitatory and inhibitory populations (Dale's law), trained on images whose
luminosity varies. Inhibition learns (by a local homeostatic loss) to normalize the forward pass; error
normalization makes the backward pass match LayerNorm's. See ``docs/ei_normalization.md``.
"""

from neurorx.ei.error_norm import ERROR_NORMS, ErrorNorm, apply_error_norm, lateral_weights
from neurorx.ei.layers import DIVISIVE, LAYERS, DANNLayer, ELayer, INormLayer, LayerSpec
from neurorx.ei.network import EINetwork, EINetworkConfig

__all__ = [
    "DIVISIVE",
    "ERROR_NORMS",
    "LAYERS",
    "DANNLayer",
    "EINetwork",
    "EINetworkConfig",
    "ELayer",
    "ErrorNorm",
    "INormLayer",
    "LayerSpec",
    "apply_error_norm",
    "lateral_weights",
]
