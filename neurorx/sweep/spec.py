"""Sweep specifications: the YAML file that names a grid of jobs, read into validated dataclasses.

A spec has four sections (see ``docs/sweeps.md`` for the full reference)::

    name: tiny
    retries: 2                        # attempts after the first, per job
    train:                            # cards x overrides x seeds
      seeds: [0, 1]
      overrides: [rnn.n_rec=16, trainer.n_epochs=3]       # for every condition
      conditions:
        Us: {card: spatial_navigation/noisy_unbiased}
        U:  {card: spatial_navigation/no-noise_unbiased, overrides: [trainer.lr=2e-3]}
    runs:                             # networks x protocols x backends x seeds
      reactivation:
        protocol:
          - {phase: active, steps: 100}
          - {phase: quiescent, steps: 1000, start: reset}
        backends: [torch, brian2]
        trials: 200
        seeds: [0]
    statistics:                       # what to collect (one variable of the result Dataset each)
      total_variance: {of: reactivation, phases: [quiescent], burn_in: 0.5}
      kl: {statistic: kl_matrix, of: reactivation}

A statistic is an entry of :data:`neurorx.analysis.STATISTICS`, named by its key, with that entry's
parameters; ``burn_in`` is the fraction of the phase dropped, as everywhere in neurorx. A whole number of
steps (``burn_in: 500``, the syntax of earlier versions) is translated into the fraction that drops exactly
those steps of the phase, or refused when the phases it is computed on differ in length.

Everything is checked by :func:`load_spec` before any job starts: unknown keys (with suggestions), unknown
cards, overrides and statistics, impossible values (a negative seed, zero trials, a burn-in that leaves
fewer than two steps), a statistic that does not fit the task its conditions train (a planar KL matrix of
head direction). Errors are :class:`neurorx.errors.ConfigurationError` naming the key.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import math
import numbers
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from neurorx.analysis import STATISTICS, Statistic, burn_in_fraction, burn_in_steps, get_statistic
from neurorx.analysis.run_statistics import ESTIMATORS
from neurorx.backends import all_backends, get_backend
from neurorx.checks import positive_int
from neurorx.errors import ConfigurationError
from neurorx.registry import suggest
from neurorx.resources import check_count, check_sweep_spec
from neurorx.sweep.kinds import CUSTOM, phase_classes, statistic_of
from neurorx.tasks import TASKS
from neurorx.training import apply_overrides, load_card
from neurorx.yamlfile import read_yaml

__all__ = ["Condition", "RunSpec", "StatisticSpec", "SweepSpec", "TrainSpec", "default_out", "load_spec",
           "phase_classes", "resolve_training"]

#: Training settings a sweep fixes unless the spec overrides them: one torch thread per job (the workers run
#: one job per core, and a job's numbers then do not depend on the machine's core count).
TRAIN_DEFAULTS = ("trainer.threads=1",)


class SpecError(ConfigurationError):
    """An invalid sweep specification (unknown key, unknown card or statistic, impossible value)."""


# ----------------------------------------------------------------------------------------------------------
# helpers


def _where(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _check_keys(data, allowed, prefix: str, *, what: str = "a mapping") -> dict:
    """``data`` as a dict whose keys are all in ``allowed``; an unknown key names itself and close ones."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SpecError(f"{prefix or 'the spec'} must be {what}; got {data!r}")
    for key in data:
        if key not in allowed:
            raise SpecError(f"unknown key '{_where(prefix, key)}'." + suggest(key, allowed)
                            + f" Valid keys{' of ' + repr(prefix) if prefix else ''}: {', '.join(allowed)}.")
    return data


def _int(value, key: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not float(value).is_integer():
        raise SpecError(f"{key} must be an integer >= {minimum}; got {value!r}")
    if value < minimum:
        raise SpecError(f"{key} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def _str_list(value, key: str, *, allow_empty: bool = True) -> tuple[str, ...]:
    if value is None:
        value = []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise SpecError(f"{key} must be a list of strings; got {value!r}")
    if not value and not allow_empty:
        raise SpecError(f"{key} must not be empty")
    return tuple(value)


def _seeds(value, key: str) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if isinstance(value, dict) and set(value) <= {"start", "count"} and "count" in value:
        start = _int(value.get("start", 0), f"{key}.start", minimum=0)
        count = check_count(_int(value["count"], f"{key}.count", minimum=1), f"{key}.count", "use fewer seeds")
        value = list(range(start, start + count))
    if not isinstance(value, list | tuple) or not value:
        raise SpecError(f"{key} must be a non-empty list of seeds (e.g. [0, 1, 2]) or {{start: 0, count: 5}}; "
                        f"got {value!r}")
    seeds = tuple(_int(v, f"{key}[{i}]", minimum=0) for i, v in enumerate(value))
    if len(set(seeds)) != len(seeds):
        raise SpecError(f"{key} lists a seed twice: {list(seeds)}")
    return seeds


# ----------------------------------------------------------------------------------------------------------
# sections


@dataclass(frozen=True)
class Condition:
    """One trained-network condition: a model card plus ``key=value`` overrides.

    Attributes
    ----------
    name : str
        The condition's label in the results (``condition`` coordinate).
    card : str
        A card name under ``models/`` or a path to a card file.
    overrides : tuple of str
        Applied after the sweep-wide overrides.
    """

    name: str
    card: str
    overrides: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrainSpec:
    """Training grid: every condition is trained with every seed."""

    conditions: tuple[Condition, ...]
    seeds: tuple[int, ...] = (0,)
    overrides: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        """Condition names in spec order."""
        return [c.name for c in self.conditions]


@dataclass(frozen=True)
class RunSpec:
    """A protocol run on every trained network of ``conditions``, with every backend and run seed.

    Attributes
    ----------
    name : str
    protocol : tuple of dict
        Phases, ``{phase: KIND, steps: N, start: ..., noise_scale: ..., label: ...}``.
    backends : tuple of str
    trials : int
    seeds : tuple of int
        Seeds of :meth:`neurorx.Protocol.run` (trajectories, start states, noise).
    record : tuple of str
        ``"h"`` and/or ``"y"`` (needed by statistics of hidden states).
    every : int
        Record ``h``/``y`` every k steps.
    dt_factor : int
        Simulate at ``dt = step / dt_factor``.
    conditions : tuple of str
        The trained conditions this run uses (default all).
    options : dict
        Backend name -> keyword options of that backend (e.g. ``{brian2: {target: numpy}}``).
    """

    name: str
    protocol: tuple[dict, ...]
    backends: tuple[str, ...] = ("torch",)
    trials: int = 200
    seeds: tuple[int, ...] = (0,)
    record: tuple[str, ...] = ()
    every: int = 1
    dt_factor: int = 1
    conditions: tuple[str, ...] = ()
    options: dict = field(default_factory=dict)

    def phase_steps(self) -> dict[str, int]:
        """Phase label -> total steps under that label."""
        out: dict[str, int] = {}
        for p in self.protocol:
            label = p.get("label") or p["phase"]
            out[label] = out.get(label, 0) + int(p["steps"])
        return out


@dataclass(frozen=True)
class StatisticSpec:
    """One variable of the results: a statistic of runs (or of the training), with its parameters.

    Attributes
    ----------
    name : str
        Variable name in the Dataset.
    statistic : str
        The key of an entry of :data:`neurorx.analysis.STATISTICS` (default: ``name``), or ``"custom"`` with
        ``function: module:callable``.
    of : str or None
        The run whose recordings it reads (``None`` for statistics of the training, e.g. learning_curve).
    phases : tuple of str
        Phases it is computed on (a ``phase`` dimension when more than one).
    params : dict
        Keyword arguments of the statistic.
    function : str or None
        ``module:callable`` of a custom statistic.
    scope : {"phase", "run"}
        What a custom function sees: one phase at a time (default), or the whole recording (``run``: every
        phase, e.g. for KL(quiescent ‖ active)).
    """

    name: str
    statistic: str
    of: str | None = None
    phases: tuple[str, ...] = ()
    params: dict = field(default_factory=dict)
    function: str | None = None
    scope: str = "phase"

    def job_config(self, imports=()) -> dict:
        """The config of this statistic's jobs (without the conditions of a statistic across conditions)."""
        config = {"statistic": self.statistic, "phases": list(self.phases), "params": dict(self.params),
                  "function": self.function}
        if self.scope != "phase":
            config["scope"] = self.scope
        if imports:
            config["imports"] = list(imports)
        return config

    def entry(self, imports=()) -> Statistic:
        """The :class:`~neurorx.analysis.Statistic` it applies."""
        return statistic_of(self.job_config(imports))


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: training grid, runs and statistics, with the retry count and output folder.

    Build with :func:`load_spec` (from YAML or a dict); :meth:`to_dict` gives the JSON form stored in the
    results.
    """

    name: str
    train: TrainSpec
    runs: tuple[RunSpec, ...] = ()
    statistics: tuple[StatisticSpec, ...] = ()
    retries: int = 2
    description: str = ""
    out: str | None = None
    source: str | None = None
    imports: tuple[str, ...] = ()

    def run(self, name: str) -> RunSpec:
        """The run called ``name``."""
        for r in self.runs:
            if r.name == name:
                return r
        raise KeyError(name)

    def to_dict(self) -> dict:
        """The spec in its YAML layout, JSON-able; :func:`load_spec` reads it back.

        The output folder and the source path are left out: they do not change the results.
        """
        train = {"seeds": list(self.train.seeds), "overrides": list(self.train.overrides),
                 "conditions": {c.name: {"card": c.card, "overrides": list(c.overrides)}
                                for c in self.train.conditions}}
        runs = {}
        for r in self.runs:
            d = asdict(r)
            d.pop("name")
            runs[r.name] = d
        stats = {}
        for st in self.statistics:
            d = {"statistic": st.statistic, "of": st.of, "phases": list(st.phases), **st.params}
            if st.function is not None:
                d["function"] = st.function
            if st.scope != "phase":
                d["scope"] = st.scope
            stats[st.name] = d
        d = {"name": self.name, "description": self.description, "retries": self.retries, "train": train,
             "runs": runs, "statistics": stats}
        if self.imports:
            d["imports"] = list(self.imports)
        return json.loads(json.dumps(d))

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), sort_keys=True)


# ----------------------------------------------------------------------------------------------------------
# parsing


_TOP = ("name", "description", "retries", "out", "imports", "train", "runs", "statistics")
_TRAIN = ("conditions", "seeds", "overrides")
_CONDITION = ("card", "overrides")
_RUN = tuple(f.name for f in fields(RunSpec) if f.name != "name")
_PHASE = ("phase", "steps", "start", "noise_scale", "label")
_STAT = ("statistic", "of", "phases", "function", "scope")


def load_spec(spec, *, check_cards: bool = True) -> SweepSpec:
    """Read and validate a sweep spec.

    Parameters
    ----------
    spec : str, Path, dict or SweepSpec
        A YAML file (read with OmegaConf, so ``${...}`` interpolations resolve) or its contents as a dict.
    check_cards : bool
        Resolve every card and override now (the default), so that a typo fails before any job starts.

    Raises
    ------
    ConfigurationError
        Naming the first problem: an unknown key (with suggestions), an unknown card, override, backend,
        phase or statistic, or an impossible value.
    FileNotFoundError
        If ``spec`` is a path that does not exist.
    """
    if isinstance(spec, SweepSpec):
        return spec
    source = None
    if isinstance(spec, str | Path):
        path = Path(spec)
        if not path.is_file():
            raise FileNotFoundError(f"no sweep spec {str(spec)!r}; give a YAML file, e.g. "
                                    "protocols/sweeps/paper_five_seeds.yaml")
        source = str(path)
        data = _read_yaml(path)
    elif isinstance(spec, dict):
        data = copy.deepcopy(spec)
    else:
        raise TypeError(f"a sweep spec is a YAML path or a dict; got {type(spec).__name__}")
    try:
        parsed = _parse(data, source)
        parsed = _translate_burn_in(parsed)
        _validate(parsed, check_cards=check_cards)
    except SpecError as err:
        if source:
            raise SpecError(f"{source}: {err}") from None
        raise
    return parsed


def _read_yaml(path: Path) -> dict:
    data = read_yaml(path, "sweep spec")
    if not isinstance(data, dict):
        raise SpecError(f"{path}: a sweep spec is a mapping with sections train, runs, statistics")
    return data


def _parse(data: dict, source: str | None) -> SweepSpec:
    data = _check_keys(data, _TOP, "")
    if "train" not in data:
        raise SpecError("the spec has no 'train' section (conditions and seeds of the networks to train)")
    name = data.get("name") or (Path(source).stem if source else "sweep")
    if not isinstance(name, str):
        raise SpecError(f"name must be a string; got {name!r}")
    retries = _int(data.get("retries", 2), "retries", minimum=0)
    out = data.get("out")
    if out is not None and not isinstance(out, str):
        raise SpecError(f"out must be a folder path; got {out!r}")
    imports = _str_list(data.get("imports"), "imports")
    for module in imports:
        try:
            importlib.import_module(module)
        except ImportError as err:
            raise SpecError(f"imports: cannot import {module!r} ({err}); it must be importable here and on every "
                            "worker (installed, or on PYTHONPATH)") from None
    train = _parse_train(data["train"])
    runs = tuple(_parse_run(k, v) for k, v in _named(data.get("runs"), "runs").items())
    stats = tuple(_parse_stat(k, v) for k, v in _named(data.get("statistics"), "statistics").items())
    return SweepSpec(name=name, train=train, runs=runs, statistics=stats, retries=retries,
                     description=str(data.get("description") or ""), out=out, source=source, imports=imports)


def _named(section, prefix: str) -> dict:
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise SpecError(f"{prefix} must map names to entries, e.g. {prefix}: {{my_name: {{...}}}}; got {section!r}")
    for key in section:
        if not isinstance(key, str) or not key.isidentifier():
            raise SpecError(f"{prefix}: name {key!r} must be an identifier (letters, digits, _)")
    return section


def _parse_train(data) -> TrainSpec:
    data = _check_keys(data, _TRAIN, "train")
    conds = _named(data.get("conditions"), "train.conditions")
    if not conds:
        raise SpecError("train.conditions is empty; name at least one condition, e.g. "
                        "conditions: {Us: {card: spatial_navigation/noisy_unbiased}}")
    out = []
    for name, entry in conds.items():
        if isinstance(entry, str):
            entry = {"card": entry}
        entry = _check_keys(entry, _CONDITION, f"train.conditions.{name}")
        if not isinstance(entry.get("card"), str):
            raise SpecError(f"train.conditions.{name}.card must name a model card, e.g. "
                            "spatial_navigation/noisy_unbiased")
        out.append(Condition(name, entry["card"], _str_list(entry.get("overrides"),
                                                            f"train.conditions.{name}.overrides")))
    return TrainSpec(conditions=tuple(out), seeds=_seeds(data.get("seeds", [0]), "train.seeds"),
                     overrides=_str_list(data.get("overrides"), "train.overrides"))


def _parse_run(name: str, data) -> RunSpec:
    prefix = f"runs.{name}"
    data = _check_keys(data, _RUN, prefix)
    protocol = data.get("protocol")
    if not isinstance(protocol, list) or not protocol:
        raise SpecError(f"{prefix}.protocol must be a non-empty list of phases, e.g. "
                        "[{phase: active, steps: 100}, {phase: quiescent, steps: 1000}]")
    kinds = phase_classes()
    phases = []
    for i, ph in enumerate(protocol):
        where = f"{prefix}.protocol[{i}]"
        ph = dict(_check_keys(ph, _PHASE, where))
        if ph.get("phase") not in kinds:
            raise SpecError(f"{where}.phase: unknown phase {ph.get('phase')!r}; choose one of {sorted(kinds)}."
                            + suggest(ph.get("phase"), kinds))
        ph["steps"] = _int(ph.get("steps"), f"{where}.steps", minimum=1)
        kw = {k: v for k, v in ph.items() if k != "phase"}
        try:
            kinds[ph["phase"]](**kw)
        except (TypeError, ValueError) as err:
            raise SpecError(f"{where}: {err}") from None
        phases.append(ph)
    backends = _str_list(data.get("backends", ["torch"]), f"{prefix}.backends", allow_empty=False)
    known = list(all_backends())
    for b in backends:
        if b not in known:
            raise SpecError(f"{prefix}.backends: unknown backend {b!r}; choose from {known}." + suggest(b, known))
    record = _str_list(data.get("record"), f"{prefix}.record")
    for r in record:
        if r not in ("h", "y"):
            raise SpecError(f"{prefix}.record: {r!r} cannot be recorded; give h and/or y")
    options = _check_keys(data.get("options"), known, f"{prefix}.options")
    for b, opts in options.items():
        if not isinstance(opts, dict):
            raise SpecError(f"{prefix}.options.{b} must be a mapping of that backend's options; got {opts!r}")
    return RunSpec(
        name=name, protocol=tuple(phases), backends=backends,
        trials=_int(data.get("trials", 200), f"{prefix}.trials", minimum=1),
        seeds=_seeds(data.get("seeds", [0]), f"{prefix}.seeds"), record=record,
        every=_int(data.get("every", 1), f"{prefix}.every", minimum=1),
        dt_factor=_int(data.get("dt_factor", 1), f"{prefix}.dt_factor", minimum=1),
        conditions=_str_list(data.get("conditions"), f"{prefix}.conditions"),
        options={b: dict(o) for b, o in options.items()},
    )


def _statistic_keys() -> list[str]:
    """The names a spec's ``statistic`` may give: every registered statistic's key, and ``custom``."""
    return [STATISTICS.get(n).key for n in STATISTICS.names()] + [CUSTOM]


def _parse_stat(name: str, data) -> StatisticSpec:
    prefix = f"statistics.{name}"
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SpecError(f"{prefix} must be a mapping (statistic, of, phases and the statistic's parameters)")
    kind = data.get("statistic", name)
    keys = _statistic_keys()
    if not isinstance(kind, str) or kind not in keys:
        raise SpecError(f"{prefix}.statistic: unknown statistic {kind!r}; choose one of {keys}." + suggest(kind, keys))
    function = data.get("function")
    if (kind == CUSTOM) != (function is not None):
        raise SpecError(f"{prefix}: 'function: module:callable' goes with 'statistic: custom' (and only there)")
    scope = data.get("scope", "phase")
    if kind != CUSTOM and "scope" in data:
        raise SpecError(f"{prefix}.scope: only a custom statistic takes a scope ({kind} reads "
                        f"{get_statistic(kind).scope!r}); remove it")
    if scope not in ("phase", "run"):
        raise SpecError(f"{prefix}.scope must be 'phase' (the function sees one phase at a time) or 'run' (the "
                        f"whole recording); got {scope!r}")
    if kind == CUSTOM:   # the parameters of the user's function, after the recording
        names = list(inspect.signature(_resolve_callable(function, f"{prefix}.function")).parameters)[1:]
    else:
        names = list(get_statistic(kind).parameters())
    data = _check_keys(data, list(_STAT) + names, prefix)
    params = {k: v for k, v in data.items() if k not in _STAT}
    of = data.get("of")
    if of is not None and not isinstance(of, str):
        raise SpecError(f"{prefix}.of must name a run; got {of!r}")
    phases = _str_list(data.get("phases"), f"{prefix}.phases")
    return StatisticSpec(name=name, statistic=kind, of=of, phases=phases, params=params, function=function,
                         scope=scope)


def _translate_burn_in(spec: SweepSpec) -> SweepSpec:
    """The spec with every ``burn_in`` a fraction of the phase: a whole number of steps becomes the fraction
    that drops exactly those steps (:func:`neurorx.analysis.burn_in_fraction`).
    """
    stats = []
    for st in spec.statistics:
        value = st.params.get("burn_in")
        where = f"statistics.{st.name}.burn_in"
        if value is None or st.statistic == CUSTOM:     # a custom function's burn_in is its own
            stats.append(st)
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
            raise SpecError(f"{where} must be a fraction of the phase in [0, 1) (e.g. 0.5); got {value!r}")
        if isinstance(value, float):
            if value >= 1:
                raise SpecError(f"{where} is the fraction of the phase dropped, in [0, 1) (e.g. 0.5); got {value!r}"
                                " (a whole number such as 1000 is read as steps)")
            stats.append(st)
            continue
        if value == 0 or st.of is None or st.of not in [r.name for r in spec.runs]:
            stats.append(replace(st, params={**st.params, "burn_in": 0.0 if value == 0 else value}))
            continue
        steps = spec.run(st.of).phase_steps()
        try:
            phases = st.entry(spec.imports).phases if not st.phases else st.phases
        except (ImportError, AttributeError, ValueError):
            phases = st.phases
        lengths = {ph: steps[ph] for ph in phases if ph in steps}
        if len(set(lengths.values())) > 1:
            raise SpecError(f"{where}={value} steps is a different fraction of each phase "
                            f"({', '.join(f'{p}: {n} steps' for p, n in lengths.items())}); give the fraction "
                            "of the phase to drop, e.g. burn_in: 0.5")
        if not lengths:
            stats.append(st)          # an unknown phase: _validate names it
            continue
        (phase, n), *_ = lengths.items()
        if value > n - 2:
            raise SpecError(f"{where}={value} leaves fewer than 2 of the {n} steps of phase {phase!r}; use a burn-in "
                            f"below {n - 1} steps or a fraction, e.g. burn_in: 0.5")
        stats.append(replace(st, params={**st.params, "burn_in": burn_in_fraction(value, n)}))
    return replace(spec, statistics=tuple(stats))


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


# ----------------------------------------------------------------------------------------------------------
# cross-checks


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

    The networks are not trained yet: the check gets their step ``dt`` and size ``n_rec`` from the cards, so a
    spiking option that cannot work (an unknown neuron model, ``max_rate * spike_dt >= 1``, more neurons than
    fit in memory) is refused when the spec is read, not after the trainings.
    """
    from types import SimpleNamespace

    from neurorx.units import parse_time

    for backend in run.backends:
        check = getattr(get_backend(backend), "check_options", None)
        if check is None:
            continue
        for cond in run.conditions or tuple(cards):
            rnn = cards[cond]["rnn"]
            stand_in = SimpleNamespace(dt=float(parse_time(rnn["dt"])), n_rec=int(rnn["n_rec"]))
            try:
                check(stand_in, trials=run.trials, dt_factor=run.dt_factor, **run.options.get(backend, {}))
            except (ValueError, TypeError) as err:
                raise SpecError(f"runs.{run.name}.options.{backend} (condition {cond!r}): {err}") from None


def _resolve_callable(ref, where: str):
    if not isinstance(ref, str) or ":" not in ref:
        raise SpecError(f"{where} must be 'module:callable', e.g. mylab.stats:peak_rate; got {ref!r}")
    mod, _, attr = ref.partition(":")
    try:
        fn = getattr(importlib.import_module(mod), attr)
    except (ImportError, AttributeError) as err:
        raise SpecError(f"{where}: cannot import {ref!r} ({err}); it must be importable on every worker") from None
    if not callable(fn):
        raise SpecError(f"{where}: {ref!r} is not callable")
    return fn


def resolve_training(train: TrainSpec, cond: Condition, seed: int) -> dict:
    """The resolved training configuration (card layout, JSON-able) of one condition and seed.

    Order: the card, :data:`TRAIN_DEFAULTS`, the sweep-wide overrides, the condition's overrides, ``seed``.

    Raises
    ------
    ConfigurationError
        For an unknown card (naming close ones) or an invalid override.
    """
    where = f"train.conditions.{cond.name}"
    try:
        cfg = load_card(cond.card)
    except FileNotFoundError as err:
        raise SpecError(f"{where}.card: {err}") from None
    except ConfigurationError as err:
        raise SpecError(f"{where}.card: {err}") from None
    try:
        cfg = apply_overrides(cfg, [*TRAIN_DEFAULTS, *train.overrides, *cond.overrides, f"seed={seed}"])
    except ConfigurationError as err:
        raise SpecError(f"{where}: override error: {err}") from None
    return json.loads(json.dumps(cfg.to_dict()))


def default_out(spec: SweepSpec) -> Path:
    """The output folder when none is given: the spec's ``out``, else ``runs/sweeps/<name>``."""
    return Path(spec.out) if spec.out else Path("runs") / "sweeps" / spec.name

