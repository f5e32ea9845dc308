r"""Training configuration: dataclasses, model cards (YAML) and ``key=value`` overrides, on OmegaConf.

A *model card* is a YAML file ``models/<task>/<name>.yml`` describing one network configuration of the paper
(task, recurrent cell, noise, training schedule, seed) together with a human description. It maps onto
:class:`Config`::

    label: "U^σ"
    description: |
      Spatial navigation, unbiased trajectories, vanilla ReLU RNN, reference uniform noise ...
    seed: 0
    task: {name: spatial_navigation, biased: false}
    rnn: {cell: vanilla, activation: relu, n_rec: 512, tau: 100 ms, dt: 20 ms, bias: false}
    noise: {recurrent: {name: reference_uniform, scale: 0.01}}
    trainer: {n_epochs: 2500, batch_size: 200, steps: 100, lr: 1.0e-3}

The sections are OmegaConf structured configs built from the dataclasses below (the task's section from the
task class's signature), so OmegaConf types and merges the values; any entry can be changed with dotted
``key=value`` overrides (``trainer.n_epochs=300 rnn.n_rec=64 seed=1``), and an unknown key is an error that
names it and suggests the closest valid keys. Times are ``"100 ms"`` strings (or seconds), parsed by
:func:`neurorx.units.parse_time`. Values may follow others through OmegaConf interpolation
(``dt_train: ${rnn.dt}``); a noise model's training step ``dt_train`` follows ``rnn.dt`` unless given.
"""

from __future__ import annotations

import copy
import inspect
import json
import math
import typing
from dataclasses import asdict, dataclass, field, fields, make_dataclass
from typing import Any

from brian2 import second
from omegaconf import OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from neurorx.checks import positive_int
from neurorx.errors import ConfigurationError
from neurorx.noise import NOISE_MODELS, PLACEMENTS, NoiseModel, noise_from_dict
from neurorx.registry import suggest
from neurorx.units import parse_time
from neurorx.zoo import CARD_SUFFIXES, find_card, list_cards, models_dir

__all__ = ["CARD_SUFFIXES", "Config", "ConfigError", "RNNConfig", "TaskConfig", "TrainerConfig", "apply_overrides",
           "find_card", "list_cards", "load_card", "models_dir", "parse_time"]

#: The configuration error (one type for every bad setting; an alias kept for existing imports).
ConfigError = ConfigurationError
_DTYPES = ("float32", "float64")
_EXPECTED = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
#: Fields of a noise model that follow another value unless the card gives them (OmegaConf interpolation).
FOLLOWS = {"dt_train": "${rnn.dt}"}


def _typed(cls, data: dict, prefix: str):
    """``data`` merged into the structured config of dataclass ``cls`` (typed by OmegaConf), as a plain dict."""
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix} must be a mapping of keys to values; got {data!r}")
    hints = typing.get_type_hints(cls)
    data = {k: int(v) if isinstance(v, float) and v.is_integer() and int in (hints.get(k), *typing.get_args(
        hints.get(k))) else v for k, v in data.items()}        # 1e2 -> 100 for an integer field
    try:
        return OmegaConf.to_container(OmegaConf.merge(OmegaConf.structured(cls), data))
    except ConfigKeyError as err:
        key = f"{prefix}.{err.key}" if prefix else str(err.key)
        names = [f.name for f in fields(cls)]
        raise ConfigError(f"unknown key '{key}'." + suggest(key, _all_static_keys() + [f"{prefix}.{n}" for n in names])
                          + f" Valid keys of '{prefix or 'the card'}': {', '.join(names)}.") from None
    except OmegaConfBaseException as err:
        tp = hints.get(err.key, Any)
        words = " or ".join(_EXPECTED.get(a, "null") for a in typing.get_args(tp) or (tp,))
        raise ConfigError(f"{prefix}.{err.key}: expected {words}, got {data.get(err.key)!r}") from None


@dataclass
class TaskConfig:
    """Which task to train on, with its constructor keyword arguments.

    Attributes
    ----------
    name : str
        Registry name in :data:`neurorx.tasks.TASKS` (``"spatial_navigation"`` or ``"head_direction"``).
    params : dict
        Keyword arguments of the task class (e.g. ``biased``, ``n_cells``). In a card they sit next to
        ``name``. The task's ``seed`` (its place-cell centres) defaults to the run's ``seed``, as in the
        reference code, which seeds everything before building the task.
    """

    name: str = "spatial_navigation"
    params: dict = field(default_factory=dict)

    def task_class(self):
        """The task class (a :class:`ConfigError` listing the choices if ``name`` is unknown)."""
        from neurorx.tasks import TASKS

        try:
            return TASKS.get(self.name)
        except ValueError as err:
            raise ConfigError(f"task.name: {err}") from None

    def schema(self):
        """The task's structured config: one field per keyword argument, typed like its default."""
        params = [p for p in inspect.signature(self.task_class().__init__).parameters.values()
                  if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name not in ("self", "centres")]
        return make_dataclass(f"{self.name}_task", [("name", str, field(default=self.name))] + [
            (p.name, type(p.default), field(default=p.default)) if type(p.default) in _EXPECTED
            else (p.name, Any, field(default=None)) for p in params])

    def param_names(self) -> list[str]:
        """The keyword arguments the task class accepts (``centres`` excluded: it is not a card setting)."""
        return [f.name for f in fields(self.schema())][1:]

    def validate(self) -> None:
        """Check the parameter names and types against the task class (unknown ones suggest close matches)."""
        _typed(self.schema(), self.to_dict(), "task")

    def to_dict(self) -> dict:
        """Flat card form: ``{"name": ..., **params}``."""
        return {"name": self.name, **copy.deepcopy(self.params)}

    @classmethod
    def from_dict(cls, data, prefix: str = "task") -> TaskConfig:
        """From the flat card form; only the given parameters are kept (typed like the task's defaults)."""
        if not isinstance(data, dict):
            raise ConfigError(f"{prefix} must be a mapping with at least 'name'; got {data!r}")
        cfg = cls(name=data.get("name", cls.name))
        if not isinstance(cfg.name, str):
            raise ConfigError(f"{prefix}.name: expected a string, got {cfg.name!r}")
        typed = _typed(cfg.schema(), dict(data), prefix)
        cfg.params = {k: typed[k] for k in data if k != "name"}
        return cfg


@dataclass
class RNNConfig:
    """The recurrent network.

    Attributes
    ----------
    cell : str
        ``"vanilla"`` (paper Eq. A.1) or ``"gru"`` (continuous-time GRU, paper Eqs. A.3–A.6).
    activation : str or None
        Registered activation; ``None`` takes the cell's default (ReLU vanilla, tanh GRU).
    n_rec : int
        Number of recurrent units (512 spatial, 128 head direction).
    tau, dt : str or float
        Time constant and Euler step, as ``"100 ms"`` strings or seconds; :math:`a = dt/\\tau`.
    bias : bool
        Learn a recurrent bias (the reference has none).
    """

    cell: str = "vanilla"
    activation: str | None = None
    n_rec: int = 512
    tau: float | str = "100 ms"
    dt: float | str = "20 ms"
    bias: bool = False

    @property
    def tau_s(self) -> float:
        """``tau`` in seconds."""
        return parse_time(self.tau, "rnn.tau")

    @property
    def dt_s(self) -> float:
        """``dt`` in seconds."""
        return parse_time(self.dt, "rnn.dt")

    @property
    def alpha(self) -> float:
        """:math:`a = dt/\\tau`."""
        return self.dt_s / self.tau_s

    def validate(self) -> None:
        """Check the cell, the activation, ``n_rec`` and the Euler step."""
        from neurorx.activations import ACTIVATIONS
        from neurorx.models.cells import CELLS

        for key, value, reg in (("cell", self.cell, CELLS), ("activation", self.activation, ACTIVATIONS)):
            if value is not None and value not in reg:
                raise ConfigError(f"rnn.{key}: unknown {key} {value!r}; choose one of {reg.names()}."
                                  + suggest(value, reg.names()))
        positive_int(self.n_rec, "rnn.n_rec")
        a = self.alpha
        if not 0 < a <= 1 + 1e-12:
            raise ConfigError(f"rnn.dt / rnn.tau = {a:g} must lie in (0, 1] for a stable Euler step "
                              f"(dt={self.dt!r}, tau={self.tau!r})")


@dataclass
class TrainerConfig:
    """The optimisation schedule (reference: ``configs/train/*/base.yml`` and ``trainer.py``).

    Attributes
    ----------
    n_epochs : int
        Number of training batches; the reference calls each fresh batch an "epoch" (2500 SP, 20000 HD).
    batch_size, steps : int
        Trajectories per batch (200) and time steps per trajectory (100); full BPTT over ``steps``.
    lr, weight_decay : float
        Adam learning rate (1e-3) and weight decay (0).
    eval_every : int
        Evaluate on the fixed test batch and write a checkpoint every this many batches (100).
    test_batch : int
        Trajectories in the fixed test batch (200), drawn once before training.
    threads : int or None
        ``torch.set_num_threads`` during training (``None``: leave torch's setting).
    dtype : str
        ``"float32"`` (default) or ``"float64"``.
    fused : bool
        Use the fused recurrence (hand-written BPTT) and fused readout + loss; ``False`` runs plain autograd
        over :meth:`Cell.step`, ``F.linear`` and ``F.mse_loss`` (same numbers up to rounding, slower).
    onednn : bool
        Inside the fused functions, compute float32 matrix products with oneDNN (AVX-512) instead of MKL
        (see :mod:`neurorx.training.linalg`); the same products, other rounding.
    prefetch : bool
        Sample the next batch in a background thread while the current one trains.
    """

    n_epochs: int = 2500
    batch_size: int = 200
    steps: int = 100
    lr: float = 1e-3
    weight_decay: float = 0.0
    eval_every: int = 100
    test_batch: int = 200
    threads: int | None = 2
    dtype: str = "float32"
    fused: bool = True
    onednn: bool = True
    prefetch: bool = True

    def validate(self) -> None:
        """Check the counts, the learning rate, the weight decay and the dtype."""
        for name in ("n_epochs", "batch_size", "steps", "eval_every", "test_batch", "threads"):
            if name != "threads" or self.threads is not None:
                positive_int(getattr(self, name), f"trainer.{name}", minimum=0 if name == "n_epochs" else 1)
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"trainer.lr must be a positive number; got {self.lr}")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ConfigError(f"trainer.weight_decay must be >= 0; got {self.weight_decay}")
        if self.dtype not in _DTYPES:
            raise ConfigError(f"trainer.dtype must be one of {_DTYPES}; got {self.dtype!r}"
                              + suggest(self.dtype, _DTYPES))


#: Trainer keys that may differ between a checkpoint and the run that resumes it (they do not change the
#: weights): a longer ``n_epochs`` continues training.
RESUME_FREE_KEYS = ("trainer.n_epochs", "trainer.eval_every", "trainer.threads", "trainer.prefetch", "label",
                    "description")


@dataclass
class Config:
    """A complete training configuration (one model card).

    Attributes
    ----------
    task : TaskConfig
    rnn : RNNConfig
    noise : dict
        Placement (``"recurrent"``, ``"input"``, ``"output"``) -> noise dict as in
        :meth:`neurorx.noise.NoiseModel.to_dict`, e.g. ``{"name": "reference_uniform", "scale": 0.01}``. Its
        fields follow :data:`FOLLOWS` unless given (``dt_train`` follows ``rnn.dt``); string values are times
        (``"50 ms"``); a key ``k`` that is not a field calls the model's ``from_k`` constructor with ``rnn.dt``
        (``{name: white, step_std: s}`` is :meth:`WhiteNoise.from_step_std`: per-step SD ``s`` at ``rnn.dt``).
    trainer : TrainerConfig
    seed : int
        Seeds the initial weights, the task's cell centres (unless ``task.seed`` is set), every batch and
        the training noise.
    label, description : str
        The paper's name for the condition (e.g. ``"U^σ"``) and a human description.
    """

    task: TaskConfig = field(default_factory=TaskConfig)
    rnn: RNNConfig = field(default_factory=RNNConfig)
    noise: dict = field(default_factory=dict)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    seed: int = 0
    label: str = ""
    description: str = ""

    # -- conversion --------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Plain, JSON- and YAML-able nested dict (card layout)."""
        return {"label": self.label, "description": self.description, "seed": self.seed,
                "task": self.task.to_dict(), "rnn": asdict(self.rnn), "noise": copy.deepcopy(self.noise),
                "trainer": asdict(self.trainer)}

    @classmethod
    def from_dict(cls, data: dict, *, validate: bool = True) -> Config:
        """Build (and validate) a configuration from the card layout (unknown keys are errors)."""
        if not isinstance(data, dict):
            raise ConfigError(f"a model card must be a mapping of sections; got {type(data).__name__}")
        top = _typed(_Top, {k: v for k, v in data.items() if k not in ("task", "rnn", "trainer")}, "")
        cfg = cls(task=TaskConfig.from_dict(data.get("task", {"name": TaskConfig.name})),
                  rnn=RNNConfig(**_typed(RNNConfig, data.get("rnn") or {}, "rnn")),
                  trainer=TrainerConfig(**_typed(TrainerConfig, data.get("trainer") or {}, "trainer")),
                  noise={k: v for k, v in (top["noise"] or {}).items() if v is not None},
                  seed=top["seed"], label=top["label"] or "", description=top["description"] or "")
        if validate:
            cfg.validate()
        return cfg

    def to_yaml(self) -> str:
        """The configuration as YAML text (card layout)."""
        return OmegaConf.to_yaml(OmegaConf.create(self.to_dict()))

    def to_json(self) -> str:
        """The configuration as JSON text."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def copy(self) -> Config:
        """A deep copy."""
        return copy.deepcopy(self)

    # -- validation and builders -----------------------------------------------------------------------
    def validate(self) -> None:
        """Check every section and the noise specification; raise :class:`ConfigError`."""
        positive_int(self.seed, "seed", minimum=0)
        self.task.validate()
        self.rnn.validate()
        self.trainer.validate()
        self.build_noise()

    def build_noise(self) -> dict[str, NoiseModel]:
        """The training noise models by placement (see :attr:`noise`)."""
        node = OmegaConf.create({"rnn": asdict(self.rnn), "noise": {}})
        for placement, spec in self.noise.items():
            if placement not in PLACEMENTS:
                raise ConfigError(f"unknown key 'noise.{placement}': noise placements are {PLACEMENTS}."
                                  + suggest(str(placement), PLACEMENTS))
            spec = {"name": "none"} if spec in (None, "none") else spec
            if not isinstance(spec, dict) or "name" not in spec:
                raise ConfigError(f"noise.{placement} must be a mapping with a 'name' (e.g. "
                                  f"{{name: reference_uniform, scale: 0.01}}); got {spec!r}")
            if spec.get("placement", placement) != placement:
                raise ConfigError(f"noise.{placement}.placement is {spec['placement']!r}; it must be {placement!r}")
            names = {f.name for f in fields(_noise_class(spec["name"], placement))}
            node.noise[placement] = {**{k: v for k, v in FOLLOWS.items() if k in names}, **spec}
        resolved = OmegaConf.to_container(node, resolve=True)["noise"]
        return {placement: _build_noise(placement, spec, self.rnn.dt_s) for placement, spec in resolved.items()}

    def build_task(self):
        """The task, with ``seed`` defaulting to the run's seed."""
        try:
            task = self.task.task_class()(**{"seed": self.seed, **self.task.params})
        except (TypeError, ValueError) as err:
            raise ConfigError(f"task {self.task.name!r}: {err}") from None
        task_dt = getattr(task, "dt", None)
        if task_dt is not None and abs(task_dt - self.rnn.dt_s) > 1e-9 * self.rnn.dt_s:
            raise ConfigError(
                f"the task's time step ({task_dt:g} s) differs from rnn.dt ({self.rnn.dt_s:g} s): the network "
                f"makes one Euler step per task step, so set both (task.dt and rnn.dt) to the same value"
            )
        return task

    def build_model(self, task=None):
        """A freshly initialised :class:`~neurorx.models.RecurrentModel` (torch default init, seeded)."""
        import torch

        from neurorx.models.rnn import RecurrentModel

        task = task if task is not None else self.build_task()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            model = RecurrentModel(self.rnn.cell, task.n_in, self.rnn.n_rec, task.n_cells, task.n_cells,
                                   self.rnn.alpha, self.rnn.activation, bias=self.rnn.bias)
        return model.to(getattr(torch, self.trainer.dtype))

    def valid_keys(self) -> list[str]:
        """Every dotted key an override may set."""
        keys = ["seed", "label", "description", "task.name", "noise"]
        keys += [f"task.{k}" for k in self.task.param_names()]
        keys += [f"rnn.{f.name}" for f in fields(RNNConfig)] + [f"trainer.{f.name}" for f in fields(TrainerConfig)]
        for placement in PLACEMENTS:
            spec = self.noise.get(placement)
            keys += [f"noise.{placement}", *(f"noise.{placement}.{k}" for k in (spec or {}) if isinstance(spec, dict))]
        return keys


@dataclass
class _Top:
    """The card's top-level scalars and the noise section (typed by OmegaConf)."""

    seed: int = 0
    label: str | None = ""
    description: str | None = ""
    noise: dict | None = field(default_factory=dict)


def _noise_class(name, placement: str):
    try:
        return NOISE_MODELS.get(name)
    except ValueError as err:
        raise ConfigError(f"noise.{placement}: {err}") from None


def _build_noise(placement: str, spec: dict, dt: float) -> NoiseModel:
    """One noise model from its resolved card entry: times parsed, ``from_<key>`` constructors applied."""
    cls, spec = _noise_class(spec["name"], placement), {**spec, "placement": placement}
    names = ["name", *(f.name for f in fields(cls))]
    ctors = [k for k in spec if k not in names and hasattr(cls, f"from_{k}")]
    for k in spec:
        if k not in names and k not in ctors:
            allowed = names + [m[5:] for m in dir(cls) if m.startswith("from_") and m != "from_dict"]
            raise ConfigError(f"unknown key 'noise.{placement}.{k}' for {spec['name']} noise."
                              + suggest(f"noise.{placement}.{k}", [f"noise.{placement}.{a}" for a in allowed])
                              + " Valid keys: " + ", ".join(a for a in allowed if a != "placement") + ". To change "
                              f"the noise model give the whole entry, e.g. noise.{placement}="
                              "'{name: white, step_std: 0.01}'.")
    times = {k: parse_time(v, f"noise.{placement}.{k}") * second for k, v in spec.items()
             if isinstance(v, str) and k not in ("name", "placement")}
    try:
        if ctors:
            if len(ctors) > 1 or set(spec) - {"name", "placement", *ctors}:
                raise ConfigError(f"noise.{placement}: give {ctors[0]} alone (it sets every parameter of the model "
                                  f"at rnn.dt), not with {sorted(set(spec) - {'name', 'placement', ctors[0]})}")
            return getattr(cls, f"from_{ctors[0]}")(spec[ctors[0]], dt, placement=placement)
        return noise_from_dict({**spec, **times})
    except (ValueError, TypeError) as err:
        if isinstance(err, ConfigError):
            raise
        raise ConfigError(f"noise.{placement}: {err}") from None


def _all_static_keys() -> list[str]:
    return (["seed", "label", "description", "task", "rnn", "noise", "trainer", "task.name"]
            + [f"rnn.{f.name}" for f in fields(RNNConfig)] + [f"trainer.{f.name}" for f in fields(TrainerConfig)])


def apply_overrides(cfg: Config, overrides) -> Config:
    """Return a copy of ``cfg`` with dotted ``key=value`` overrides applied (left to right), validated.

    Parameters
    ----------
    cfg : Config
    overrides : iterable of str, or dict
        E.g. ``["trainer.n_epochs=300", "rnn.n_rec=64", "seed=1", "task.biased=true",
        "noise.recurrent.scale=0.02", "noise.recurrent=null"]``. Values are read as YAML by OmegaConf's
        dot-list parser (``{name: white, sigma: 0.1}`` is a mapping, ``null`` removes a noise entry).

    Raises
    ------
    ConfigError
        For a malformed item, an unknown key (with close matches suggested) or a value of the wrong type.
    """
    items = list(overrides.items()) if isinstance(overrides, dict) else [_split(o) for o in overrides]
    for key, value in items:
        key, data = key.strip(), cfg.to_dict()
        parts = key.split(".")
        if key not in cfg.valid_keys() and not (len(parts) == 3 and parts[0] == "noise" and parts[1] in PLACEMENTS):
            raise ConfigError(f"unknown key '{key}'." + suggest(key, cfg.valid_keys())
                              + " Run `neurorx train CARD --show` to see every key.")
        if isinstance(value, str):
            value = OmegaConf.to_container(OmegaConf.from_dotlist([f"v={value}"]))["v"]
        if key == "task.name" and value != cfg.task.name:
            data["task"] = {"name": value}           # another task: its own parameters
        elif parts[0] == "noise" and len(parts) == 3:
            spec = data["noise"].setdefault(parts[1], {"name": "none"})
            if parts[2] == "name" and value != spec.get("name") and value in NOISE_MODELS:
                keep = {f.name for f in fields(NOISE_MODELS.get(value))}   # another model: drop the old one's keys
                spec = data["noise"][parts[1]] = {k: v for k, v in spec.items() if k in keep}
            spec[parts[2]] = value
        else:
            node = OmegaConf.create(data)
            OmegaConf.update(node, key, value, merge=False)
            data = OmegaConf.to_container(node)
        cfg = Config.from_dict(data, validate=False)
    cfg.validate()
    return cfg


def _split(item: str) -> tuple[str, str]:
    if not isinstance(item, str) or "=" not in item:
        raise ConfigError(f"override {item!r} must have the form key=value, e.g. trainer.n_epochs=300")
    key, value = item.split("=", 1)
    if not key.strip():
        raise ConfigError(f"override {item!r} has no key")
    return key, value


def load_card(path_or_name) -> Config:
    """Read a model card (a path or a name under ``models/``) into a validated :class:`Config`."""
    path = find_card(path_or_name)
    try:
        return Config.from_dict(OmegaConf.to_container(OmegaConf.load(path)) or {})
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None
    except OmegaConfBaseException as err:   # YAML syntax
        raise ConfigError(f"{path} is not a valid card: {err}") from None
