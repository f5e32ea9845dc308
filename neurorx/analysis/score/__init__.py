r"""Score alignment: is a network's quiescent drift the score of its active states? (paper Eqs. 16–19)

The theory says a noisy network trained on path integration learns the denoising update

.. math:: \Delta r_1^* = \sigma^2 \nabla_r \log p(r)\,\Delta t ,

the score of the distribution :math:`p` of its own (noisy) active states, so that with the input removed and
the noise variance doubled it performs Langevin sampling of :math:`p`. This module measures that directly:

- :func:`quiescent_drift` -- the network's deterministic zero-input update minus the state, from the one
  definition of the dynamics (:meth:`neurorx.models.cells.Cell.step`), optionally plus the mean of the noise.
- :func:`fit_subspace` -- the leading principal components of the active states (number chosen by explained
  variance), where densities are estimated.
- :data:`SCORE_ESTIMATORS` -- :func:`kde_score` (analytic gradient of a Gaussian KDE log density) and
  :func:`dsm_score` (denoising score matching with a small torch MLP at the network's own noise level).
- :func:`score_alignment` -- cosine of drift and score per sample, best-fit scale against the theory's
  :math:`\sigma^2\Delta t`, and :func:`alignment_intervals` (bootstrap over trials).
- :func:`explained_drift` -- the fraction of the drift's variance among the densest states that a fitted
  multiple of the score explains (:math:`R^2`; well posed where the cosine has a generic positive part), and
  :func:`explained_drift_interval` (bootstrap over trials).
- :func:`network_score_measures` -- those measures (cosines, explained drift) of a network against two
  controls (shuffled score, untrained network), as the ``score_measures`` sweep statistic records them.
- :func:`continuous_flow` -- the noise-off flow of one training step on any backend (Brian2 continuous time
  at ``dt_factor`` 1, 16, ...), started at given states.
- :func:`tempered_comparison` -- the quiescent stationary law against the temperature prediction
  :math:`p^{2/k^2}` of noise scale :math:`k`.

The modules: :mod:`~neurorx.analysis.score.drift` runs the network, :mod:`~neurorx.analysis.score.dsm` trains
the score-matching MLP; :mod:`~neurorx.analysis.score.subspace`, :mod:`~neurorx.analysis.score.estimators`,
:mod:`~neurorx.analysis.score.alignment`, :mod:`~neurorx.analysis.score.explained` and
:mod:`~neurorx.analysis.score.temperature` work on arrays.
"""

from .alignment import ScoreAlignment, alignment_intervals, cosine_similarity, score_alignment
from .controls import CONTROLS, MEASURES, drift_score_measures, network_score_measures
from .drift import continuous_flow, noise_step_moments, quiescent_drift
from .dsm import dsm_score
from .estimators import SCORE_ESTIMATORS, kde_score, score_bandwidth
from .explained import explained_drift, explained_drift_interval
from .subspace import Subspace, fit_subspace
from .temperature import tempered_comparison

__all__ = [
    "CONTROLS",
    "MEASURES",
    "SCORE_ESTIMATORS",
    "ScoreAlignment",
    "Subspace",
    "alignment_intervals",
    "continuous_flow",
    "cosine_similarity",
    "drift_score_measures",
    "dsm_score",
    "explained_drift",
    "explained_drift_interval",
    "fit_subspace",
    "kde_score",
    "network_score_measures",
    "noise_step_moments",
    "quiescent_drift",
    "score_alignment",
    "score_bandwidth",
    "tempered_comparison",
]
