"""One trial of a spiking run: spike raster, population rate and decoded trajectory, phases shaded."""

from __future__ import annotations

import numpy as np

from neurorx.recording import Recording

from ._style import phase_color, style

__all__ = ["spike_raster"]


def spike_raster(rec: Recording, trial: int | None = None, *, max_neurons: int = 400, rate_bin: float = 0.02,
                 figsize=(8.0, 6.0)):
    """Raster, population rate and decoded trajectory of one recorded trial of a spiking run.

    Parameters
    ----------
    rec : Recording
        A run with ``record=("spikes",)`` (backend ``"brian2-spiking"``).
    trial : int, optional
        A recorded trial (default: the first recorded).
    max_neurons : int
        Neurons shown in the raster: whole units, evenly spaced, ordered by the unit's index (sort units by
        their preferred place or bearing beforehand if wanted).
    rate_bin : float
        Bin (seconds) of the population rate.
    figsize : tuple
        Figure size in inches.

    Returns
    -------
    ndarray of Axes
        ``[raster, population rate, decoded]``, sharing the time axis (seconds).
    """
    import matplotlib.pyplot as plt

    if rec.spikes is None:
        raise ValueError("this recording has no spikes: run backend='brian2-spiking' with record=('spikes',)")
    sp = rec.spikes
    trial = int(sp.trials[0]) if trial is None else int(trial)
    t, neuron, count = sp.of_trial(trial)
    m, n = sp.per_unit, sp.n_units
    keep_units = np.unique(np.linspace(0, n - 1, max(1, min(n, max_neurons // m))).astype(int))
    shown = np.isin(neuron // m, keep_units)
    row = np.searchsorted(keep_units, neuron[shown] // m) * m + neuron[shown] % m
    step = sp.step
    t_end = len(rec.t) * step
    with style():
        _fig, axes = plt.subplots(3, 1, sharex=True, figsize=figsize, gridspec_kw={"height_ratios": [3, 1, 1.4]})
        for ax in axes:
            for p in rec.phases:
                ax.axvspan(p["start"] * step, p["stop"] * step, color=phase_color(p.get("kind", p["label"])),
                           alpha=0.08, lw=0)
        axes[0].scatter(t[shown], row, s=1.5, c="k", marker="|", linewidths=0.6)
        axes[0].set_ylabel(f"neuron ({len(keep_units)} of {n} units x {m})")
        edges = np.arange(0, t_end + rate_bin / 2, rate_bin)
        pop, _ = np.histogram(t, bins=edges, weights=count)
        axes[1].plot(edges[:-1] + rate_bin / 2, pop / rate_bin / (n * m), color="k", lw=0.8)
        axes[1].set_ylabel("rate (Hz/neuron)")
        b = int(np.nonzero(np.arange(rec.trials) == trial)[0][0])
        time = (np.arange(len(rec.t)) + 1) * step
        dims = rec.dim_labels()
        for d, label in enumerate(dims):
            axes[2].plot(time, rec.decoded[b, :, d], lw=0.9, label=f"decoded {label}")
            axes[2].plot(time, rec.states[b, :, d], lw=0.9, ls="--", label=f"true {label}")
        axes[2].set_ylabel("rad" if rec.meta.get("circular") else "m")
        axes[2].set_xlabel("time (s)")
        axes[2].legend(fontsize=7, ncol=2 * len(dims), loc="upper right")
        axes[0].set_title(f"{rec.meta.get('backend', '')}: trial {trial}, {m} neurons per unit")
    return axes
