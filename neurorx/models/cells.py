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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import torch

from neurorx.activations import Activation
from neurorx.registry import Registry

__all__ = ["CELLS", "Brian2Cell", "Cell", "GRUCell", "VanillaCell", "get_cell"]


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
    """

    drift: str
    subexpressions: str
    currents: dict[str, str]
    inputs: tuple[str, ...]


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


CELLS.add("vanilla", VanillaCell())
CELLS.add("gru", GRUCell())


def get_cell(name: str) -> Cell:
    """Return the registered cell ``name`` ("vanilla" or "gru")."""
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
    return n_rec, n_in, n_out, n_init
