"""The parameters the sweep tests give every registered statistic (the same on every path they compare)."""

from neurorx.analysis import STATISTICS

BURN_IN = 0.25          # the fraction of a phase dropped by statistics with a burn-in
N_MC = 200              # Monte-Carlo samples of the KL estimators (paths are compared, not estimators)
CELL = {"seed": 0, "backend": "torch", "run_seed": 0}


def params_of(stat) -> dict:
    """The parameters the sweep gives ``stat`` (and the other paths use)."""
    params = {}
    if stat.burn_in:
        params["burn_in"] = BURN_IN
    if "n_mc" in stat.params:
        params["n_mc"] = N_MC
    if "n_resamples" in stat.params:     # score_measures: a short recording and few resamples
        params.update(trials=4, steps=30, burn_in_steps=10, n_resamples=20)
    return params


def spec_entries(circular: bool) -> dict:
    """A spec's ``statistics`` section naming every registered statistic defined for angles or positions."""
    return {s.key: {"statistic": s.key, **({} if s.scope == "training" else {"of": "reactivation"}), **params_of(s)}
            for _, s in STATISTICS.items() if s.applies_to(circular)}
