"""Circular statistics for the head-direction task (Fig. 3, C.5): angles in radians."""

from __future__ import annotations

import numbers

import numpy as np

from ._validate import as_array, check_finite, check_int

__all__ = [
    "angular_velocity",
    "circular_error",
    "circular_kl",
    "circular_mean",
    "mean_angular_velocity",
    "polar_histogram",
    "wrap_angle",
]

_UNWRAP = ("reference", "wrap")


def _angles(x, name: str) -> np.ndarray:
    arr = as_array(x, name)
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); at least one angle is needed.")
    check_finite(arr, name)
    return arr


def wrap_angle(angles) -> np.ndarray:
    r"""Wrap angles to :math:`[-\pi, \pi)`.

    Parameters
    ----------
    angles : array_like
        Angles in radians, any shape.

    Returns
    -------
    numpy.ndarray
        Same shape, :math:`((\theta + \pi) \bmod 2\pi) - \pi`.
    """
    return np.mod(_angles(angles, "angles") + np.pi, 2 * np.pi) - np.pi


def circular_mean(angles, axis=None):
    r"""Mean direction of angles.

    Parameters
    ----------
    angles : array_like
        Angles in radians.
    axis : int or tuple of int, optional
        Axis to average over (default: all).

    Returns
    -------
    float or numpy.ndarray
        Mean direction in :math:`(-\pi, \pi]`.

    Notes
    -----
    .. math:: \bar\theta = \operatorname{atan2}\Big(\frac1n\sum_i \sin\theta_i,\;
              \frac1n\sum_i \cos\theta_i\Big).

    Undefined when the mean resultant length :math:`R = |\frac1n \sum_i e^{i\theta_i}|` is 0 (e.g.
    angles spread uniformly): the result is then arbitrary. Check :math:`R` if that can happen.
    """
    a = _angles(angles, "angles")
    out = np.arctan2(np.mean(np.sin(a), axis=axis), np.mean(np.cos(a), axis=axis))
    return float(out) if np.ndim(out) == 0 else out


def circular_error(a, b) -> np.ndarray:
    r"""Absolute angular difference, the shorter way round the circle.

    Parameters
    ----------
    a, b : array_like
        Angles in radians, broadcastable shapes (e.g. decoded vs true heading).

    Returns
    -------
    numpy.ndarray
        :math:`|\operatorname{wrap}(a - b)| \in [0, \pi]`.
    """
    x = _angles(a, "a")
    y = _angles(b, "b")
    try:
        diff = x - y
    except ValueError:
        raise ValueError(f"a and b must have broadcastable shapes; got {x.shape} and {y.shape}.") from None
    return np.abs(np.mod(diff + np.pi, 2 * np.pi) - np.pi)


def _batch_of_angles(angles, name: str = "angles") -> np.ndarray:
    arr = _angles(angles, name)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim != 2:
        hint = f"for one trajectory use {name}[None]" if arr.ndim == 1 else "d must be 1 for angles"
        raise ValueError(f"{name} must have shape (B, T) or (B, T, 1); got {arr.shape} ({hint}).")
    if arr.shape[1] < 2:
        raise ValueError(f"{name} needs at least 2 time steps to form a difference; got shape {arr.shape}.")
    return arr


def angular_velocity(angles, unwrap: str = "reference") -> np.ndarray:
    r"""Differences of consecutive angles (radians per step), unwrapped across :math:`\pm\pi`.

    Parameters
    ----------
    angles : array_like, shape (B, T) or (B, T, 1)
        Decoded bearings in :math:`[-\pi, \pi)`.
    unwrap : {"reference", "wrap"}, default "reference"
        ``"reference"``: as the reference notebook, subtract :math:`2\pi` where
        :math:`\Delta > 1.5\pi` and add :math:`2\pi` where :math:`\Delta < -1.5\pi` (only jumps across
        the cut are corrected; differences between :math:`\pi` and :math:`1.5\pi` are kept).
        ``"wrap"``: map every difference to :math:`[-\pi, \pi)`.

    Returns
    -------
    numpy.ndarray, shape (B, T-1)
        :math:`\Delta\theta_{b,t} = \theta_{b,t+1} - \theta_{b,t}`, unwrapped.

    Notes
    -----
    Reference rule: :math:`\Delta \leftarrow \Delta - 2\pi\,[\Delta > 1.5\pi] + 2\pi\,[\Delta <
    -1.5\pi]`. The two rules agree whenever :math:`|\Delta| \le \pi` after unwrapping, i.e. for every
    step smaller than half a turn.
    """
    if unwrap not in _UNWRAP:
        raise ValueError(f"unwrap must be 'reference' or 'wrap'; got {unwrap!r}.")
    a = _batch_of_angles(angles)
    delta = np.diff(a, axis=1)
    if unwrap == "wrap":
        return np.mod(delta + np.pi, 2 * np.pi) - np.pi
    delta = delta.copy()
    delta[delta > 1.5 * np.pi] -= 2 * np.pi
    delta[delta < -1.5 * np.pi] += 2 * np.pi
    return delta


def mean_angular_velocity(angles, unwrap: str = "reference") -> float:
    r"""Mean of :func:`angular_velocity` over all trajectories and steps (rad/step).

    Parameters
    ----------
    angles : array_like, shape (B, T) or (B, T, 1)
        Decoded bearings.
    unwrap : {"reference", "wrap"}, default "reference"
        See :func:`angular_velocity`.

    Returns
    -------
    float
        :math:`\frac{1}{B(T-1)} \sum_{b,t} \Delta\theta_{b,t}`; the paper reports 0.0151 rad/step for the
        quiescent counter-clockwise-biased network and 0.0005 for the unbiased one.
    """
    return float(np.mean(angular_velocity(angles, unwrap=unwrap)))


def polar_histogram(angles, bins: int = 20, full_circle: bool = False) -> tuple[np.ndarray, np.ndarray]:
    r"""Histogram of angles with the area-true radius used in the paper's polar plots.

    Parameters
    ----------
    angles : array_like
        Angles in radians, any shape (flattened).
    bins : int, default 20
        Number of bins.
    full_circle : bool, default False
        ``False`` (the reference notebook's default, ``gaps=True``): ``np.histogram(angles, bins)``, whose
        bins span the data range ``[min, max]``. ``True`` (the notebook's ``gaps=False``): bins
        ``np.linspace(-pi, pi, bins + 1)``, angles wrapped to :math:`[-\pi, \pi)` first.

    Returns
    -------
    edges : numpy.ndarray, shape (bins + 1,)
        Bin edges (radians); plot with ``ax.bar(edges[:-1], radius, width=np.diff(edges),
        align="edge")`` on a polar axis.
    radius : numpy.ndarray, shape (bins,)
        :math:`r_j = \sqrt{c_j / (N \pi)}` for bin count :math:`c_j` of :math:`N` angles.

    Notes
    -----
    A wedge of radius :math:`r` and angle :math:`w` has area :math:`\tfrac12 r^2 w`, so with this radius
    the wedge *area* (not its length) is proportional to the count, which avoids the visual exaggeration
    of radius-proportional rose plots.
    """
    bins = check_int(bins, "bins", minimum=1)
    a = _angles(angles, "angles").ravel()
    if full_circle:
        a = np.mod(a + np.pi, 2 * np.pi) - np.pi
        counts, edges = np.histogram(a, bins=np.linspace(-np.pi, np.pi, bins + 1))
    else:
        counts, edges = np.histogram(a, bins=bins)
    radius = np.sqrt(counts / a.size / np.pi)
    return edges, radius


def circular_kl(p_angles, q_angles, bins: int = 36, pseudocount: float = 0.5) -> float:
    r"""Histogram estimate of :math:`\mathrm{KL}(P \| Q)` between two samples of angles.

    Parameters
    ----------
    p_angles, q_angles : array_like
        Angles in radians (any shape, flattened; wrapped to :math:`[-\pi, \pi)`). E.g. quiescent and
        active decoded bearings.
    bins : int, default 36
        Equal bins on :math:`[-\pi, \pi)` (36 = 10 degrees).
    pseudocount : float, default 0.5
        Added to every bin count of both samples (Jeffreys prior), so empty bins give finite values.
        Must be > 0.

    Returns
    -------
    float
        KL divergence of the binned distributions, in nats (>= 0).

    Notes
    -----
    With counts :math:`c_j, d_j` of :math:`N_p, N_q` angles and pseudocount :math:`\alpha`,

    .. math::

        \hat p_j = \frac{c_j + \alpha}{N_p + J\alpha},\quad
        \hat q_j = \frac{d_j + \alpha}{N_q + J\alpha},\quad
        \widehat{\mathrm{KL}} = \sum_{j=1}^{J} \hat p_j \log\frac{\hat p_j}{\hat q_j}.

    Binning can only lose information, so the binned KL is a lower bound on the continuous one (data
    processing inequality) and approaches it as bins shrink, at the price of more small-count noise.
    Because the bins cover the whole circle the result does not depend on where angles are cut.
    """
    bins = check_int(bins, "bins", minimum=2)
    if not (isinstance(pseudocount, numbers.Real) and not isinstance(pseudocount, bool) and pseudocount > 0):
        raise ValueError(f"pseudocount must be a positive number (e.g. 0.5); got {pseudocount!r}.")
    edges = np.linspace(-np.pi, np.pi, bins + 1)
    p = wrap_angle(_angles(p_angles, "p_angles").ravel())
    q = wrap_angle(_angles(q_angles, "q_angles").ravel())
    cp = np.histogram(p, bins=edges)[0] + pseudocount
    cq = np.histogram(q, bins=edges)[0] + pseudocount
    p_hat = cp / cp.sum()
    q_hat = cq / cq.sum()
    return float(np.sum(p_hat * np.log(p_hat / q_hat)))
