r"""Head direction (HD): integrate angular displacements to track a bearing on the circle.

Faithful to the reference repo's ``tasks/head_direction.py``; see ``paper.md`` §2.2.
"""

from __future__ import annotations

import numpy as np

from neurorx.tasks._checks import (
    as_state_pair,
    check_bool,
    check_choice,
    check_float,
    check_seconds,
    check_seed,
    check_top_k,
    is_torch,
    make_rng,
)
from neurorx.tasks.base import TASKS, CellCodedTask, TaskBatch
from neurorx.tasks.cells import HeadDirectionCells
from neurorx.tasks.streams import RowDraws, TrajectoryStream

__all__ = ["HeadDirection", "wrap_angle"]

INITS = ("uniform", "zero")


def wrap_angle(x):
    r"""Wrap angles to :math:`[-\pi, \pi)`: :math:`(x + \pi) \bmod 2\pi - \pi` (numpy or torch)."""
    if is_torch(x):
        import torch

        return torch.remainder(x + torch.pi, 2 * torch.pi) - torch.pi
    return np.mod(np.asarray(x, dtype=np.float64) + np.pi, 2 * np.pi) - np.pi


@TASKS.register("head_direction")
class HeadDirection(CellCodedTask):
    r"""Head-direction estimation, read out by a ring of head-direction cells.

    All parameters are keyword-only; the defaults are the reference configuration
    (``configs/train/head_direction/base.yml``).

    Parameters
    ----------
    dt : float or brian2 Quantity
        Time step; a bare number is in seconds (0.02).
    turn_mu, turn_sigma : float
        Mean and SD of the rotational velocity in rad/s (0, 11.52).
    n_cells : int
        Number of head-direction cells (512), preferred angles ``linspace(-pi, pi, n_cells)``.
    sigma : float
        Angular spread in radians (pi/6), :math:`\kappa = 1/\sigma^2 \approx 3.648`.
    biased : bool
        Counter-clockwise only: every turn is :math:`|N(\mu, \sigma_\omega)|`.
    init : {"uniform", "zero"}
        Initial bearing uniform on the circle, or 0.
    top_k : int
        Number of most active cells averaged (circularly) by :meth:`decode` (3).
    code : {"von_mises", "von_mises_density"}
        The reference code's peak-1 von Mises, or paper Eq. 21's normalised density.
    seed : int
        Seed of the task's fixed random parts. The HD task has none (the preferred angles are a fixed grid);
        it is kept for a uniform interface and recorded in the card.

    Notes
    -----
    With :math:`\theta_0 \sim U(0, 2\pi)` (or 0) and :math:`\omega_t \sim N(\mu, \sigma_\omega)`,

    .. math::
        \Delta\theta_t = \Delta t\,\omega_t \quad(\text{biased: } \Delta t\,|\omega_t|), \qquad
        \theta_{t+1} = \theta_t + \Delta\theta_t, \quad t = 0..T-1,

    after which all angles are wrapped to :math:`[-\pi, \pi)`. The network gets ``init_state`` =
    :math:`\theta_0`, the raw (unwrapped) inputs :math:`\Delta\theta_{0..T-1}` (n_in = 1) and states
    :math:`\theta_{1..T}`. The per-step SD is :math:`0.02 \cdot 11.52 = 0.230` rad unbiased; the biased
    mean is :math:`0.2304\sqrt{2/\pi} \approx 0.184` rad per step.

    **Randomness.** The reference draws from numpy's global legacy stream; here each batch uses its own
    ``numpy.random.default_rng(seed)`` in the reference order (:math:`\theta_0`, then the turns), so the
    distributions match but the numbers are not bit-identical.
    """

    name = "head_direction"
    n_in = 1
    state_dim = 1
    circular = True

    def __init__(
        self,
        *,
        dt: float = 0.02,
        turn_mu: float = 0.0,
        turn_sigma: float = 11.52,
        n_cells: int = 512,
        sigma: float = np.pi / 6,
        biased: bool = False,
        init: str = "uniform",
        top_k: int = 3,
        code: str = "von_mises",
        seed: int = 0,
    ):
        self.dt = check_seconds(dt, "dt")
        self.turn_mu = check_float(turn_mu, "turn_mu")
        self.turn_sigma = check_float(turn_sigma, "turn_sigma", nonnegative=True)
        self.biased = check_bool(biased, "biased")
        self.init = check_choice(init, INITS, "init")
        self.seed = check_seed(seed)
        self.cells = HeadDirectionCells(n_cells=n_cells, sigma=sigma, code=code)
        self.top_k = check_top_k(top_k, self.n_cells)

    @property
    def preferred_angles(self) -> np.ndarray:
        """Preferred angles of the cells, ``linspace(-pi, pi, n_cells)`` (read-only)."""
        return self.cells.preferred

    def sample(self, batch: int, steps: int, seed, init_state=None) -> TaskBatch:
        r"""Draw a batch: turn inputs, bearings, head-direction-code targets and initial codes.

        Parameters
        ----------
        batch : int
            Number of trajectories B.
        steps : int
            Number of input steps T.
        seed : int or numpy.random.Generator or None
            Seed of this batch; the same seed gives the same batch.
        init_state : array_like, shape (B, 1), optional
            Fixed initial bearings in radians (returned wrapped to [-pi, pi)); the turns stay random.

        Returns
        -------
        TaskBatch
            ``inputs`` (B, T, 1) = :math:`\Delta\theta`, ``states`` (B, T, 1) = :math:`\theta_{1..T}`,
            ``targets = encode(states)``, ``init_state`` = :math:`\theta_0`,
            ``init_code = encode(init_state)``.
        """
        batch, steps, init_state = self._check_sample_args(batch, steps, init_state)
        rng = make_rng(seed)
        theta0 = rng.uniform(0.0, 2 * np.pi, batch) if self.init == "uniform" else np.zeros(batch)
        if init_state is not None:
            theta0 = init_state[:, 0]
        turns = rng.normal(self.turn_mu, self.turn_sigma, (batch, steps))
        if self.biased:
            turns = np.abs(turns)
        dtheta = self.dt * turns
        # sequential sum theta_{t+1} = theta_t + dtheta_t, as in the reference loop
        theta = wrap_angle(np.cumsum(np.concatenate([theta0[:, None], dtheta], axis=1), axis=1))
        init = theta[:, :1].copy()
        states = theta[:, 1:, None].copy()
        return self.encoded_batch(dtheta[:, :, None], states, init)

    def _stream(self, batch: int, steps: int, rng: np.random.Generator, init_state) -> TrajectoryStream:
        """The inputs and states of :meth:`sample` (same arguments, same numbers), generated as they are taken."""
        return _Turns(self, batch, steps, rng, init_state)

    def error(self, decoded, states):
        """Absolute wrapped angle difference in radians, in [0, pi]: (..., 1), (..., 1) -> (...)."""
        decoded, states = as_state_pair(decoded, states, 1)
        return abs(wrap_angle(decoded - states))[..., 0]

    def chance_error(self, metric: str = "distance") -> float:
        r"""Error of a uniformly random bearing: the wrapped difference is uniform on :math:`[-\pi, \pi)`.

        Parameters
        ----------
        metric : {"distance", "mse"}
            ``"distance"``: mean absolute wrapped difference, :math:`\pi/2`. ``"mse"``: mean squared wrapped
            difference, :math:`\pi^2/3`.
        """
        check_choice(metric, ("distance", "mse"), "metric")
        return float(np.pi**2 / 3) if metric == "mse" else float(np.pi / 2)

    def arrays(self) -> dict[str, np.ndarray]:
        """``{"preferred_angles": (n_cells,)}`` (determined by ``n_cells``; stored for self-description)."""
        return {"preferred_angles": self.preferred_angles}

    @classmethod
    def _from_card(cls, params, arrays):
        cls._check_card_arrays(arrays, ("preferred_angles",))
        task = cls(**params)
        stored = arrays.get("preferred_angles")
        if stored is not None and not np.array_equal(stored, task.preferred_angles):
            raise ValueError("card's preferred_angles differ from linspace(-pi, pi, n_cells)")
        return task


class _Turns(TrajectoryStream):
    """The turns and bearings of :class:`HeadDirection`, a chunk of steps at a time (see its ``Notes``).

    The running sum carries the unwrapped bearing from chunk to chunk, so every sum is the one
    :meth:`HeadDirection.sample` forms.
    """

    def __init__(self, task: HeadDirection, batch: int, steps: int, rng: np.random.Generator, init_state):
        theta0 = rng.uniform(0.0, 2 * np.pi, batch) if task.init == "uniform" else np.zeros(batch)
        if init_state is not None:
            theta0 = init_state[:, 0]
        self._turns = RowDraws(rng, batch, steps, lambda g, n: g.normal(task.turn_mu, task.turn_sigma, n))
        self._task, self._theta = task, theta0
        super().__init__(batch, steps, wrap_angle(theta0[:, None]))

    def _take(self, n):
        turns = self._turns.take(n)
        if self._task.biased:
            turns = np.abs(turns)
        dtheta = self._task.dt * turns
        theta = np.cumsum(np.concatenate([self._theta[:, None], dtheta], axis=1), axis=1)
        self._theta = theta[:, -1]
        return dtheta[:, :, None], wrap_angle(theta[:, 1:])[:, :, None]
