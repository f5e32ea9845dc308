"""Head-direction panels: polar histogram of decoded bearings (Fig. 3) and angular velocity (Fig. C.5)."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import to_rgba

from neurorx.analysis import angular_velocity, polar_histogram
from neurorx.recording import Recording

from ._core import backend_of, finish_axes, is_circular, new_axes, panel, phase_kind, rec_color, rec_title, select
from ._core import set_theta_ticks as _theta_ticks
from ._style import NEUTRAL_COLOR

__all__ = ["ACTIVE_VELOCITY_BINS", "QUIESCENT_VELOCITY_BINS", "angular_velocity_histogram",
           "polar_histogram_panel"]

#: Bins of the reference's active angular-velocity histogram (rad/step).
ACTIVE_VELOCITY_BINS = np.linspace(-0.5, 0.5, 20)
#: Bins of the reference's quiescent angular-velocity histogram (rad/step).
QUIESCENT_VELOCITY_BINS = np.linspace(-0.2, 0.2, 20)


def _bearings(rec: Recording, phase, what: str) -> tuple[Recording, np.ndarray]:
    sub = select(rec, phase)
    if not is_circular(rec) or sub.decoded.shape[-1] != 1:
        raise ValueError(f"{what} needs decoded bearings (head direction); the {backend_of(rec)} recording decodes "
                         f"{sub.decoded.shape[-1]}-D positions: use kde_panel or decoded_trajectories instead")
    return sub, sub.decoded[..., 0]


@panel(polar=True)
def polar_histogram_panel(angles, bins: int = 20, *, full_circle: bool = False, uniform: bool = True,
                          color=None, phase=None, label: str | None = None, ax=None, title: str | None = None):
    """Polar histogram of decoded bearings with wedge *area* proportional to the count (Fig. 3).

    Parameters
    ----------
    angles : array_like or Recording
        Bearings in radians (any shape, pooled); or a Recording (its decoded bearings in ``phase``). A
        list/mapping of Recordings draws one panel each.
    bins : int, default 20
        Number of bins, as the paper.
    full_circle : bool, default False
        ``False``: bins span the data range (the reference notebook's default); ``True``: equal bins on
        ``[-pi, pi)``. See :func:`neurorx.analysis.polar_histogram`.
    uniform : bool, default True
        Draw the radius a uniform distribution of bearings would give (dashed circle, labelled "uniform" in a
        legend).
    color : color, optional
        Default: the phase colour.
    phase : str or int, optional
        With a Recording: the phase drawn.
    label : str, optional
        With a Recording: its name in the title.
    ax : Axes, optional
        A polar Axes.
    title : str, optional
        Panel title.

    Returns
    -------
    matplotlib.projections.polar.PolarAxes
        One bar per bin; bar ``j`` has height :math:`r_j = \\sqrt{c_j / (N\\pi)}`.
    """
    if isinstance(angles, Recording):
        sub, angles = _bearings(angles, phase, "polar_histogram_panel")
        color = rec_color(sub) if color is None else color
        title = rec_title(sub, label) if title is None else title
    color = NEUTRAL_COLOR if color is None else color
    edges, radius = polar_histogram(angles, bins=bins, full_circle=full_circle)
    ax = new_axes(ax, polar=True)
    ax.bar(edges[:-1], radius, width=np.diff(edges), align="edge", color=to_rgba(color, 0.55), edgecolor=color,
           linewidth=1.0, zorder=2)
    if uniform:
        r_uni = np.sqrt(1.0 / (2 * np.pi) * np.mean(np.diff(edges)) / np.pi)
        theta = np.linspace(0, 2 * np.pi, 200)
        ax.plot(theta, np.full_like(theta, r_uni), color="0.3", linestyle="--", linewidth=0.8, zorder=3,
                label="uniform bearings")
        ax.legend(loc="lower left", bbox_to_anchor=(-0.15, -0.15), fontsize=7, frameon=False)
    _theta_ticks(ax)
    ax.set_rlim(0, max(float(radius.max()), 1e-12) * 1.1)
    ax.set_yticklabels([])
    ax.set_xlabel("decoded bearing (wedge area ∝ count)")
    finish_axes(ax, title)
    return ax


@panel()
def angular_velocity_histogram(angles, bins=None, *, annotate_mean: bool = True, unwrap: str = "reference",
                               color=None, phase=None, label: str | None = None, ax=None,
                               title: str | None = None):
    """Histogram of decoded angular velocity, as proportions (Fig. C.5), with the mean marked.

    Parameters
    ----------
    angles : array_like (B, T) or (B, T, 1), or Recording
        Decoded bearings in radians; or a Recording (its bearings in ``phase``). A list/mapping of
        Recordings draws one panel each.
    bins : int or array_like, optional
        Bin edges (rad/step). Default: the reference's :data:`ACTIVE_VELOCITY_BINS`
        (``linspace(-0.5, 0.5, 20)``), or :data:`QUIESCENT_VELOCITY_BINS` (``linspace(-0.2, 0.2, 20)``) for a
        Recording's quiescent phase, widened symmetrically (same number of bins) when steps fall outside them,
        so that every step is drawn. Explicit edges are used as given; steps outside them are counted in a note
        on the panel.
    annotate_mean : bool, default True
        Dashed line and label at the mean angular velocity.
    unwrap : {"reference", "wrap"}, default "reference"
        Unwrapping of steps across :math:`\\pm\\pi` (see :func:`neurorx.analysis.angular_velocity`).
    color : color, optional
        Default: the phase colour.
    phase : str or int, optional
        With a Recording: the phase drawn.
    label : str, optional
        With a Recording: its name in the title.
    ax : Axes, optional
        Axes to draw on.
    title : str, optional
        Panel title.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    Each of the :math:`N = B(T-1)` steps has weight :math:`1/N`, so the bars are proportions of *all*
    steps and sum to 1 with the default bins; with explicit bins, steps outside them are not drawn but count in
    :math:`N` and in the mean (as the reference, which reports 0.0151 rad/step for the biased and 0.0005 for the
    unbiased network), and the panel says how many.
    """
    kind = None
    if isinstance(angles, Recording):
        sub, angles = _bearings(angles, phase, "angular_velocity_histogram")
        kind = phase_kind(sub)
        color = rec_color(sub) if color is None else color
        title = rec_title(sub, label) if title is None else title
    av = angular_velocity(angles, unwrap=unwrap).ravel()
    if bins is None:
        ref = QUIESCENT_VELOCITY_BINS if kind == "quiescent" else ACTIVE_VELOCITY_BINS
        reach = max(float(ref[-1]), float(np.abs(av).max()) * (1 + 1e-9) if av.size else 0.0)
        bins = np.linspace(-reach, reach, len(ref))
    color = NEUTRAL_COLOR if color is None else color
    ax = new_axes(ax)
    _, edges, _ = ax.hist(av, bins=bins, weights=np.full(av.size, 1.0 / av.size), color=color, edgecolor="white",
                          linewidth=0.4)
    outside = int(np.count_nonzero((av < edges[0]) | (av > edges[-1])))
    if outside:
        ax.annotate(f"{100 * outside / av.size:.1f}% of steps outside\n[{edges[0]:.2g}, {edges[-1]:.2g}] not drawn",
                    xy=(0.02, 0.98), xycoords="axes fraction", ha="left", va="top", fontsize=7, color="0.3")
    if annotate_mean:
        mean = float(av.mean())
        ax.axvline(mean, color="k", linestyle="--", linewidth=1.0)
        ax.annotate(f"mean {mean:.4f}", xy=(mean, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -2),
                    textcoords="offset points", ha="left", va="top", fontsize=7)
    ax.set_xlabel("angular velocity (rad/step)")
    ax.set_ylabel("proportion of steps")
    finish_axes(ax, title)
    return ax
