"""An E/I multilayer network: hidden layers of one kind and a DANN readout (n_i = 1)."""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from neurorx.ei.error_norm import get_error_norm
from neurorx.ei.layers import DIVISIVE, LAYERS, DANNLayer, INormLayer, n_inhibitory
from neurorx.errors import ConfigurationError
from neurorx.seeds import torch_generator

__all__ = ["EINetwork", "EINetworkConfig"]

_INIT = 0  # seed purpose: initial weights


@dataclass(frozen=True)
class EINetworkConfig:
    """Architecture of an :class:`EINetwork`.

    Attributes
    ----------
    n_in, n_out : int
        Input pixels and classes.
    hidden : tuple of int
        Excitatory units per hidden layer.
    layer : str
        Hidden-layer kind (:data:`neurorx.ei.layers.LAYERS`): ``"inorm"``, ``"dann"``, ``"ln_plus"``,
        ``"ln_minus"``.
    divisive : str
        Divisive pathway of I-Norm layers (``"svd"``, ``"dann"``, ``"none"``).
    error_norm : str
        Error normalization of I-Norm layers.
    i_ratio : float
        Subtractive interneurons per E unit (``n_i = max(1, floor(i_ratio n_e))``).
    eps : float
        Added to the divisive drive.
    seed : int
        Seed of the initial weights.
    """

    n_in: int = 64
    hidden: tuple[int, ...] = field(default=(100, 100))
    n_out: int = 10
    layer: str = "inorm"
    divisive: str = "svd"
    error_norm: str = "none"
    i_ratio: float = 0.1
    eps: float = 1e-5
    seed: int = 0

    def __post_init__(self):
        object.__setattr__(self, "hidden", tuple(int(w) for w in self.hidden))
        if self.layer not in LAYERS:
            try:
                LAYERS.get(self.layer)
            except ValueError as err:
                raise ConfigurationError(f"{err} Pass layer= one of these names.") from None
        if self.divisive not in DIVISIVE:
            try:
                DIVISIVE.get(self.divisive)
            except ValueError as err:
                raise ConfigurationError(f"{err} Pass divisive= one of these names.") from None
        get_error_norm(self.error_norm)
        if self.n_in < 1 or self.n_out < 2 or not self.hidden or min(self.hidden) < 2:
            raise ConfigurationError(f"EINetworkConfig needs n_in >= 1, n_out >= 2 and hidden widths >= 2; got "
                                     f"n_in={self.n_in}, hidden={self.hidden}, n_out={self.n_out}")

    def to_dict(self) -> dict:
        """JSON-able dict (``hidden`` as a list)."""
        out = asdict(self)
        out["hidden"] = list(self.hidden)
        return out


class EINetwork(nn.Module):
    """Hidden E/I (or E-only) layers and a DANN readout with one inhibitory unit.

    Parameters
    ----------
    config : EINetworkConfig
        The architecture.

    Examples
    --------
    >>> net = EINetwork(EINetworkConfig(hidden=(32, 32), error_norm="full"))
    >>> net(torch.rand(5, 64)).shape
    torch.Size([5, 10])
    """

    def __init__(self, config: EINetworkConfig):
        super().__init__()
        self.config = config
        gen = torch_generator(config.seed, _INIT)
        sizes = (config.n_in, *config.hidden)
        layers = []
        for k, (d, n_e) in enumerate(itertools.pairwise(sizes)):
            if config.layer == "inorm":
                layers.append(INormLayer(d, n_e, n_inhibitory(n_e, config.i_ratio), divisive=config.divisive,
                                         error_norm=config.error_norm, eps=config.eps, generator=gen))
            elif config.layer == "dann":
                layers.append(DANNLayer(d, n_e, n_inhibitory(n_e, config.i_ratio), first=k == 0, generator=gen))
            else:
                layers.append(LAYERS.get(config.layer)(d, n_e, eps=config.eps, generator=gen))
        self.hidden = nn.ModuleList(layers)
        self.readout = DANNLayer(sizes[-1], config.n_out, 1, activation=False, generator=gen)

    @property
    def layers(self) -> list[nn.Module]:
        """Hidden layers then the readout."""
        return [*self.hidden, self.readout]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.config.n_in:
            raise ConfigurationError(f"the network takes images of {self.config.n_in} pixels, got {x.shape[-1]}; "
                                     "use images of the size it was built for (or build one with n_in="
                                     f"{x.shape[-1]})")
        h = x
        for layer in self.hidden:
            h = layer(h)
        return self.readout(h)

    def activations(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Inputs to every layer (``[x, h1, h2, ...]``), without gradients."""
        with torch.no_grad():
            hs = [x]
            for layer in self.hidden:
                hs.append(layer(hs[-1]))
        return hs

    def local_loss(self, lam: float) -> torch.Tensor:
        """Sum of the homeostatic losses of the last forward pass (0 if no layer has one)."""
        losses = [layer.local_loss(lam) for layer in self.hidden if isinstance(layer, INormLayer)]
        return torch.stack(losses).sum() if losses else torch.zeros(())

    def project_(self) -> None:
        """Clamp every Dale-constrained weight to be >= 0."""
        for layer in self.layers:
            layer.project_()

    def dale_parameters(self) -> dict[str, torch.Tensor]:
        """Dale-constrained parameters by qualified name."""
        out = {}
        for name, module in [*((f"hidden.{k}", m) for k, m in enumerate(self.hidden)), ("readout", self.readout)]:
            out.update({f"{name}.{n}": p for n, p in module.dale_parameters().items()})
        return out

    def roles(self) -> dict[str, list[nn.Parameter]]:
        """Trainable parameters by role (``excitatory``, ``inhibitory_local``, ``inhibitory_task``)."""
        out: dict[str, list] = {"excitatory": [], "inhibitory_local": [], "inhibitory_task": []}
        for layer in self.layers:
            for role, params in layer.roles().items():
                out[role].extend(params)
        return out

    def correct_gradients_(self) -> None:
        """Apply the DANN gradient corrections to every task-trained E/I layer."""
        for layer in self.layers:
            if isinstance(layer, DANNLayer):
                layer.correct_gradients_()
