r"""A known-answer case for the score measures: an exact Langevin sampler of a 2-D Gaussian mixture.

The mixture has equal weights, modes at :math:`(\pm 1.5, 0)` and SD 0.5. Its sampler's drift
:math:`\epsilon\nabla\log p` *is* the score times :math:`\epsilon`, so every score measure must call it aligned,
while a linear contraction towards the mean of the same samples must not be (its plain cosine with the score is
still positive in the tails). ``docs/scripts/score_explained_synthetic.py`` prints the table of the measures on
it, and the tests of :mod:`~neurorx.analysis.score.explained` hold them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["EPS", "MODES", "SD", "langevin_samples", "mixture_score"]

#: Modes, per-mode SD and Langevin step of the mixture.
MODES, SD, EPS = np.array([[-1.5, 0.0], [1.5, 0.0]]), 0.5, 0.01


def mixture_score(x: np.ndarray) -> np.ndarray:
    r"""Exact score :math:`\nabla\log p` of the equal-weight mixture of :math:`N(\mu_j, SD^2 I)` at ``x (n, 2)``."""
    diff = MODES[None] - x[:, None]
    logw = -0.5 * (diff**2).sum(-1) / SD**2
    w = np.exp(logw - logw.max(1, keepdims=True))
    w /= w.sum(1, keepdims=True)
    return (w[..., None] * diff).sum(1) / SD**2


def langevin_samples(chains: int = 20, steps: int = 1000, every: int = 10, seed: int = 0) -> np.ndarray:
    r"""``(chains, steps // every, 2)`` states of :math:`x' = x + \epsilon\nabla\log p(x) + \sqrt{2\epsilon}\,\xi`.

    Each chain starts at a mode plus :math:`SD\,\xi`; every ``every``-th state is kept.
    """
    rng = np.random.default_rng(seed)
    x = MODES[rng.integers(0, 2, chains)] + SD * rng.standard_normal((chains, 2))
    samples = []
    for t in range(steps):
        x = x + EPS * mixture_score(x) + np.sqrt(2 * EPS) * rng.standard_normal(x.shape)
        if t % every == every - 1:
            samples.append(x.copy())
    return np.stack(samples, 1)
