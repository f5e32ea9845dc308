"""The vanilla and GRU cells (registered in :data:`neurorx.models.cells.CELLS` as ``vanilla`` and ``gru``)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from neurorx.activations import Activation
from neurorx.models.cell_base import Brian2Cell, Cell
from neurorx.models.recurrences import gru_recurrence, vanilla_recurrence

__all__ = ["GRUCell", "VanillaCell"]


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
    fused_recurrence = staticmethod(vanilla_recurrence)

    def drift(self, h, u, w_rec, act, extra=None):
        return act.torch(torch.addmm(u, h, w_rec.T)) - h

    def step_into(self, out, h, u, w_rec, a, act, increment=None, extra=None, scratch=None):
        z = act.apply_(torch.addmm(u, h, w_rec.T, out=self._buffer({} if scratch is None else scratch, "z", h)))
        return self._euler_into(out, h, z, a, increment)

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
    fused_recurrence = staticmethod(gru_recurrence)

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
