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
task class's signature): OmegaConf types and merges the values, an unknown key is an error naming it and the
closest valid keys. Times are ``"100 ms"`` strings (or seconds), parsed by :func:`neurorx.units.parse_time`.
Cards are read and ``key=value`` overrides applied by :mod:`neurorx.training.cards`; the ``noise`` section
becomes noise models in :mod:`neurorx.training.noise_spec` (its ``dt_train`` follows ``rnn.dt`` by interpolation).
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass, field, fields

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from neurorx.checks import positive_int
from neurorx.errors import ConfigurationError
from neurorx.models.cells import CELLS
from neurorx.noise import PLACEMENTS, NoiseModel
from neurorx.training.noise_spec import build_noise
from neurorx.training.sections import RNNConfig, TaskConfig, TrainerConfig, typed
from neurorx.units import parse_time
from neurorx.zoo import CARD_SUFFIXES, find_card, list_cards, models_dir

__all__ = ["CARD_SUFFIXES", "RESULT_FREE_KEYS", "Config", "ConfigError", "RNNConfig", "TaskConfig", "TrainerConfig",
           "find_card", "list_cards", "models_dir", "parse_time"]

#: The configuration error (one type for every bad setting; an alias kept for existing imports).
ConfigError = ConfigurationError
#: Keys that change neither the model nor the files a training writes beyond its card (prose, whether batches
#: are made ahead in a thread, and the device, which changes rounding only: the data and noise are drawn on the
#: CPU everywhere): a sweep's job id leaves them out, so one job has one id on CPU and GPU workers.
RESULT_FREE_KEYS = ("trainer.prefetch", "trainer.device", "label", "description")
#: Trainer keys that may differ between a checkpoint and the run that resumes it (they do not change the
#: weights): a longer ``n_epochs`` continues training.
RESUME_FREE_KEYS = ("trainer.n_epochs", "trainer.eval_every", "trainer.threads", "trainer.snapshot_every",
                    *RESULT_FREE_KEYS)


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
        """Plain, JSON- and YAML-able nested dict (card layout); ``trainer.device`` only when not ``"auto"``,
        ``trainer.snapshot_every`` only when set (a default card reads as it did without them).
        """
        trainer = asdict(self.trainer)
        if trainer["device"] == TrainerConfig.device:
            del trainer["device"]   # where it runs, not what it trains
        if trainer["snapshot_every"] is None:
            del trainer["snapshot_every"]
        return {"label": self.label, "description": self.description, "seed": self.seed,
                "task": self.task.to_dict(), "rnn": self.rnn.to_dict(), "noise": copy.deepcopy(self.noise),
                "trainer": trainer}

    @classmethod
    def from_dict(cls, data: dict, *, validate: bool = True) -> Config:
        """Build (and validate) a configuration from the card layout (unknown keys are errors).

        Interpolations (``test_batch: ${trainer.batch_size}``) are resolved here, once, over the whole card.
        """
        if not isinstance(data, dict):
            raise ConfigError(f"a model card must be a mapping of sections; got {type(data).__name__}")
        try:
            data = OmegaConf.to_container(OmegaConf.create(data), resolve=True)
        except OmegaConfBaseException as err:
            raise ConfigError(f"cannot resolve the card: {str(err).splitlines()[0]}") from None
        top = typed(_Top, {k: v for k, v in data.items() if k not in ("task", "rnn", "trainer")}, "")
        cfg = cls(task=TaskConfig.from_dict(data.get("task", {"name": TaskConfig.name})),
                  rnn=RNNConfig.from_dict(data.get("rnn") or {}),
                  trainer=TrainerConfig(**typed(TrainerConfig, data.get("trainer") or {}, "trainer")),
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

    # -- validation and builders -----------------------------------------------------------------------
    def validate(self) -> None:
        """Check every section and the noise specification; raise :class:`ConfigError`."""
        positive_int(self.seed, "seed", minimum=0)
        self.task.validate()
        self.rnn.validate()
        self.trainer.validate()
        self.build_noise()

    def build_noise(self) -> dict[str, NoiseModel]:
        """The training noise models by placement (see :attr:`noise` and :mod:`neurorx.training.noise_spec`)."""
        return build_noise(self.noise, self.rnn.to_dict())

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
            model = RecurrentModel(self.rnn.cell_object(), task.n_in, self.rnn.n_rec, task.n_cells, task.n_cells,
                                   self.rnn.alpha, self.rnn.activation, bias=self.rnn.bias)
        return model.to(getattr(torch, self.trainer.dtype))

    def valid_keys(self) -> list[str]:
        """Every dotted key an override may set."""
        keys = ["seed", "label", "description", "task.name", "noise"]
        keys += [f"task.{k}" for k in self.task.param_names()]
        keys += [f"rnn.{n}" for n in RNNConfig.field_names()] + [f"trainer.{f.name}" for f in fields(TrainerConfig)]
        if self.rnn.cell in CELLS:
            keys += [f"rnn.{n}" for n in CELLS.get(self.rnn.cell).parameter_names()]
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
