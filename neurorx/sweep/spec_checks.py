"""The checks of a parsed sweep spec across its sections: cards and overrides, backends and their options,
statistics against the runs and tasks they read, and the statistics' parameters.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from types import SimpleNamespace

from neurorx.analysis import STATISTICS, Statistic, burn_in_steps
from neurorx.analysis.run_statistics import ESTIMATORS
from neurorx.backends import get_backend
from neurorx.checks import positive_int
from neurorx.errors import ConfigurationError
from neurorx.registry import suggest
from neurorx.resources import check_sweep_spec
from neurorx.sweep.kinds import CUSTOM
from neurorx.sweep.spec_parse import _resolve_callable
from neurorx.sweep.spec_sections import RunSpec, SpecError, StatisticSpec, SweepSpec, resolve_training
from neurorx.tasks import TASKS
from neurorx.training.config import RNNConfig

__all__ = ["PARAMETER_CHECKS"]


def _is_int(value, minimum: int) -> bool:
    try:
        positive_int(value, "value", minimum=minimum)
    except (ConfigurationError, TypeError):
        return False
    return True


def _is_positive_number(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(value) and value > 0


#: Spec-time checks of the registered statistics' parameters: name -> (accepts the value?, what it must be).
PARAMETER_CHECKS: dict[str, tuple[Callable, str]] = {
    "burn_in": (lambda v: isinstance(v, float) and 0 <= v < 1, "a fraction of the phase in [0, 1)"),
    "n_components": (lambda v: _is_int(v, 1), "a positive integer"),
    "n_mc": (lambda v: _is_int(v, 2), "an integer >= 2"),
    "mc_seed": (lambda v: _is_int(v, 0), "a non-negative integer seed"),
    "bins": (lambda v: _is_int(v, 2), "an integer >= 2 (equal bins on the circle)"),
    "box": (_is_positive_number, "a positive number of metres (the half-width of the uniform box)"),
    "estimators": (lambda v: isinstance(v, (list, tuple)) and len(v) > 0 and all(e in ESTIMATORS for e in v),
                   f"a non-empty list of estimators from {list(ESTIMATORS)}"),
}


def _validate(spec: SweepSpec, *, check_cards: bool) -> None:
    cond_names = spec.train.names
    for run in spec.runs:
        for c in run.conditions:
            if c not in cond_names:
                raise SpecError(f"runs.{run.name}.conditions: unknown condition {c!r}; the spec trains "
                                f"{cond_names}." + suggest(c, cond_names))
        for b, opts in run.options.items():
            _check_backend_options(run, b, opts)
    run_names = [r.name for r in spec.runs]
    for st in spec.statistics:
        where = f"statistics.{st.name}"
        if st.statistic == CUSTOM:
            _resolve_callable(st.function, f"{where}.function")
        stat = st.entry(spec.imports)
        if stat.scope == "training":
            if st.of is not None:
                raise SpecError(f"{where}.of: {st.statistic} is a statistic of the training; remove 'of'")
            if st.phases:
                raise SpecError(f"{where}.phases: {st.statistic} is a statistic of the training; remove 'phases'")
        else:
            if st.of is None:
                raise SpecError(f"{where}: name the run it reads with 'of: RUN' (one of {run_names})")
            if st.of not in run_names:
                raise SpecError(f"{where}.of: unknown run {st.of!r}; the spec's runs are {run_names}."
                                + suggest(st.of, run_names))
            run = spec.run(st.of)
            steps = run.phase_steps()
            for ph in st.phases or stat.phases:
                if ph not in steps:
                    raise SpecError(f"{where}.phases: run {run.name!r} has no phase {ph!r}; its phases are "
                                    f"{list(steps)}." + suggest(ph, list(steps)))
            _check_statistic(st, stat, run, where)
    if check_cards:
        cards = {cond.name: resolve_training(spec.train, cond, spec.train.seeds[0]) for cond in spec.train.conditions}
        for st in spec.statistics:
            _check_task(spec, st, st.entry(spec.imports), cards)
        units = {c: card["rnn"]["n_rec"] for c, card in cards.items()}
        for st in spec.statistics:
            n = st.params.get("n_components")
            if n is None or st.of is None:
                continue
            run = spec.run(st.of)
            small = {c: units[c] for c in (list(run.conditions) or spec.train.names) if units[c] < n}
            if small:
                raise SpecError(f"statistics.{st.name}.n_components={n} exceeds the units of the network(s) it "
                                f"reads ({', '.join(f'{c}: {u}' for c, u in small.items())}); use at most "
                                f"{min(small.values())}")
        for run in spec.runs:
            _check_backend_options_against_cards(run, cards)
        check_sweep_spec(spec)   # job count and the memory of the largest training and run


def _check_statistic(st: StatisticSpec, stat: Statistic, run: RunSpec, where: str) -> None:
    """Spec-time checks of a statistic against the run it reads: recorded arrays, parameters, phases, burn-in."""
    if stat.of == "h" and "h" not in run.record:
        raise SpecError(f"{where}: {st.statistic} needs the hidden states; add 'record: [h]' to runs.{run.name}")
    for name, value in st.params.items() if st.statistic != CUSTOM else ():
        accepts, what = PARAMETER_CHECKS.get(name, (None, ""))
        if accepts is not None and not accepts(value):
            raise SpecError(f"{where}.{name} must be {what}; got {value!r}")
    phases = st.phases or stat.phases
    if stat.scope == "conditions" and len(phases) != 2:
        raise SpecError(f"{where}.phases: {st.statistic} takes two phases [active_phase, quiescent_phase]")
    if stat.scope == "run" and st.statistic != CUSTOM and len(phases) != 2:
        raise SpecError(f"{where}.phases: {st.statistic} takes two phases [active_phase, quiescent_phase]")
    burn_in = st.params.get("burn_in")
    if burn_in:
        steps = run.phase_steps()
        for ph in phases:
            kept = steps[ph] - burn_in_steps(steps[ph], burn_in)
            if kept < 2:
                raise SpecError(f"{where}.burn_in={burn_in:g} leaves {kept} of the {steps[ph]} steps of phase "
                                f"{ph!r} of run {run.name!r}; at least 2 must remain")


def _check_task(spec: SweepSpec, st: StatisticSpec, stat: Statistic, cards: dict) -> None:
    """Refuse a statistic that is not defined for the task its conditions train (angles or positions)."""
    conds = spec.train.names if st.of is None else (list(spec.run(st.of).conditions) or spec.train.names)
    for c in conds:
        task = cards[c]["task"]["name"]
        circular = bool(getattr(TASKS.get(task), "circular", False))
        if not stat.applies_to(circular):
            fits = [STATISTICS.get(n).key for n in STATISTICS.names()
                    if STATISTICS.get(n).scope == stat.scope and STATISTICS.get(n).applies_to(circular)]
            kind = "angles (head direction)" if circular else "positions"
            raise SpecError(f"statistics.{st.name}: {st.statistic} is not defined for {kind}, and condition {c!r} "
                            f"trains {task}; use {' or '.join(fits) or 'another statistic'}")


def _check_backend_options(run: RunSpec, backend: str, opts: dict) -> None:
    impl = get_backend(backend)
    accepted = getattr(impl, "options", None)
    for key, value in opts.items():
        if accepted is not None and key not in accepted:
            raise SpecError(f"runs.{run.name}.options.{backend}: the {backend} backend takes no option {key!r}; "
                            f"its options are {', '.join(accepted) or 'none'}." + suggest(key, accepted))
        if not isinstance(value, str | int | float | bool) or (isinstance(value, float) and not math.isfinite(value)):
            raise SpecError(f"runs.{run.name}.options.{backend}.{key} must be a plain value; got {value!r}")


def _check_backend_options_against_cards(run: RunSpec, cards: dict) -> None:
    """Options of a backend that checks them (``check_options``), against each network the run will read.

    The networks are not trained yet: the check gets their step ``dt``, size ``n_rec``, cell and activation
    from the cards, so a run that cannot work (a spiking option such as an unknown neuron model or
    ``max_rate * spike_dt >= 1``, more neurons than fit in memory, a cell that cannot be spiked) is refused when
    the spec is read, not after the trainings.
    """
    for backend in run.backends:
        check = getattr(get_backend(backend), "check_options", None)
        if check is None:
            continue
        for cond in run.conditions or tuple(cards):
            rnn = RNNConfig.from_dict(dict(cards[cond]["rnn"]))
            cell = rnn.cell_object()
            stand_in = SimpleNamespace(dt=rnn.dt_s, n_rec=int(rnn.n_rec), cell=rnn.cell, cell_object=cell,
                                       activation=rnn.activation or cell.default_activation)
            try:
                check(stand_in, trials=run.trials, dt_factor=run.dt_factor, **run.options.get(backend, {}))
            except (ValueError, TypeError) as err:
                raise SpecError(f"runs.{run.name}.options.{backend} (condition {cond!r}): {err}") from None
