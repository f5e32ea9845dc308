"""Training: model-card configuration, the trainer (Adam, full BPTT, checkpoints) and the fast forward pass.

>>> from neurorx.training import load_card, apply_overrides, train
>>> cfg = apply_overrides(load_card("spatial_navigation/noisy_unbiased"), ["rnn.n_rec=64", "trainer.n_epochs=300"])
>>> net = train(cfg, "runs/sp64")          # doctest: +SKIP
"""

from neurorx.training.cards import apply_overrides, load_card
from neurorx.training.config import (
    Config,
    ConfigError,
    RNNConfig,
    TaskConfig,
    TrainerConfig,
    find_card,
    list_cards,
    models_dir,
    parse_time,
)
from neurorx.training.fused import VanillaRecurrence, forward_time_major, vanilla_recurrence
from neurorx.training.trainer import Batch, CheckpointMismatch, Trainer, TrainingDiverged, make_batch, train, train_step

__all__ = [
    "Batch",
    "CheckpointMismatch",
    "Config",
    "ConfigError",
    "RNNConfig",
    "TaskConfig",
    "Trainer",
    "TrainerConfig",
    "TrainingDiverged",
    "VanillaRecurrence",
    "apply_overrides",
    "find_card",
    "forward_time_major",
    "list_cards",
    "load_card",
    "make_batch",
    "models_dir",
    "parse_time",
    "train",
    "train_step",
    "vanilla_recurrence",
]
