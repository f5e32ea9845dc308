"""Reading a sweep spec's YAML or dict into its section dataclasses (:mod:`neurorx.sweep.spec_sections`):
known keys, types and ranges, and a whole-steps ``burn_in`` translated into the fraction it drops.
"""

from __future__ import annotations

import importlib
import inspect
import math
import numbers
from dataclasses import fields, replace
from pathlib import Path

from neurorx.analysis import STATISTICS, burn_in_fraction, get_statistic
from neurorx.backends import all_backends
from neurorx.io.extras import require
from neurorx.registry import suggest
from neurorx.resources import check_count
from neurorx.sweep.kinds import CUSTOM, phase_classes
from neurorx.sweep.spec_sections import Condition, RunSpec, SpecError, StatisticSpec, SweepSpec, TrainSpec
from neurorx.yamlfile import read_yaml

__all__ = []


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


_TOP = ("name", "description", "retries", "out", "imports", "train", "runs", "statistics")
_TRAIN = ("conditions", "seeds", "overrides")
_CONDITION = ("card", "overrides")
_RUN = tuple(f.name for f in fields(RunSpec) if f.name != "name")
_PHASE = ("phase", "steps", "start", "noise", "noise_scale", "label")
_STAT = ("statistic", "of", "phases", "function", "scope")


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
        except (KeyError, TypeError, ValueError) as err:
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
    nwb = data.get("nwb", False)
    if not isinstance(nwb, bool):
        raise SpecError(f"{prefix}.nwb must be true (write each run as an NWB file) or false; got {nwb!r}")
    if nwb:
        require("pynwb", f"{prefix}.nwb (an NWB file per run)")
    return RunSpec(
        name=name, protocol=tuple(phases), backends=backends,
        trials=_int(data.get("trials", 200), f"{prefix}.trials", minimum=1),
        seeds=_seeds(data.get("seeds", [0]), f"{prefix}.seeds"), record=record,
        every=_int(data.get("every", 1), f"{prefix}.every", minimum=1),
        dt_factor=_int(data.get("dt_factor", 1), f"{prefix}.dt_factor", minimum=1),
        conditions=_str_list(data.get("conditions"), f"{prefix}.conditions"),
        options={b: dict(o) for b, o in options.items()}, nwb=nwb,
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
