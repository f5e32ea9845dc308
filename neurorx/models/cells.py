"""Recurrent cells: the one definition of each network's dynamics.

A cell defines the drift :math:`F` of the continuous-time rate equation

.. math:: \\tau\\,\\frac{dh}{dt} = F(h, u),\\qquad u = W_{in}x + b,

and everything else follows from it: the discrete Euler–Maruyama step used by training and by the torch
backend (:meth:`Cell.step`, :math:`h \\leftarrow h + a F(h,u) + \\text{noise}`, :math:`a = \\Delta t/\\tau`), the one
loop over time that applies it (:meth:`Cell.run`), and
the Brian2 equations (:meth:`Cell.brian2`), which state the same :math:`F` as an expression.

Weight layout (torch ``[post, pre]``): ``w_in`` is ``(G*N, n_in)``, ``w_rec`` is ``(G*N, N)`` and ``bias`` is
``(G*N,)``, with ``G`` gate blocks of ``N`` rows stacked in the order of :attr:`Cell.gates`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import ClassVar

import numpy as np
import torch

from neurorx.activations import Activation
from neurorx.checks import positive_int
from neurorx.errors import ConfigurationError
from neurorx.models import ei_primitives as ei
from neurorx.registry import Registry, suggest

__all__ = ["CELLS", "Brian2Cell", "Brian2Pool", "Cell", "DaleCell", "DaleNormCell", "DaleSubNormCell", "GRUCell",
           "VanillaCell", "get_cell", "homeostatic_loss"]

#: The homeostatic loss (defined once, in :mod:`neurorx.models.ei_primitives`).
homeostatic_loss = ei.homeostatic_loss


@dataclass(frozen=True)
class Brian2Pool:
    """An instantaneous auxiliary population of a cell (no state, no noise): the divisive pool of ``dale_norm``.

    Per trial it has ``k`` units (the rows of the network's weight array :attr:`weight`) with

    .. math:: p_k = \\sum_j U_{kj}\\, s_j, \\qquad I_{target,i} = \\sum_k \tfrac{1}{k}\\, p_k^2 ,

    where :math:`s_j` is the presynaptic expression :attr:`source` of the :attr:`presynaptic` population and the
    sum over the pool is written into the current :attr:`current` of every unit of the :attr:`target` population.

    Attributes
    ----------
    weight : str
        Network weight array ``(k, n_pre)`` (torch ``[post, pre]``) onto the pool units, e.g. ``"w_div"``.
    presynaptic, target : str
        Populations (:meth:`Cell.populations`) feeding the pool and receiving its output.
    source : str
        Presynaptic expression (one of the cell's current expressions, e.g. ``"clip(h, 0, inf)"``).
    current : str
        The target's variable receiving :math:`\\frac1k\\sum_k p_k^2`, e.g. ``"I_div"``.
    """

    weight: str
    presynaptic: str
    target: str
    source: str
    current: str


@dataclass(frozen=True)
class Brian2Cell:
    r"""A cell's dynamics as Brian2 expressions.

    Attributes
    ----------
    drift : str
        Expression of :math:`F(h, u)`; the equation is ``dh/dt = drift/tau + noise``.
    subexpressions : str
        Equation lines for subexpressions (gates), possibly empty.
    currents : dict
        Recurrent currents, in the order they must be computed: ``name -> presynaptic expression``. The
        current for gate block ``k`` is ``sum_j w_rec[k*N + i, j] * expr_j``.
    inputs : tuple of str
        Names of the input currents (one per gate block; each is ``(W_in x + b)`` of that block).
    presynaptic : dict
        For a cell with populations (:meth:`Cell.populations`): ``current name -> presynaptic population``;
        the current sums over that population's columns of ``w_rec`` only. Empty for one population.
    population_drift : dict
        For a cell with populations: ``population -> drift`` where a population's drift differs from
        :attr:`drift` (``dale_norm``: the E units divide their drive by the pool's :math:`\gamma`).
    pool : Brian2Pool or None
        An instantaneous auxiliary population (``dale_norm``'s divisive pool), or ``None``.
    """

    drift: str
    subexpressions: str
    currents: dict[str, str]
    inputs: tuple[str, ...]
    presynaptic: dict[str, str] = field(default_factory=dict)
    population_drift: dict[str, str] = field(default_factory=dict)
    pool: Brian2Pool | None = None


@dataclass(frozen=True)
class Cell:
    """Base class of the cells: subclasses define :meth:`drift` and :meth:`brian2`.

    A cell is a frozen dataclass whose fields are its parameters (e.g. ``gamma_shape`` of ``dale``): they are
    part of a training's configuration (the ``rnn`` section of a card, :class:`neurorx.training.RNNConfig`),
    saved in the network file (:attr:`neurorx.RateNetwork.cell_params`) and read back. :data:`CELLS` holds each
    cell with its default parameters; :func:`get_cell` returns one with given parameters.

    A cell may have weight arrays beyond the five every network has (:attr:`extra_weights`, e.g. the
    divisive pool ``w_div`` of ``dale_norm``); they are handed to :meth:`drift`, :meth:`step` and :meth:`run` as
    ``extra`` (name -> tensor) and saved in the network file like the others.
    """

    name: ClassVar[str]
    gates: ClassVar[tuple[str, ...]]
    default_activation: ClassVar[str]
    #: Names of the cell's weight arrays beyond encoder, w_in, w_rec, w_out and bias (shapes: :meth:`weight_shapes`).
    extra_weights: ClassVar[tuple[str, ...]] = ()
    #: Whether the cell has a local loss (:meth:`local_loss`) that the trainer adds to the task loss.
    has_local_loss: ClassVar[bool] = False

    @classmethod
    def parameter_names(cls) -> tuple[str, ...]:
        """The parameters a configuration may set (the dataclass fields given to the constructor)."""
        return tuple(f.name for f in fields(cls) if f.init)

    def params(self) -> dict[str, float | int | bool | None]:
        """The cell's parameters and their values (what a network file and a card's ``rnn`` section hold)."""
        return {name: getattr(self, name) for name in self.parameter_names()}

    def settings(self) -> dict[str, float | int | bool | None]:
        """Every field of the cell (its :meth:`params` and fixed properties such as ``divisive``), by name.

        A sweep's training job id takes these in (:mod:`neurorx.sweep.jobs`), so a card that leaves a parameter
        to its default names the default's value.
        """
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def with_params(self, params: Mapping[str, object] | None, *, prefix: str = "") -> Cell:
        """The same cell with some parameters replaced (``prefix`` names them in errors, e.g. ``"rnn."``).

        Raises
        ------
        ConfigurationError
            For a name that is not one of :meth:`parameter_names`, or a value the cell refuses.
        """
        params = dict(params or {})
        if not params:
            return self
        names = self.parameter_names()
        for key in params:
            if key not in names:
                choices = ", ".join(f"{prefix}{n}" for n in names) or "none"
                raise ConfigurationError(f"{prefix}{key}: the {self.name} cell has no parameter {key!r} (its "
                                         f"parameters: {choices})" + suggest(key, names))
        return replace(self, **params)

    def weight_shapes(self, n_rec: int, n_in: int, n_out: int, n_init: int) -> dict[str, tuple[int, ...]]:
        """Shapes of every weight array, torch ``[post, pre]`` layout."""
        g = len(self.gates)
        return {
            "encoder": (n_rec, n_init),
            "w_in": (g * n_rec, n_in),
            "w_rec": (g * n_rec, n_rec),
            "w_out": (n_out, n_rec),
            "bias": (g * n_rec,),
        }

    @staticmethod
    def input_projection(x: torch.Tensor, w_in: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        """:math:`u = W_{in}x + b` for inputs of any leading shape (one matrix product for all steps)."""
        u = x @ w_in.T
        return u if bias is None else u + bias

    def drift(self, h: torch.Tensor, u: torch.Tensor, w_rec: torch.Tensor, act: Activation,
              extra: Mapping[str, torch.Tensor] | None = None) -> torch.Tensor:
        """:math:`F(h, u)` for a batch ``h (B, N)`` and input projection ``u (B, G*N)``; ``extra``: the cell's
        :attr:`extra_weights` by name (unused by cells without any).
        """
        raise NotImplementedError

    def step(self, h: torch.Tensor, u: torch.Tensor, w_rec: torch.Tensor, a: float, act: Activation,
             increment: torch.Tensor | None = None, extra: Mapping[str, torch.Tensor] | None = None) -> torch.Tensor:
        """One Euler–Maruyama step: :math:`h + a\\,F(h,u) + \\text{increment}`."""
        drift = self.drift(h, u, w_rec, act) if extra is None else self.drift(h, u, w_rec, act, extra)
        h_new = torch.addcmul(h, drift, torch.as_tensor(a, dtype=h.dtype))
        return h_new if increment is None else h_new.add_(increment)   # in place: one temporary fewer per step

    def run(self, h0: torch.Tensor, u: torch.Tensor, w_rec: torch.Tensor, a: float, act: Activation,
            increments: torch.Tensor | None = None, *, substeps: int = 1,
            out: torch.Tensor | None = None, extra: Mapping[str, torch.Tensor] | None = None) -> torch.Tensor:
        """The one step loop: :meth:`step` over time-major inputs, ``substeps`` steps per input sample.

        Used by the torch model and the trainer (``substeps=1``) and by the torch backend (``substeps=k`` at
        ``dt_factor=k``).

        Parameters
        ----------
        h0 : tensor (B, N)
        u : tensor (T, B, G*N)
            Input projections :math:`W_{in}x_t + b`, each held for ``substeps`` steps.
        a : float
            :math:`\\Delta t/\\tau` of one (sub)step.
        increments : tensor (T*substeps, B, N) or None
            Recurrent noise increments, one per (sub)step.
        out : tensor (T, B, N), optional
            Where to write the states (no autograd graph through it); a new tensor if omitted.
        extra : dict, optional
            The cell's :attr:`extra_weights` by name.

        Returns
        -------
        tensor (T, B, N)
            The state at the end of each input sample, :math:`h_1 \\dots h_T`.
        """
        h = h0
        states = []
        for t in range(u.shape[0]):
            u_t = u[t]
            for s in range(substeps):
                h = self.step(h, u_t, w_rec, a, act, None if increments is None else increments[t * substeps + s],
                              extra)
            if out is None:
                states.append(h)
            else:
                out[t] = h
        return torch.stack(states) if out is None else out

    def brian2(self, act: Activation) -> Brian2Cell:
        """The drift as Brian2 expressions (see :class:`Brian2Cell`)."""
        raise NotImplementedError

    # -- hooks for constrained cells (no-ops here) -------------------------------------------------------
    def populations(self, n_rec: int) -> dict[str, slice]:
        """Named populations of units (``name -> slice`` of unit indices); empty: one homogeneous population.

        The Brian2 backend builds one ``NeuronGroup`` per population.
        """
        return {}

    def init_weights_(self, weights: Mapping[str, torch.Tensor]) -> None:
        """Initialise a freshly built model's weights in place (default: keep torch's default init)."""

    def project_(self, weights: Mapping[str, torch.Tensor]) -> None:
        """Project the weights onto the cell's constraints in place; the trainer calls it after every step."""

    def validate_weights(self, weights: Mapping[str, object], n_rec: int) -> None:
        """Raise :class:`~neurorx.errors.ConfigurationError` if ``weights`` break the cell's constraints."""

    def default_extra_weights(self, weights: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Values of the :attr:`extra_weights` for a network given without them (computed from ``weights``).

        :meth:`RateNetwork.from_arrays <neurorx.network.RateNetwork.from_arrays>` uses them, as it uses a zero
        ``bias``; a network file must hold them. Empty for cells without extra weights.
        """
        return {}

    def frozen_masks(self, weights: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``name -> boolean mask`` of weight entries that training must leave unchanged (restored after every
        optimizer step by the trainer, whatever the optimizer's weight decay); empty by default.
        """
        return {}

    def local_loss(self, states: torch.Tensor, u: torch.Tensor, w_rec: torch.Tensor,
                   extra: Mapping[str, torch.Tensor] | None = None) -> torch.Tensor | None:
        """A local loss over the states ``(T, B, N)`` that drove the steps (``h_0 .. h_{T-1}``) and their input
        projections ``u (T, B, G*N)``; ``None`` for cells without one (:attr:`has_local_loss`).
        """
        return None


CELLS: Registry[Cell] = Registry("cell type")


def _number(cell: Cell, name: str, *, low: float, high: float | None = None) -> None:
    """Check the cell parameter ``name`` is a finite number in ``(low, high)``; store it as a float."""
    value = getattr(cell, name)
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value <= low or (high is not None and value >= high):
        bounds = f"in ({low:g}, {high:g})" if high is not None else f"> {low:g}"
        raise ConfigurationError(f"the {cell.name} cell's parameter {name} must be a number {bounds}; got {value!r} "
                                 f"(set rnn.{name} in the card, or leave it out for the default)")
    object.__setattr__(cell, name, float(value))


@dataclass(frozen=True)
class VanillaCell(Cell):
    """The paper's rate unit.

    Notes
    -----
    .. math:: \\tau\\frac{dh}{dt} = -h + \\phi(W_{rec}h + W_{in}x + b)

    The discrete step :math:`h + a(-h + \\phi(\\cdot))` equals the reference's
    :math:`(1-a)h + a\\,\\phi(\\cdot)`.
    """

    name = "vanilla"
    gates = ("h",)
    default_activation = "relu"

    def drift(self, h, u, w_rec, act, extra=None):
        return act.torch(torch.addmm(u, h, w_rec.T)) - h

    def brian2(self, act: Activation) -> Brian2Cell:
        return Brian2Cell(
            drift=f"-h + {act.brian2_expr('I_rec + I_in')}",
            subexpressions="",
            currents={"I_rec": "h"},
            inputs=("I_in",),
        )


@dataclass(frozen=True)
class GRUCell(Cell):
    """The continuous-time GRU of the paper (Jordan et al. 2021; paper Eqs. A.3–A.6).

    Notes
    -----
    With input blocks :math:`u_z, u_g, u_h` and recurrent blocks :math:`U_z, U_g, U_h` of ``w_rec``:

    .. math::
        z = \\sigma(u_z + U_z h),\\quad g = \\sigma(u_g + U_g h),\\quad
        \\tau\\frac{dh}{dt} = (1 - z)\\odot\\left(\\phi(u_h + U_h(g\\odot h)) - h\\right),

    with :math:`\\phi` = tanh by default.
    """

    name = "gru"
    gates = ("z", "g", "h")
    default_activation = "tanh"

    def drift(self, h, u, w_rec, act, extra=None):
        n = h.shape[-1]
        u_z, u_g, u_h = u[..., :n], u[..., n : 2 * n], u[..., 2 * n :]
        zg = torch.sigmoid(torch.cat([u_z, u_g], dim=-1) + h @ w_rec[: 2 * n].T)
        z, g = zg[..., :n], zg[..., n:]
        cand = act.torch(u_h + (g * h) @ w_rec[2 * n :].T)
        return (1.0 - z) * (cand - h)

    def brian2(self, act: Activation) -> Brian2Cell:
        sig = "(0.5*(1 + tanh(0.5*({}))))"
        return Brian2Cell(
            drift=f"(1 - z)*({act.brian2_expr('I_hrec + I_hin')} - h)",
            subexpressions="\n".join(
                [f"z = {sig.format('I_zrec + I_zin')} : 1", f"g = {sig.format('I_grec + I_gin')} : 1"]
            ),
            currents={"I_zrec": "h", "I_grec": "h", "I_hrec": "g*h"},
            inputs=("I_zin", "I_gin", "I_hin"),
        )


@dataclass(frozen=True)
class DaleCell(Cell):
    """A rate network that obeys Dale's law: ``N_E`` excitatory and ``N_I`` inhibitory units.

    Units ``0 .. N_E-1`` are excitatory (E), units ``N_E .. N-1`` inhibitory (I), with
    :math:`N_E` = round(:attr:`excitatory_fraction` :math:`\\cdot N`) (80/20 by default). Every unit's
    outgoing weights have the sign of its population: column :math:`j` of ``w_rec`` (torch ``[post, pre]``)
    is :math:`\\ge 0` for an E unit and :math:`\\le 0` for an I unit, i.e.
    :math:`W_{rec} = |W|\\,\\mathrm{diag}(s)`, :math:`s_j = \\pm 1`. Units communicate through their rates
    :math:`r = [h]_+ \\ge 0`, so a negative state (from the initial state or zero-mean noise) cannot flip the
    sign of a synapse. The readout uses the E units only (the I columns of ``w_out`` are zero).

    Notes
    -----
    .. math:: \\tau\\frac{dh}{dt} = -h + \\phi\\big(W_{rec}[h]_+ + W_{in}x + b\\big),\\qquad
              W_{rec} = |W|\\,\\mathrm{diag}(s)

    In the non-negative orthant this is the vanilla cell with a sign-constrained :math:`W_{rec}`.

    *Constraint*: :meth:`project_` (called by the trainer after every optimizer step) clamps wrong-signed
    recurrent weights to zero (projected gradient descent, as for the DANN weights of Cornford et al. 2021)
    and zeroes the readout's I columns. :meth:`validate_weights` refuses weights that break either rule, so a
    network file with a violation does not load.

    *Initialisation* (after Song, Yang & Wang 2016, PLoS Comput. Biol. 12:e1004792, with a heavier tail):
    magnitudes :math:`|W_{ij}| \\sim \\mathrm{Gamma}(k)`, :math:`k` = :attr:`gamma_shape` = 0.1, no
    self-connections; in every row the inhibitory weights are
    rescaled so that their sum equals the excitatory sum (exact E/I balance: each row of :math:`W_{rec}` sums to
    zero, removing the large outlier eigenvalue a non-negative matrix has); then the matrix is scaled to the
    spectral radius :attr:`init_radius`. Its default :math:`1/\\sqrt 3` is the radius of the unconstrained
    reference initialisation :math:`U(\\pm 1/\\sqrt N)`, so the two networks start from the same radius
    (Li et al. 2023, "Learning better with Dale's law: a spectral perspective", show that the spectrum at
    initialisation, more than the sign constraint, decides how well such networks learn). The shape sets the
    size of the rank-one part the column signs leave in a row-balanced matrix (mean/SD of the magnitudes is
    :math:`\\sqrt k`), which the spectral radius does not see: at N = 512 the largest singular value is 15.9
    for k = 2 and 4.1 for k = 0.1 (1.15 for the unconstrained initialisation). With k = 2 the spatial and the
    Gaussian-noise head-direction cards did not learn in 2500/3000 batches; with k = 0.1 both learn as the
    unconstrained networks do (docs/dale.md). The input weights,
    the initial-state encoder and the readout's E columns keep the torch default initialisation.
    """

    name = "dale"
    gates = ("h",)
    default_activation = "relu"
    #: Fraction of excitatory units.
    excitatory_fraction: float = 0.8
    #: Spectral radius of ``w_rec`` at initialisation.
    init_radius: float = 1.0 / math.sqrt(3.0)
    #: Shape of the gamma distribution of the initial weight magnitudes (heavy-tailed; see the class notes).
    gamma_shape: float = 0.1

    def __post_init__(self):
        _number(self, "excitatory_fraction", low=0.0, high=1.0)
        _number(self, "init_radius", low=0.0)
        _number(self, "gamma_shape", low=0.0)

    def n_excitatory(self, n_rec: int) -> int:
        """:math:`N_E` of a network of ``n_rec`` units (at least one E and one I unit)."""
        return ei.n_excitatory(n_rec, self.excitatory_fraction)

    def populations(self, n_rec: int) -> dict[str, slice]:
        n_e = self.n_excitatory(n_rec)
        return {"E": slice(0, n_e), "I": slice(n_e, n_rec)}

    def signs(self, n_rec: int, dtype=torch.float64) -> torch.Tensor:
        """The presynaptic signs :math:`s` (+1 for E, -1 for I units)."""
        s = torch.ones(n_rec, dtype=dtype)
        s[self.n_excitatory(n_rec):] = -1.0
        return s

    def drift(self, h, u, w_rec, act, extra=None):
        return act.torch(torch.addmm(u, torch.relu(h), w_rec.T)) - h

    def brian2(self, act: Activation) -> Brian2Cell:
        rate = "clip(h, 0, inf)"
        return Brian2Cell(
            drift=f"-h + {act.brian2_expr('I_rec_E + I_rec_I + I_in')}",
            subexpressions="",
            currents={"I_rec_E": rate, "I_rec_I": rate},
            inputs=("I_in",),
            presynaptic={"I_rec_E": "E", "I_rec_I": "I"},
        )

    def init_weights_(self, weights: Mapping[str, torch.Tensor]) -> None:
        w_rec = weights["w_rec"]
        n = w_rec.shape[1]
        n_e = self.n_excitatory(n)
        with torch.no_grad():
            mag = torch.distributions.Gamma(torch.tensor(self.gamma_shape, dtype=torch.float64),
                                            torch.tensor(1.0, dtype=torch.float64)).sample((n, n))
            mag.fill_diagonal_(0.0)
            e_sum = mag[:, :n_e].sum(dim=1, keepdim=True)
            i_sum = mag[:, n_e:].sum(dim=1, keepdim=True).clamp_min(1e-12)
            mag[:, n_e:] *= e_sum / i_sum
            w = mag * self.signs(n)
            radius = torch.linalg.eigvals(w).abs().max().real
            w *= self.init_radius / float(radius) if float(radius) > 0 else 1.0
            w_rec.copy_(w.to(w_rec.dtype))
        self.project_(weights)

    def project_(self, weights: Mapping[str, torch.Tensor]) -> None:
        w_rec = weights["w_rec"]
        n_e = self.n_excitatory(w_rec.shape[1])
        ei.project_dale_(w_rec, n_e)
        if "w_out" in weights:
            with torch.no_grad():
                weights["w_out"][:, n_e:] = 0.0

    def validate_weights(self, weights: Mapping[str, object], n_rec: int) -> None:
        n_e = self.n_excitatory(n_rec)
        fix = (f"; a {self.name} network's w_rec is |W| diag(signs) with units 0..N_E-1 excitatory (columns >= 0) and "
               "N_E..N-1 inhibitory (columns <= 0), and its readout reads the E units only. Project the weights "
               f"with neurorx.models.cells.CELLS.get({self.name!r}).project_(weights), or use cell='vanilla'")
        w_rec = np.asarray(weights["w_rec"])
        bad_e = np.flatnonzero((w_rec[:, :n_e] < 0).any(axis=0))
        if bad_e.size:
            raise ConfigurationError(
                f"w_rec breaks Dale's law: excitatory column(s) {bad_e[:5].tolist()} (N_E = {n_e} of N = {n_rec}) "
                f"hold negative weights (min {w_rec[:, :n_e].min():.3g})" + fix)
        bad_i = n_e + np.flatnonzero((w_rec[:, n_e:] > 0).any(axis=0))
        if bad_i.size:
            raise ConfigurationError(
                f"w_rec breaks Dale's law: inhibitory column(s) {bad_i[:5].tolist()} (N_E = {n_e} of N = {n_rec}) "
                f"hold positive weights (max {w_rec[:, n_e:].max():.3g})" + fix)
        w_out = np.asarray(weights["w_out"])
        if np.any(w_out[:, n_e:] != 0):
            raise ConfigurationError(
                f"w_out reads inhibitory units: its columns {n_e}..{n_rec - 1} (the I units) must be zero "
                f"(max |w| {np.abs(w_out[:, n_e:]).max():.3g})" + fix)


@dataclass(frozen=True)
class DaleNormCell(DaleCell):
    """The Dale E/I cell with inhibition-mediated normalization of the E units' recurrent drive (``dale_norm``).

    The I-Norm layer of Eyono et al. (``ei_norm.md`` §2, :class:`neurorx.ei.layers.INormLayer`) made recurrent:
    the inhibitory population subtracts the mean of the E units' drive and a divisive pool of ``k`` instantaneous
    units divides it by its standard deviation, and a local homeostatic loss trains the weights onto the
    inhibitory units to keep the E drive centred and of unit variance. ``dale_subnorm``
    (:class:`DaleSubNormCell`) is the subtractive-only ablation ("I-Norm (sub)", :math:`\\gamma \\equiv 1`).

    Notes
    -----
    With rates :math:`r = [h]_+` split into :math:`r_E` (units ``0..N_E-1``) and :math:`r_I`, the blocks of
    :math:`W_{rec}` (torch ``[post, pre]``) :math:`W_{EE} \\ge 0`, :math:`-W_{EI} \\le 0` (I→E),
    :math:`W_{IE} \\ge 0` (E→I), :math:`-W_{II} \\le 0`, and :math:`u = W_{in}x + b`:

    .. math::
        \\tilde z_E = \\frac{W_{EE} r_E + u_E - W_{EI} r_I}{\\gamma}, \\qquad
        \\gamma = \\sqrt{\\tfrac{1}{k}\\textstyle\\sum_k (U r_E)_k^2 + \\epsilon},

        \\tau\\frac{dh_E}{dt} = -h_E + \\phi(\\tilde z_E), \\qquad
        \\tau\\frac{dh_I}{dt} = -h_I + \\phi(W_{IE} r_E - W_{II} r_I + u_I),

    with the pool weights :math:`U` = ``w_div`` (``k x N_E``, signed: the E→pool synapses are not Dale, as the
    paper's :math:`U_{IE}`), :math:`U_{EI} = 1/k` fixed, :math:`k = N_E` (or :attr:`max_pool` if smaller) and
    :math:`\\epsilon` = :attr:`eps` = 1e-5.

    *Which loss trains which weights* (``ei_norm.md`` §2). In :meth:`drift` the inhibitory current
    :math:`W_{EI} r_I` and :math:`\\gamma` are detached, and the I units see a detached :math:`r_E`: the values
    are the dynamics above, but backpropagation of the task loss reaches only :math:`W_{EE}`, the E rows of
    ``w_in``, ``bias`` and ``encoder``, and the readout, and the I units' graph depends on no E weight. The
    homeostatic loss (:meth:`local_loss`, weighted by ``trainer.homeostatic_weight`` :math:`\\lambda`)

    .. math:: L_I = \\lambda\\,\\operatorname{mean}_{t,b}\\big[(\\operatorname{mean}_k \\tilde z_k)^2
              + (\\operatorname{Var}_k \\tilde z_k - 1)^2\\big]

    recomputes :math:`\\tilde z_E` with stop-gradients on :math:`r_E`, on :math:`W_{EE} r_E + u_E` and on
    :math:`W_{EI}`; its gradient flows through the I units' own dynamics (their states over time) and
    :math:`U`, so it trains the weights onto the inhibitory units: :math:`W_{IE}`, :math:`W_{II}` (the I rows
    of ``w_rec``), :math:`U`, and the I rows of ``w_in``, ``bias`` and ``encoder`` (weights onto I units the
    task loss cannot reach). :math:`W_{EI}` is frozen at its initial value (:meth:`frozen_masks`). Because of
    the stop-gradients, autograd through :meth:`drift` gives this training gradient, not the derivative of
    the dynamics.

    *Initialisation*, after ``ei_norm.md`` §2 (LayerNorm at the start): the magnitudes of :class:`DaleCell`
    (gamma, no self-connections, spectral radius), then every row of :math:`W_{EI}` normalised to sum 1, every
    row of :math:`W_{IE}` the column mean of :math:`W_{EE}`, :math:`W_{II} = 0`, the I rows of ``w_in`` and
    ``bias`` zero, and :math:`U = \\sqrt{k/N_E}\\,\\mathrm{diag}(S_k)V_k^\\top` from the SVD
    :math:`W_{EE} - W_{EI}W_{IE} = U_s S V^\\top` (the top ``k`` singular values). What differs because the I
    units have dynamics: the I units are not instantaneous, so :math:`W_{EI} r_I` equals
    :math:`\\operatorname{mean}_k (W_{EE} r_E)_k` only at the I units' fixed point :math:`r_I = W_{IE} r_E`
    (reached with time constant :math:`\\tau` when :math:`r_E` is held, and exactly there with
    :math:`W_{II} = 0` and no input to the I units). There, and with :math:`u_E = 0`, :math:`\\tilde z_E` has mean
    0 and variance :math:`\\|W r_E\\|^2 / (\\|W r_E\\|^2 + N_E\\epsilon)` over the E units
    (:math:`W = W_{EE} - W_{EI}W_{IE}`): the layer is LayerNorm. The input :math:`u_E` is not centred by the I
    units (they see :math:`r_E` only) and the initial state :math:`h_I(0)` is the encoder's.
    """

    name = "dale_norm"
    #: :math:`\\epsilon` of :math:`\\gamma`.
    eps: float = 1e-5
    #: Upper bound on the pool size ``k`` (``None``: ``k = N_E``).
    max_pool: int | None = None
    #: Divisive normalization by the pool (``False``: the subtractive-only ablation); fixed by the cell type.
    divisive: bool = field(default=True, init=False)
    extra_weights = ("w_div",)

    def __post_init__(self):
        super().__post_init__()
        _number(self, "eps", low=0.0)
        if self.max_pool is not None:
            object.__setattr__(self, "max_pool", positive_int(self.max_pool, f"{self.name} cell parameter max_pool"))
    has_local_loss = True

    def pool_size(self, n_rec: int) -> int:
        """The number ``k`` of divisive pool units of a network of ``n_rec`` units."""
        return ei.pool_size(self.n_excitatory(n_rec), self.max_pool)

    def weight_shapes(self, n_rec, n_in, n_out, n_init):
        shapes = super().weight_shapes(n_rec, n_in, n_out, n_init)
        if self.divisive:
            shapes["w_div"] = (self.pool_size(n_rec), self.n_excitatory(n_rec))
        return shapes

    def _w_div(self, extra):
        if not self.divisive:
            return None
        if extra is None or "w_div" not in extra:
            raise ConfigurationError(f"the {self.name} cell needs its divisive pool weights: pass "
                                     f"extra={{'w_div': U}} with U of shape (k, N_E)")
        return extra["w_div"]

    def gamma(self, r_e: torch.Tensor, w_div: torch.Tensor | None) -> torch.Tensor | None:
        """:math:`\\gamma = \\sqrt{\\operatorname{mean}_k (U r_E)_k^2 + \\epsilon}` of rates ``r_e (..., N_E)``, with a
        trailing axis of 1; ``None`` for the subtractive-only cell.
        """
        if w_div is None:
            return None
        return torch.sqrt(torch.matmul(r_e, w_div.T).square().mean(dim=-1, keepdim=True) + self.eps)

    def drift(self, h, u, w_rec, act, extra=None):
        n_e = self.n_excitatory(h.shape[-1])
        w_div = self._w_div(extra)
        r = torch.relu(h)
        r_e, r_i = r[..., :n_e], r[..., n_e:]
        r_e_const = r_e.detach()
        drive_e = torch.matmul(r_e, w_rec[:n_e, :n_e].T) + u[..., :n_e]          # W_EE r_E + u_E (task graph)
        drive_e = drive_e + torch.matmul(r_i, w_rec[:n_e, n_e:].T).detach()       # - W_EI r_I (constant)
        if w_div is not None:
            drive_e = drive_e / self.gamma(r_e_const, w_div).detach()              # / gamma (constant)
        drive_i = (torch.matmul(r_e_const, w_rec[n_e:, :n_e].T) + torch.matmul(r_i, w_rec[n_e:, n_e:].T)
                   + u[..., n_e:])                                                 # W_IE r_E - W_II r_I + u_I
        return torch.cat([act.torch(drive_e), act.torch(drive_i)], dim=-1) - h

    def normalized_drive(self, states: torch.Tensor, u: torch.Tensor, w_rec: torch.Tensor,
                         extra: Mapping[str, torch.Tensor] | None = None) -> torch.Tensor:
        """:math:`\\tilde z_E` of states ``(..., N)`` as the homeostatic loss sees it: stop-gradients on
        :math:`r_E`, :math:`W_{EE} r_E + u_E` and :math:`W_{EI}`; gradients through :math:`r_I` and :math:`U`.
        """
        n_e = self.n_excitatory(states.shape[-1])
        r = torch.relu(states)
        r_e, r_i = r[..., :n_e].detach(), r[..., n_e:]
        z = (torch.matmul(r_e, w_rec[:n_e, :n_e].T) + u[..., :n_e]).detach()
        z = z + torch.matmul(r_i, w_rec[:n_e, n_e:].detach().T)
        w_div = self._w_div(extra)
        return z if w_div is None else z / self.gamma(r_e, w_div)

    def local_loss(self, states, u, w_rec, extra=None):
        """The homeostatic loss (:func:`~neurorx.models.ei_primitives.homeostatic_loss`, without
        :math:`\\lambda`) of :meth:`normalized_drive`.
        """
        return ei.homeostatic_loss(self.normalized_drive(states, u, w_rec, extra))

    def brian2(self, act: Activation) -> Brian2Cell:
        base = super().brian2(act)
        if not self.divisive:
            return base
        rate = base.currents["I_rec_E"]
        return Brian2Cell(
            drift=base.drift,
            subexpressions=base.subexpressions,
            currents=base.currents,
            inputs=base.inputs,
            presynaptic=base.presynaptic,
            population_drift={"E": f"-h + {act.brian2_expr(f'(I_rec_E + I_rec_I + I_in)/sqrt(I_div + {self.eps!r})')}"},
            pool=Brian2Pool(weight="w_div", presynaptic="E", target="E", source=rate, current="I_div"),
        )

    def pool_weights(self, w_rec: torch.Tensor) -> torch.Tensor:
        """:math:`U = \\sqrt{k/N_E}\\,\\mathrm{diag}(S_k)V_k^\\top` from the SVD of
        :math:`W_{EE} - W_{EI}W_{IE}` (blocks of ``w_rec``), so that
        :math:`\\operatorname{mean}_k (U r)_k^2 = \\|W r\\|^2/N_E` for ``k = N_E``.
        """
        n = w_rec.shape[1]
        n_e, k = self.n_excitatory(n), self.pool_size(n)
        w = w_rec.detach().to(torch.float64)                      # the I->E block is -W_EI
        return ei.svd_pool(w[:n_e, :n_e], -w[:n_e, n_e:], w[n_e:, :n_e], k,
                           scale=math.sqrt(k / n_e)).to(w_rec.dtype)

    def default_extra_weights(self, weights):
        w_rec = np.asarray(weights["w_rec"], dtype=np.float64)
        if not self.divisive or w_rec.ndim != 2 or w_rec.shape[0] != w_rec.shape[1] or w_rec.shape[0] < 2:
            return {}          # a w_rec of the wrong shape: check_weights names it
        return {"w_div": self.pool_weights(torch.tensor(w_rec))}

    def init_weights_(self, weights: Mapping[str, torch.Tensor]) -> None:
        super().init_weights_(weights)       # DaleCell: signed gamma magnitudes, balanced rows, radius
        w_rec = weights["w_rec"]
        n = w_rec.shape[1]
        n_e = self.n_excitatory(n)
        with torch.no_grad():
            w = w_rec.detach().to(torch.float64).clone()
            w_ie, w_ei = ei.balanced_inhibition(w[:n_e, :n_e], -w[:n_e, n_e:], n - n_e)
            w[:n_e, n_e:] = -w_ei                                           # rows of W_EI sum to 1
            w[n_e:, :n_e] = w_ie                                            # rows of W_IE: column mean of W_EE
            w[n_e:, n_e:] = 0.0                                             # W_II = 0
            w_rec.copy_(w.to(w_rec.dtype))
            weights["w_in"][n_e:] = 0.0                                     # the I units see the E units only
            if weights.get("bias") is not None:
                weights["bias"][n_e:] = 0.0
            if self.divisive:
                weights["w_div"].copy_(self.pool_weights(w_rec))
        self.project_(weights)

    def frozen_masks(self, weights):
        w_rec = weights["w_rec"]
        n_e = self.n_excitatory(w_rec.shape[1])
        mask = torch.zeros(w_rec.shape, dtype=torch.bool, device=w_rec.device)
        mask[:n_e, n_e:] = True                                             # W_EI (I -> E)
        return {"w_rec": mask}

    def validate_weights(self, weights, n_rec):
        super().validate_weights(weights, n_rec)
        if self.divisive and "w_div" not in weights:
            k, n_e = self.pool_size(n_rec), self.n_excitatory(n_rec)
            raise ConfigurationError(
                f"a {self.name} network needs the weights of its divisive pool, w_div of shape ({k}, {n_e}) = "
                f"(k, N_E); save the network from a trained {self.name} model, or give w_div (RateNetwork."
                f"from_arrays computes its initial value from w_rec when it is omitted)")


@dataclass(frozen=True)
class DaleSubNormCell(DaleNormCell):
    """The subtractive-only ablation of :class:`DaleNormCell` (``dale_subnorm``, the paper's "I-Norm (sub)").

    Notes
    -----
    :math:`\\gamma \\equiv 1`: :math:`\\tau\\,dh_E/dt = -h_E + \\phi(W_{EE} r_E + u_E - W_{EI} r_I)`; no pool and
    no ``w_div``. The dynamics are those of :class:`DaleCell` (same Brian2 equations); what differs is the
    initialisation (:class:`DaleNormCell`'s, without :math:`U`) and the training: the inhibitory weights are
    trained by the homeostatic loss (with :math:`\\gamma = 1`), the rest by the task, :math:`W_{EI}` frozen.
    """

    name = "dale_subnorm"
    divisive: bool = field(default=False, init=False)
    extra_weights = ()


CELLS.add("vanilla", VanillaCell())
CELLS.add("gru", GRUCell())
CELLS.add("dale", DaleCell())
CELLS.add("dale_norm", DaleNormCell())
CELLS.add("dale_subnorm", DaleSubNormCell())


def get_cell(name: str | Cell, params: Mapping[str, object] | None = None) -> Cell:
    """The registered cell ``name`` ("vanilla", "gru", "dale", "dale_norm", "dale_subnorm") with ``params``.

    Parameters
    ----------
    name : str or Cell
        A registered name, or a cell (returned with ``params`` applied).
    params : mapping, optional
        Cell parameters (:meth:`Cell.parameter_names`); those omitted keep the cell's defaults.

    Raises
    ------
    ConfigurationError
        For an unknown parameter or a value the cell refuses.
    """
    cell = name if isinstance(name, Cell) else CELLS.get(name)
    return cell.with_params(params)


def check_weights(cell: Cell, weights: Mapping[str, object]) -> tuple[int, int, int, int]:
    """Validate the weight shapes against each other; return ``(n_rec, n_in, n_out, n_init)``.

    Raises
    ------
    ValueError
        Naming the array whose shape does not fit and the shape it should have.
    """
    missing = [k for k in ("encoder", "w_in", "w_rec", "w_out") if k not in weights]
    if missing:
        raise ValueError(f"missing weight arrays {missing}; a {cell.name} network needs encoder, w_in, w_rec, "
                         f"w_out (and optionally bias)")
    shapes = {k: tuple(getattr(v, "shape", ())) for k, v in weights.items()}
    w_rec = shapes["w_rec"]
    g = len(cell.gates)
    if len(w_rec) != 2 or w_rec[0] != g * w_rec[1]:
        raise ValueError(
            f"w_rec has shape {w_rec}; a {cell.name} cell needs ({g}*N, N) in torch [post, pre] layout"
            + (" (did you pass the transpose?)" if len(w_rec) == 2 and w_rec[1] == g * w_rec[0] else "")
        )
    n_rec = w_rec[1]
    n_in = shapes["w_in"][1] if len(shapes["w_in"]) == 2 else -1
    n_out = shapes["w_out"][0] if len(shapes["w_out"]) == 2 else -1
    n_init = shapes["encoder"][1] if len(shapes["encoder"]) == 2 else -1
    expected = cell.weight_shapes(n_rec, n_in, n_out, n_init)
    for key, shape in shapes.items():
        if key not in expected:
            raise ValueError(f"unexpected weight array {key!r}; allowed: {sorted(expected)}")
        if shape != expected[key]:
            raise ValueError(
                f"{key} has shape {shape}, but with N={n_rec} recurrent units it must be {expected[key]} "
                f"(torch [post, pre] layout: transpose Brian2-style [pre, post] matrices)"
            )
    cell.validate_weights(weights, n_rec)
    return n_rec, n_in, n_out, n_init
