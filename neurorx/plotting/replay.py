"""Replay events of a decoded recording: each event's posterior with the best line of its sequence score."""

from __future__ import annotations

import numpy as np

from neurorx.recording import Recording

from ._style import style

__all__ = ["replay_posteriors"]


def replay_posteriors(rec: Recording, result, *, phase: str = "quiescent", max_events: int = 6, figsize=None):
    r"""The decoded posteriors of the best-scoring events, with the line fit's best line drawn on each.

    Parameters
    ----------
    rec : Recording
        A recording decoded over a 1-D feature by :func:`neurorx.io.nwb.read` (binned counts in ``h``, tuning
        curves in ``hooks["decoder"]``).
    result : ReplayResult
        Its events, from :func:`neurorx.analysis.replay.replay_events` on the same ``phase``.
    phase : str
        The phase the events were found in.
    max_events : int
        Panels drawn: the significant events first, each group by decreasing line score.
    figsize : tuple, optional
        Figure size in inches (default: 2.6 inches per panel).

    Returns
    -------
    ndarray of Axes
        One panel per event (an empty panel saying so when there is no event): time (s from the event's start)
        against the feature's grid, the posterior as an image, the best line dashed, and the event's line score,
        speed and shuffle p-values in its title (significant events' titles in bold).

    Notes
    -----
    The posterior of bin :math:`t` is :math:`P(x\mid n_t) \propto \prod_i f_i(x)^{n_{it}} e^{-\delta f_i(x)}`
    (:func:`~neurorx.analysis.replay.poisson_posterior`), and the line is the one of
    :func:`~neurorx.analysis.replay.line_fit`: slope :math:`v` grid bins per time bin through centre :math:`c`
    at the event's middle bin.
    """
    import matplotlib.pyplot as plt

    from neurorx.analysis.replay import line_fit, one_d_decoder, poisson_posterior

    dec = one_d_decoder(rec, "replay_posteriors")
    circular = bool(rec.meta.get("circular"))
    counts = rec.select(phase).require("h")
    tc = dec["tuning_curves"]                       # never-visited (NaN) bins are handled by poisson_posterior
    bin_size = float(rec.meta["dt"])
    events = sorted(result.events, key=lambda e: (not e.significant, -e.line_score))[:max(1, int(max_events))]
    n_panels = max(1, len(events))
    with style():
        _fig, axes = plt.subplots(1, n_panels, figsize=figsize or (2.6 * n_panels, 2.8), squeeze=False)
        axes = axes[0]
        if not events:
            axes[0].text(0.5, 0.5, "no candidate events", ha="center", va="center", transform=axes[0].transAxes)
            axes[0].set_axis_off()
        n_pos = tc.shape[1]
        for ax, e in zip(axes, events, strict=False):
            post = poisson_posterior(counts[e.trial, e.start:e.stop], tc, bin_size)
            _score, slope, centre = line_fit(post, circular=circular)
            n_t = post.shape[0]
            ax.imshow(post.T, origin="lower", aspect="auto", cmap="Greys", interpolation="nearest",
                      extent=(0, n_t * bin_size, -0.5, n_pos - 0.5))
            t = np.arange(n_t)
            line = centre + slope * (t - (n_t - 1) / 2)
            if circular:
                line = np.mod(line, n_pos)
                line[np.abs(np.diff(line, prepend=line[0])) > n_pos / 2] = np.nan     # break the line at the wrap
            else:
                line[(line < -0.5) | (line > n_pos - 0.5)] = np.nan                    # off the track
            ax.plot((t + 0.5) * bin_size, line, "--", color="C3", lw=1.2)
            ax.set_xlim(0, n_t * bin_size)
            ax.set_ylim(-0.5, n_pos - 0.5)
            ax.set_xlabel("time in event (s)")
            ax.set_ylabel("grid bin of the feature")
            ax.set_title(f"trial {e.trial}, bins {e.start}-{e.stop}\nR={e.line_score:.2f}, v={e.speed:.3g}\n"
                         f"p_cell={e.p_cell:.3g}, p_time={e.p_time:.3g}", fontsize=7,
                         fontweight="bold" if e.significant else "normal")
        for ax in axes[len(events):] if events else ():
            ax.set_axis_off()
    return axes
