r"""Statistics of a network's excitatory and inhibitory populations.

- :func:`population_rates` -- the mean rate :math:`[h]_+` of each population per trial and step;
- :func:`ie_rate_correlation` -- the correlation over time of the E and I population mean rates, per trial;
- the registered statistic ``ie_correlation`` (:data:`neurorx.analysis.STATISTICS`): their mean over trials in
  one phase, read with the trained network's populations
  (:meth:`neurorx.models.cells.Cell.populations`); NaN for a network without an E/I split.
"""

from __future__ import annotations

import numpy as np

from .statistics import Statistic, register_statistic

__all__ = ["EI_POPULATIONS", "ie_rate_correlation", "population_rates"]

#: The populations an E/I split names (:meth:`neurorx.models.cells.Cell.populations`).
EI_POPULATIONS = ("E", "I")


def population_rates(h: np.ndarray, populations: dict[str, slice]) -> dict[str, np.ndarray]:
    r"""The mean rate of each population, per trial and step.

    Parameters
    ----------
    h : ndarray, shape (B, T, N)
        Hidden states.
    populations : dict of str -> slice
        Unit indices of each population.

    Returns
    -------
    dict of str -> ndarray, shape (B, T)

    Notes
    -----
    :math:`r_P(b, t) = \frac{1}{|P|} \sum_{i \in P} [h_i(b, t)]_+`.
    """
    rates = np.maximum(np.asarray(h, dtype=np.float64), 0.0)
    return {name: rates[..., sl].mean(axis=-1) for name, sl in populations.items()}


def ie_rate_correlation(h: np.ndarray, populations: dict[str, slice]) -> np.ndarray:
    r"""The correlation over time of the E and I population mean rates, one value per trial.

    Parameters
    ----------
    h : ndarray, shape (B, T, N)
        Hidden states of one phase.
    populations : dict of str -> slice
        Must name ``"E"`` and ``"I"``.

    Returns
    -------
    ndarray, shape (B,)
        NaN for a trial whose E or I rate is constant over time (the correlation is undefined).

    Notes
    -----
    Pearson's correlation of :math:`r_E(b, \cdot)` and :math:`r_I(b, \cdot)` (:func:`population_rates`) over
    the :math:`T` steps of trial :math:`b`:

    .. math:: \rho_b = \frac{\sum_t (r_E - \bar r_E)(r_I - \bar r_I)}
                          {\sqrt{\sum_t (r_E - \bar r_E)^2 \sum_t (r_I - \bar r_I)^2}}.
    """
    missing = [p for p in EI_POPULATIONS if p not in populations]
    if missing:
        raise ValueError(f"ie_rate_correlation needs populations E and I; got {sorted(populations)}")
    rates = population_rates(h, {p: populations[p] for p in EI_POPULATIONS})
    varies = (np.ptp(rates["E"], axis=1) > 0) & (np.ptp(rates["I"], axis=1) > 0)
    e = rates["E"] - rates["E"].mean(axis=1, keepdims=True)
    i = rates["I"] - rates["I"].mean(axis=1, keepdims=True)
    denom = np.sqrt((e**2).sum(axis=1) * (i**2).sum(axis=1))
    ok = varies & (denom > 0)
    return np.where(ok, (e * i).sum(axis=1) / np.where(ok, denom, 1.0), np.nan)


def _ie_correlation(h: np.ndarray, circular: bool, *, network) -> np.ndarray:
    """The mean over trials of :func:`ie_rate_correlation` with ``network``'s populations; NaN without E and I."""
    populations = network.cell_object.populations(network.n_rec)
    if any(p not in populations for p in EI_POPULATIONS):
        return np.float64(np.nan)
    per_trial = ie_rate_correlation(h, populations)
    defined = per_trial[np.isfinite(per_trial)]
    return np.float64(defined.mean()) if defined.size else np.float64(np.nan)


register_statistic(Statistic(
    "I–E rate correlation", _ie_correlation, "1", of="h", key="ie_correlation", per_trial=False,
    needs_network=True,
    description="correlation over time of the E and I population mean rates [h]+, averaged over the trials where "
                "both vary (docs/dale.md); NaN for a network without an E/I split (its cell has no E and I "
                "populations) or where no trial's rates vary"))
