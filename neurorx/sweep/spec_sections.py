"""The sections of a sweep spec as validated dataclasses, and the training configuration each condition
resolves to (:func:`resolve_training`). Read through :func:`neurorx.sweep.spec.load_spec`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from neurorx.analysis import Statistic
from neurorx.errors import ConfigurationError
from neurorx.sweep.kinds import statistic_of
from neurorx.training import apply_overrides, load_card

__all__ = ["TRAIN_DEFAULTS", "Condition", "RunSpec", "SpecError", "StatisticSpec", "SweepSpec", "TrainSpec",
           "default_out", "resolve_training"]


#: Training settings a sweep fixes unless the spec overrides them: one torch thread per job (the workers run
#: one job per core, and a job's numbers then do not depend on the machine's core count).
TRAIN_DEFAULTS = ("trainer.threads=1",)


class SpecError(ConfigurationError):
    """An invalid sweep specification (unknown key, unknown card or statistic, impossible value)."""


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
        Phases, ``{phase: KIND, steps: N, start: ..., noise: ..., noise_scale: ..., label: ...}``; ``noise``
        replaces the training noise in that phase as :class:`neurorx.phases.Phase` takes it (a noise spec).
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
    nwb : bool
        Also write each run's recording as an NWB file, ``recording.nwb`` in its job folder
        (:func:`neurorx.io.nwb.write`; needs ``neurorx[data]``).
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
    nwb: bool = False

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
            if not d["nwb"]:
                d.pop("nwb")            # as a spec without the key reads
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
