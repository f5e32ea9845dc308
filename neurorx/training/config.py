r"""Training configuration: dataclasses, model cards (YAML) and ``key=value`` overrides.

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

Any entry can be changed from the command line with dotted ``key=value`` overrides
(``trainer.n_epochs=300 rnn.n_rec=64 seed=1``); values are converted to the field's type, and an unknown
key is an error that names it and suggests the closest valid keys.
"""

from __future__ import annotations

import copy
import inspect
import json
import math
import types
import typing
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from neurorx.errors import ConfigurationError
from neurorx.noise import NOISE_MODELS, PLACEMENTS, NoiseModel, WhiteNoise, noise_from_dict
from neurorx.registry import suggest
from neurorx.units import parse_time as _parse_time
from neurorx.zoo import CARD_SUFFIXES, find_card, list_cards, models_dir

__all__ = [
    "CARD_SUFFIXES",
    "Config",
    "ConfigError",
    "RNNConfig",
    "TaskConfig",
    "TrainerConfig",
    "apply_overrides",
    "find_card",
    "list_cards",
    "load_card",
    "models_dir",
    "parse_time",
]

_DTYPES = ("float32", "float64")


class ConfigError(ConfigurationError):
    """An invalid configuration: unknown key, value of the wrong type, or inconsistent settings."""


# ----------------------------------------------------------------------------------------------------------
# value parsing


def parse_time(value, name: str = "time") -> float:
    """A positive time in seconds (see :func:`neurorx.units.parse_time`); errors are :class:`ConfigError`."""
    try:
        return _parse_time(value, name)
    except ConfigurationError as err:
        raise ConfigError(str(err)) from None


def _type_name(tp) -> str:
    names = {int: "an integer", float: "a number", bool: "true or false", str: "a string", dict: "a mapping"}
    args = [a for a in typing.get_args(tp) if a is not type(None)] if _is_union(tp) else [tp]
    words = [names.get(a, getattr(a, "__name__", str(a))) for a in args]
    if _is_union(tp) and type(None) in typing.get_args(tp):
        words.append("null")
    return " or ".join(words)


def _is_union(tp) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def coerce(value, tp, key: str):
    """Convert ``value`` (from YAML or a command-line string) to the annotated type ``tp``.

    Strings are parsed (``"300"`` -> 300 for an int, ``"1e-3"`` -> 0.001 for a float, ``"yes"`` -> True for a
    bool); anything that does not fit is a :class:`ConfigError` naming ``key``.
    """
    if tp is Any:
        return value
    if _is_union(tp):
        args = typing.get_args(tp)
        if type(None) in args and (value is None or (isinstance(value, str) and value.strip().lower() in
                                                     ("none", "null", "~", ""))):
            return None
        # Try the more specific types first so that "3" -> 3 for ``int | None`` and 0.1 stays a float.
        for arg in sorted((a for a in args if a is not type(None)), key=lambda a: [bool, int, float, dict,
                                                                                   str].index(a)):
            try:
                return coerce(value, arg, key)
            except ConfigError:
                pass
        raise ConfigError(f"{key}: expected {_type_name(tp)}, got {value!r}")
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "1", "false", "no", "off",
                                                                "0"):
            return value.strip().lower() in ("true", "yes", "on", "1")
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
    elif tp is int:
        if isinstance(value, bool):
            pass
        elif isinstance(value, int):
            return value
        elif isinstance(value, float) and value.is_integer():
            return int(value)
        elif isinstance(value, str):
            try:
                return int(value.strip().replace("_", ""))
            except ValueError:
                try:
                    f = float(value)
                except ValueError:
                    f = math.nan
                if math.isfinite(f) and f.is_integer():
                    return int(f)
    elif tp is float:
        if isinstance(value, bool):
            pass
        elif isinstance(value, int | float):
            return float(value)
        elif isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                pass
    elif tp is str:
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    elif tp is dict or typing.get_origin(tp) is dict:
        if value is None:
            return {}
        if isinstance(value, str):
            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError:
                pass
        if isinstance(value, dict):
            return copy.deepcopy(value)
    else:  # pragma: no cover - every field annotation is handled above
        raise TypeError(f"unsupported annotation {tp!r} for {key}")
    raise ConfigError(f"{key}: expected {_type_name(tp)}, got {value!r}")


class _CardDumper(yaml.SafeDumper):
    """YAML dumper writing multi-line strings as ``|`` blocks, as in the cards."""


def _str_representer(dumper, data):
    if "\n" in data:
        text = "\n".join(line.rstrip() for line in data.splitlines()) + ("\n" if data.endswith("\n") else "")
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_CardDumper.add_representer(str, _str_representer)


# ----------------------------------------------------------------------------------------------------------
# sections


class _Section:
    """Mixin: build from a mapping with type coercion and helpful errors for unknown keys."""

    @classmethod
    def from_dict(cls, data, prefix: str):
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"{prefix} must be a mapping of keys to values; got {data!r}")
        hints = typing.get_type_hints(cls)
        names = [f.name for f in fields(cls)]
        unknown = [k for k in data if k not in names]
        if unknown:
            k = unknown[0]
            raise ConfigError(f"unknown key '{prefix}.{k}'."
                              + suggest(f"{prefix}.{k}", [f"{prefix}.{n}" for n in names])
                              + f" Valid keys of '{prefix}': {', '.join(names)}.")
        kwargs = {k: coerce(v, hints[k], f"{prefix}.{k}") for k, v in data.items()}
        return cls(**kwargs)

    def keys(self, prefix: str) -> list[str]:
        return [f"{prefix}.{f.name}" for f in fields(self)]


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

    def param_names(self) -> list[str]:
        """The keyword arguments the task class accepts (``centres`` excluded: it is not a card setting)."""
        sig = inspect.signature(self.task_class().__init__)
        return [p.name for p in sig.parameters.values()
                if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name not in ("self", "centres")]

    def param_default(self, name: str):
        """The default of a task keyword argument (``None`` if it has none)."""
        p = inspect.signature(self.task_class().__init__).parameters.get(name)
        return None if p is None or p.default is inspect.Parameter.empty else p.default

    def validate(self) -> None:
        """Check the parameter names against the task class (unknown ones suggest close matches)."""
        names = self.param_names()
        for k in self.params:
            if k not in names:
                raise ConfigError(f"unknown key 'task.{k}' for task {self.name!r}."
                                  + suggest(f"task.{k}", [f"task.{n}" for n in names])
                                  + f" Valid task keys: name, {', '.join(names)}.")

    def to_dict(self) -> dict:
        """Flat card form: ``{"name": ..., **params}``."""
        return {"name": self.name, **copy.deepcopy(self.params)}

    @classmethod
    def from_dict(cls, data, prefix: str = "task") -> TaskConfig:
        if not isinstance(data, dict):
            raise ConfigError(f"{prefix} must be a mapping with at least 'name'; got {data!r}")
        data = dict(data)
        name = coerce(data.pop("name", cls.name), str, f"{prefix}.name")
        cfg = cls(name=name, params={})
        for k, v in data.items():
            cfg.params[k] = cfg.coerce_param(k, v)
        cfg.validate()
        return cfg

    def coerce_param(self, key: str, value):
        """Convert a task parameter to the type of its default (bool, int, float, str); others as given."""
        default = self.param_default(key)
        if isinstance(value, str) and not isinstance(default, str):
            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError:
                pass
        for tp in (bool, int, float, str):
            if type(default) is tp:
                if tp is float and isinstance(value, str):
                    return coerce(value, float, f"task.{key}")
                return coerce(value, float if tp is float else tp, f"task.{key}")
        return value


@dataclass
class RNNConfig(_Section):
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
        from neurorx.activations import ACTIVATIONS
        from neurorx.models.cells import CELLS

        if self.cell not in CELLS:
            raise ConfigError(f"rnn.cell: unknown cell {self.cell!r}; choose one of {CELLS.names()}."
                              + suggest(self.cell, CELLS.names()))
        if self.activation is not None and self.activation not in ACTIVATIONS:
            raise ConfigError(f"rnn.activation: unknown activation {self.activation!r}; choose one of "
                              f"{ACTIVATIONS.names()}." + suggest(self.activation, ACTIVATIONS.names()))
        if self.n_rec < 1:
            raise ConfigError(f"rnn.n_rec must be a positive integer; got {self.n_rec}")
        a = self.alpha
        if not 0 < a <= 1 + 1e-12:
            raise ConfigError(f"rnn.dt / rnn.tau = {a:g} must lie in (0, 1] for a stable Euler step "
                              f"(dt={self.dt!r}, tau={self.tau!r})")


@dataclass
class TrainerConfig(_Section):
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
        for name in ("n_epochs", "batch_size", "steps", "eval_every", "test_batch"):
            v = getattr(self, name)
            if v < (0 if name == "n_epochs" else 1):
                raise ConfigError(f"trainer.{name} must be a positive integer; got {v}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"trainer.lr must be a positive number; got {self.lr}")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ConfigError(f"trainer.weight_decay must be >= 0; got {self.weight_decay}")
        if self.threads is not None and self.threads < 1:
            raise ConfigError(f"trainer.threads must be a positive integer or null; got {self.threads}")
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
        :meth:`neurorx.noise.NoiseModel.to_dict`, e.g. ``{"name": "reference_uniform", "scale": 0.01}``. For
        ``reference_uniform`` the training step ``dt_train`` defaults to ``rnn.dt``; for ``white`` noise
        ``step_std: s`` means :meth:`WhiteNoise.from_step_std` (per-step SD ``s`` at ``rnn.dt``).
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
        return {
            "label": self.label,
            "description": self.description,
            "seed": self.seed,
            "task": self.task.to_dict(),
            "rnn": asdict(self.rnn),
            "noise": copy.deepcopy(self.noise),
            "trainer": asdict(self.trainer),
        }

    @classmethod
    def from_dict(cls, data: dict) -> Config:
        """Build and validate a configuration from the card layout (unknown keys are errors)."""
        if not isinstance(data, dict):
            raise ConfigError(f"a model card must be a mapping of sections; got {type(data).__name__}")
        allowed = [f.name for f in fields(cls)]
        for k in data:
            if k not in allowed:
                raise ConfigError(f"unknown key '{k}'." + suggest(k, _all_static_keys())
                                  + f" Valid top-level keys: {', '.join(allowed)}.")
        cfg = cls(
            task=TaskConfig.from_dict(data.get("task", {"name": TaskConfig.name})),
            rnn=RNNConfig.from_dict(data.get("rnn"), "rnn"),
            noise=coerce(data.get("noise", {}), dict, "noise"),
            trainer=TrainerConfig.from_dict(data.get("trainer"), "trainer"),
            seed=coerce(data.get("seed", 0), int, "seed"),
            label=coerce(data.get("label", "") or "", str, "label"),
            description=coerce(data.get("description", "") or "", str, "description"),
        )
        cfg.validate()
        return cfg

    def to_yaml(self) -> str:
        """The configuration as YAML text (card layout; multi-line strings as literal blocks)."""
        return yaml.dump(self.to_dict(), Dumper=_CardDumper, sort_keys=False, allow_unicode=True, width=100)

    def to_json(self) -> str:
        """The configuration as JSON text."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def copy(self) -> Config:
        """A deep copy."""
        return copy.deepcopy(self)

    # -- validation and builders -----------------------------------------------------------------------
    def validate(self) -> None:
        """Check every section and the noise specification; raise :class:`ConfigError`."""
        if self.seed < 0:
            raise ConfigError(f"seed must be a non-negative integer; got {self.seed}")
        self.task.validate()
        self.rnn.validate()
        self.trainer.validate()
        self.build_noise()

    def build_noise(self) -> dict[str, NoiseModel]:
        """The training noise models by placement (see :attr:`noise`)."""
        if not isinstance(self.noise, dict):
            raise ConfigError(f"noise must map placements {PLACEMENTS} to noise specs; got {self.noise!r}")
        out = {}
        dt = self.rnn.dt_s
        for placement, spec in self.noise.items():
            if placement not in PLACEMENTS:
                raise ConfigError(f"unknown key 'noise.{placement}': noise placements are {PLACEMENTS}."
                                  + suggest(str(placement), PLACEMENTS))
            if spec is None or spec == "none":
                spec = {"name": "none"}
            if not isinstance(spec, dict) or "name" not in spec:
                raise ConfigError(f"noise.{placement} must be a mapping with a 'name' (e.g. "
                                  f"{{name: reference_uniform, scale: 0.01}}); got {spec!r}")
            spec = dict(spec)
            if spec.get("placement", placement) != placement:
                raise ConfigError(f"noise.{placement}.placement is {spec['placement']!r}; it must be {placement!r}")
            spec["placement"] = placement
            name = spec["name"]
            try:
                if name == "white" and "step_std" in spec:
                    if "sigma" in spec:
                        raise ConfigError(f"noise.{placement}: give either step_std or sigma, not both")
                    extra = set(spec) - {"name", "placement", "step_std"}
                    if extra:
                        raise ConfigError(f"unknown key(s) {sorted(extra)} in noise.{placement}; white noise "
                                          f"takes step_std (per-step SD at rnn.dt) or sigma (s^-1/2)")
                    step_std = coerce(spec["step_std"], float, f"noise.{placement}.step_std")
                    out[placement] = WhiteNoise.from_step_std(step_std, dt, placement=placement)
                    continue
                if name == "reference_uniform":
                    if "dt_train" in spec:   # the default, rnn.dt, is checked as rnn.dt
                        spec["dt_train"] = parse_time(spec["dt_train"], f"noise.{placement}.dt_train")
                    else:
                        spec["dt_train"] = dt
                cls = NOISE_MODELS.get(name)
                allowed = ["name", *(f.name for f in fields(cls))] + (["step_std"] if name == "white" else [])
                for k in spec:
                    if k not in allowed:
                        options = [f"noise.{placement}.{a}" for a in allowed]
                        raise ConfigError(f"unknown key 'noise.{placement}.{k}' for {name} noise."
                                          + suggest(f"noise.{placement}.{k}", options) + " Valid keys: "
                                          + ", ".join(a for a in allowed if a != "placement") + ". To change "
                                          f"the noise model give the whole entry, e.g. noise.{placement}="
                                          "'{name: white, step_std: 0.01}'.")
                for k, v in spec.items():
                    if k in ("scale", "sigma") and isinstance(v, str):
                        spec[k] = coerce(v, float, f"noise.{placement}.{k}")
                    if k == "tau_noise":
                        spec[k] = parse_time(v, f"noise.{placement}.tau_noise")
                out[placement] = noise_from_dict(spec, trusted=True)   # its times went through parse_time
            except ConfigError:
                raise
            except (ValueError, TypeError) as err:
                raise ConfigError(f"noise.{placement}: {err}") from None
        return out

    def build_task(self):
        """The task, with ``seed`` defaulting to the run's seed."""
        cls = self.task.task_class()
        params = {"seed": self.seed, **self.task.params}
        try:
            task = cls(**params)
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
        keys += self.rnn.keys("rnn") + self.trainer.keys("trainer")
        for placement in PLACEMENTS:
            keys.append(f"noise.{placement}")
            spec = self.noise.get(placement)
            if isinstance(spec, dict):
                keys += [f"noise.{placement}.{k}" for k in spec]
        return keys


def _all_static_keys() -> list[str]:
    keys = ["seed", "label", "description", "task", "rnn", "noise", "trainer", "task.name"]
    keys += [f"rnn.{f.name}" for f in fields(RNNConfig)] + [f"trainer.{f.name}" for f in fields(TrainerConfig)]
    return keys


# ----------------------------------------------------------------------------------------------------------
# overrides


def apply_overrides(cfg: Config, overrides) -> Config:
    """Return a copy of ``cfg`` with dotted ``key=value`` overrides applied (left to right).

    Parameters
    ----------
    cfg : Config
    overrides : iterable of str, or dict
        E.g. ``["trainer.n_epochs=300", "rnn.n_rec=64", "seed=1", "task.biased=true",
        "noise.recurrent.scale=0.02", "noise.recurrent=null"]``.

    Raises
    ------
    ConfigError
        For a malformed item, an unknown key (with close matches suggested) or a value of the wrong type.
    """
    cfg = cfg.copy()
    items = list(overrides.items()) if isinstance(overrides, dict) else [_split(o) for o in overrides]
    for key, value in items:
        _set(cfg, key.strip(), value)
    cfg.validate()
    return cfg


def _split(item: str) -> tuple[str, str]:
    if not isinstance(item, str) or "=" not in item:
        raise ConfigError(f"override {item!r} must have the form key=value, e.g. trainer.n_epochs=300")
    key, value = item.split("=", 1)
    if not key.strip():
        raise ConfigError(f"override {item!r} has no key")
    return key, value


def _unknown(cfg: Config, key: str) -> ConfigError:
    return ConfigError(f"unknown key '{key}'." + suggest(key, cfg.valid_keys())
                       + " Run `neurorx train CARD --show` to see every key.")


def _set(cfg: Config, key: str, value) -> None:
    parts = key.split(".")
    head = parts[0]
    if head in ("seed", "label", "description") and len(parts) == 1:
        setattr(cfg, head, coerce(value, {"seed": int}.get(head, str), head))
        return
    if head in ("rnn", "trainer") and len(parts) == 2:
        section = getattr(cfg, head)
        hints = typing.get_type_hints(type(section))
        if parts[1] not in hints:
            raise _unknown(cfg, key)
        setattr(section, parts[1], coerce(value, hints[parts[1]], key))
        return
    if head == "task" and len(parts) == 2:
        if parts[1] == "name":
            new = coerce(value, str, key)
            if new != cfg.task.name:
                cfg.task = TaskConfig(name=new, params={})
                cfg.task.task_class()
            return
        if parts[1] not in cfg.task.param_names():
            raise _unknown(cfg, key)
        cfg.task.params[parts[1]] = cfg.task.coerce_param(parts[1], value)
        return
    if head == "noise":
        if len(parts) == 1:
            cfg.noise = coerce(value, dict, key)
            return
        placement = parts[1]
        if placement not in PLACEMENTS:
            raise _unknown(cfg, key)
        if len(parts) == 2:
            parsed = yaml.safe_load(value) if isinstance(value, str) else value
            if parsed is None or parsed == "none":
                cfg.noise.pop(placement, None)
            else:
                cfg.noise[placement] = coerce(parsed, dict, key)
            return
        if len(parts) == 3:
            spec = cfg.noise.setdefault(placement, {"name": "none"})
            parsed = yaml.safe_load(value) if isinstance(value, str) else value
            spec[parts[2]] = value if parts[2] == "name" else parsed
            if parts[2] == "name":
                spec.pop("step_std", None) if value != "white" else None
            return
    raise _unknown(cfg, key)


# ----------------------------------------------------------------------------------------------------------
# model cards


def load_card(path_or_name: str | Path) -> Config:
    """Read a model card (a path or a name under ``models/``) into a validated :class:`Config`."""
    path = find_card(path_or_name)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"{path} is not valid YAML: {err}") from None
    try:
        return Config.from_dict(data or {})
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None
