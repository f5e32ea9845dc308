"""Training an :class:`~neurorx.ei.network.EINetwork` on luminosity-jittered images.

One SGD optimizer with a parameter group per role: excitatory weights and biases (``lr_e``), inhibitory
weights trained by the homeostatic loss (``lr_i``), inhibitory weights trained by the task (DANN layers and
the readout: ``lr_e``, optionally with Cornford's gradient corrections). After every step the Dale-constrained
weights are clamped to be >= 0.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from neurorx.ei.data import ImageSet, check_epsilon, jitter
from neurorx.ei.network import EINetwork
from neurorx.errors import ConfigurationError, SimulationError
from neurorx.seeds import torch_generator

__all__ = ["TrainConfig", "TrainResult", "evaluate", "jittered_test_images", "make_optimizer", "train"]

_SHUFFLE, _JITTER, _TEST_JITTER = 20, 21, 22  # seed purposes


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run.

    Attributes
    ----------
    epochs, batch_size : int
        Passes over the training set and images per SGD step.
    lr_e, lr_i : float
        Learning rates of the excitatory (and task-trained) weights and of the homeostatic inhibitory weights.
    lam : float
        Weight lambda of the homeostatic loss.
    momentum : float
        SGD momentum (the paper's sweeps: 0).
    epsilon : float
        Luminosity level in [0, 1].
    dann_corrections : bool
        Cornford's gradient corrections on task-trained inhibitory weights.
    redraw_test : bool
        Redraw the test jitter at every evaluation (the paper) instead of once with a fixed seed.
    seed : int
        Seed of the batch order and the jitter (the weights' seed is in the network config).
    """

    epochs: int = 60
    batch_size: int = 32
    lr_e: float = 0.03
    lr_i: float = 0.1
    lam: float = 0.01
    momentum: float = 0.0
    epsilon: float = 0.0
    dann_corrections: bool = True
    redraw_test: bool = False
    seed: int = 0

    def __post_init__(self):
        check_epsilon(self.epsilon)
        for name in ("lr_e", "lr_i", "lam"):
            if not (getattr(self, name) >= 0 and math.isfinite(getattr(self, name))):
                raise ConfigurationError(f"TrainConfig.{name}={getattr(self, name)} must be a finite number >= 0")
        if self.epochs < 0 or self.batch_size < 1:
            raise ConfigurationError(f"TrainConfig needs epochs >= 0 and batch_size >= 1, got {self.epochs}, "
                                     f"{self.batch_size}")


@dataclass
class TrainResult:
    """What a run produced: final test accuracy and per-epoch history."""

    test_acc: float
    train_loss: list[float] = field(default_factory=list)
    test_acc_history: list[float] = field(default_factory=list)
    local_loss: list[float] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-able dict."""
        return asdict(self)


def make_optimizer(net: EINetwork, cfg: TrainConfig) -> torch.optim.SGD:
    """SGD with one parameter group per role (``excitatory``, ``inhibitory_local``, ``inhibitory_task``)."""
    roles = net.roles()
    lrs = {"excitatory": cfg.lr_e, "inhibitory_local": cfg.lr_i, "inhibitory_task": cfg.lr_e}
    groups = [{"params": roles[r], "lr": lrs[r], "name": r} for r in lrs if roles[r]]
    return torch.optim.SGD(groups, lr=cfg.lr_e, momentum=cfg.momentum)


def jittered_test_images(data: ImageSet, epsilon: float, seed: int, draw: int = 0) -> torch.Tensor:
    """The test images jittered with the fixed stream ``(seed, draw)``."""
    gen = torch_generator(seed, _TEST_JITTER, draw)
    return jitter(torch.from_numpy(data.x_test).clone(), epsilon, gen)


def evaluate(net: EINetwork, x: torch.Tensor, y: torch.Tensor) -> float:
    """Accuracy of ``net`` on ``(x, y)``."""
    was = net.training
    net.eval()
    with torch.no_grad():
        acc = (net(x).argmax(dim=-1) == y).float().mean().item()
    net.train(was)
    return acc


def train(net: EINetwork, data: ImageSet, cfg: TrainConfig, *, progress: bool = False) -> TrainResult:
    """Train ``net`` in place; return the final test accuracy and the history.

    Each step minimises the task cross-entropy plus the homeostatic loss. Their gradients reach disjoint
    parameters (the stop-gradients of :class:`~neurorx.ei.layers.INormLayer`), so one backward pass of the
    sum gives each loss's own gradient.

    Raises
    ------
    ConfigurationError
        If the images do not have the network's input size.
    SimulationError
        If the loss becomes NaN or infinite (lower the learning rates).
    """
    if data.n_pixels != net.config.n_in:
        raise ConfigurationError(f"the images have {data.n_pixels} pixels but the network takes {net.config.n_in}; "
                                 f"build the network with n_in={data.n_pixels}")
    x_tr, y_tr = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    y_te = torch.from_numpy(data.y_test)
    x_te = jittered_test_images(data, cfg.epsilon, cfg.seed)
    opt = make_optimizer(net, cfg)
    g_shuffle, g_jitter = torch_generator(cfg.seed, _SHUFFLE), torch_generator(cfg.seed, _JITTER)
    result = TrainResult(test_acc=float("nan"))
    epochs = range(cfg.epochs)
    if progress:
        from tqdm.auto import tqdm

        epochs = tqdm(epochs, desc="epochs", leave=False)
    net.train()
    for epoch in epochs:
        order = torch.randperm(len(y_tr), generator=g_shuffle)
        total, total_local, n = 0.0, 0.0, 0
        for start in range(0, len(order), cfg.batch_size):
            idx = order[start:start + cfg.batch_size]
            xb = jitter(x_tr[idx].clone(), cfg.epsilon, g_jitter)
            task = F.cross_entropy(net(xb), y_tr[idx])
            local = net.local_loss(cfg.lam)
            loss = task + local
            local = local.detach()
            if not torch.isfinite(loss):
                raise SimulationError(f"training diverged at epoch {epoch} (loss {loss.item()}); lower lr_e="
                                      f"{cfg.lr_e} / lr_i={cfg.lr_i}")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.dann_corrections:
                net.correct_gradients_()
            opt.step()
            net.project_()
            total += task.item() * len(idx)
            total_local += local.item() * len(idx)
            n += len(idx)
        result.train_loss.append(total / n)
        result.local_loss.append(total_local / n)
        if cfg.redraw_test:
            x_te = jittered_test_images(data, cfg.epsilon, cfg.seed, draw=epoch + 1)
        result.test_acc_history.append(evaluate(net, x_te, y_te))
    result.test_acc = result.test_acc_history[-1] if result.test_acc_history else evaluate(net, x_te, y_te)
    if not np.isfinite(result.test_acc):
        raise SimulationError("test accuracy is not finite")
    return result
