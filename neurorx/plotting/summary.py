"""Summary panels across networks: KL heatmap (Fig. 2e) and one box plot for any registered statistic (2f, C.4)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.patches import Rectangle

from neurorx.analysis import Statistic, get_statistic, kl_table
from neurorx.errors import ConfigurationError
from neurorx.recording import Recording

from ._core import finish_axes, is_circular, math_label, new_axes, panel, select
from ._style import QUIESCENT_COLOR

__all__ = [
    "KL_COLS",
    "KL_ROWS",
    "kl_matrix",
    "kl_matrix_from_recordings",
    "kl_table",
    "statistic_boxplot",
]

#: Row labels of the paper's Fig. 2e (active distributions): noisy/noiseless, unbiased/biased.
KL_ROWS = ("$\\mathregular{U}^{\\sigma}$", "U", "$\\mathregular{B}^{\\sigma}$", "B")
#: Column labels of Fig. 2e (quiescent distributions, plus the uniform and random-network baselines).
KL_COLS = ("$\\mathregular{U}^{\\sigma}$", "U", "$\\mathcal{U}$", "$\\mathregular{B}^{\\sigma}$", "B",
           "$\\mathregular{R}^{\\sigma}$")


# -- KL heatmap ---------------------------------------------------------------------------------------------
def _text_color(rgba) -> str:
    r, g, b = rgba[:3]
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


@panel(compare=False)
def kl_matrix(matrix, row_labels: Sequence[str] | None = None, col_labels: Sequence[str] | None = None, *,
              fmt: str = "{:.2f}", annotate: bool = True, show_sd: bool = False, cmap="viridis",
              vmin: float | None = None, vmax: float | None = None, colorbar: bool = True,
              flagged_cols: Sequence[str] = (), xlabel: str = "quiescent distribution",
              ylabel: str = "active distribution", ax=None, title: str | None = None):
    """Heatmap of KL divergences in nats with annotated cells (Fig. 2e).

    Parameters
    ----------
    matrix : array_like, shape (rows, cols) or (seeds, rows, cols)
        ``matrix[i, j]`` = KL(quiescent ``j`` ‖ active ``i``) in nats. A 3-D array is averaged over the
        first axis (the paper shows the mean over 5 networks). NaN cells are drawn blank, marked "–".
    row_labels, col_labels : sequence of str, optional
        Tick labels (default indices). :data:`KL_ROWS` and :data:`KL_COLS` are the paper's
        (U^σ, U, B^σ, B) x (U^σ, U, 𝒰, B^σ, B, R^σ).
    fmt : str, default "{:.2f}"
        Format of the cell annotations (``fmt.format(value)``).
    annotate : bool, default True
        Write each cell's value (the paper prints none; the numbers are the point of a reproduction).
    show_sd : bool, default False
        With a 3-D matrix: add "± SD" (ddof 0) under each mean.
    cmap : Colormap or str, default "viridis"
        A sequential map: KL is non-negative, with no midpoint for a diverging map (the paper's "coolwarm")
        to mean anything.
    vmin, vmax : float, optional
        Colour limits (default: 0 and the finite data maximum).
    colorbar : bool, default True
        Colour bar labelled "KL divergence (nats)".
    flagged_cols : sequence of str
        Column labels whose quiescent run was flagged by its health check
        (:func:`neurorx.analysis.reactivation_health`): hatched, and "(flagged)" under the label.
    xlabel, ylabel : str
        Axis labels (columns on top, as the paper). Labels such as ``"U^σ"`` are drawn as mathtext.
    ax : Axes, optional
        Axes to draw on.
    title : str, optional
        Panel title (default "KL(quiescent ‖ active)").

    Returns
    -------
    matplotlib.axes.Axes
        The image is ``ax.images[0]``; annotations are ``ax.texts`` in row-major order.
    """
    arr = np.asarray(matrix, dtype=float)
    sd = None
    if arr.ndim == 3:
        with warnings.catch_warnings():  # all-NaN cells stay NaN, silently
            warnings.simplefilter("ignore", RuntimeWarning)
            sd = np.nanstd(arr, axis=0) if arr.shape[0] > 1 else None
            arr = np.nanmean(arr, axis=0) if arr.shape[0] > 1 else arr[0]
    if arr.ndim != 2 or 0 in arr.shape:
        raise ValueError(f"matrix must have shape (rows, cols) or (seeds, rows, cols); got {np.shape(matrix)}")
    rows, cols = arr.shape
    row_labels = [str(i) for i in range(rows)] if row_labels is None else list(row_labels)
    col_labels = [str(j) for j in range(cols)] if col_labels is None else list(col_labels)
    if len(row_labels) != rows or len(col_labels) != cols:
        raise ValueError(f"{len(row_labels)} row and {len(col_labels)} column labels for a {rows} x {cols} matrix")
    unknown = [c for c in flagged_cols if c not in col_labels]
    if unknown:
        raise ValueError(f"flagged_cols {unknown} are not column labels; the columns are {col_labels}")
    finite = arr[np.isfinite(arr)]
    lo = min(0.0, float(finite.min())) if finite.size else 0.0
    hi = float(finite.max()) if finite.size else 1.0
    vmin = lo if vmin is None else vmin
    vmax = (hi if hi > vmin else vmin + 1.0) if vmax is None else vmax
    ax = new_axes(ax, figsize=(0.6 * cols + 1.8, 0.5 * rows + 1.2))
    im = ax.imshow(np.ma.masked_invalid(arr), cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest",
                   aspect="equal")
    cm, norm = im.cmap, im.norm
    if annotate:
        for i in range(rows):
            for j in range(cols):
                v = arr[i, j]
                if not np.isfinite(v):
                    ax.text(j, i, "–", ha="center", va="center", fontsize=7, color="0.3")
                    continue
                text = fmt.format(v)
                if show_sd and sd is not None:
                    text += "\n±" + fmt.format(sd[i, j])
                ax.text(j, i, text, ha="center", va="center", fontsize=7, color=_text_color(cm(norm(v))))
    for j, c in enumerate(col_labels):
        if c in flagged_cols:
            ax.add_patch(Rectangle((j - 0.5, -0.5), 1, rows, fill=False, hatch="///", edgecolor="0.85",
                                   linewidth=0))
    ax.set_xticks(range(cols), [math_label(c) + ("\n(flagged)" if c in flagged_cols else "") for c in col_labels])
    ax.set_yticks(range(rows), [math_label(r) for r in row_labels])
    ax.tick_params(axis="x", top=False, bottom=False, labeltop=True, labelbottom=False)
    ax.tick_params(axis="y", left=False)
    ax.xaxis.set_label_position("top")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if colorbar:
        cb = ax.figure.colorbar(im, ax=ax, shrink=0.85)
        cb.set_label("KL divergence (nats)")
        cb.ax.tick_params(labelsize=8)
    finish_axes(ax, "KL(quiescent ‖ active)" if title is None else title)
    ax.tick_params(axis="both", which="major", labelsize=9)
    return ax


def kl_matrix_from_recordings(active: Mapping, quiescent: Mapping | None = None, *, active_phase="active",
                              quiescent_phase="quiescent", method: str = "corrected", n_mc: int = 2500, seed=0,
                              ax=None, **kwargs):
    """Compute :func:`kl_table` from Recordings and draw it with :func:`kl_matrix`.

    Parameters
    ----------
    active : mapping of str -> Recording or array_like
        Rows (active distributions); the keys are the row labels.
    quiescent : mapping of str -> Recording or array_like, optional
        Columns (quiescent distributions and baselines); default the same runs as ``active``.
    active_phase, quiescent_phase : str or int
        Phases taken from the Recordings.
    method, n_mc, seed
        See :func:`kl_table`.
    ax : Axes, optional
        Axes to draw on.
    **kwargs
        Passed to :func:`kl_matrix` (``fmt``, ``cmap``, ``title``...).

    Returns
    -------
    matplotlib.axes.Axes
    """
    quiescent = active if quiescent is None else quiescent
    table = kl_table(active, quiescent, active_phase=active_phase, quiescent_phase=quiescent_phase,
                     method=method, n_mc=n_mc, seed=seed)
    return kl_matrix(table, list(active), list(quiescent), ax=ax, **kwargs)


# -- box plots ----------------------------------------------------------------------------------------------
def _boxplot(ax, groups: Mapping, color, ylabel: str, show_points: bool):
    labels = [math_label(str(k)) for k in groups]
    data = [np.asarray(v, dtype=float).ravel() for v in groups.values()]
    for lab, d in zip(labels, data, strict=True):
        if d.size == 0:
            raise ValueError(f"group {lab!r} has no values")
    k = "black"
    positions = np.arange(1, len(data) + 1)
    ax.boxplot(data, positions=positions, patch_artist=True, widths=0.6,
               boxprops={"facecolor": color, "edgecolor": k}, medianprops={"color": k},
               whiskerprops={"color": k}, capprops={"color": k, "linewidth": 0},
               flierprops={"marker": "o", "markersize": 2, "markeredgecolor": k, "markerfacecolor": "none"})
    if show_points:
        rng = np.random.default_rng(0)
        for p, d in zip(positions, data, strict=True):
            ax.scatter(p + rng.uniform(-0.12, 0.12, d.size), d, s=6, color="k", alpha=0.6, zorder=3,
                       linewidths=0)
    ax.set_xticks(positions, labels)
    ax.tick_params(axis="x", bottom=False)
    ax.set_ylabel(ylabel)


@panel(compare=False)
def statistic_boxplot(groups: Mapping, statistic: str | Statistic = "total variance", *, phase="quiescent",
                      burn_in: float = 0.0, pool: bool = False, color=QUIESCENT_COLOR, ylabel: str | None = None,
                      show_points: bool = False, ax=None, title: str | None = None):
    """Box plot of a registered statistic per condition, one box per group (Fig. 2f, C.4, ...).

    Parameters
    ----------
    groups : mapping of str -> values or Recording(s)
        Label -> values already computed (drawn as given), a Recording (its per-trial values of the
        statistic) or a list of Recordings (seeds: one mean per recording, as the paper's box over 5 networks;
        all per-trial values with ``pool=True``, as Fig. C.4 pools 200 x 5).
    statistic : str or Statistic, default "total variance"
        A name in :data:`neurorx.analysis.STATISTICS` (e.g. "stepwise distance") or a Statistic.
    phase : str, int or None, default "quiescent"
        Phase of the Recordings (None: the whole recording).
    burn_in : float, default 0
        Fraction of the phase dropped first by statistics that use a burn-in (the paper drops 1000 of 2000
        quiescent steps for the total variance: 0.5).
    pool : bool, default False
        With a list of Recordings, pool their per-trial values instead of one mean each.
    color : color, default the quiescent red
        Box colour.
    ylabel : str, optional
        Default ``"<name> (<unit>)"``, the unit in metres or radians as the recordings decode.
    show_points : bool, default False
        Overlay the individual values (jittered).
    ax : Axes, optional
        Axes to draw on.
    title : str, optional
        Panel title (default: the statistic and the phase).

    Returns
    -------
    matplotlib.axes.Axes
    """
    stat = get_statistic(statistic) if isinstance(statistic, str) else statistic
    if not stat.scalar:
        raise ValueError(f"statistic {stat.name!r} is not one number per phase (scope {stat.scope!r}"
                         f"{', over ' + ', '.join(stat.dims) if stat.dims else ''}); a box plot shows a statistic of "
                         "one phase, e.g. 'total variance'")
    circular = []

    def values(rec):
        if stat.needs_network:
            raise ConfigurationError(f"statistic {stat.name!r} reads each recording's trained network too; compute "
                                     f"its values (get_statistic({stat.key!r}).value(rec, network=net)) and pass "
                                     "them as numbers")
        circular.append(is_circular(rec))
        return stat.values(select(rec, phase), is_circular(rec), burn_in)

    def group(value):
        if isinstance(value, Recording):
            return values(value)
        if isinstance(value, list | tuple) and value and all(isinstance(v, Recording) for v in value):
            vals = [values(v) for v in value]
            return np.concatenate(vals) if pool else np.array([v.mean() for v in vals])
        return value

    data = {k: group(v) for k, v in groups.items()}
    if ylabel is None:
        ylabel = f"{stat.name} ({stat.unit_for(any(circular))})"
    ax = new_axes(ax, figsize=(0.75 * len(groups) + 1.4, 2.6))
    _boxplot(ax, data, color, ylabel, show_points)
    if title is None:
        title = stat.name + (f", {phase} phase" if isinstance(phase, str) else "")
    finish_axes(ax, title)
    return ax
