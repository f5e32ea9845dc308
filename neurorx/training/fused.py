r"""Fast training forward/backward: hoisted input projection and readout, fused recurrences.

What is computed is exactly the model of :class:`neurorx.models.RecurrentModel` trained with the reference
loss (the same random draws in the same order, the same Euler step :meth:`neurorx.models.cells.Cell.step`,
the same MSE); only how it is computed changes:

* the inputs of all ``T`` steps are projected with one matrix product,
  :math:`U = X W_{in}^\top + b` (:meth:`Cell.input_projection`, :class:`InputProjection`);
* the readout of all steps and the loss are one autograd function (:class:`ReadoutMSE`): one product
  :math:`Y = H W_{out}^\top` forward, two products backward;
* the time loop is the cell's fused recurrence (:attr:`Cell.fused_recurrence
  <neurorx.models.cells.Cell.fused_recurrence>`, kernels in :mod:`neurorx.models.recurrences`): one autograd
  function whose backward pass is written by hand (BPTT), keeping only the states, gates and pre-activations
  and forming the recurrent weight gradient with one product over all steps;
* inside these functions float32 products use oneDNN's AVX-512 kernels (:mod:`neurorx.linalg`).

Tensors are time-major, ``(T, B, ...)``, so that each step reads and writes contiguous memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import torch
from torch.nn import functional

from neurorx.linalg import linear, matmul_tn
from neurorx.models.cells import CELLS
from neurorx.models.recurrences import (
    GRURecurrence,
    VanillaRecurrence,
    dale_recurrence,
    gru_recurrence,
    vanilla_recurrence,
)
from neurorx.noise import NoiseModel, add_increments, draw_placed

__all__ = ["FUSED_RECURRENCES", "GRURecurrence", "InputProjection", "ReadoutMSE", "VanillaRecurrence", "can_fuse",
           "dale_recurrence", "draw_increments", "forward_time_major", "gru_recurrence", "vanilla_recurrence"]


class ReadoutMSE(torch.autograd.Function):
    r"""Readout of all steps and the reference loss in one function.

    Forward: :math:`Y = H W_{out}^\top (+ \text{offset})` and the reference loss
    :math:`L = \operatorname{mean}((Y - T)^2)` (``nn.MSELoss``: mean over batch x time x outputs), summed as
    :math:`R \cdot R / (M n_{out})` with :math:`R = Y - T` (one pass). Returns ``(L, Y)``; ``Y`` carries no
    gradient.

    Notes
    -----
    Backward, with :math:`R = Y - T` and :math:`c = 2\,\bar L / (M\,n_{out})` (:math:`\bar L` the incoming
    gradient, :math:`M` rows): :math:`\partial L/\partial H = c\,R\,W_{out}` and
    :math:`\partial L/\partial W_{out} = c\,R^\top H` — the two products autograd would form, without the
    intermediate :math:`\partial L/\partial Y` array.
    """

    @staticmethod
    def forward(ctx, h, w_out, targets, offset, onednn: bool):
        y = linear(h, w_out, onednn)
        if offset is not None:
            y = y + offset
        r = y - targets
        flat = r.view(-1)
        loss = torch.dot(flat, flat) / flat.numel()        # mean((y - targets)^2)
        ctx.save_for_backward(h, w_out, r)
        ctx.onednn = onednn
        ctx.mark_non_differentiable(y)
        ctx.set_materialize_grads(False)
        return loss, y

    @staticmethod
    def backward(ctx, grad_loss, grad_y):
        h, w_out, r = ctx.saved_tensors
        if grad_loss is None:
            return None, None, None, None, None
        c = 2.0 / r.numel() * grad_loss
        need_h, need_w = ctx.needs_input_grad[:2]
        grad_h = linear(r, w_out.T.contiguous(), ctx.onednn).mul_(c) if need_h else None
        grad_w = matmul_tn(r, h, ctx.onednn).mul_(c) if need_w else None
        return grad_h, grad_w, None, None, None


class InputProjection(torch.autograd.Function):
    r"""The input projection of all steps, :meth:`Cell.input_projection` (:math:`U = XW_{in}^\top + b`).

    Notes
    -----
    Backward: :math:`\partial L/\partial W_{in} = (X^\top G)^\top`, :math:`\partial L/\partial b = \sum G`,
    with :math:`G = \partial L/\partial U` over all rows. Forming :math:`X^\top G` (a ``n_in x N`` result)
    rather than autograd's :math:`G^\top X` is several times faster when ``n_in`` is 1 or 2.
    """

    @staticmethod
    def forward(ctx, x, w_in, bias, cell):
        ctx.save_for_backward(x, w_in)
        ctx.has_bias = bias is not None
        return cell.input_projection(x, w_in, bias)

    @staticmethod
    def backward(ctx, grad_u):
        x, w_in = ctx.saved_tensors
        g = grad_u.reshape(-1, grad_u.shape[-1])
        x2 = x.reshape(-1, x.shape[-1])
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        grad_x = (g @ w_in).view(x.shape) if need_x else None
        grad_w = torch.mm(x2.T, g).T.contiguous() if need_w else None
        grad_b = g.sum(0) if need_b and ctx.has_bias else None
        return grad_x, grad_w, grad_b, None


def draw_increments(noise: dict[str, NoiseModel] | None, steps: int, batch: int, n_in: int, n_rec: int, n_out: int,
                    dt: float, generator: torch.Generator | None, dtype=torch.float32) -> dict[str, torch.Tensor]:
    """Noise increments of one batch, time-major: :func:`neurorx.noise.draw_placed` (the order of
    :meth:`RecurrentModel.run_time_major`: input, recurrent, output).

    Returns a dict placement -> tensor ``(steps, batch, size)`` (placements with zero noise are left out).
    Drawing them ahead (e.g. in a background thread) gives the same numbers as drawing them in the forward
    pass from the same generator.
    """
    return draw_placed(noise, steps, {"input": n_in, "recurrent": n_rec, "output": n_out}, batch, dt, generator,
                       dtype)


class _FusedRecurrences(Mapping):
    """Read-only view, by cell name, of the registered cells' fused recurrences (:attr:`Cell.fused_recurrence
    <neurorx.models.cells.Cell.fused_recurrence>`); cells without one are left out. Live: a cell registered
    later appears here.
    """

    def _items(self) -> dict[str, Callable]:
        return {name: cell.fused_recurrence for name, cell in CELLS.items() if cell.fused_recurrence is not None}

    def __getitem__(self, name: str) -> Callable:
        return self._items()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._items())

    def __repr__(self) -> str:
        return f"FUSED_RECURRENCES({sorted(self._items())})"


#: The fused recurrence of each registered cell that has one, by :attr:`Cell.name` (a view of :data:`CELLS`).
FUSED_RECURRENCES: Mapping[str, Callable] = _FusedRecurrences()


def can_fuse(model) -> bool:
    """Whether ``model``'s cell has a fused recurrence (:attr:`Cell.fused_recurrence
    <neurorx.models.cells.Cell.fused_recurrence>`) and its activation a derivative.
    """
    return model.cell.fused_recurrence is not None and model.act.derivative is not None


def _local_losses(model, h0: torch.Tensor, u: torch.Tensor, h: torch.Tensor, out: dict) -> None:
    r"""``out["homeostatic"]``: the cell's local loss over the states :math:`h_0 \dots h_{T-1}` of the steps."""
    states = torch.cat([h0.unsqueeze(0), h[:-1]], dim=0)
    out["homeostatic"] = model.cell.local_loss(states, u, model.w_rec.weight, model.extra_weights(), model.act)


def forward_time_major(model, inputs: torch.Tensor, init_code: torch.Tensor,
                       noise: dict[str, NoiseModel] | None = None, dt: float = 1.0,
                       generator: torch.Generator | None = None, fused: bool = True,
                       targets: torch.Tensor | None = None, onednn: bool = True,
                       increments: dict[str, torch.Tensor] | None = None,
                       local_losses: dict | None = None):
    r"""Run ``model`` over time-major inputs: the computation of :meth:`RecurrentModel.forward` (+ the loss).

    Parameters
    ----------
    model : neurorx.models.RecurrentModel
    inputs : tensor (T, B, n_in)
        Time-major inputs.
    init_code : tensor (B, n_init)
    noise : dict placement -> NoiseModel, optional
        Increments are drawn from ``generator`` in the order of :meth:`RecurrentModel.forward` (input,
        recurrent, output), so both give the same numbers for the same generator state.
    dt : float
        Step in seconds (for the noise increments).
    generator : torch.Generator, optional
    fused : bool
        Use :class:`InputProjection`, :class:`VanillaRecurrence` (when :func:`can_fuse`) and
        :class:`ReadoutMSE`; ``False`` runs plain autograd through the model's own
        :meth:`RecurrentModel.run_time_major` (:meth:`Cell.input_projection`, the step loop :meth:`Cell.run`,
        ``F.linear``) and ``F.mse_loss``.
    targets : tensor (T, B, n_out), optional
        If given, also return the reference loss :math:`\operatorname{mean}((y - \text{targets})^2)`.
    onednn : bool
        Let the fused functions use oneDNN float32 products.
    increments : dict placement -> tensor (T, B, size), optional
        Pre-drawn noise (:func:`draw_increments`); then ``noise`` and ``generator`` are not used.
    local_losses : dict, optional
        For a cell with a local loss (:attr:`Cell.has_local_loss`, e.g. ``dale_norm``'s homeostatic loss):
        filled with ``"homeostatic"`` -> :meth:`Cell.local_loss` over the states that drove the steps,
        :math:`h_0 \dots h_{T-1}` (unweighted; the trainer multiplies it by ``trainer.homeostatic_weight``).
        Untouched for the other cells.

    Returns
    -------
    h : tensor (T, B, N)
        States :math:`h_1 \dots h_T`.
    y : tensor (T, B, n_out)
        Readouts :math:`y_t = W_{out} h_{t+1}` (+ output noise); without gradient when ``targets`` is given
        and ``fused`` is true.
    loss : tensor
        Only when ``targets`` is given.
    """
    t_steps, b, _ = inputs.shape
    if increments is None:
        increments = draw_placed(noise, t_steps, model.noise_sizes(), b, dt, generator, inputs.dtype, inputs.device)
    want_local = local_losses is not None and model.cell.has_local_loss
    if not fused:
        h, y = model.run_time_major(inputs, init_code, increments=increments)
        if want_local:   # the same h0 and u as run_time_major (same operations)
            x = add_increments(inputs, increments.get("input"))
            _local_losses(model, model.encoder(init_code), model.cell.input_projection(x, model.w_in.weight,
                                                                                       model.bias), h, local_losses)
        return (h, y) if targets is None else (h, y, functional.mse_loss(y, targets))
    x = add_increments(inputs, increments.get("input"))
    u = InputProjection.apply(x, model.w_in.weight, model.bias, model.cell)
    h0 = model.encoder(init_code)
    rec = increments.get("recurrent")
    if can_fuse(model):
        h = model.cell.fused_recurrence(h0, u, model.w_rec.weight, rec, model.alpha, model.act, onednn)
    else:
        h = model.cell.run(h0, u, model.w_rec.weight, model.alpha, model.act, rec, extra=model.extra_weights())
    if want_local:
        _local_losses(model, h0, u, h, local_losses)
    offset = increments.get("output")
    if targets is not None:
        n = h.shape[-1]
        loss, y = ReadoutMSE.apply(h.reshape(t_steps * b, n), model.w_out.weight, targets.reshape(t_steps * b, -1),
                                   None if offset is None else offset.reshape(t_steps * b, -1), onednn)
        return h, y.view(t_steps, b, -1), loss
    return h, add_increments(functional.linear(h, model.w_out.weight), offset)
