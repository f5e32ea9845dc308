"""Feed-forward layers with excitatory (E) and inhibitory (I) populations, and the E-only baselines.

Layer kinds (registry :data:`LAYERS`):

- ``"inorm"`` -- :class:`INormLayer`, the paper's hidden layer: subtractive and divisive inhibition, inhibitory
  weights trained only by a local homeostatic loss, optional error normalization.
- ``"dann"`` -- :class:`DANNLayer`, Cornford et al.'s subtractive E/I layer, every weight trained by the task
  (also the readout of every network).
- ``"ln_plus"`` / ``"ln_minus"`` -- :class:`ELayer`, E-only (``W_EE >= 0``) with / without exact LayerNorm.

Divisive pathways of the I-Norm layer (registry :data:`DIVISIVE`): ``"svd"`` (the paper's: signed ``U_IE``
from the SVD, so the E->divisive-I synapses are *not* Dale), ``"dann"`` (Cornford's shunting inhibition
through the subtractive interneurons, Dale throughout) and ``"none"`` (the "I-Norm (sub)" ablation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from neurorx.ei.error_norm import apply_error_norm, get_error_norm, lateral_weights
from neurorx.errors import ConfigurationError
from neurorx.models.ei_primitives import (
    balanced_inhibition,
    homeostatic_loss,
    n_inhibitory,
    pool_size,
    project_dale_,
    svd_pool,
)
from neurorx.registry import Registry

__all__ = [
    "DIVISIVE",
    "LAYERS",
    "DANNLayer",
    "ELayer",
    "INormLayer",
    "LayerSpec",
    "NoDivisive",
    "SVDDivisive",
    "ShuntingDivisive",
    "n_inhibitory",
]

#: Layer kinds by name (classes).
LAYERS: Registry[type] = Registry("E/I layer kind")
#: Divisive pathways of :class:`INormLayer` by name (classes).
DIVISIVE: Registry[type] = Registry("divisive pathway")


def _lognormal(shape, mean: float, std: float, generator) -> torch.Tensor:
    """Lognormal samples with the given mean and standard deviation."""
    sigma2 = math.log(1.0 + (std / mean) ** 2)
    mu = math.log(mean) - sigma2 / 2
    return torch.exp(mu + math.sqrt(sigma2) * torch.randn(shape, generator=generator))


def _exponential(shape, scale: float, generator) -> torch.Tensor:
    """Exponential samples with the given scale (mean)."""
    u = torch.rand(shape, generator=generator).clamp_min(1e-12)
    return -torch.log(u) * scale


def _frozen(t: torch.Tensor) -> nn.Parameter:
    return nn.Parameter(t, requires_grad=False)


@dataclass(frozen=True)
class LayerSpec:
    """What a layer is, as plain data (saved in network files).

    Attributes
    ----------
    kind : str
        A name in :data:`LAYERS`.
    d, n_e : int
        Input and output (excitatory) sizes.
    n_i : int
        Subtractive interneurons (0 for E-only layers).
    divisive : str
        A name in :data:`DIVISIVE` (``"none"`` for layers without one).
    error_norm : str
        Error normalization (I-Norm layers only).
    activation : bool
        ReLU on the output (False for the readout).
    eps : float
        Added to the divisive drive (and LayerNorm's variance).
    """

    kind: str
    d: int
    n_e: int
    n_i: int = 0
    divisive: str = "none"
    error_norm: str = "none"
    activation: bool = True
    eps: float = 1e-5


class _EILayerBase(nn.Module):
    """Shared parts: the Dale projection and the parameter roles."""

    #: names of parameters kept >= 0 (Dale's law)
    dale: tuple[str, ...] = ()

    def project_(self) -> None:
        """Clamp every Dale-constrained weight to be >= 0 (call after each optimizer step)."""
        for name, p in self.named_parameters():
            if name.split(".")[-1] in self._dale_names():
                project_dale_(p)

    def _dale_names(self) -> tuple[str, ...]:
        return self.dale

    def dale_parameters(self) -> dict[str, torch.Tensor]:
        """The Dale-constrained parameters by (qualified) name."""
        return {n: p for n, p in self.named_parameters() if n.split(".")[-1] in self._dale_names()}

    def roles(self) -> dict[str, list[nn.Parameter]]:
        """Trainable parameters by role: ``"excitatory"``, ``"inhibitory_local"``, ``"inhibitory_task"``."""
        raise NotImplementedError

    def local_loss(self) -> torch.Tensor | None:
        """The homeostatic loss of the last forward pass (``None`` for layers without one)."""
        return None


@LAYERS.register("dann")
class DANNLayer(_EILayerBase):
    """Cornford et al.'s subtractive E/I layer (DANN), trained end to end by the task.

    Parameters
    ----------
    d, n_e : int
        Input size and number of excitatory (output) units.
    n_i : int
        Inhibitory units (the readout uses 1).
    activation : bool
        ReLU on the output.
    first : bool
        The first layer of a network (changes the init scale).
    generator : torch.Generator, optional
        Source of the initial weights.

    Notes
    -----
    :math:`z = W_{EE} h + b - W_{EI} W_{IE} h`; ``W_EE, W_IE, W_EI >= 0``. Init: ``W_EE ~ Exp(sigma)`` with
    :math:`\\sigma = \\sqrt{2\\pi/((2\\pi-1)d)}` (hidden) or :math:`\\sqrt{1/(2d)}` (first layer),
    ``W_EI = 1/n_i``, ``W_IE ~ Exp(sigma)`` (the mean row of ``W_EE`` when ``n_i = 1``), ``b = 0``.
    """

    dale = ("W_EE", "W_IE", "W_EI")

    def __init__(self, d: int, n_e: int, n_i: int = 1, *, activation: bool = True, first: bool = False,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.spec = LayerSpec("dann", d, n_e, n_i, "none", "none", activation)
        sigma = math.sqrt(1.0 / (2 * d)) if first else math.sqrt(2 * math.pi / ((2 * math.pi - 1) * d))
        w_ee = _exponential((n_e, d), sigma, generator)
        w_ie = w_ee.mean(dim=0, keepdim=True) if n_i == 1 else _exponential((n_i, d), sigma, generator)
        self.W_EE = nn.Parameter(w_ee)
        self.b = nn.Parameter(torch.zeros(n_e))
        self.W_IE = nn.Parameter(w_ie)
        self.W_EI = nn.Parameter(torch.full((n_e, n_i), 1.0 / n_i))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        z = F.linear(h, self.W_EE, self.b) - F.linear(F.linear(h, self.W_IE), self.W_EI)
        return F.relu(z) if self.spec.activation else z

    def roles(self):
        return {"excitatory": [self.W_EE, self.b], "inhibitory_local": [],
                "inhibitory_task": [self.W_IE, self.W_EI]}

    def correct_gradients_(self) -> None:
        """Cornford's Fisher-based corrections: ``grad W_IE /= sqrt(n_e)``, ``grad W_EI /= d``."""
        if self.W_IE.grad is not None:
            self.W_IE.grad /= math.sqrt(self.spec.n_e)
        if self.W_EI.grad is not None:
            self.W_EI.grad /= self.spec.d


class _Divisive(nn.Module):
    """A divisive pathway: ``denominator(hd, layer) -> (batch, n_e)`` (``hd`` is the detached input)."""

    dale: tuple[str, ...] = ()
    local: tuple[str, ...] = ()

    def init_(self, layer: INormLayer, generator) -> None:
        """Set the initial weights from the layer's (already initialized) subtractive weights."""

    def denominator(self, hd: torch.Tensor, layer: INormLayer):
        raise NotImplementedError


@DIVISIVE.register("none")
class NoDivisive(_Divisive):
    """No divisive inhibition (gamma = 1): the "I-Norm (sub)" ablation."""

    pool = 0

    def __init__(self, d: int, n_e: int, n_i: int, eps: float):
        super().__init__()

    def denominator(self, hd, layer):
        return None


@DIVISIVE.register("svd")
class SVDDivisive(_Divisive):
    """The paper's divisive pool: ``k = min(n_e, d)`` units that square their input.

    Notes
    -----
    :math:`\\gamma = \\sqrt{U_{EI} (U_{IE} h)^{\\circ 2} + \\epsilon}`. Init: ``U_IE = diag(S) V^T`` from the SVD
    of :math:`W = W_{EE} - W_{EI} W_{IE}` and ``U_EI = 1/n_e``, so that :math:`U_{EI}(U_{IE}h)^2 = \\|Wh\\|^2/n_e`,
    the variance of the centred drive. ``U_IE`` is signed: the E->divisive-I synapses are **not** Dale.
    ``U_EI`` is frozen and ``>= 0``; ``U_IE`` is trained by the homeostatic loss.
    """

    dale = ("U_EI",)
    local = ("U_IE",)
    not_dale = ("U_IE",)

    def __init__(self, d: int, n_e: int, n_i: int, eps: float):
        super().__init__()
        self.pool = pool_size(n_e, d)
        self.eps = eps
        self.U_IE = nn.Parameter(torch.zeros(self.pool, d))
        self.U_EI = _frozen(torch.full((n_e, self.pool), 1.0 / n_e))

    def init_(self, layer, generator):
        with torch.no_grad():
            self.U_IE.copy_(svd_pool(layer.W_EE, layer.W_EI, layer.W_IE).to(self.U_IE.dtype))

    def denominator(self, hd, layer):
        return torch.sqrt(F.linear(F.linear(hd, self.U_IE) ** 2, self.U_EI) + self.eps)


@DIVISIVE.register("dann")
class ShuntingDivisive(_Divisive):
    """Cornford's shunting inhibition through the subtractive interneurons: Dale's law throughout.

    Notes
    -----
    :math:`\\gamma_k = \\sum_j W_{EI}[k,j]\\, e^{\\alpha_j} (W_{IE} h)_j + \\epsilon`, init
    :math:`\\alpha = \\log\\sqrt{(2\\pi-1)/d}`. ``alpha`` (and ``W_IE``) are trained by the homeostatic loss. The
    layer equals LayerNorm only approximately at initialization (exactly only for ``"svd"``).
    """

    local = ("alpha",)

    def __init__(self, d: int, n_e: int, n_i: int, eps: float):
        super().__init__()
        self.pool = 0
        self.eps = eps
        self.alpha = nn.Parameter(torch.full((n_i,), math.log(math.sqrt((2 * math.pi - 1) / d))))

    def denominator(self, hd, layer):
        return F.linear(torch.exp(self.alpha) * F.linear(hd, layer.W_IE), layer.W_EI) + self.eps


@LAYERS.register("inorm")
class INormLayer(_EILayerBase):
    """The paper's I-Norm hidden layer (Eq. 1) with homeostatic inhibition and optional error normalization.

    Parameters
    ----------
    d, n_e : int
        Input size and excitatory units.
    n_i : int, optional
        Subtractive interneurons; default ``max(1, floor(0.1 n_e))``.
    divisive : {"svd", "dann", "none"}
        Divisive pathway (:data:`DIVISIVE`).
    error_norm : str
        Error normalization (:data:`neurorx.ei.error_norm.ERROR_NORMS`).
    eps : float
        Added to the divisive drive.
    activation : bool
        ReLU on the output.
    generator : torch.Generator, optional
        Source of the initial weights.

    Notes
    -----
    Forward (Eq. 1): :math:`z = (W_{EE} h + b - W_{EI} W_{IE} h) / \\gamma(h)`, :math:`h' = \\mathrm{ReLU}(z)`.
    For the task loss the subtractive term and :math:`\\gamma` are constants and the inhibitory pathways see
    a detached copy of ``h``: the task trains ``W_EE`` and ``b`` only. The homeostatic loss
    :math:`L_I = \\lambda\\,\\mathrm{mean}_{b}[(\\mathrm{mean}_k \\tilde z_k)^2 + (\\mathrm{Var}_k\\tilde z_k - 1)^2]`,
    with :math:`\\tilde z` Eq. 1 under stop-gradient on ``h`` and on ``W_EE h + b``, trains ``W_IE`` and the
    divisive pathway's own weights (``U_IE`` or ``alpha``); ``W_EI`` and ``U_EI`` stay frozen.

    Init (makes the layer exactly LayerNorm without affine when ``b = 0`` and divisive is ``"svd"``):
    ``W_EE`` lognormal with mean = std = :math:`\\sqrt{2n_e/(d(n_e-1))}`; every row of ``W_IE`` the column
    mean of ``W_EE``; rows of ``W_EI`` lognormal normalized to sum to 1, so that
    :math:`W_{EI}W_{IE}h = \\mathrm{mean}_k (W_{EE}h)_k`.
    """

    dale = ("W_EE", "W_IE", "W_EI")

    def __init__(self, d: int, n_e: int, n_i: int | None = None, *, divisive: str = "svd",
                 error_norm: str = "none", eps: float = 1e-5, activation: bool = True,
                 generator: torch.Generator | None = None):
        super().__init__()
        get_error_norm(error_norm)
        if divisive not in DIVISIVE:
            try:
                DIVISIVE.get(divisive)
            except ValueError as err:
                raise ConfigurationError(f"{err} Pass divisive= one of these names.") from None
        n_i = n_inhibitory(n_e) if n_i is None else int(n_i)
        self.spec = LayerSpec("inorm", d, n_e, n_i, divisive, error_norm, activation, eps)
        scale = math.sqrt(2 * n_e / (d * max(n_e - 1, 1)))
        w_ee = _lognormal((n_e, d), scale, scale, generator)
        w_ei = _lognormal((n_e, n_i), 1.0, 1.0, generator)
        self.W_EE = nn.Parameter(w_ee)
        self.b = nn.Parameter(torch.zeros(n_e))
        w_ie, w_ei = balanced_inhibition(w_ee, w_ei, n_i)
        self.W_IE = nn.Parameter(w_ie)
        self.W_EI = _frozen(w_ei)
        self.div = DIVISIVE.get(divisive)(d, n_e, n_i, eps)
        self.div.init_(self, generator)
        if get_error_norm(error_norm).needs_weights:
            self.register_buffer("nu", lateral_weights(n_e, generator))
        else:
            self.nu = None
        self._ztilde = None
        #: replace the E/I normalization by exact LayerNorm of ``W_EE h + b`` (used by the diagnostics)
        self.exact_layernorm = False

    def _dale_names(self):
        return self.dale + self.div.dale

    def drives(self, h: torch.Tensor):
        """``(zE, sub, gamma)`` for input ``h``: E drive with bias, subtractive term, divisor (or None)."""
        hd = h.detach()
        z_e = F.linear(h, self.W_EE, self.b)
        sub = F.linear(F.linear(hd, self.W_IE), self.W_EI)
        return z_e, sub, self.div.denominator(hd, self)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if self.exact_layernorm:  # the reference of the diagnostics: exact LayerNorm of the E drive
            z = F.layer_norm(F.linear(h, self.W_EE, self.b), (self.spec.n_e,), eps=self.spec.eps)
            return F.relu(z) if self.spec.activation else z
        z_e, sub, gamma = self.drives(h)
        numer = z_e - sub.detach()
        z = numer if gamma is None else numer / gamma.detach()
        self._ztilde = z_e.detach() - sub if gamma is None else (z_e.detach() - sub) / gamma
        z = apply_error_norm(z, self.spec.error_norm, self.nu)
        return F.relu(z) if self.spec.activation else z

    def normalized_drive(self, h: torch.Tensor) -> torch.Tensor:
        """The normalized drive ``z`` (before the ReLU), without gradients."""
        with torch.no_grad():
            z_e, sub, gamma = self.drives(h)
            return (z_e - sub) if gamma is None else (z_e - sub) / gamma

    def local_loss(self, lam: float = 1.0) -> torch.Tensor:
        """The homeostatic loss of the last forward pass (trains ``W_IE`` and ``U_IE``/``alpha`` only).

        Parameters
        ----------
        lam : float
            The weight lambda.
        """
        if self._ztilde is None:
            raise RuntimeError("local_loss() needs a forward pass first")
        return homeostatic_loss(self._ztilde, lam)

    def roles(self):
        local = [self.W_IE] + [getattr(self.div, n) for n in self.div.local]
        return {"excitatory": [self.W_EE, self.b], "inhibitory_local": local, "inhibitory_task": []}


@LAYERS.register("ln_plus")
class ELayer(_EILayerBase):
    """E-only layer (``W_EE >= 0``), with exact LayerNorm (``"ln_plus"``) or without (``"ln_minus"``).

    Notes
    -----
    :math:`h' = \\mathrm{ReLU}(\\mathrm{LN}(W_{EE}h + b))` (LayerNorm without affine parameters, its true
    gradient), or :math:`\\mathrm{ReLU}(W_{EE}h + b)`. ``W_EE`` starts as in :class:`INormLayer`.
    """

    dale = ("W_EE",)

    def __init__(self, d: int, n_e: int, *, layernorm: bool = True, eps: float = 1e-5, activation: bool = True,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.spec = LayerSpec("ln_plus" if layernorm else "ln_minus", d, n_e, 0, "none", "none", activation, eps)
        scale = math.sqrt(2 * n_e / (d * max(n_e - 1, 1)))
        self.W_EE = nn.Parameter(_lognormal((n_e, d), scale, scale, generator))
        self.b = nn.Parameter(torch.zeros(n_e))

    def forward(self, h):
        z = F.linear(h, self.W_EE, self.b)
        if self.spec.kind == "ln_plus":
            z = F.layer_norm(z, (self.spec.n_e,), eps=self.spec.eps)
        return F.relu(z) if self.spec.activation else z

    def roles(self):
        return {"excitatory": [self.W_EE, self.b], "inhibitory_local": [], "inhibitory_task": []}


def _e_no_ln(d, n_e, **kw):
    return ELayer(d, n_e, layernorm=False, **kw)


LAYERS.add("ln_minus", _e_no_ln)
