"""The sections of a training configuration: task, recurrent network and trainer, as OmegaConf structured configs.

Each section is a dataclass; a card's mapping is merged into its structured config (:func:`typed`), so OmegaConf
converts and checks the values, and an unknown key is an error naming it and the closest valid keys. The task's
section is built from the task class's signature (one field per keyword argument, typed like its default).
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import math
import typing
from dataclasses import dataclass, field, fields, make_dataclass
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from neurorx.checks import positive_int
from neurorx.errors import ConfigurationError as ConfigError
from neurorx.registry import suggest
from neurorx.training.device import check_device_name
from neurorx.units import parse_time

__all__ = ["RNNConfig", "TaskConfig", "TrainerConfig", "static_keys", "typed"]

_DTYPES = ("float32", "float64")
_EXPECTED = {int: "an integer", float: "a number", bool: "true or false", str: "a string", dict: "a mapping"}


def typed(cls, data: dict, prefix: str):
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
        raise ConfigError(f"unknown key '{key}'." + suggest(key, static_keys() + [f"{prefix}.{n}" for n in names])
                          + f" Valid keys of '{prefix or 'the card'}': {', '.join(names)}.") from None
    except OmegaConfBaseException as err:
        tp = hints.get(err.key, Any)
        words = " or ".join(_EXPECTED.get(a, "null") for a in typing.get_args(tp) or (tp,))
        key = f"{prefix}.{err.key}" if prefix else err.key
        raise ConfigError(f"{key}: expected {words}, got {data.get(err.key)!r}") from None


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
            (p.name, type(p.default), field(default=p.default)) if type(p.default) in (bool, int, float, str)
            else (p.name, Any, field(default=None)) for p in params])

    def param_names(self) -> list[str]:
        """The keyword arguments the task class accepts (``centres`` excluded: it is not a card setting)."""
        return [f.name for f in fields(self.schema())][1:]

    def validate(self) -> None:
        """Check the parameter names and types against the task class (unknown ones suggest close matches)."""
        typed(self.schema(), self.to_dict(), "task")

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
        values = typed(cfg.schema(), dict(data), prefix)
        cfg.params = {k: values[k] for k in data if k != "name"}
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
    params : dict
        The cell's parameters given in the card (:meth:`neurorx.models.cells.Cell.parameter_names`, e.g.
        ``gamma_shape`` of ``dale``); in a card they sit next to ``cell`` (``rnn: {cell: dale, gamma_shape: 2}``).
        Those omitted take the cell's defaults; :meth:`resolved` fills them in.
    """

    cell: str = "vanilla"
    activation: str | None = None
    n_rec: int = 512
    tau: float | str = "100 ms"
    dt: float | str = "20 ms"
    bias: bool = False
    params: dict = field(default_factory=dict)

    @classmethod
    def field_names(cls) -> list[str]:
        """The section's own keys (the cell's parameters aside)."""
        return [f.name for f in fields(cls) if f.name != "params"]

    @classmethod
    def from_dict(cls, data, prefix: str = "rnn") -> RNNConfig:
        """From the flat card form: the section's own keys, and the cell's parameters next to them."""
        from neurorx.models.cells import CELLS

        if not isinstance(data, dict):
            raise ConfigError(f"{prefix} must be a mapping of keys to values; got {data!r}")
        own = cls.field_names()
        name = data.get("cell", cls.cell)
        cell = CELLS.get(name) if isinstance(name, str) and name in CELLS else None   # unknown: validate() names it
        accepted = cell.parameter_names() if cell is not None else ()
        params = {k: v for k, v in data.items() if k not in own}
        for key in params:
            if key not in accepted and cell is not None:
                names = own + list(accepted)
                raise ConfigError(f"unknown key '{prefix}.{key}'." + suggest(key, names)
                                  + f" Valid keys of '{prefix}' for the {cell.name} cell: {', '.join(names)}.")
        values = typed(cls, {k: v for k, v in data.items() if k in own}, prefix)
        values.pop("params", None)
        return cls(**values, params=params)

    def to_dict(self) -> dict:
        """Flat card form: the section's keys, then the cell's parameters given."""
        return {**{k: copy.deepcopy(getattr(self, k)) for k in self.field_names()}, **copy.deepcopy(self.params)}

    def cell_object(self):
        """The :class:`~neurorx.models.cells.Cell` with :attr:`params` (the defaults for those not given)."""
        from neurorx.models.cells import CELLS

        return CELLS.get(self.cell).with_params(self.params, prefix="rnn.")

    def resolved(self) -> RNNConfig:
        """A copy whose :attr:`params` hold every parameter of the cell (the defaults filled in)."""
        return dataclasses.replace(self, params=self.cell_object().params())

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
        self.cell_object()          # the cell's parameters: known names, accepted values
        positive_int(self.n_rec, "rnn.n_rec")
        a = self.alpha
        if not 0 < a <= 1 + 1e-12:
            raise ConfigError(f"rnn.dt / rnn.tau = {a:g} must lie in (0, 1] for a stable Euler step "
                              f"(dt={self.dt!r}, tau={self.tau!r})")


@dataclass
class TrainerConfig:
    r"""The optimisation schedule and where it runs (reference: ``configs/train/*/base.yml`` and ``trainer.py``).

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
        (see :mod:`neurorx.linalg`); the same products, other rounding.
    prefetch : bool
        Sample the next batch in a background thread while the current one trains.
    homeostatic_weight : float
        :math:`\lambda` of the homeostatic loss of cells that have one (``dale_norm``, ``dale_subnorm``: it
        trains the weights onto their inhibitory units; 0.01 as in the sweeps of ``ei_norm.md`` §2); ignored by
        the other cells.
    device : str
        Where the model trains: ``"auto"`` (CUDA when torch sees a GPU, else the CPU), ``"cpu"``, ``"cuda"``
        or ``"cuda:N"`` (:func:`neurorx.training.device.resolve_device`). Batches and noise are drawn on the
        CPU from the same seeded streams on every device.
    snapshot_every : int or None
        Also save the network every this many batches (and at batch 0) as ``snapshots/batch_XXXXXX.npz`` in
        the output folder, a network file like ``network.npz`` (plain arrays and JSON): the intermediate
        networks of a training, e.g. to follow an analysis over training. ``None`` (default): none.
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
    homeostatic_weight: float = 0.01
    device: str = "auto"
    snapshot_every: int | None = None

    def validate(self) -> None:
        """Check the counts, the learning rate, the weight decay and the dtype."""
        for name in ("n_epochs", "batch_size", "steps", "eval_every", "test_batch", "threads", "snapshot_every"):
            if name not in ("threads", "snapshot_every") or getattr(self, name) is not None:
                positive_int(getattr(self, name), f"trainer.{name}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"trainer.lr must be a positive number; got {self.lr}")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ConfigError(f"trainer.weight_decay must be >= 0; got {self.weight_decay}")
        if not (math.isfinite(self.homeostatic_weight) and self.homeostatic_weight >= 0):
            raise ConfigError(f"trainer.homeostatic_weight must be a number >= 0; got {self.homeostatic_weight}")
        check_device_name(self.device)
        if self.dtype not in _DTYPES:
            raise ConfigError(f"trainer.dtype must be one of {_DTYPES}; got {self.dtype!r}"
                              + suggest(self.dtype, _DTYPES))


def static_keys() -> list[str]:
    """The dotted keys every card has (the task's parameters and the noise fields aside)."""
    return (["seed", "label", "description", "task", "rnn", "noise", "trainer", "task.name"]
            + [f"rnn.{n}" for n in RNNConfig.field_names()] + [f"trainer.{f.name}" for f in fields(TrainerConfig)])


