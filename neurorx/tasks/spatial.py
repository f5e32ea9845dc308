r"""Spatial position estimation (SP): integrate 2-D displacements to track a position in a box.

Faithful to the reference repo's ``tasks/spatial_navigation.py`` (itself after Sorscher et al. 2019);
see ``paper.md`` §2.1.
"""

from __future__ import annotations

import math

import numpy as np

from neurorx.tasks._checks import (
    as_state_pair,
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_seconds,
    check_seed,
    check_top_k,
    is_torch,
    make_rng,
)
from neurorx.tasks.base import TASKS, CellCodedTask, TaskBatch
from neurorx.tasks.cells import PlaceCells
from neurorx.tasks.streams import RowDraws, TrajectoryStream

__all__ = ["SpatialNavigation", "mean_distance_in_rectangle"]

INITS = ("uniform", "zero")


def mean_distance_in_rectangle(a: float, b: float) -> float:
    r"""Mean Euclidean distance between two independent uniform points in an ``a`` x ``b`` rectangle.

    Notes
    -----
    With :math:`d = \sqrt{a^2+b^2}`,

    .. math::
        \mathbb E\lVert U - V\rVert = \frac{1}{15}\Big[\frac{a^3}{b^2} + \frac{b^3}{a^2}
        + d\Big(3 - \frac{a^2}{b^2} - \frac{b^2}{a^2}\Big)
        + \frac52\Big(\frac{b^2}{a}\ln\frac{a+d}{b} + \frac{a^2}{b}\ln\frac{b+d}{a}\Big)\Big],

    which for a square of side :math:`L` is :math:`L\,(2+\sqrt2+5\ln(1+\sqrt2))/15 \approx 0.5214\,L`.
    """
    d = math.hypot(a, b)
    return (
        a**3 / b**2
        + b**3 / a**2
        + d * (3 - a**2 / b**2 - b**2 / a**2)
        + 2.5 * (b**2 / a * math.log((a + d) / b) + a**2 / b * math.log((b + d) / a))
    ) / 15


@TASKS.register("spatial_navigation")
class SpatialNavigation(CellCodedTask):
    r"""Spatial position estimation in a rectangular box, read out by place cells.

    All parameters are keyword-only; the defaults are the reference configuration
    (``configs/train/spatial_navigation/base.yml``).

    Parameters
    ----------
    box_width, box_height : float
        Size of the box in metres, centred at the origin (2.2 x 2.2; ``box_height=None`` means square).
    border_region : float
        Distance from a wall (m) within which the animal slows down and turns away (0.03).
    border_slow_factor : float
        Speed factor near a wall (0.25).
    dt : float or brian2 Quantity
        Time step; a bare number is in seconds (0.02).
    turn_mu, turn_sigma : float
        Mean and SD of the rotational velocity in rad/s (0, 11.52).
    speed_scale : float
        Rayleigh scale b of the speed in m/s (0.26 pi, mean speed b sqrt(pi/2) = 1.024 m/s).
    n_cells : int
        Number of place cells (512).
    sigma : float
        Place-cell width in metres (0.2).
    biased : bool
        Add a drift towards ``anchor`` (the paper's biased, ring-shaped occupancy).
    drift_const : float
        Fraction of the offset to the anchor added per step when biased (0.05).
    anchor : tuple of float
        The anchor point (0, 0).
    init : {"uniform", "zero"}
        Start of the generator: uniform in the box, or the origin.
    top_k : int
        Number of most active cells averaged by :meth:`decode` (3).
    code : {"softmax", "gaussian"}
        Place code: the reference code's softmax, or paper Eq. 20's unnormalised Gaussian.
    seed : int
        Seed of the place-cell centres, drawn once here with ``numpy.random.default_rng(seed)``.
    centres : array_like of shape (n_cells, 2) or "reference", optional
        Explicit centres (as restored from a card). ``"reference"`` reproduces the reference repo's centres
        for ``seed`` bit-exactly: ``np.random.seed(seed)`` then two ``np.random.uniform`` draws (x, then y),
        rounded to float32 as the reference stores them.

    Notes
    -----
    **Generator** (arrays of length T+2, vectorised over the batch). Position :math:`p_0 \sim U(\text{box})`
    (or 0), heading :math:`h_0 \sim U(0, 2\pi)`; pre-drawn turns :math:`\omega_t \sim N(\mu, \sigma_\omega)`
    and speeds :math:`v_t \sim \mathrm{Rayleigh}(b)`. For :math:`t = 0..T`:

    1. wall check: :math:`d_w = \min(W/2 - x, H/2 - y, W/2 + x, H/2 + y)`,
       :math:`\theta_w = \frac{\pi}{2}\arg\min(\cdot)`,
       :math:`a = \mathrm{wrap}_{[-\pi,\pi)}((h_t \bmod 2\pi) - \theta_w)`;
       if :math:`d_w < \text{border}` and :math:`|a| < \pi/2` then :math:`v_t \leftarrow 0.25\,v_t` and
       :math:`\Delta h^{w}_t = \mathrm{sign}(a)(\pi/2 - |a|)`, else :math:`\Delta h^{w}_t = 0`;
    2. :math:`u_t = v_t\,\Delta t\,(\cos h_t, \sin h_t)` (current, un-turned heading), plus
       :math:`\kappa_d\,(\text{anchor} - p_t)` when biased;
    3. :math:`p_{t+1} = p_t + u_t`, :math:`h_{t+1} = h_t + \Delta h^{w}_t + \Delta t\,\omega_t`.

    Positions are not clipped (about 1% leave the box slightly). The network sees
    :math:`s_0 = p_1` (``init_state``), inputs :math:`x_k = u_{k+1}` (including the drift) and states
    :math:`s_k = p_{k+1}`, :math:`k = 1..T`, so that :math:`s_k = s_0 + \sum_{j \le k} x_j`.
    With ``init_state`` given, :math:`p_1` is set to it, :math:`h_1 \sim U(0, 2\pi)` and the loop starts at
    :math:`t = 1`; the turns and speeds drawn for the same seed are unchanged.

    **Randomness.** The reference draws everything from numpy's global legacy stream (centres, then
    :math:`p_0` x, :math:`p_0` y, :math:`h_0`, turns, speeds and an unused :math:`|N(0, b\pi/2)|` draw).
    Here the centres come from ``default_rng(seed)`` in the constructor and each batch from its own
    ``default_rng(seed)`` in the same order, without the unused draw: the distributions are identical but the
    numbers are not bit-identical to the reference's (use ``centres="reference"`` for its centres).

    Expected statistics: mean step length :math:`b\sqrt{\pi/2}\,\Delta t \approx 2.05` cm away from walls;
    with ``biased=True`` the radius settles at a median of about 0.33 m (IQR 0.29–0.37) after ~40 steps.
    """

    name = "spatial_navigation"
    n_in = 2
    state_dim = 2
    circular = False

    def __init__(
        self,
        *,
        box_width: float = 2.2,
        box_height: float | None = None,
        border_region: float = 0.03,
        border_slow_factor: float = 0.25,
        dt: float = 0.02,
        turn_mu: float = 0.0,
        turn_sigma: float = 11.52,
        speed_scale: float = 0.26 * np.pi,
        n_cells: int = 512,
        sigma: float = 0.2,
        biased: bool = False,
        drift_const: float = 0.05,
        anchor: tuple[float, float] = (0.0, 0.0),
        init: str = "uniform",
        top_k: int = 3,
        code: str = "softmax",
        seed: int = 0,
        centres=None,
    ):
        self.box_width = check_float(box_width, "box_width", positive=True)
        self.box_height = self.box_width if box_height is None else check_float(
            box_height, "box_height", positive=True)
        self.border_region = check_float(border_region, "border_region", nonnegative=True,
                                         maximum=min(self.box_width, self.box_height) / 2)
        self.border_slow_factor = check_float(border_slow_factor, "border_slow_factor", nonnegative=True)
        self.dt = check_seconds(dt, "dt")
        self.turn_mu = check_float(turn_mu, "turn_mu")
        self.turn_sigma = check_float(turn_sigma, "turn_sigma", nonnegative=True)
        self.speed_scale = check_float(speed_scale, "speed_scale", positive=True)
        self.biased = check_bool(biased, "biased")
        self.drift_const = check_float(drift_const, "drift_const", nonnegative=True, maximum=1.0)
        anchor = tuple(anchor) if isinstance(anchor, list | tuple | np.ndarray) else anchor
        if not isinstance(anchor, tuple) or len(anchor) != 2:
            raise ValueError(f"anchor must be a pair (x, y) in metres, got {anchor!r}")
        self.anchor = (check_float(anchor[0], "anchor[0]"), check_float(anchor[1], "anchor[1]"))
        self.init = check_choice(init, INITS, "init")
        self.seed = check_seed(seed)
        n_cells = check_int(n_cells, "n_cells")
        self.cells = PlaceCells(self._make_centres(centres, n_cells), sigma=sigma, code=code)
        self.top_k = check_top_k(top_k, self.n_cells)

    def _make_centres(self, centres, n_cells: int) -> np.ndarray:
        half = np.array([self.box_width / 2, self.box_height / 2])
        if centres is None:
            rng = np.random.default_rng(self.seed)
            return np.stack([rng.uniform(-h, h, n_cells) for h in half], axis=-1)
        if isinstance(centres, str):
            check_choice(centres, ("reference",), "centres option")
            legacy = np.random.RandomState(self.seed)  # the reference's legacy stream, bit-exact
            xy = np.stack([legacy.uniform(-h, h, n_cells) for h in half], axis=-1)
            return xy.astype(np.float32).astype(np.float64)
        centres = np.asarray(centres, dtype=np.float64)
        if centres.shape != (n_cells, 2):
            raise ValueError(f"centres must have shape (n_cells, 2) = ({n_cells}, 2), got {centres.shape}")
        return centres

    # -- properties ----------------------------------------------------------------------------------------

    @property
    def centres(self) -> np.ndarray:
        """Place-cell centres, shape (n_cells, 2), in metres (read-only)."""
        return self.cells.centres

    # -- generator -----------------------------------------------------------------------------------------

    def _avoid_wall(self, pos: np.ndarray, hd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Near-wall mask and wall turn for positions (B, 2) and headings (B,) (reference ``_avoid_wall``)."""
        x, y = pos[:, 0], pos[:, 1]
        hw, hh = self.box_width / 2, self.box_height / 2
        dists = np.stack([hw - x, hh - y, hw + x, hh + y])
        d_wall = dists.min(axis=0)
        theta = dists.argmin(axis=0) * (np.pi / 2)
        a_wall = np.mod(hd, 2 * np.pi) - theta
        a_wall = np.mod(a_wall + np.pi, 2 * np.pi) - np.pi
        near = (d_wall < self.border_region) & (np.abs(a_wall) < np.pi / 2)
        turn = np.where(near, np.sign(a_wall) * (np.pi / 2 - np.abs(a_wall)), 0.0)
        return near, turn

    def _move(self, pos, hd, turn_rate, speed):
        """One generator step (Notes, 1-3) from positions (B, 2) and headings (B,) with the drawn turn rates
        and speeds (B,): ``(update, next position, next heading, speed, near_wall, wall_turn)``.
        """
        near, turn = self._avoid_wall(pos, hd)
        v = np.where(near, speed * self.border_slow_factor, speed)
        step = (v * self.dt)[:, None] * np.stack([np.cos(hd), np.sin(hd)], axis=-1)
        if self.biased:
            step += self.drift_const * (np.asarray(self.anchor) - pos)
        return step, pos + step, hd + turn + self.dt * turn_rate, v, near, turn

    def simulate(self, batch: int, steps: int, seed, init_state=None) -> dict[str, np.ndarray]:
        """Run the trajectory generator and return its full T+2-long arrays.

        Parameters
        ----------
        batch, steps, seed, init_state
            As in :meth:`sample`.

        Returns
        -------
        dict
            ``"position"`` (B, T+2, 2) in m; ``"heading"`` (B, T+2) in rad, wrapped to [-pi, pi);
            ``"update"`` (B, T+2, 2) displacement from step t to t+1 (last entry 0); ``"speed"`` (B, T+2)
            in m/s after the wall slow-down; ``"near_wall"`` (B, T+2) bool; ``"wall_turn"`` (B, T+2) rad.
            With ``init_state`` given, index 0 repeats index 1 and has no update.
        """
        batch, steps, init_state = self._check_sample_args(batch, steps, init_state)
        rng = make_rng(seed)
        b, n = batch, steps + 2
        hw, hh = self.box_width / 2, self.box_height / 2
        pos = np.zeros((b, n, 2))
        hd = np.zeros((b, n))
        upd = np.zeros((b, n, 2))
        speed = np.zeros((b, n))
        near_wall = np.zeros((b, n), dtype=bool)
        wall_turn = np.zeros((b, n))

        # Draw in the reference order: p0 x, p0 y, h0, turns, speeds.
        if self.init == "uniform":
            p0 = np.stack([rng.uniform(-hw, hw, b), rng.uniform(-hh, hh, b)], axis=-1)
        else:
            p0 = np.zeros((b, 2))
        h0 = rng.uniform(0.0, 2 * np.pi, b)
        turns = rng.normal(self.turn_mu, self.turn_sigma, (b, steps + 1))
        speeds = rng.rayleigh(self.speed_scale, (b, steps + 1))

        start = 0 if init_state is None else 1
        pos[:, start] = p0 if init_state is None else init_state
        hd[:, start] = h0
        for t in range(start, steps + 1):
            upd[:, t], pos[:, t + 1], hd[:, t + 1], speed[:, t], near_wall[:, t], wall_turn[:, t] = self._move(
                pos[:, t], hd[:, t], turns[:, t], speeds[:, t])
        if start == 1:
            pos[:, 0], hd[:, 0] = pos[:, 1], hd[:, 1]
        hd = np.mod(hd + np.pi, 2 * np.pi) - np.pi
        return {"position": pos, "heading": hd, "update": upd, "speed": speed, "near_wall": near_wall,
                "wall_turn": wall_turn}

    def sample(self, batch: int, steps: int, seed, init_state=None) -> TaskBatch:
        """Draw a batch: displacement inputs, positions, place-code targets and initial codes.

        Parameters
        ----------
        batch : int
            Number of trajectories B.
        steps : int
            Number of input steps T.
        seed : int or numpy.random.Generator or None
            Seed of this batch (independent of the centre ``seed``); the same seed gives the same batch.
        init_state : array_like, shape (B, 2), optional
            Fixed start positions (m); headings, turns and speeds stay random.

        Returns
        -------
        TaskBatch
            ``inputs`` (B, T, 2) = :math:`u_{1..T}`, ``states`` (B, T, 2) = :math:`p_{2..T+1}`,
            ``targets = encode(states)``, ``init_state`` = :math:`p_1`, ``init_code = encode(init_state)``.
        """
        traj = self.simulate(batch, steps, seed, init_state)
        pos, upd = traj["position"], traj["update"]
        init = pos[:, 1].copy()
        states = pos[:, 2:].copy()
        return self.encoded_batch(upd[:, 1:-1].copy(), states, init)

    def _stream(self, batch: int, steps: int, rng: np.random.Generator, init_state) -> TrajectoryStream:
        """The inputs and states of :meth:`sample` (same arguments, same numbers), generated as they are taken."""
        return _Walk(self, batch, steps, rng, init_state)

    # -- metrics -------------------------------------------------------------------------------------------

    def error(self, decoded, states):
        """Euclidean distance in metres between decoded and true positions: (..., 2), (..., 2) -> (...)."""
        decoded, states = as_state_pair(decoded, states, 2)
        if is_torch(decoded):
            import torch

            return torch.linalg.vector_norm(decoded - states, dim=-1)
        return np.hypot(*np.moveaxis(decoded - states, -1, 0))

    def chance_error(self, metric: str = "distance") -> float:
        r"""Error of guessing a uniform position in the box when the true one is uniform too.

        Parameters
        ----------
        metric : {"distance", "mse"}
            ``"distance"``: mean Euclidean distance (m), :func:`mean_distance_in_rectangle`, 1.147 m for
            the 2.2 m box. ``"mse"``: per-coordinate mean squared error (m²),
            :math:`(W^2 + H^2)/12 \approx 0.807` (the reference's ``pos_mse`` at chance).
        """
        check_choice(metric, ("distance", "mse"), "metric")
        if metric == "mse":
            return (self.box_width**2 + self.box_height**2) / 12
        return mean_distance_in_rectangle(self.box_width, self.box_height)

    # -- cards ---------------------------------------------------------------------------------------------

    array_params = ("centres",)

    def arrays(self) -> dict[str, np.ndarray]:
        """``{"centres": (n_cells, 2)}``."""
        return {"centres": self.centres}

    @classmethod
    def _from_card(cls, params, arrays):
        cls._check_card_arrays(arrays, cls.array_params)
        return cls(**params, centres=arrays.get("centres"))


class _Walk(TrajectoryStream):
    """The generator of :class:`SpatialNavigation`, run a chunk of steps at a time (see its ``Notes``)."""

    def __init__(self, task: SpatialNavigation, batch: int, steps: int, rng: np.random.Generator, init_state):
        hw, hh = task.box_width / 2, task.box_height / 2
        if task.init == "uniform":        # the draw order of SpatialNavigation.simulate
            p0 = np.stack([rng.uniform(-hw, hw, batch), rng.uniform(-hh, hh, batch)], axis=-1)
        else:
            p0 = np.zeros((batch, 2))
        h0 = rng.uniform(0.0, 2 * np.pi, batch)
        self._turns = RowDraws(rng, batch, steps + 1, lambda g, n: g.normal(task.turn_mu, task.turn_sigma, n))
        self._speeds = RowDraws(rng, batch, steps + 1, lambda g, n: g.rayleigh(task.speed_scale, n))
        self._task = task
        turn, speed = self._turns.take(1)[:, 0], self._speeds.take(1)[:, 0]   # step 0
        if init_state is None:
            _, self._pos, self._hd, *_ = task._move(p0, h0, turn, speed)
        else:
            self._pos, self._hd = init_state, h0
        super().__init__(batch, steps, self._pos.copy())

    def _take(self, n):
        turns, speeds = self._turns.take(n), self._speeds.take(n)
        inputs, states = np.empty((self.batch, n, 2)), np.empty((self.batch, n, 2))
        for j in range(n):
            inputs[:, j], self._pos, self._hd, *_ = self._task._move(self._pos, self._hd, turns[:, j], speeds[:, j])
            states[:, j] = self._pos
        return inputs, states
