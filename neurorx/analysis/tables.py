"""Tables of divergences between the phases of several runs (Fig. 2e's KL matrix)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .divergence import kl_divergence

__all__ = ["kl_table"]


def _cloud(x, phase) -> np.ndarray:
    if hasattr(x, "decoded"):   # a Recording
        return (x if phase is None else x.select(phase)).decoded.reshape(-1, x.decoded.shape[-1])
    arr = np.asarray(x, dtype=float)
    return arr.reshape(-1, arr.shape[-1]) if arr.ndim == 3 else arr


def kl_table(active: Mapping, quiescent: Mapping, *, active_phase="active", quiescent_phase="quiescent",
             method: str = "corrected", n_mc: int = 2500, seed=0, **kl_kwargs) -> np.ndarray:
    """KL(quiescent ‖ active) between the decoded clouds of several runs, in nats (Fig. 2e's numbers).

    Parameters
    ----------
    active : mapping of str -> Recording or array_like
        Rows: runs whose ``active_phase`` defines the reference distributions (or point clouds ``(n, d)``
        / trajectories ``(B, T, d)``).
    quiescent : mapping of str -> Recording or array_like
        Columns: runs whose ``quiescent_phase`` is compared, or baselines given as samples (e.g.
        :func:`neurorx.analysis.uniform_box_samples`).
    active_phase, quiescent_phase : str or int
        Phases taken from the Recordings.
    method : {"corrected", "reference"}, default "corrected"
        Estimator of :func:`neurorx.analysis.kl_divergence`.
    n_mc : int, default 2500
        Monte Carlo samples, as the paper.
    seed : int, default 0
        Seed of the Monte Carlo samples (the same for every cell).
    **kl_kwargs
        Passed to :func:`neurorx.analysis.kl_divergence`.

    Returns
    -------
    numpy.ndarray, shape (len(active), len(quiescent))
        ``out[i, j]`` = KL(Q_j ‖ A_i).
    """
    a_clouds = [_cloud(v, active_phase) for v in active.values()]
    q_clouds = [_cloud(v, quiescent_phase) for v in quiescent.values()]
    out = np.empty((len(a_clouds), len(q_clouds)))
    for i, a in enumerate(a_clouds):
        for j, q in enumerate(q_clouds):
            out[i, j] = kl_divergence(q, a, method=method, n_mc=n_mc, seed=seed, **kl_kwargs)
    return out
