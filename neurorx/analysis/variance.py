"""Spread and smoothness of decoded trajectories: total variance (Fig. 2f), stepwise distance (Fig. C.4)."""

from __future__ import annotations

import numpy as np

from ._validate import as_trajectories, check_int

__all__ = ["stepwise_distance", "total_variance"]


def total_variance(decoded, burn_in: int = 0, per_trajectory: bool = False, circular: bool = False):
    r"""Variance over time, summed over dimensions, averaged over trajectories.

    Parameters
    ----------
    decoded : array_like, shape (B, T, d)
        Decoded outputs (e.g. positions in metres) of B trajectories.
    burn_in : int, default 0
        Initial time steps to discard (the reference uses 1000 of 2000 quiescent steps).
    per_trajectory : bool, default False
        Return the ``(B,)`` per-trajectory values instead of their mean.
    circular : bool, default False
        Treat every coordinate as an angle (head direction): each trajectory is unwrapped in time first, so
        crossing :math:`\pm\pi` is a small step and not a jump of :math:`2\pi` (units rad²).

    Returns
    -------
    float or numpy.ndarray of shape (B,)
        Units of ``decoded`` squared (m² for positions).

    Raises
    ------
    ValueError
        If fewer than 2 time steps remain after the burn-in, or for malformed input.

    Notes
    -----
    For trajectory :math:`b` with points :math:`x_{b,t}`, :math:`t = t_0..T-1`, :math:`t_0` = burn-in,

    .. math::

        V_b = \operatorname{tr} \widehat{\operatorname{Cov}}_t(x_{b,t})
            = \sum_{k=1}^{d} \frac{1}{T - t_0 - 1} \sum_{t} (x_{b,t,k} - \bar x_{b,k})^2,
        \qquad V = \frac1B \sum_b V_b,

    identical to the reference ``output_variance`` (``np.cov``, ddof 1, per trajectory, then the trace
    and the mean). For an autocorrelated stationary process :math:`V_b` underestimates the stationary
    variance :math:`\sum_k \gamma_k(0)` by the variance of the time average (a relative
    :math:`O(\tau_{corr}/T)` bias). For angles (``circular=True``) :math:`x_{b,t}` is the unwrapped angle
    (consecutive differences taken the short way round), the variance of the path on the real line; on
    wrapped angles a trajectory that crosses :math:`\pm\pi` would count jumps of :math:`2\pi`.
    """
    x = as_trajectories(decoded, "decoded")
    burn_in = check_int(burn_in, "burn_in", minimum=0)
    t = x.shape[1]
    if t - burn_in < 2:
        raise ValueError(
            f"total_variance needs at least 2 time steps after the burn-in; decoded has T = {t} and "
            f"burn_in = {burn_in}, leaving {max(t - burn_in, 0)}. Lower burn_in or record longer."
        )
    x = x[:, burn_in:, :]
    if circular:
        x = np.unwrap(x, axis=1)
    per_traj = x.var(axis=1, ddof=1).sum(axis=-1)
    return per_traj if per_trajectory else float(per_traj.mean())


def stepwise_distance(decoded, circular: bool = False) -> np.ndarray:
    r"""Mean distance between consecutive decoded points, per trajectory.

    Parameters
    ----------
    decoded : array_like, shape (B, T, d)
        Decoded outputs; for head direction, angles in radians with ``d = 1``.
    circular : bool, default False
        Treat every coordinate as an angle: each step difference is wrapped to :math:`[-\pi, \pi)`
        before taking the norm, so crossing :math:`\pm\pi` counts as a small step.

    Returns
    -------
    numpy.ndarray, shape (B,)
        One value per trajectory (the reference box plots pool these over networks).

    Notes
    -----
    .. math::

        S_b = \frac{1}{T-1} \sum_{t=1}^{T-1} \lVert x_{b,t} - x_{b,t-1} \rVert_2,

    as the reference ``utils.stepwise_distance``; with ``circular=True`` the difference is replaced by
    :math:`\operatorname{wrap}(\Delta) = ((\Delta + \pi) \bmod 2\pi) - \pi`.
    """
    x = as_trajectories(decoded, "decoded", min_steps=2)
    step = np.diff(x, axis=1)
    if circular:
        step = np.mod(step + np.pi, 2 * np.pi) - np.pi
    return np.sqrt((step**2).sum(axis=-1)).mean(axis=-1)
