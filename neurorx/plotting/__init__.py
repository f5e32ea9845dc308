"""Figures of the paper, one function per panel type (matplotlib, object-oriented).

Every panel function takes plain arrays *or* a :class:`~neurorx.Recording` (with ``phase=`` to pick a
phase), draws on ``ax=`` (a new figure if omitted), and returns the Axes; none calls ``plt.show``. Pass a
list of Recordings, or a mapping ``label -> Recording``, to draw them side by side -- e.g. the torch and the
Brian2 run of one protocol -- with each panel titled by ``rec.meta["backend"]`` (see
:func:`compare_panels`; ``phases=("active", "quiescent")`` adds one row per phase).

Panels (paper figure in brackets):

- :func:`learning_curve` -- test loss and decoding error against batches, mean ± SD (Fig. 1b).
- :func:`explained_variance_curve` -- cumulative explained variance of PCs 1-10, mean ± SD (Fig. 1c);
  :func:`explained_variance_ratios` computes it from Recordings.
- :func:`decoded_trajectories` -- decoded paths in the box, or bearings on a polar plot (Fig. 1d, 2a-b, 3b).
- :func:`pc_projection` / :func:`pc_ring` -- states on two PCs coloured by the decoded distance from the
  centre or bearing (Fig. 1f-g, 2c-d, 3c-d); :func:`reference_pca` gives a basis to share.
- :func:`kde_panel` -- KDE contours of decoded outputs or of PC projections (Fig. 1h-k, 2).
- :func:`kl_matrix` -- KL heatmap with annotated cells in nats (Fig. 2e); :func:`kl_matrix_from_recordings`
  draws :func:`neurorx.analysis.kl_table` of Recordings.
- :func:`statistic_boxplot` -- any statistic of :data:`neurorx.analysis.STATISTICS` per condition: total
  variance (Fig. 2f), stepwise distance (Fig. C.4), ...
- :func:`polar_histogram_panel` -- histogram of bearings with area-true wedges (Fig. 3).
- :func:`angular_velocity_histogram` -- angular velocity with the mean marked (Fig. C.5).
- :func:`spike_raster` -- one trial of a spiking run: raster, population rate, decoded trajectory.
- :func:`replay_posteriors` -- replay events' decoded posteriors with their best lines (``nwb analyse --replay``).

:func:`save_figure` writes a figure atomically and refuses to overwrite; :func:`style` is the house rc
context used by every panel.

>>> import neurorx.plotting as nplt                                                 # doctest: +SKIP
>>> axes = nplt.kde_panel({"torch": rec_t, "brian2": rec_b}, phase="quiescent")    # doctest: +SKIP
>>> nplt.save_figure(axes, "fig2_kde.png")                                         # doctest: +SKIP
"""

from ._core import compare_panels
from ._style import ACTIVE_COLOR, QUIESCENT_COLOR, phase_cmap, phase_color, style, use_house_style
from .circular import ACTIVE_VELOCITY_BINS, QUIESCENT_VELOCITY_BINS, angular_velocity_histogram, polar_histogram_panel
from .io import save_figure
from .replay import replay_posteriors
from .spikes import spike_raster
from .states import OUTPUT_LEVELS, PC_LEVELS, kde_panel, pc_projection, pc_ring, reference_pca
from .summary import (
    KL_COLS,
    KL_ROWS,
    kl_matrix,
    kl_matrix_from_recordings,
    kl_table,
    statistic_boxplot,
)
from .training import explained_variance_curve, explained_variance_ratios, learning_curve
from .trajectories import decoded_trajectories

__all__ = [
    "ACTIVE_COLOR",
    "ACTIVE_VELOCITY_BINS",
    "KL_COLS",
    "KL_ROWS",
    "OUTPUT_LEVELS",
    "PC_LEVELS",
    "QUIESCENT_COLOR",
    "QUIESCENT_VELOCITY_BINS",
    "angular_velocity_histogram",
    "compare_panels",
    "decoded_trajectories",
    "explained_variance_curve",
    "explained_variance_ratios",
    "kde_panel",
    "kl_matrix",
    "kl_matrix_from_recordings",
    "kl_table",
    "learning_curve",
    "pc_projection",
    "pc_ring",
    "phase_cmap",
    "phase_color",
    "polar_histogram_panel",
    "reference_pca",
    "replay_posteriors",
    "save_figure",
    "spike_raster",
    "statistic_boxplot",
    "style",
    "use_house_style",
]
