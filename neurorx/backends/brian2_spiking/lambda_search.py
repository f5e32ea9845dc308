"""The search for Kim, Li & Sejnowski's scaling factor :math:`\\lambda` of a one-to-one LIF mapping."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["ScaleSearch", "search_scale"]


@dataclass(frozen=True)
class ScaleSearch:
    """The result of :func:`search_scale`.

    Attributes
    ----------
    scales : ndarray
        The :math:`\\lambda` values tried.
    errors : ndarray
        Mean decoding error of the phase ``phase`` at each (task units: m or rad).
    best : float
        The :math:`\\lambda` of the smallest error.
    """

    scales: np.ndarray
    errors: np.ndarray
    best: float


def search_scale(network, protocol, scales: Sequence[float], *, phase: str = "active", trials: int = 20,
                 seed: int = 0, **options) -> ScaleSearch:
    """Grid-search the LIF current scale :math:`\\lambda` (``lif_scale``) by the decoding error of one phase.

    Each :math:`\\lambda` runs ``protocol`` on the ``"brian2-spiking"`` backend with ``neuron="lif"`` and the
    given ``options`` (``per_unit=1`` by default: Kim et al.'s one-to-one mapping), and scores the mean
    ``task.error`` between decoded and true states in ``phase``. The same seed is used for every value.

    Notes
    -----
    Kim, Li & Sejnowski (PNAS 2019) drive each LIF neuron with :math:`\\lambda` times the rate network's
    synaptic input and pick :math:`\\lambda` by grid search on task performance; here the drive is
    :math:`J = 1 + \\lambda z` (threshold 1), so :math:`z > 0` fires as the ReLU unit does.
    """
    scales = np.asarray(list(scales), dtype=np.float64)
    if scales.size == 0 or not np.all(np.isfinite(scales)) or np.any(scales <= 0):
        raise ValueError(f"scales must be positive numbers (candidate lambdas, e.g. [5, 10, 20, 40]); got {scales!r}")
    options = {"per_unit": 1, **options, "neuron": "lif"}
    errors = []
    for lam in scales:
        rec = protocol.run(network, backend="brian2-spiking", trials=trials, seed=seed, lif_scale=float(lam),
                           **options)
        part = rec.select(phase)
        task = network.task
        errors.append(float(np.mean(task.error(part.decoded, part.states))))
    errors = np.asarray(errors)
    return ScaleSearch(scales=scales, errors=errors, best=float(scales[int(np.nanargmin(errors))]))
