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
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import torch

from neurorx.activations import Activation
from neurorx.errors import ConfigurationError
from neurorx.registry import Registry

__all__ = ["CELLS", "Brian2Cell", "Cell", "DaleCell", "GRUCell", "VanillaCell", "get_cell"]


@dataclass(frozen=True)
class Brian2Cell:
    """A cell's dynamics as Brian2 expressions.

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
    """

    drift: str
    subexpressions: str
    currents: dict[str, str]
    inputs: tuple[str, ...]
    presynaptic: dict[str, str] = field(default_factory=dict)


class Cell:
    """Base class of the cells: subclasses define :meth:`drift` and :meth:`brian2`."""

    name: ClassVar[str]
    gates: ClassVar[tuple[str, ...]]
    default_activation: ClassVar[str]

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

    def drift(self, h: torch.Tensor, u: torch.Tensor, w_rec: torch.Tensor, act: Activation) -> torch.Tensor:
        """:math:`F(h, u)` for a batch ``h (B, N)`` and input projection ``u (B, G*N)``."""
        raise NotImplementedError

    def step(self, h: torch.Tensor, u: torch.Tensor, w_rec: torch.Tensor, a: float, act: Activation,
             increment: torch.Tensor | None = None) -> torch.Tensor:
        """One Euler–Maruyama step: :math:`h + a\\,F(h,u) + \\text{increment}`."""
        h_new = torch.addcmul(h, self.drift(h, u, w_rec, act), torch.as_tensor(a, dtype=h.dtype))
        return h_new if increment is None else h_new + increment

    def run(self, h0: torch.Tensor, u: torch.Tensor, w_rec: torch.Tensor, a: float, act: Activation,
            increments: torch.Tensor | None = None, *, substeps: int = 1,
            out: torch.Tensor | None = None) -> torch.Tensor:
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
                h = self.step(h, u_t, w_rec, a, act, None if increments is None else increments[t * substeps + s])
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


CELLS: Registry[Cell] = Registry("cell type")


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

    def drift(self, h, u, w_rec, act):
        return act.torch(torch.addmm(u, h, w_rec.T)) - h

    def brian2(self, act: Activation) -> Brian2Cell:
        return Brian2Cell(
            drift=f"-h + {act.brian2_expr('I_rec + I_in')}",
            subexpressions="",
            currents={"I_rec": "h"},
            inputs=("I_in",),
        )


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

    def drift(self, h, u, w_rec, act):
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

    *Initialisation* (after Song, Yang & Wang 2016, PLoS Comput. Biol. 12:e1004792): magnitudes
    :math:`|W_{ij}| \\sim \\mathrm{Gamma}(k=2)`, no self-connections; in every row the inhibitory weights are
    rescaled so that their sum equals the excitatory sum (exact E/I balance: each row of :math:`W_{rec}` sums to
    zero, removing the large outlier eigenvalue a non-negative matrix has); then the matrix is scaled to the
    spectral radius :attr:`init_radius`. Its default :math:`1/\\sqrt 3` is the radius of the unconstrained
    reference initialisation :math:`U(\\pm 1/\\sqrt N)`, so the two networks start from the same radius
    (Li et al. 2023, "Learning better with Dale's law: a spectral perspective", show that the spectrum at
    initialisation, more than the sign constraint, decides how well such networks learn). The input weights,
    the initial-state encoder and the readout's E columns keep the torch default initialisation.
    """

    name = "dale"
    gates = ("h",)
    default_activation = "relu"
    #: Fraction of excitatory units.
    excitatory_fraction: ClassVar[float] = 0.8
    #: Spectral radius of ``w_rec`` at initialisation.
    init_radius: ClassVar[float] = 1.0 / math.sqrt(3.0)
    #: Shape of the gamma distribution of the initial weight magnitudes.
    gamma_shape: ClassVar[float] = 2.0

    def n_excitatory(self, n_rec: int) -> int:
        """:math:`N_E` of a network of ``n_rec`` units (at least one E and one I unit)."""
        if n_rec < 2:
            raise ConfigurationError(f"a dale network needs at least 2 units (one E, one I); got n_rec = {n_rec}")
        return min(n_rec - 1, max(1, round(self.excitatory_fraction * n_rec)))

    def populations(self, n_rec: int) -> dict[str, slice]:
        n_e = self.n_excitatory(n_rec)
        return {"E": slice(0, n_e), "I": slice(n_e, n_rec)}

    def signs(self, n_rec: int, dtype=torch.float64) -> torch.Tensor:
        """The presynaptic signs :math:`s` (+1 for E, -1 for I units)."""
        s = torch.ones(n_rec, dtype=dtype)
        s[self.n_excitatory(n_rec):] = -1.0
        return s

    def drift(self, h, u, w_rec, act):
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
        with torch.no_grad():
            w_rec[:, :n_e].clamp_(min=0.0)
            w_rec[:, n_e:].clamp_(max=0.0)
            if "w_out" in weights:
                weights["w_out"][:, n_e:] = 0.0

    def validate_weights(self, weights: Mapping[str, object], n_rec: int) -> None:
        n_e = self.n_excitatory(n_rec)
        fix = ("; a dale network's w_rec is |W| diag(signs) with units 0..N_E-1 excitatory (columns >= 0) and "
               "N_E..N-1 inhibitory (columns <= 0), and its readout reads the E units only. Project the weights "
               "with neurorx.models.cells.CELLS.get('dale').project_(weights), or use cell='vanilla'")
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


CELLS.add("vanilla", VanillaCell())
CELLS.add("gru", GRUCell())
CELLS.add("dale", DaleCell())


def get_cell(name: str) -> Cell:
    """Return the registered cell ``name`` ("vanilla", "gru", "dale")."""
    return CELLS.get(name)


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
