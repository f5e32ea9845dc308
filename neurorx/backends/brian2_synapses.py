"""Dense all-to-all Brian2 synapses within each trial (or image): the index arrays and the weights.

Brian2 indexes a synapse by ``(pre, post)``; torch matrices are ``[post, pre]``. Synapses are connected
pre-major within each of ``copies`` independent copies of the populations (trials, images), so the torch matrix
``W`` becomes the weight array ``np.tile(W.T.ravel(), copies)`` (:func:`synapse_weights`). Index arrays are given
to ``Synapses.connect(i=, j=)`` directly: a ``condition='trial_pre == trial_post'`` would be evaluated for every
pair of the whole groups.
"""

from __future__ import annotations

import numpy as np

__all__ = ["synapse_indices", "synapse_weights"]


def synapse_indices(n_pre: int, n_post: int, copies: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Pre-major ``(i, j)`` indices (int32) of all-to-all synapses within each copy.

    Synapse ``s = c * n_pre * n_post + p * n_post + q`` connects presynaptic neuron ``c * n_pre + p`` to
    postsynaptic neuron ``c * n_post + q``.
    """
    pre = np.repeat(np.arange(n_pre, dtype=np.int32), n_post)
    post = np.tile(np.arange(n_post, dtype=np.int32), n_pre)
    copy = np.arange(copies, dtype=np.int32)[:, None]
    return (copy * n_pre + pre).ravel(), (copy * n_post + post).ravel()


def synapse_weights(w: np.ndarray, copies: int = 1, dtype=np.float64) -> np.ndarray:
    """The weights of :func:`synapse_indices`' synapses for a torch ``[post, pre]`` matrix ``w``, in ``dtype``."""
    return np.tile(np.asarray(w, dtype=dtype).T.ravel(), copies)
