"""Small random networks for tests (importable from any test folder via tests/conftest.py)."""

import numpy as np
from brian2 import ms

import neurorx as nrx


def make_network(n_rec=8, n_in=None, n_cells=16, cell="vanilla", activation=None, noise=None, seed=0, task=None,
                 tau=100 * ms, dt=20 * ms, scale=0.5):
    """A small random network (torch [post, pre] layout) on a small spatial task."""
    from neurorx.models.cells import get_cell
    from neurorx.tasks import SpatialNavigation

    rng = np.random.default_rng(seed)
    g = len(get_cell(cell).gates)
    task = task if task is not None else SpatialNavigation(n_cells=n_cells, seed=seed)
    n_in = task.n_in if n_in is None else n_in
    return nrx.RateNetwork.from_arrays(
        encoder=rng.normal(size=(n_rec, task.n_cells)) * scale,
        w_in=rng.normal(size=(g * n_rec, n_in)),
        w_rec=rng.normal(size=(g * n_rec, n_rec)) * scale / np.sqrt(n_rec),
        w_out=rng.normal(size=(task.n_cells, n_rec)),
        bias=rng.normal(size=(g * n_rec,)) * 0.1,
        tau=tau, dt=dt, cell=cell, activation=activation, noise=noise or {}, task=task,
    )


def divergence_step_and_time(err) -> tuple[int, float]:
    """The step and time (s) a ``SimulationError`` reports: "... at step S of N (t = T s) ..."."""
    msg = str(err)
    return int(msg.split("at step ")[1].split(" ")[0]), float(msg.split("t = ")[1].split(" s")[0])
