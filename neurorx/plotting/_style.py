"""House style of the neurorx figures: colours, font sizes and a matplotlib ``rc`` context.

The panel functions never touch the global :data:`matplotlib.rcParams`; they draw inside :func:`style`, a
:func:`matplotlib.rc_context`, so new figures get the house defaults and the caller's settings are
restored afterwards. Switch this off with :func:`use_house_style` to draw with your own rc settings.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import matplotlib as mpl
import numpy as np
from matplotlib.colors import LinearSegmentedColormap

__all__ = [
    "ACTIVE_COLOR",
    "PANEL_SIZE",
    "PHASE_COLORS",
    "QUIESCENT_COLOR",
    "RC",
    "phase_cmap",
    "phase_color",
    "style",
    "use_house_style",
]

#: Colour of active-phase data (the reference notebooks' ``#2ca7c5``).
ACTIVE_COLOR = "#2ca7c5"
#: Colour of quiescent-phase data (the reference notebooks' ``#ee3233``).
QUIESCENT_COLOR = "#ee3233"
#: Phase kind -> colour; other phases are drawn in grey.
PHASE_COLORS = {"active": ACTIVE_COLOR, "quiescent": QUIESCENT_COLOR}
NEUTRAL_COLOR = "0.45"

#: Width and height (inches) of one panel in a figure the functions create.
PANEL_SIZE = (3.0, 2.6)

TICK_SIZE = 8

#: The rc settings used inside :func:`style`.
RC = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "axes.linewidth": 0.9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.labelsize": TICK_SIZE,
    "ytick.labelsize": TICK_SIZE,
    "xtick.major.width": 0.9,
    "ytick.major.width": 0.9,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "lines.linewidth": 1.4,
    "figure.dpi": 120,
    "savefig.dpi": 300,
    "savefig.bbox": "tight",
    "figure.constrained_layout.use": True,
}

_ENABLED = [True]


def use_house_style(enabled: bool = True) -> None:
    """Turn the house style of the panel functions on (default) or off.

    Parameters
    ----------
    enabled : bool, default True
        ``False``: draw with the caller's current ``rcParams`` only.
    """
    _ENABLED[0] = bool(enabled)


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Context in which figures are drawn with the house defaults (:data:`RC`).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> with style():
    ...     fig, ax = plt.subplots()
    """
    if not _ENABLED[0]:
        yield
        return
    with mpl.rc_context(RC):
        yield


def phase_color(kind: str | None) -> str:
    """Colour of a phase kind or label ("active", "quiescent", anything else -> grey)."""
    if kind is None:
        return NEUTRAL_COLOR
    kind = str(kind).lower()
    for key, color in PHASE_COLORS.items():
        if key in kind:
            return color
    return NEUTRAL_COLOR


def phase_cmap(kind: str | None, circular: bool = False) -> LinearSegmentedColormap:
    """Colour map tinted by phase, as in the reference notebooks.

    Parameters
    ----------
    kind : str or None
        Phase kind or label; picks the tint (blue active, red quiescent, grey otherwise).
    circular : bool, default False
        ``False``: light -> tint -> dark (a sequential map, e.g. for distance from the centre).
        ``True``: dark -> tint -> light -> tint -> dark, equal at both ends: the reference notebooks' map for
        bearings. It is symmetric, so :math:`\\pm\\theta` share a colour; the panels default to "twilight".
    """
    base = np.array(mpl.colors.to_rgb(phase_color(kind)))
    dark = base * 0.3
    light = 0.85 * np.ones(3) + 0.15 * base  # not pure white: points stay visible on a white background
    seq = [light, 0.5 * (light + base), base, 0.5 * (base + dark), dark]
    colors = seq[::-1] + seq[1:] if circular else seq
    name = f"neurorx_{kind or 'neutral'}{'_cyclic' if circular else ''}"
    return LinearSegmentedColormap.from_list(name, [tuple(c) for c in colors])
