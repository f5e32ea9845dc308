"""Statistics of recorded spike trains: rates, Fano factor, ISI CV and population bursts, per phase."""

from __future__ import annotations

import itertools

import numpy as np

__all__ = ["spike_statistics"]


def _phase_stats(sp, t0: float, t1: float, window: float, burst_z: float) -> dict:
    edges = np.arange(t0, t1 + 1e-12, window)
    if len(edges) < 3:
        return {}
    counts = sp.counts(edges)                        # (R, N*M, bins)
    duration = edges[-1] - edges[0]
    rates = counts.sum(axis=2) / duration            # Hz per neuron
    mean = counts.mean(axis=2)
    active = mean > 0
    fano = counts.var(axis=2)[active] / mean[active]
    cvs = []
    sel = (sp.t >= t0) & (sp.t < t1)
    for b in sp.trials:
        pick = sel & (sp.trial == b)
        t, nrn = sp.t[pick], sp.neuron[pick]
        order = np.lexsort((t, nrn))
        t, nrn = t[order], nrn[order]
        starts = np.r_[0, np.nonzero(nrn[1:] != nrn[:-1])[0] + 1, len(nrn)]
        for a, c in itertools.pairwise(starts):    # one neuron's spikes
            d = np.diff(t[a:c])
            if len(d) >= 3:
                cvs.append(d.std() / d.mean())
    pop = counts.sum(axis=1)                         # (R, bins) population counts per trial
    thresh = pop.mean(axis=1, keepdims=True) + burst_z * pop.std(axis=1, keepdims=True)
    return {"rate_mean_hz": float(rates.mean()), "rate_median_hz": float(np.median(rates)),
            "rate_p99_hz": float(np.percentile(rates, 99)), "fano_mean": float(np.mean(fano)) if fano.size else None,
            "isi_cv_mean": float(np.mean(cvs)) if cvs else None, "neurons_with_isi_cv": len(cvs),
            "burst_fraction": float(np.mean(pop > thresh)), "window_s": window}


def spike_statistics(rec, *, window: float = 0.1, burst_z: float = 3.0) -> dict:
    """Per phase: firing rates, Fano factor of counts in ``window``, ISI CV and the population-burst fraction.

    Parameters
    ----------
    rec : Recording
        A run with ``record=("spikes",)``.
    window : float
        Count window (seconds) for the Fano factor and the population rate.
    burst_z : float
        A window is a population burst when the trial's population count exceeds its mean by ``burst_z``
        standard deviations.

    Notes
    -----
    Fano factor :math:`F = \\mathrm{Var}[n]/E[n]` of one neuron's counts over the windows of a phase (neurons
    with at least one spike), averaged; ISI CV :math:`\\sigma_{ISI}/\\mu_{ISI}` of neurons with at least four
    spikes in the phase. A Poisson neuron at a constant rate has :math:`F = 1` and CV 1; rate changes raise
    both.
    """
    if rec.spikes is None:
        raise ValueError("this recording has no spikes: run the spiking backend with record=('spikes',)")
    sp = rec.spikes
    out = {}
    for p in rec.phases:
        t0, t1 = p["start"] * sp.step, p["stop"] * sp.step
        out[f"{p['label']}[{p['start']}:{p['stop']}]"] = _phase_stats(sp, t0, t1, window, burst_z)
    return out
