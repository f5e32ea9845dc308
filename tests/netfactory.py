"""The one factory of small random networks for tests (importable from any test folder via tests/conftest.py)."""

import numpy as np
from brian2 import ms

import neurorx as nrx


def make_network(n_rec=8, n_in=None, n_cells=16, cell="vanilla", activation=None, noise=None, seed=0, task=None,
                 tau=100 * ms, dt=20 * ms, scale=0.5, *, with_task=True, n_out=None, n_init=None, w_rec=None,
                 w_in=None, bias=True):
    """A small random network (torch [post, pre] layout), on a small spatial task unless ``with_task=False``.

    Parameters
    ----------
    n_rec, n_in, n_cells : int
        Units, inputs (default: the task's) and place cells of the default task.
    cell, activation, noise, tau, dt
        As :meth:`neurorx.RateNetwork.from_arrays`.
    seed : int
        Seed of the weights (and of the default task's cell centres).
    task : Task, optional
        The task (default ``SpatialNavigation(n_cells=n_cells, seed=seed)``).
    scale : float
        Scale of the encoder and of the recurrent weights (spectral radius about ``scale``).
    with_task : bool
        ``False`` builds a network without a task, with ``n_in`` (default 2) inputs, ``n_out`` (default 3)
        outputs and ``n_init`` (default 4) encoder inputs.
    w_rec, w_in : array, optional
        Prescribed weights (``(g*N, N)`` and ``(g*N, n_in)``, ``g`` the cell's gate count).
    bias : bool
        Draw a bias (``0.1 N(0, 1)``) or none.
    """
    from neurorx.models.cells import get_cell
    from neurorx.tasks import SpatialNavigation

    rng = np.random.default_rng(seed)
    g = len(get_cell(cell).gates)
    if with_task:
        task = task if task is not None else SpatialNavigation(n_cells=n_cells, seed=seed)
        n_in = task.n_in if n_in is None else n_in
        n_out = n_init = task.n_cells
    else:
        task, n_in, n_out, n_init = None, n_in or 2, n_out or 3, n_init or 4
    return nrx.RateNetwork.from_arrays(
        encoder=rng.normal(size=(n_rec, n_init)) * scale,
        w_in=rng.normal(size=(g * n_rec, n_in)) if w_in is None else w_in,
        w_rec=rng.normal(size=(g * n_rec, n_rec)) * scale / np.sqrt(n_rec) if w_rec is None else w_rec,
        w_out=rng.normal(size=(n_out, n_rec)),
        bias=rng.normal(size=(g * n_rec,)) * 0.1 if bias else None,
        tau=tau, dt=dt, cell=cell, activation=activation, noise=noise or {}, task=task,
    )


def divergence_step_and_time(err) -> tuple[int, float]:
    """The step and time (s) a ``SimulationError`` reports: "... at step S of N (t = T s) ..."."""
    msg = str(err)
    return int(msg.split("at step ")[1].split(" ")[0]), float(msg.split("t = ")[1].split(" s")[0])
