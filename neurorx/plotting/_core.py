"""Shared machinery: axes creation, Recording helpers, and the side-by-side comparison of recordings."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from neurorx.recording import Recording

from ._style import PANEL_SIZE, TICK_SIZE, phase_color, style

__all__ = ["compare_panels", "panel"]


# -- axes ---------------------------------------------------------------------------------------------------
def is_polar(ax) -> bool:
    """Whether ``ax`` is a polar Axes."""
    return getattr(ax, "name", "") == "polar"


def new_axes(ax=None, *, polar: bool = False, figsize=None):
    """Return ``ax``, or a new single Axes (polar if asked) in a new figure of the house size."""
    if ax is not None:
        if polar and not is_polar(ax):
            raise ValueError(
                "this panel needs a polar Axes; create one with "
                "plt.subplots(subplot_kw={'projection': 'polar'}) or fig.add_subplot(projection='polar')."
            )
        return ax
    _, ax = plt.subplots(figsize=figsize or PANEL_SIZE, subplot_kw={"projection": "polar"} if polar else None)
    return ax


_CONDITION = re.compile(r"([A-Za-z])\^([σσ])")


def math_label(text: str | None) -> str | None:
    """Condition labels as mathtext: ``"U^σ"`` -> :math:`\\mathrm{U}^{\\sigma}`, ``"𝒰"`` -> :math:`\\mathcal{U}`.

    Text that is already mathtext (holds ``$``) is returned unchanged, so a label is never rendered with a
    literal caret.
    """
    if text is None or "$" in text:
        return text
    text = _CONDITION.sub(lambda m: f"$\\mathregular{{{m.group(1)}}}^{{\\sigma}}$", text)
    return text.replace("𝒰", "$\\mathcal{U}$")


def finish_axes(ax, title: str | None = None) -> None:
    """Apply the tick label size (ticks are created lazily, after the rc context) and the title."""
    ax.tick_params(axis="both", which="both", labelsize=TICK_SIZE)
    if title is not None:
        ax.set_title(math_label(title))


def figure_of(obj):
    """The Figure of a Figure, an Axes, or an array/sequence of Axes."""
    from matplotlib.figure import Figure, SubFigure

    if isinstance(obj, Figure | SubFigure):
        return obj
    if hasattr(obj, "figure") and not isinstance(obj, np.ndarray | list | tuple):
        return obj.figure
    flat = np.asarray(obj, dtype=object).ravel()
    if flat.size and hasattr(flat[0], "figure"):
        return flat[0].figure
    raise TypeError(f"expected a matplotlib Figure or Axes (or an array of Axes); got {type(obj).__name__}")


# -- recordings ---------------------------------------------------------------------------------------------
def backend_of(rec: Recording) -> str:
    """The backend name stored in ``rec.meta`` ("torch", "brian2"), or "unknown backend"."""
    return str(rec.meta.get("backend") or "unknown backend")


def is_circular(rec: Recording) -> bool:
    """Whether the decoded readout of ``rec`` is an angle (head direction)."""
    if "circular" in rec.meta:
        return bool(rec.meta["circular"])
    return rec.decoded.shape[-1] == 1


def select(rec: Recording, phase) -> Recording:
    """``rec.select(phase)`` (``None``: the whole recording)."""
    return rec if phase is None else rec.select(phase)


def phase_name(rec: Recording) -> str:
    """Label(s) of the phases in a (selected) recording, joined with '+'."""
    labels = rec.labels or list(dict.fromkeys(np.asarray(rec.phase).astype(str).tolist()))
    return "+".join(labels) if labels else "all steps"


def phase_kind(rec: Recording) -> str | None:
    """The kind shared by all phases of a (selected) recording ("active", "quiescent", ...), else None."""
    kinds = {p.get("kind", p.get("label")) for p in rec.phases}
    if not kinds:
        kinds = set(np.unique(np.asarray(rec.phase).astype(str)).tolist())
    return kinds.pop() if len(kinds) == 1 else None


def rec_color(rec: Recording) -> str:
    """Phase colour of a (selected) recording."""
    return phase_color(phase_kind(rec))


def rec_title(rec: Recording, label: str | None = None, what: str | None = None) -> str:
    """Title naming the phase and the backend, e.g. ``"quiescent (torch)"``."""
    name = label if label is not None else backend_of(rec)
    head = f"{what}: " if what else ""
    return f"{head}{phase_name(rec)} ({name})"


def recorded_steps(rec: Recording, steps) -> np.ndarray:
    """Positions in ``rec.record_index`` nearest to the wanted phase steps ``np.arange(T)[steps]``.

    With ``every=1`` these are the wanted steps exactly; with a coarser recording, the nearest recorded
    samples (without repeats).
    """
    idx = np.asarray(rec.record_index)
    if idx.size == 0:
        raise ValueError("this recording holds no recorded samples of h/y in the selected phase")
    wanted = np.arange(len(rec.t))[steps if steps is not None else slice(None)]
    if wanted.size == 0:
        raise ValueError(f"steps={steps!r} selects no step of the {len(rec.t)} in this phase")
    order = np.argsort(idx, kind="stable")
    sorted_idx = idx[order]
    right = np.clip(np.searchsorted(sorted_idx, wanted), 0, idx.size - 1)
    left = np.clip(right - 1, 0, idx.size - 1)
    take_left = np.abs(sorted_idx[left] - wanted) <= np.abs(sorted_idx[right] - wanted)
    return np.unique(order[np.where(take_left, left, right)])


def is_recording_collection(x) -> bool:
    """Whether ``x`` is a non-empty list/tuple of Recordings or a mapping of labels to Recordings."""
    if isinstance(x, Mapping):
        return len(x) > 0 and all(isinstance(v, Recording) for v in x.values())
    if isinstance(x, list | tuple):
        return len(x) > 0 and all(isinstance(v, Recording) for v in x)
    return False


# -- panels and comparison ------------------------------------------------------------------------------------
def panel(*, polar: bool | Callable[[Any, dict], bool] = False, compare: bool = True):
    """Mark a function as a neurorx panel.

    The wrapped function draws inside the house :func:`~neurorx.plotting.style`. When its first argument
    is a list/tuple of Recordings or a mapping ``label -> Recording`` (and ``compare`` is true), or when a
    Recording is given with ``phases=``, the call is forwarded to :func:`compare_panels`, which draws one
    panel per recording (and per phase).

    Parameters
    ----------
    polar : bool or callable
        Whether the panel needs a polar Axes; a callable ``(recording, kwargs) -> bool`` decides per call.
    compare : bool
        Forward collections of recordings to :func:`compare_panels`.
    """

    def deco(fn):
        @functools.wraps(fn)
        def wrapper(data=None, *args, **kwargs):
            if compare and (is_recording_collection(data) or (isinstance(data, Recording) and "phases" in kwargs)):
                if args:
                    raise TypeError(f"{fn.__name__}: with several recordings, pass the other arguments by keyword")
                return compare_panels(wrapper, data, **kwargs)
            with style():
                return fn(data, *args, **kwargs)

        wrapper._neurorx_polar = polar
        return wrapper

    return deco


def _collect(recordings, labels) -> list[tuple[str | None, Recording]]:
    if len(recordings) == 1 and not isinstance(recordings[0], Recording):
        (recordings,) = recordings
    if isinstance(recordings, Mapping):
        items = [(str(k), v) for k, v in recordings.items()]
    elif isinstance(recordings, Recording):
        items = [(None, recordings)]
    else:
        items = [(None, r) for r in recordings]
    if not items:
        raise ValueError("compare_panels needs at least one Recording")
    for lab, rec in items:
        if not isinstance(rec, Recording):
            raise TypeError(
                f"compare_panels draws Recordings; got {type(rec).__name__}"
                + (f" for {lab!r}" if lab else "")
                + ". For plain arrays call the panel function once per array with ax=."
            )
    if labels is not None:
        labels = list(labels)
        if len(labels) != len(items):
            raise ValueError(f"labels has {len(labels)} entries for {len(items)} recordings")
        items = [(str(lab), rec) for lab, (_, rec) in zip(labels, items, strict=True)]
    return items


def compare_panels(fn: Callable, *recordings, phases: str | Sequence | None = None, labels=None, axes=None,
                   figsize=None, sharex: bool = False, sharey: bool = False, **kwargs) -> np.ndarray:
    """Draw one panel per recording side by side, e.g. the torch and the Brian2 run of one protocol.

    Parameters
    ----------
    fn : callable
        A panel function taking a Recording first and ``ax=`` (any :mod:`neurorx.plotting` panel, or
        your own ``fn(rec, ax=..., **kwargs)``).
    *recordings : Recording, or one list/tuple of Recordings, or one mapping ``label -> Recording``
        The runs to compare. Columns are titled by the mapping's keys, else by ``rec.meta["backend"]``.
    phases : str or sequence of str, optional
        Draw one row per phase (passed to ``fn`` as ``phase=``), e.g. ``("active", "quiescent")``.
    labels : sequence of str, optional
        Column names overriding the backends / keys.
    axes : array of Axes, optional
        Axes to draw on, ``len(phases) x len(recordings)`` (or ``len(recordings)`` without phases).
    figsize : (float, float), optional
        Size of a new figure (default: one house panel per cell).
    sharex, sharey : bool, default False
        Share axis limits between the panels of a new figure (useful for histograms).
    **kwargs
        Passed to ``fn`` for every panel.

    Returns
    -------
    numpy.ndarray of Axes
        Shape ``(n_recordings,)``, or ``(n_phases, n_recordings)`` when ``phases`` is given.

    Examples
    --------
    >>> compare_panels(kde_panel, rec_torch, rec_brian2, phase="quiescent")            # doctest: +SKIP
    >>> compare_panels(decoded_trajectories, {"torch": rt, "brian2": rb},
    ...                phases=("active", "quiescent"))                                  # doctest: +SKIP
    """
    items = _collect(recordings, labels)
    rows = [None] if phases is None else ([phases] if isinstance(phases, str) else list(phases))
    if not rows:
        raise ValueError("phases is empty; give at least one phase label (or None)")
    nrow, ncol = len(rows), len(items)
    ours = hasattr(fn, "_neurorx_polar")
    polar = getattr(fn, "_neurorx_polar", False)
    if callable(polar):
        polar = bool(polar(items[0][1], kwargs))
    with style():
        if axes is None:
            w, h = PANEL_SIZE
            _, grid = plt.subplots(nrow, ncol, figsize=figsize or (w * ncol, h * nrow), squeeze=False,
                                   sharex=sharex, sharey=sharey,
                                   subplot_kw={"projection": "polar"} if polar else None)
        else:
            grid = np.asarray(axes, dtype=object)
            if grid.size != nrow * ncol:
                raise ValueError(f"axes holds {grid.size} Axes; {nrow} x {ncol} are needed "
                                 f"({nrow} phase row(s) x {ncol} recording(s))")
            grid = grid.reshape(nrow, ncol)
        for i, ph in enumerate(rows):
            for j, (lab, rec) in enumerate(items):
                kw = dict(kwargs)
                if ph is not None:
                    kw["phase"] = ph
                if ours and lab is not None:
                    kw["label"] = lab
                ax = grid[i, j]
                fn(rec, ax=ax, **kw)
                name = lab if lab is not None else backend_of(rec)
                title = ax.get_title()
                if name not in title:
                    ax.set_title(f"{title} ({name})" if title else name)
    return grid[0] if phases is None else grid


# -- angles -------------------------------------------------------------------------------------------------
PI_TICKS = np.array([-np.pi, -np.pi / 2, 0.0, np.pi / 2, np.pi])
PI_LABELS = ("$-\\pi$", "$-\\pi/2$", "0", "$\\pi/2$", "$\\pi$")


def set_theta_ticks(ax) -> None:
    """Label a polar Axes' angles in fractions of pi (0 at the right, counter-clockwise)."""
    angles = np.arange(8) * np.pi / 4
    labels = ["0", "$\\pi/4$", "$\\pi/2$", "$3\\pi/4$", "$\\pm\\pi$", "$-3\\pi/4$", "$-\\pi/2$", "$-\\pi/4$"]
    ax.set_xticks(angles, labels)
    ax.set_theta_zero_location("E")
    ax.set_theta_direction(1)
