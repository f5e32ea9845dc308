"""Reactivation statistics: pure functions on numpy arrays.

One module per job:

- :mod:`~neurorx.analysis.density` -- ``kde``, ``kde_grid`` (Gaussian KDEs of point clouds).
- :mod:`~neurorx.analysis.divergence` -- ``kl_divergence`` (reference and corrected estimators),
  ``uniform_box_logpdf``, ``kl_uniform_vs`` (uniform baseline, with the reference's log 2.2 quirk on
  request), ``energy_distance``, ``TrialEnergy`` (for resampling whole trials).
- :mod:`~neurorx.analysis.bootstrap` -- ``bootstrap_interval`` (BCa intervals) and ``permutation_p_value``,
  both from scipy.
- :mod:`~neurorx.analysis.tables` -- ``kl_table`` (Fig. 2e's KL matrix of several runs).
- :mod:`~neurorx.analysis.statistics` -- ``STATISTICS``, the one registry of statistics (per phase, of several
  phases, of several conditions, of a training), and the statistics of single phases.
- :mod:`~neurorx.analysis.run_statistics` -- the registered statistics of several phases, conditions or a
  training (KL(quiescent‖active), the KL matrices, the learning curve).
- :mod:`~neurorx.analysis.variance` -- ``total_variance`` (Fig. 2f), ``stepwise_distance`` (Fig. C.4).
- :mod:`~neurorx.analysis.pca` -- ``explained_variance`` (Fig. 1c), ``fit_pca``, ``project``.
- :mod:`~neurorx.analysis.circular` -- head-direction statistics (Fig. 3, C.5).
- :mod:`~neurorx.analysis.health` -- ``reactivation_health`` and its measures (collapse, noise floor, paths that
  move like noise): the checks a reactivation statistic needs.
- :mod:`~neurorx.analysis.ei_populations` -- the mean rates of a network's E and I populations and
  ``ie_correlation``, their correlation over time.
- :mod:`~neurorx.analysis.baselines` -- ``uniform_box_samples``, ``random_weights``, ``random_network``.

Arrays follow one convention: point clouds are ``(n, d)``, trajectories ``(B, T, d)`` (trials, time steps,
dimensions), hidden states ``(..., N)``. Every function validates its input and says how to fix it.
"""

from . import run_statistics  # noqa: F401  (registers the statistics of several phases, conditions, trainings)
from .baselines import random_network, random_weights, uniform_box_samples
from .bootstrap import BootstrapInterval, PermutationResult, bootstrap_interval, permutation_p_value
from .circular import (
    angular_velocity,
    circular_error,
    circular_kl,
    circular_mean,
    mean_angular_velocity,
    polar_histogram,
    wrap_angle,
)
from .density import kde, kde_grid, subsample_points
from .divergence import TrialEnergy, energy_distance, kl_divergence, kl_uniform_vs, uniform_box_logpdf
from .ei_populations import ie_rate_correlation, population_rates
from .health import (
    HealthThresholds,
    ReactivationHealth,
    activity_level,
    health_flags,
    noise_floor_variance,
    noise_fraction,
    path_noise_ratio,
    reactivation_health,
    recording_health,
    uniform_reference,
)
from .pca import explained_variance, fit_pca, project
from .score import score_alignment as score_alignment  # the rest: neurorx.analysis.score
from .statistics import (
    STATISTICS,
    Output,
    Statistic,
    applicable_statistics,
    burn_in_fraction,
    burn_in_steps,
    get_statistic,
    register_statistic,
)
from .tables import kl_table
from .variance import stepwise_distance, total_variance

__all__ = [
    "STATISTICS",
    "BootstrapInterval",
    "HealthThresholds",
    "Output",
    "PermutationResult",
    "ReactivationHealth",
    "Statistic",
    "TrialEnergy",
    "activity_level",
    "angular_velocity",
    "applicable_statistics",
    "bootstrap_interval",
    "burn_in_fraction",
    "burn_in_steps",
    "circular_error",
    "circular_kl",
    "circular_mean",
    "energy_distance",
    "explained_variance",
    "fit_pca",
    "get_statistic",
    "health_flags",
    "ie_rate_correlation",
    "kde",
    "kde_grid",
    "kl_divergence",
    "kl_table",
    "kl_uniform_vs",
    "mean_angular_velocity",
    "noise_floor_variance",
    "noise_fraction",
    "path_noise_ratio",
    "permutation_p_value",
    "polar_histogram",
    "population_rates",
    "project",
    "random_network",
    "random_weights",
    "reactivation_health",
    "recording_health",
    "register_statistic",
    "stepwise_distance",
    "subsample_points",
    "total_variance",
    "uniform_box_logpdf",
    "uniform_box_samples",
    "uniform_reference",
    "wrap_angle",
]
