"""Decoded trajectories (Fig. 1d, 2a-b, 3b): paths in the box (spatial) or bearings over time (head direction)."""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Rectangle

from neurorx.recording import Recording

from ._core import (
    PI_LABELS,
    PI_TICKS,
    finish_axes,
    is_circular,
    is_polar,
    new_axes,
    panel,
    rec_color,
    rec_title,
    select,
    set_theta_ticks,
)
from ._style import NEUTRAL_COLOR

__all__ = ["decoded_trajectories"]


def _wants_polar(data, kwargs) -> bool:
    if kwargs.get("polar") is not None:
        return bool(kwargs["polar"])
    if isinstance(data, Recording):
        return is_circular(data)
    return False


def _as_batch(decoded, circular: bool | None) -> tuple[np.ndarray, bool]:
    arr = np.asarray(decoded, dtype=float)
    if circular is None:
        if arr.ndim == 2 or (arr.ndim == 3 and arr.shape[-1] == 1):
            circular = True
        elif arr.ndim == 3 and arr.shape[-1] == 2:
            circular = False
        else:
            raise ValueError(
                f"decoded must be positions (B, T, 2) or bearings (B, T) / (B, T, 1); got shape {arr.shape}. "
                f"For one trajectory use decoded[None]."
            )
    if circular:
        if arr.ndim == 3 and arr.shape[-1] == 1:
            arr = arr[..., 0]
        if arr.ndim != 2:
            raise ValueError(f"bearings must have shape (B, T) or (B, T, 1); got {np.shape(decoded)}")
    elif arr.ndim != 3 or arr.shape[-1] != 2:
        raise ValueError(f"positions must have shape (B, T, 2); got {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"decoded is empty (shape {arr.shape})")
    return arr, circular


def _pick_trials(n_trials: int, n: int | None, trials, default: int) -> np.ndarray:
    if trials is not None:
        idx = np.arange(n_trials)[trials]
        return np.atleast_1d(idx)
    n = default if n is None else int(n)
    if n < 1:
        raise ValueError(f"n must be >= 1; got {n}")
    n = min(n, n_trials)
    return np.unique(np.linspace(0, n_trials - 1, n).round().astype(int))


def _pick_steps(arr: np.ndarray, steps) -> np.ndarray:
    if steps is None:
        return arr
    if isinstance(steps, int | np.integer):
        if steps < 2:
            raise ValueError(f"steps must be >= 2 to draw a path; got {steps}")
        return arr[:, : int(steps)]
    return arr[:, steps]


@panel(polar=_wants_polar)
def decoded_trajectories(decoded, n: int | None = None, *, steps=None, trials=None, box=2.2,
                         circular: bool | None = None, polar: bool | None = None, color=None,
                         markers: bool = True, linewidth: float = 1.0, phase=None, label: str | None = None,
                         ax=None, title: str | None = None):
    """Decoded trajectories: paths in the 2.2 m box (spatial) or bearings on a polar plot (head direction).

    Parameters
    ----------
    decoded : array_like or Recording
        Positions ``(B, T, 2)`` in metres, or bearings ``(B, T)`` / ``(B, T, 1)`` in radians; or a
        Recording (its decoded readout in ``phase``). A list/mapping of Recordings draws one panel each.
    n : int, optional
        Number of trajectories, evenly spaced through the batch (default 25 for positions, about the
        reference's every 8th of 200, and 1 for bearings, as the reference's trajectory 0).
    steps : int or slice, optional
        Keep the first ``steps`` steps (or a slice); the reference's head-direction plots use the first
        50 active and 500 quiescent steps.
    trials : int, slice or array of int, optional
        Explicit trajectories (overrides ``n``).
    box : float or (float, float) or None, default 2.2
        Side(s) of the arena in metres, drawn as a grey outline centred at the origin; ``None`` for none.
    circular : bool, optional
        Treat ``decoded`` as bearings (default: inferred from the shape or the recording's task).
    polar : bool, optional
        For bearings: polar axes (angle = bearing, radius = time step) or, if ``False`` or ``ax`` is a
        cartesian Axes, bearing against time step.
    color : color, optional
        Line colour (default: the phase colour, blue active / red quiescent).
    markers : bool, default True
        Mark starts (circles) and ends (triangles).
    linewidth : float, default 1.0
        Line width.
    phase : str or int, optional
        With a Recording: the phase to draw (default: the whole recording).
    label : str, optional
        With a Recording: its name in the title (default ``rec.meta["backend"]``).
    ax : Axes, optional
        Axes to draw on (polar for bearings, unless you want bearing against time).
    title : str, optional
        Panel title (with a Recording: "<phase> (<backend>)").

    Returns
    -------
    matplotlib.axes.Axes
    """
    if isinstance(decoded, Recording):
        sub = select(decoded, phase)
        circular = is_circular(decoded) if circular is None else circular
        color = rec_color(sub) if color is None else color
        title = rec_title(sub, label) if title is None else title
        decoded = sub.decoded
    arr, circular = _as_batch(decoded, circular)
    idx = _pick_trials(arr.shape[0], n, trials, default=1 if circular else 25)
    arr = _pick_steps(arr[idx], steps)
    color = NEUTRAL_COLOR if color is None else color
    if circular:
        want_polar = (polar if polar is not None else True) if ax is None else is_polar(ax)
        ax = new_axes(ax, polar=want_polar)
        (_draw_polar if want_polar else _draw_bearing_time)(ax, arr, color, markers, linewidth)
    else:
        ax = new_axes(ax)
        _draw_box(ax, arr, box, color, markers, linewidth)
    finish_axes(ax, title)
    return ax


def _markers(ax, start_xy, end_xy):
    ax.scatter(*start_xy, c="k", s=10, zorder=3, label="start", marker="o")
    ax.scatter(*end_xy, c="k", s=12, zorder=3, label="end", marker="^")


def _draw_box(ax, arr, box, color, markers, linewidth):
    for traj in arr:
        ax.plot(traj[:, 0], traj[:, 1], color=color, linewidth=linewidth, alpha=0.9)
    if markers:
        _markers(ax, arr[:, 0].T, arr[:, -1].T)
    if box is not None:
        w, h = (float(box), float(box)) if np.ndim(box) == 0 else (float(box[0]), float(box[1]))
        ax.add_patch(Rectangle((-w / 2, -h / 2), w, h, fill=False, edgecolor="0.6", linewidth=0.8, zorder=0))
        pad = 0.025 * max(w, h)
        ax.set_xlim(-w / 2 - pad, w / 2 + pad)
        ax.set_ylim(-h / 2 - pad, h / 2 + pad)
    ax.set_aspect("equal")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    if markers:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=7, handletextpad=0.2,
                  borderaxespad=0.0, columnspacing=1.0)


def _draw_polar(ax, arr, color, markers, linewidth):
    r = np.arange(arr.shape[1])
    for traj in arr:
        ax.plot(traj, r, color=color, linewidth=linewidth, alpha=0.9)
    if markers:
        _markers(ax, (arr[:, 0], np.zeros(len(arr))), (arr[:, -1], np.full(len(arr), r[-1])))
    set_theta_ticks(ax)
    ax.set_rlim(0, max(r[-1], 1) * 1.06)
    ax.set_rlabel_position(-22.5)
    ax.set_xlabel("bearing (radius = time step)")


def _draw_bearing_time(ax, arr, color, markers, linewidth):
    wrapped = np.mod(arr + np.pi, 2 * np.pi) - np.pi
    t = np.arange(arr.shape[1])
    for traj in wrapped:
        y = traj.copy()
        jumps = np.flatnonzero(np.abs(np.diff(y)) > np.pi)
        xs = np.insert(t.astype(float), jumps + 1, np.nan)
        ys = np.insert(y, jumps + 1, np.nan)
        ax.plot(xs, ys, color=color, linewidth=linewidth)
    if markers:
        _markers(ax, (np.zeros(len(arr)), wrapped[:, 0]), (np.full(len(arr), t[-1]), wrapped[:, -1]))
    ax.set_ylim(-np.pi, np.pi)
    ax.set_yticks(PI_TICKS, PI_LABELS)
    ax.set_xlabel("time step")
    ax.set_ylabel("decoded bearing (rad)")
