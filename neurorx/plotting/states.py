"""Hidden states in principal-component space (Fig. 1f-k, 2c-d, 3c-d) and density contours (KDE panels)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.colors import is_color_like

from neurorx.analysis import fit_pca, kde_grid, project
from neurorx.recording import Recording

from ._core import (
    PI_LABELS,
    PI_TICKS,
    backend_of,
    finish_axes,
    is_circular,
    new_axes,
    panel,
    phase_kind,
    rec_title,
    recorded_steps,
    select,
)
from ._style import phase_cmap, phase_color

__all__ = ["OUTPUT_LEVELS", "PC_LEVELS", "kde_panel", "pc_projection", "pc_ring", "reference_pca"]

#: Contour levels of the paper's output KDEs (density of decoded positions, 1/m²).
OUTPUT_LEVELS = np.linspace(0.0, 1.2, 9)
#: Contour levels of the paper's PC KDEs.
PC_LEVELS = np.linspace(0.0, 1.6, 9)

_REF_TRIALS = slice(None, None, 2)
_REF_STEPS = slice(7, None, 20)


def reference_pca(rec: Recording, reference="active", n_components: int = 2):
    """PCA (exact SVD) of the hidden states of one phase, the basis the paper projects every phase onto.

    Parameters
    ----------
    rec : Recording
        A recording with ``h``.
    reference : str or int, default "active"
        The phase whose states define the PCs.
    n_components : int, default 2
        Components kept.

    Returns
    -------
    sklearn.decomposition.PCA
        Pass it as ``pca=`` to :func:`pc_projection` / :func:`kde_panel` to draw several recordings (e.g. the
        torch and the Brian2 run) in one shared basis.
    """
    return fit_pca(select(rec, reference).require("h"), n_components=n_components, svd_solver="full")


def _components(components) -> tuple[int, int]:
    c = tuple(int(i) for i in components)
    if len(c) != 2 or min(c) < 0:
        raise ValueError(f"components must be two non-negative PC indices, e.g. (0, 1); got {components!r}")
    return c


_MIN_SUBSAMPLED = 20   # below this many trajectories after thinning, a quiescent KDE uses every trial


def _trials_for(sub: Recording, trials):
    if trials is not None:
        return trials
    thin = phase_kind(sub) == "quiescent" and -(-sub.decoded.shape[0] // 5) >= _MIN_SUBSAMPLED
    return slice(None, None, 5) if thin else slice(None)


# -- PC scatter ---------------------------------------------------------------------------------------------
@panel(compare=True)
def pc_projection(proj, color=None, *, components: Sequence[int] = (0, 1), trials=_REF_TRIALS,
                  steps=_REF_STEPS, circular: bool = False, cmap=None, vmin: float | None = None,
                  vmax: float | None = None, color_label: str | None = None, colorbar: bool = True,
                  size: float = 6.0, phase=None, reference="active", pca=None, label: str | None = None,
                  ax=None, title: str | None = None):
    """Scatter of states projected on two PCs, coloured by the decoded output (Fig. 1f-g, 3c-d).

    Parameters
    ----------
    proj : array_like or Recording
        PC coordinates ``(B, T, k)`` (subsampled by ``trials`` and ``steps``) or ``(n, k)`` (drawn as
        given); or a Recording: its ``h`` in ``phase`` projected on the PCs of the ``reference`` phase (or
        on ``pca``), coloured by the decoded distance from the centre (spatial) or bearing (head
        direction). A list/mapping of Recordings draws one panel each.
    color : array_like or color, optional
        Values ``(B, T)`` (or ``(n,)``) mapped through ``cmap``, or one colour (default: the phase colour).
    components : (int, int), default (0, 1)
        PCs on the x and y axes (0-based).
    trials, steps : slice or array of int
        Subsampling of ``(B, T, k)`` input; default every 2nd trajectory and steps 7, 27, 47, ... as the
        reference. With a Recording recorded every k steps, the nearest recorded steps are used.
    circular : bool, default False
        ``color`` holds angles: a cyclic map over ``[-pi, pi]``.
    cmap : Colormap or str, optional
        Default: a phase-tinted sequential map, or "twilight" for angles (a cyclic map that tells
        :math:`+\theta` from :math:`-\theta`; the reference's ``phase_cmap(kind, circular=True)`` is
        symmetric and does not).
    vmin, vmax : float, optional
        Colour limits (default: the data range; ``[-pi, pi]`` for angles; ``[0, 1.5]`` m for a spatial
        Recording, as the reference).
    color_label : str, optional
        Colour bar label.
    colorbar : bool, default True
        Draw a colour bar when ``color`` holds values.
    size : float, default 6
        Marker area (points²).
    phase : str or int, optional
        With a Recording: the phase drawn (default the whole recording).
    reference : str or int, default "active"
        With a Recording: the phase whose PCA defines the axes (ignored if ``pca`` is given).
    pca : sklearn.decomposition.PCA, optional
        A fitted basis (e.g. :func:`reference_pca` of the torch run, to draw the Brian2 run in the same
        axes; PCs are only defined up to sign otherwise).
    label : str, optional
        With a Recording: its name in the title (default its backend).
    ax : Axes, optional
        Axes to draw on.
    title : str, optional
        Panel title.

    Returns
    -------
    matplotlib.axes.Axes
    """
    cx, cy = _components(components)
    kind = None
    if isinstance(proj, Recording):
        rec = proj
        sub = select(rec, phase)
        kind = phase_kind(sub)
        circular = is_circular(rec)
        basis = pca if pca is not None else reference_pca(rec, reference, max(cx, cy) + 1)
        pos = recorded_steps(sub, steps)
        h = sub.require("h")[:, pos]
        dec = sub.decoded[:, sub.record_index[pos]]
        proj = project(h, basis, max(cx, cy) + 1)
        if color is None:
            color = dec[..., 0] if circular else np.linalg.norm(dec, axis=-1)
            if not circular:
                vmin = 0.0 if vmin is None else vmin
                vmax = 1.5 if vmax is None else vmax
                color_label = "decoded distance from centre (m)" if color_label is None else color_label
        steps = slice(None)
        title = rec_title(sub, label) if title is None else title
    P = np.asarray(proj, dtype=float)
    if P.ndim not in (2, 3) or P.shape[-1] <= max(cx, cy):
        raise ValueError(f"proj must have shape (B, T, k) or (n, k) with k > {max(cx, cy)}; got {P.shape}")
    values = None
    solid = phase_color(kind) if color is None else color
    if color is not None and not is_color_like(color):
        values = np.asarray(color, dtype=float)
        if values.shape != P.shape[:-1]:
            raise ValueError(f"color must have the leading shape of proj {P.shape[:-1]}; got {values.shape}")
    if P.ndim == 3:
        P = P[trials][:, steps]
        values = None if values is None else values[trials][:, steps]
    x, y = P[..., cx].ravel(), P[..., cy].ravel()
    ax = new_axes(ax)
    if values is None:
        ax.scatter(x, y, s=size, color=solid, linewidths=0)
    else:
        if circular:
            vmin = -np.pi if vmin is None else vmin
            vmax = np.pi if vmax is None else vmax
            color_label = "decoded bearing (rad)" if color_label is None else color_label
        if cmap is None:
            cmap = "twilight" if circular else phase_cmap(kind)
        sc = ax.scatter(x, y, s=size, c=values.ravel(), cmap=cmap, vmin=vmin, vmax=vmax, linewidths=0)
        if colorbar:
            cb = ax.figure.colorbar(sc, ax=ax, shrink=0.85)
            if color_label:
                cb.set_label(color_label)
            if circular:
                cb.set_ticks(PI_TICKS, labels=PI_LABELS)
            cb.ax.tick_params(labelsize=8)
    ax.set_xlabel(f"PC {cx + 1}")
    ax.set_ylabel(f"PC {cy + 1}")
    ax.set_box_aspect(1)
    finish_axes(ax, title)
    return ax


# -- KDE contours -------------------------------------------------------------------------------------------
def _data_extent(pts: np.ndarray, margin: float = 0.1) -> tuple[float, float, float, float]:
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = (hi - lo) * margin
    pad[pad == 0] = 1.0
    return (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1])


def _auto_levels(zmax: float, n: int = 9) -> np.ndarray:
    """About ``n`` round levels from 0 to at least ``zmax``."""
    from matplotlib.ticker import MaxNLocator

    if not zmax > 0:
        return np.linspace(0.0, 1.0, n)
    ticks = MaxNLocator(nbins=max(n - 1, 1)).tick_values(0.0, zmax)
    ticks = ticks[ticks >= 0]
    return ticks if ticks[-1] >= zmax else np.append(ticks, 2 * ticks[-1] - ticks[-2])


def _density_max(pts: np.ndarray, extent, n: int, bw_method, max_points: int = 4000) -> float:
    """Maximum of the KDE of ``pts`` on the grid (fitted on at most ``max_points`` evenly strided points)."""
    stride = max(1, len(pts) // max_points)
    return float(kde_grid(pts[::stride], extent, n=n, bw_method=bw_method)[2].max())


@panel(compare=True)
def kde_panel(points, extent=(-1.25, 1.25), n: int = 100, levels=None, *, space: str = "output",
              bw_method="scott", cmap="coolwarm", colorbar: bool = True, lines: bool = False,
              xlabel: str | None = None, ylabel: str | None = None, trials=None, reference="active",
              pca=None, components: Sequence[int] = (0, 1), phase=None, label: str | None = None, ax=None,
              title: str | None = None):
    """Filled contours of a 2-D Gaussian KDE: decoded outputs (Fig. 1h-i, 2) or PC projections (Fig. 1j-k).

    Parameters
    ----------
    points : array_like or Recording
        A cloud ``(n, 2)`` or trajectories ``(B, T, 2)`` (pooled); or a Recording: its decoded positions
        (``space="output"``) or its ``h`` on two PCs (``space="pc"``) in ``phase``. A list/mapping of
        Recordings draws one panel each.
    extent : (low, high) or (xmin, xmax, ymin, ymax) or None, default (-1.25, 1.25)
        Grid limits. ``None``: the data range plus 10% on each side (the reference's PC KDE; with a
        Recording the range of the ``reference`` phase, so both phases share a grid).
    n : int, default 100
        Grid points per axis.
    levels : int or array_like, optional
        Contour levels; densities above the top level get the top colour. Default: for a spatial
        Recording's outputs the paper's 0-1.2 (:data:`OUTPUT_LEVELS`); for a Recording's PCs about 9 round
        levels up to the maximum density of its ``reference`` phase (so its phases share levels);
        otherwise about 9 round levels up to the density's maximum (an int sets how many). Give the same
        levels to compare recordings (e.g. :data:`PC_LEVELS`, the paper's 0-1.6).
    space : {"output", "pc"}, default "output"
        What a Recording's panel shows; also picks the default axis labels.
    bw_method : str, float or callable, default "scott"
        KDE bandwidth (scipy's default, as the reference).
    cmap : Colormap or str, default "coolwarm"
        As the paper.
    colorbar : bool, default True
        Draw a colour bar.
    lines : bool, default False
        Also draw thin contour lines.
    xlabel, ylabel : str, optional
        Axis labels (default "x (m)"/"y (m)", or "PC 1"/"PC 2").
    trials : slice or array of int, optional
        With a Recording: trajectories used; default every 5th for a quiescent phase (the reference's
        quiescent KDE) when that leaves at least 20, all otherwise.
    reference : str or int, default "active"
        With ``space="pc"``: the phase defining the PCs (and the default extent).
    pca : sklearn.decomposition.PCA, optional
        With ``space="pc"``: a fitted basis to use instead.
    components : (int, int), default (0, 1)
        With ``space="pc"``: the PCs shown.
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
        The filled contour set is in ``ax.collections``.

    Notes
    -----
    The reference's quiescent PC KDE keeps every 5th *row* of the flattened ``(B*T, N)`` states (i.e.
    every 5th step) rather than every 5th trajectory; both subsample the same stationary cloud. The
    reference also overlays an ``imshow`` of the density scaled to its own maximum; here the colours
    follow ``levels`` only, so panels with equal levels are comparable.
    """
    if space not in ("output", "pc"):
        raise ValueError(f"space must be 'output' or 'pc'; got {space!r}")
    if isinstance(points, Recording):
        rec = points
        sub = select(rec, phase)
        tr = _trials_for(sub, trials)
        title = rec_title(sub, label) if title is None else title
        if space == "output":
            if is_circular(rec) or sub.decoded.shape[-1] != 2:
                raise ValueError(
                    f"the {backend_of(rec)} recording decodes angles, not 2-D positions: draw "
                    f"polar_histogram_panel(rec) for head direction, or kde_panel(rec, space='pc')"
                )
            points = sub.decoded[tr]
            if levels is None:
                levels = OUTPUT_LEVELS
        else:
            cx, cy = _components(components)
            k = max(cx, cy) + 1
            basis = pca if pca is not None else reference_pca(rec, reference, k)
            proj = project(sub.require("h")[tr], basis, k)[..., [cx, cy]]
            ref = project(select(rec, reference).require("h"), basis, k)[..., [cx, cy]].reshape(-1, 2)
            if extent is None:
                extent = _data_extent(ref)
            if levels is None:  # shared by every phase of this recording: the reference phase's density
                levels = _auto_levels(_density_max(ref, extent, n, bw_method))
            points = proj
            xlabel = f"PC {cx + 1}" if xlabel is None else xlabel
            ylabel = f"PC {cy + 1}" if ylabel is None else ylabel
    pts = np.asarray(points, dtype=float)
    if pts.ndim == 3:
        pts = pts.reshape(-1, pts.shape[-1])
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"points must have shape (n, 2) or (B, T, 2); got {np.shape(points)}")
    if extent is None:
        extent = _data_extent(pts)
    X, Y, Z = kde_grid(pts, extent, n=n, bw_method=bw_method)
    zmax = float(np.max(Z))
    if levels is None:
        levels = _auto_levels(zmax)
    elif np.ndim(levels) == 0:
        levels = _auto_levels(zmax, int(levels))
    levels = np.asarray(levels, dtype=float)
    ax = new_axes(ax)
    cs = ax.contourf(X, Y, Z, levels=levels, cmap=cmap, extend="max")
    if lines:
        ax.contour(X, Y, Z, levels=levels, colors="k", linewidths=0.3, alpha=0.5)
    if colorbar:
        cb = ax.figure.colorbar(cs, ax=ax, shrink=0.85)
        cb.set_label("density (1/m²)" if space == "output" else "density")
        cb.ax.tick_params(labelsize=8)
    ext = np.asarray(extent, dtype=float).ravel()
    if ext.size == 2:
        ext = np.concatenate([ext, ext])
    ax.set_xlim(ext[0], ext[1])
    ax.set_ylim(ext[2], ext[3])
    ax.set_aspect("equal" if space == "output" else "auto")
    if space != "output":
        ax.set_box_aspect(1)
    default_x, default_y = ("x (m)", "y (m)") if space == "output" else ("PC 1", "PC 2")
    ax.set_xlabel(default_x if xlabel is None else xlabel)
    ax.set_ylabel(default_y if ylabel is None else ylabel)
    finish_axes(ax, title)
    return ax


def pc_ring(proj, bearings=None, **kwargs):
    """Head-direction ring in PC space (Fig. 3c-d): :func:`pc_projection` coloured by decoded bearing.

    Parameters
    ----------
    proj : array_like or Recording
        As :func:`pc_projection` (a head-direction Recording is coloured by bearing automatically).
    bearings : array_like, optional
        Decoded bearings with the leading shape of ``proj`` (radians).
    **kwargs
        Passed to :func:`pc_projection`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if bearings is None:
        return pc_projection(proj, **kwargs)
    kwargs.setdefault("circular", True)
    return pc_projection(proj, bearings, **kwargs)
