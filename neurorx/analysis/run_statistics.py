r"""Registered statistics of several phases, of several conditions and of a training.

Entries of :data:`neurorx.analysis.STATISTICS` whose scope is not a single phase (see
:mod:`neurorx.analysis.statistics`):

- ``kl_quiescent_active`` (scope ``"run"``): the paper's reactivation measure KL(quiescent ‖ active) of one
  recording, planar or circular; :func:`neurorx.compare` reports it per recording.
- ``kl_matrix`` (scope ``"conditions"``, positions): Fig. 2e's matrix KL(Q_j ‖ A_i) between conditions, plus
  the uniform distribution on the box, for each estimator.
- ``circular_kl_matrix`` (scope ``"conditions"``, angles): the same matrix for head direction, with the
  histogram estimator :func:`neurorx.analysis.circular_kl` and the uniform distribution on the circle.
- ``reactivation_health`` (scope ``"run"``): :func:`neurorx.analysis.recording_health` of one recording, its
  measures and whether it is flagged (collapsed to the noise floor, or a decoded path that moves like noise):
  the one rule :func:`neurorx.analysis.health_flags` that :func:`neurorx.compare` and the demo apply.
- ``learning_curve`` (scope ``"training"``): test loss and test decoding error over training (Fig. 1b).
- ``score_measures`` (scope ``"training"``): the score mechanism of a trained network, its quiescent drift
  against the score of its active states and two controls
  (:func:`neurorx.analysis.score.network_score_measures`).
"""

from __future__ import annotations

import math

import numpy as np

from neurorx.errors import ConfigurationError, FileFormatError

from .circular import circular_kl
from .divergence import kl_divergence, kl_uniform_vs
from .health import ReactivationHealth, recording_health
from .statistics import Output, Statistic, register_statistic

__all__ = ["ESTIMATORS", "HEALTH_OUTPUTS", "TEST_ERROR_UNITS", "health_of_outputs"]

#: KL estimators of :func:`neurorx.analysis.kl_divergence`; "reference" also uses the reference code's
#: per-axis uniform density for the uniform column (its log 2.2 inflation).
ESTIMATORS = ("corrected", "reference")

#: The unit of the test decoding error, as the training log prints it: name -> factor from the task's unit.
TEST_ERROR_UNITS = {"cm": 100.0, "deg": 180.0 / math.pi}


def _circular(rec) -> bool:
    return bool(rec.meta.get("circular", False))


def _require_planar(recs, what: str) -> None:
    if any(_circular(r) for r in recs):
        raise ConfigurationError(f"{what} compares planar positions; for head direction use circular_kl_matrix")


def _require_circular(recs, what: str) -> None:
    if not all(_circular(r) for r in recs):
        raise ConfigurationError(f"{what} compares angles (head direction); for positions use kl_matrix")


def _decoded_kl(p, q, circular: bool, n_mc: int, mc_seed: int, bins: int = 36) -> float:
    if circular:
        return circular_kl(p[..., 0], q[..., 0], bins=bins)
    return kl_divergence(p.reshape(-1, p.shape[-1]), q.reshape(-1, q.shape[-1]), method="corrected", n_mc=n_mc,
                         seed=mc_seed)


def _kl_quiescent_active(rec, phases, *, n_mc: int = 2500, mc_seed: int = 0, bins: int = 36) -> dict[str, Output]:
    r"""KL(quiescent ‖ active) of the decoded outputs of one recording (Fig. 2e's diagonal).

    Notes
    -----
    ``phases = (active, quiescent)``. Positions: :func:`neurorx.analysis.kl_divergence` (``corrected``) with
    ``n_mc`` Monte-Carlo samples; angles: :func:`neurorx.analysis.circular_kl` with ``bins`` bins.
    """
    active, quiescent = phases
    kl = _decoded_kl(rec.select(quiescent).decoded, rec.select(active).decoded, _circular(rec), n_mc, mc_seed,
                     bins)
    return {"": Output((), np.float64(kl), "nat")}


def _kl_matrix(recs: dict, phases, *, estimators=ESTIMATORS, n_mc: int = 2500, mc_seed: int = 0,
               box: float = 1.1) -> dict[str, Output]:
    r"""The KL matrix of Fig. 2e: :math:`\mathrm{KL}(Q_j \,\|\, A_i)` between the conditions' networks.

    Rows :math:`i`: the active decoded distribution of each condition; columns :math:`j`: the quiescent one
    of each condition, plus the uniform distribution on the box :math:`[-b, b]^2`. One value per estimator.

    Notes
    -----
    ``corrected``: :func:`neurorx.analysis.kl_divergence` without clipping, and
    :math:`\mathrm{KL}(\mathcal U\|A)` with the 2-D uniform density. ``reference``: the reference code's
    clipped ratio and, for the uniform column, its per-axis density (``reference_quirk=True``), which adds
    :math:`\log 2.2` nats.
    """
    active_phase, quiescent_phase = phases
    names = list(recs)
    _require_planar(recs.values(), "kl_matrix")
    act = {c: r.select(active_phase).decoded.reshape(-1, r.decoded.shape[-1]) for c, r in recs.items()}
    qui = {c: r.select(quiescent_phase).decoded.reshape(-1, r.decoded.shape[-1]) for c, r in recs.items()}
    cols = [*names, "uniform"]
    out = np.empty((len(names), len(cols), len(estimators)))
    for k, est in enumerate(estimators):
        for i, a in enumerate(names):
            for j, q in enumerate(names):
                out[i, j, k] = kl_divergence(qui[q], act[a], method=est, n_mc=n_mc, seed=mc_seed)
            out[i, -1, k] = kl_uniform_vs(act[a], box=(-box, box), method=est, n_mc=n_mc, seed=mc_seed,
                                          reference_quirk=est == "reference")
    return {"": Output(("active", "quiescent", "estimator"), out, "nat",
                       {"active": names, "quiescent": cols, "estimator": list(estimators)})}


def _circular_kl_matrix(recs: dict, phases, *, bins: int = 36) -> dict[str, Output]:
    r"""Fig. 2e's KL matrix for head direction: :math:`\mathrm{KL}(Q_j \,\|\, A_i)` of decoded bearings.

    Rows :math:`i`: the active decoded bearings of each condition; columns :math:`j`: the quiescent ones of
    each condition, plus the uniform distribution on the circle.

    Notes
    -----
    :func:`neurorx.analysis.circular_kl` with ``bins`` equal bins on :math:`[-\pi, \pi)`. The uniform column
    bins one angle per bin centre, so its histogram is exactly uniform after the pseudocount:
    :math:`\hat u_j = 1/J`.
    """
    active_phase, quiescent_phase = phases
    names = list(recs)
    _require_circular(recs.values(), "circular_kl_matrix")
    act = {c: r.select(active_phase).decoded[..., 0] for c, r in recs.items()}
    qui = {c: r.select(quiescent_phase).decoded[..., 0] for c, r in recs.items()}
    edges = np.linspace(-np.pi, np.pi, bins + 1)
    uniform = (edges[:-1] + edges[1:]) / 2
    cols = [*names, "uniform"]
    out = np.empty((len(names), len(cols)))
    for i, a in enumerate(names):
        for j, q in enumerate(names):
            out[i, j] = circular_kl(qui[q], act[a], bins=bins)
        out[i, -1] = circular_kl(uniform, act[a], bins=bins)
    return {"": Output(("active", "quiescent"), out, "nat", {"active": names, "quiescent": cols})}


#: The outputs of ``reactivation_health``: output name -> (ReactivationHealth attribute, unit).
HEALTH_OUTPUTS = {"flagged": ("flagged", "1"),
                  "mean_abs_h_active": ("mean_abs_h_active", "1"),
                  "mean_abs_h_quiescent": ("mean_abs_h_quiescent", "1"),
                  "noise_fraction": ("noise_fraction_quiescent", "1"),
                  "stepwise_active": ("stepwise_active", "{u}/step"),
                  "stepwise_quiescent": ("stepwise_quiescent", "{u}/step"),
                  "stepwise_shuffled": ("path_noise_quiescent", "1")}


def _reactivation_health(rec, phases, *, burn_in: float = 0.5, seed: int = 0) -> dict[str, Output]:
    r"""The health of one recording's quiescent phase against its active phase, and whether it is flagged.

    Notes
    -----
    ``phases = (active, quiescent)``; ``burn_in`` is the fraction of the quiescent phase dropped before its
    noise fraction and mean :math:`|h|` (as :func:`neurorx.compare`'s ``burn_in``).
    :func:`neurorx.analysis.recording_health`; ``flagged`` is 1 when
    :func:`neurorx.analysis.health_flags` gives any reason, else 0. A measure that needs the hidden states
    (``record: [h]``) is NaN without them and not checked.
    """
    health = recording_health(rec, phases=tuple(phases), burn_in=burn_in, seed=seed)
    if health is None:
        raise ConfigurationError(f"reactivation_health needs phases {list(phases)} with at least two samples each; "
                                 f"the recording has {list(rec.labels)}")
    unit = "rad" if _circular(rec) else "m"
    out = {}
    for name, (attr, u) in HEALTH_OUTPUTS.items():
        value = getattr(health, attr)
        out[name] = Output((), np.float64(np.nan if value is None else value), u.replace("{u}", unit))
    return out


def health_of_outputs(values: dict) -> ReactivationHealth:
    """The :class:`~neurorx.analysis.ReactivationHealth` measures of stored ``reactivation_health`` outputs.

    ``values`` maps the output names of :data:`HEALTH_OUTPUTS` (``flagged`` is not read) to numbers, NaN for
    a measure that was not computed; the returned object's ``flags`` are empty (ask
    :func:`neurorx.analysis.health_flags`).
    """
    kwargs = {attr: (None if not np.isfinite(v := float(values[name])) else v)
              for name, (attr, _) in HEALTH_OUTPUTS.items() if name != "flagged"}
    return ReactivationHealth(**kwargs)


def _score_measures(net, **params) -> dict[str, Output]:
    """:func:`neurorx.analysis.score.network_score_measures` as labelled outputs (control x measure x interval)."""
    from .score import CONTROLS, MEASURES, network_score_measures

    r = network_score_measures(net, **params)
    values = np.array([[r[c][m] for m in MEASURES] for c in CONTROLS], dtype=float)
    coords = {"control": list(CONTROLS), "measure": list(MEASURES), "interval": ["value", "low", "high"]}
    return {"score_measures": Output(("control", "measure", "interval"), values, "1", coords),
            "drift_scale": Output((), r["scale"], "1"), "theory_scale": Output((), r["theory_scale"], "1")}


def _learning_curve(net) -> dict[str, Output]:
    """Test loss and test decoding error over training (Fig. 1b), and their final values.

    The error is in the unit the training log prints (``metrics["error_unit"]``: cm for positions, deg for
    angles; :data:`TEST_ERROR_UNITS`).
    """
    m = net.metrics or {}
    curve = m.get("curve") or {}
    if not curve.get("batch"):
        raise FileFormatError("the trained network carries no learning curve (metrics.curve is empty)")
    batch = [int(b) for b in curve["batch"]]
    unit = m.get("error_unit") or ("deg" if getattr(net.task, "circular", False) else "cm")
    if unit not in TEST_ERROR_UNITS:
        raise FileFormatError(f"the network's metrics give the test error in {unit!r}; expected one of "
                              f"{sorted(TEST_ERROR_UNITS)}")
    loss = np.asarray(curve["test_loss"], dtype=float)
    err = np.asarray(curve["test_error"], dtype=float) * TEST_ERROR_UNITS[unit]
    return {"test_loss": Output(("eval_batch",), loss, "1", {"eval_batch": batch}),
            "test_error": Output(("eval_batch",), err, unit, {"eval_batch": batch}),
            "final_test_loss": Output((), loss[-1], "1"),
            "final_test_error": Output((), err[-1], unit)}


register_statistic(Statistic(
    "KL(quiescent‖active) decoded", _kl_quiescent_active, "nat", scope="run", key="kl_quiescent_active",
    params={"n_mc": 2500, "mc_seed": 0, "bins": 36},
    description="the paper's reactivation measure within one recording: KL of quiescent against active decoded "
                "outputs (Monte-Carlo KDE estimate for positions, histogram for angles)"))
register_statistic(Statistic(
    "kl_matrix", _kl_matrix, "nat", scope="conditions", circular=False,
    params={"estimators": ESTIMATORS, "n_mc": 2500, "mc_seed": 0, "box": 1.1},
    description="KL(Q_j ‖ A_i) between conditions and against the uniform box, per estimator (Fig. 2e)"))
register_statistic(Statistic(
    "circular_kl_matrix", _circular_kl_matrix, "nat", scope="conditions", linear=False, params={"bins": 36},
    description="KL(Q_j ‖ A_i) of decoded bearings between conditions and against the uniform circle (Fig. 2e "
                "for head direction)"))
register_statistic(Statistic(
    "reactivation_health", _reactivation_health, "1", scope="run", burn_in=True, params={"burn_in": 0.5, "seed": 0},
    description="the health of the quiescent activity (mean abs(h), noise floor, stepwise distance against the "
                "shuffled path and the active phase) and whether it is flagged as collapsed or moving like noise"))
register_statistic(Statistic(
    "learning_curve", _learning_curve, "1", scope="training", version=2,
    description="test loss and test decoding error over training and their final values (Fig. 1b)"))
register_statistic(Statistic(
    "score_measures", _score_measures, "1", scope="training",
    params={"trials": 30, "steps": 150, "every": 2, "burn_in_steps": 20, "top": 0.5, "n_resamples": 500, "seed": 0},
    description="the quiescent drift against the KDE score of the active states (mean cosine, non-linear cosine, "
                "explained drift R^2 in the densest half, plain and non-linear) for the network, a shuffled score "
                "and an untrained network, with bootstrap intervals over trials"))
