r"""Fast training forward/backward: hoisted input projection and readout, fused recurrences.

What is computed is exactly the model of :class:`neurorx.models.RecurrentModel` trained with the reference
loss (the same random draws in the same order, the same Euler step :meth:`neurorx.models.cells.Cell.step`,
the same MSE); only how it is computed changes:

* the inputs of all ``T`` steps are projected with one matrix product,
  :math:`U = X W_{in}^\top + b` (:meth:`Cell.input_projection`, :class:`InputProjection`);
* the readout of all steps and the loss are one autograd function (:class:`ReadoutMSE`): one product
  :math:`Y = H W_{out}^\top` forward, two products backward;
* the time loop is one autograd function per cell type (:class:`VanillaRecurrence`, :class:`GRURecurrence`)
  whose backward pass is written by hand (BPTT): it keeps only the states, gates and pre-activations and
  forms the recurrent weight gradient with one product over all steps;
* inside these two functions float32 products use oneDNN's AVX-512 kernels (:mod:`neurorx.training.linalg`).

Tensors are time-major, ``(T, B, ...)``, so that each step reads and writes contiguous memory.
"""

from __future__ import annotations

import torch
from torch.nn import functional

from neurorx.noise import NoiseModel, add_increments, draw_placed
from neurorx.training.linalg import linear, linear_add, matmul_tn

__all__ = ["FUSED_RECURRENCES", "GRURecurrence", "InputProjection", "ReadoutMSE", "VanillaRecurrence", "can_fuse",
           "dale_recurrence", "draw_increments", "forward_time_major", "gru_recurrence", "vanilla_recurrence"]


class VanillaRecurrence(torch.autograd.Function):
    r"""``T`` Euler steps of the vanilla cell with a hand-written backward pass (BPTT).

    Forward: the formula of :meth:`VanillaCell.step` operation by operation,

    .. math::
        z_t = u_t + h_t W^\top, \qquad
        h_{t+1} = h_t + a\,(\phi(z_t) - h_t) + \xi_t, \qquad t = 0..T-1,

    (``torch.addmm``, ``phi(z) - h``, ``torch.addcmul``, ``+ increment``), so on the torch product path the
    states are bitwise those of the :meth:`Cell.step` loop; with oneDNN float32 products only the rounding of
    :math:`h_t W^\top` differs.

    Notes
    -----
    Backward. With :math:`g_{t+1} = \partial L/\partial h_{t+1}` (the direct gradient from the readout plus
    what flows back from later steps),

    .. math::
        \gamma_t = a\,\phi'(z_t) \odot g_{t+1}, \qquad
        g_t = (1 - a)\,g_{t+1} + \gamma_t W \;(+\,\partial L/\partial h_t \text{ direct}),

    and :math:`\partial L/\partial u_t = \gamma_t`, :math:`\partial L/\partial W = \sum_t \gamma_t^\top h_t`
    (one product over all steps), :math:`\partial L/\partial h_0 = g_0`. Saved: the states
    :math:`h_{0..T}` and pre-activations :math:`z_{0..T-1}` (two ``(T, B, N)`` arrays). The noise increments
    :math:`\xi_t` do not depend on the parameters and get no gradient.

    With ``rectify`` (the Dale cell, :class:`~neurorx.models.cells.DaleCell`) units communicate through their
    rates :math:`r_t = [h_t]_+`: :math:`z_t = u_t + r_t W^\top`, so
    :math:`g_t = (1 - a)\,g_{t+1} + (\gamma_t W) \odot \mathbb{1}[h_t > 0]` and
    :math:`\partial L/\partial W = \sum_t \gamma_t^\top r_t`.
    """

    @staticmethod
    def forward(ctx, h0, u, w_rec, increments, a: float, act, onednn: bool, rectify: bool = False):
        t_steps, b, n = u.shape
        hs = u.new_empty((t_steps + 1, b, n))
        zs = torch.empty_like(u)
        hs[0] = h0
        a_t = torch.as_tensor(a, dtype=h0.dtype)
        for t in range(t_steps):
            h = hs[t]
            pre = torch.relu(h) if rectify else h                  # [h]+ (DaleCell.drift) or h
            z = linear_add(pre, w_rec, u[t], onednn, out=zs[t])    # u + pre W^T
            drift = act.torch(z) - h                               # phi(z) - h   (VanillaCell.drift)
            h_new = torch.addcmul(h, drift, a_t, out=hs[t + 1])    # h + a*drift  (Cell.step)
            if increments is not None:
                h_new.add_(increments[t])                          # + increment  (Cell.step)
        ctx.save_for_backward(hs, zs, w_rec)
        ctx.a, ctx.act, ctx.onednn, ctx.rectify = float(a), act, onednn, rectify
        return hs[1:]

    @staticmethod
    def backward(ctx, grad_hs):
        hs, zs, w_rec = ctx.saved_tensors
        a, onednn, rectify = ctx.a, ctx.onednn, ctx.rectify
        t_steps, b, n = zs.shape
        gz = ctx.act.torch_derivative(zs)              # phi'(z_t)      (Activation.derivative)
        gz.mul_(a)                                     # a phi'(z_t); becomes gamma_t in the loop
        w_t = w_rec.T.contiguous()                     # linear(x, w_t) = x @ W
        g = torch.zeros((b, n), dtype=zs.dtype, device=zs.device)
        for t in range(t_steps - 1, -1, -1):
            if grad_hs is not None:
                g.add_(grad_hs[t])                     # g_{t+1}
            gamma = gz[t].mul_(g)                      # a phi'(z_t) * g_{t+1}
            if rectify:                                # (1-a) g_{t+1} + (gamma W) * 1[h_t > 0]
                g = g.mul_(1.0 - a).addcmul_(linear(gamma, w_t, onednn), hs[t] > 0)
            else:                                      # (1-a) g_{t+1} + gamma W
                g = linear_add(gamma, w_t, g.mul_(1.0 - a), onednn)
        flat_gz = gz.view(t_steps * b, n)
        flat_h = hs[:-1].reshape(t_steps * b, n)
        grad_w = matmul_tn(flat_gz, torch.relu(flat_h) if rectify else flat_h, onednn)   # sum_t gamma_t^T pre_t
        need_h0, need_u, need_w = ctx.needs_input_grad[:3]
        return (g if need_h0 else None, gz if need_u else None, grad_w if need_w else None,
                None, None, None, None, None)


class GRURecurrence(torch.autograd.Function):
    r"""``T`` Euler steps of the continuous-time GRU cell with a hand-written backward pass (BPTT).

    Forward: the formula of :meth:`GRUCell.drift` / :meth:`Cell.step`, with the weight blocks
    :math:`W_{zg} = [U_z; U_g]` (``2N x N``) and :math:`U_h` (``N x N``) of ``w_rec``,

    .. math::
        [z_t, g_t] = \sigma(u^{zg}_t + h_t W_{zg}^\top), \qquad
        c_t = \phi(p_t), \quad p_t = u^h_t + (g_t \odot h_t) U_h^\top,

        h_{t+1} = h_t + a\,(1 - z_t) \odot (c_t - h_t) + \xi_t .

    Two products per step, as in the plain loop.

    Notes
    -----
    Backward. With :math:`G = \partial L/\partial h_{t+1}` (direct readout gradient plus what flows back),

    .. math::
        \delta^p_t = a\,(1 - z_t)\,\phi'(p_t)\, G, \qquad
        \delta^z_t = -a\,(c_t - h_t)\, z_t (1 - z_t)\, G, \qquad
        \eta_t = \delta^p_t U_h, \qquad
        \delta^g_t = \eta_t\, h_t\, g_t (1 - g_t),

        \partial L/\partial h_t = (1 - a(1 - z_t))\,G + g_t\,\eta_t + [\delta^z_t, \delta^g_t]\,W_{zg},

    :math:`\partial L/\partial u_t = [\delta^z_t, \delta^g_t, \delta^p_t]`,
    :math:`\partial L/\partial W_{zg} = \sum_t [\delta^z_t, \delta^g_t]^\top h_t` and
    :math:`\partial L/\partial U_h = \sum_t {\delta^p_t}^\top (g_t \odot h_t)` (one product each over all
    steps). The elementwise factors are formed for all steps at once before the reverse loop, which then does
    two products and a few multiply-adds per step. Saved: :math:`h_{0..T}`, the gates :math:`[z, g]` and the
    candidate pre-activations :math:`p` (four ``(T, B, N)`` arrays).
    """

    @staticmethod
    def forward(ctx, h0, u, w_rec, increments, a: float, act, onednn: bool):
        t_steps, b, n3 = u.shape
        n = n3 // 3
        w_zg, w_h = w_rec[: 2 * n].contiguous(), w_rec[2 * n :].contiguous()
        u_zg, u_h = u[..., : 2 * n].contiguous(), u[..., 2 * n :].contiguous()
        hs = u.new_empty((t_steps + 1, b, n))
        zg = u.new_empty((t_steps, b, 2 * n))
        ps = u.new_empty((t_steps, b, n))
        hs[0] = h0
        a_t = torch.as_tensor(a, dtype=h0.dtype)
        for t in range(t_steps):
            h = hs[t]
            gates = torch.sigmoid_(linear_add(h, w_zg, u_zg[t], onednn, out=zg[t]))   # sigma(u_zg + h W_zg^T)
            z, g = gates[:, :n], gates[:, n:]
            p = linear_add(g * h, w_h, u_h[t], onednn, out=ps[t])                    # u_h + (g h) U_h^T
            drift = (1.0 - z) * (act.torch(p) - h)                                    # GRUCell.drift
            h_new = torch.addcmul(h, drift, a_t, out=hs[t + 1])                       # Cell.step
            if increments is not None:
                h_new.add_(increments[t])
        ctx.save_for_backward(hs, zg, ps, w_zg, w_h)
        ctx.a, ctx.act, ctx.onednn = float(a), act, onednn
        return hs[1:]

    @staticmethod
    def backward(ctx, grad_hs):
        hs, zg, ps, w_zg, w_h = ctx.saved_tensors
        a, onednn = ctx.a, ctx.onednn
        t_steps, b, n = ps.shape
        h = hs[:-1]
        z, g = zg[..., :n], zg[..., n:]
        c = ctx.act.torch(ps)
        one_minus_z = 1.0 - z
        # elementwise factors of every step (see Notes)
        f_p = ctx.act.torch_derivative(ps, c)                 # phi'(p)  (Activation.derivative)
        f_p.mul_(one_minus_z).mul_(a)                         # a (1 - z) phi'(p)
        f_z = (c - h).mul_(z).mul_(one_minus_z).mul_(-a)      # -a (c - h) z (1 - z)
        f_g = (1.0 - g).mul_(g).mul_(h)                       # h g (1 - g)
        f_h = one_minus_z.mul_(-a).add_(1.0)                  # 1 - a (1 - z)
        g_c = g.contiguous()
        del c
        d_zg = torch.empty_like(zg)                           # [delta_z, delta_g] of every step
        d_p = torch.empty_like(ps)                            # delta_p of every step
        w_h_t, w_zg_t = w_h.T.contiguous(), w_zg.T.contiguous()   # linear(x, w^T) = x @ w
        grad = torch.zeros((b, n), dtype=ps.dtype, device=ps.device)
        for t in range(t_steps - 1, -1, -1):
            if grad_hs is not None:
                grad.add_(grad_hs[t])                                         # G = dL/dh_{t+1}
            torch.mul(grad, f_p[t], out=d_p[t])                               # delta_p
            torch.mul(grad, f_z[t], out=d_zg[t, :, :n])                       # delta_z
            eta = linear(d_p[t], w_h_t, onednn)                               # delta_p U_h
            torch.mul(eta, f_g[t], out=d_zg[t, :, n:])                        # delta_g
            grad.mul_(f_h[t]).addcmul_(eta, g_c[t])                           # (1 - a(1-z)) G + g eta
            grad = linear_add(d_zg[t], w_zg_t, grad, onednn)                  # + [delta_z, delta_g] W_zg
        need_h0, need_u, need_w = ctx.needs_input_grad[:3]
        grad_w = None
        if need_w:
            flat = t_steps * b
            grad_w = torch.cat([matmul_tn(d_zg.view(flat, 2 * n), h.reshape(flat, n), onednn),
                                matmul_tn(d_p.view(flat, n), (g_c * h).view(flat, n), onednn)])
        grad_u = torch.cat([d_zg, d_p], dim=-1) if need_u else None
        return (grad if need_h0 else None, grad_u, grad_w, None, None, None, None)


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


def _apply(function, h0, u, w_rec, increments, a, act, onednn, *extra):
    if act.derivative is None:
        raise ValueError(f"no fused backward for activation {act.name!r} (it states no derivative); use Cell.run")
    if increments is not None:
        increments = increments.detach()
    return function.apply(h0, u.contiguous(), w_rec, increments, a, act, onednn, *extra)


def vanilla_recurrence(h0: torch.Tensor, u: torch.Tensor, w_rec: torch.Tensor, increments: torch.Tensor | None,
                       a: float, act, onednn: bool = True) -> torch.Tensor:
    r"""Run the fused vanilla recurrence (see :class:`VanillaRecurrence`).

    Parameters
    ----------
    h0 : tensor (B, N)
    u : tensor (T, B, N)
        Input projections, time-major.
    w_rec : tensor (N, N)
    increments : tensor (T, B, N) or None
        Noise increments (no gradient flows into them).
    a : float
        :math:`dt/\tau`.
    act : neurorx.activations.Activation
        An activation stating its derivative (:attr:`Activation.derivative`).
    onednn : bool
        Use oneDNN float32 products where available.

    Returns
    -------
    tensor (T, B, N)
        :math:`h_1 \dots h_T`.
    """
    return _apply(VanillaRecurrence, h0, u, w_rec, increments, a, act, onednn)


def gru_recurrence(h0: torch.Tensor, u: torch.Tensor, w_rec: torch.Tensor, increments: torch.Tensor | None,
                   a: float, act, onednn: bool = True) -> torch.Tensor:
    """Run the fused GRU recurrence (see :class:`GRURecurrence`).

    As :func:`vanilla_recurrence`, with ``u (T, B, 3N)`` and ``w_rec (3N, N)`` holding the gate blocks
    ``z, g, h`` and ``act`` the candidate nonlinearity.
    """
    return _apply(GRURecurrence, h0, u, w_rec, increments, a, act, onednn)


def dale_recurrence(h0: torch.Tensor, u: torch.Tensor, w_rec: torch.Tensor, increments: torch.Tensor | None,
                    a: float, act, onednn: bool = True) -> torch.Tensor:
    r"""Run the fused Dale recurrence: :class:`VanillaRecurrence` with presynaptic rates :math:`[h]_+`.

    As :func:`vanilla_recurrence`; the step is that of :meth:`DaleCell.drift
    <neurorx.models.cells.DaleCell.drift>`, :math:`h + a(\phi(u + [h]_+ W^	op) - h)`. The sign constraint is
    not applied here: the trainer projects the weights after every optimizer step.
    """
    return _apply(VanillaRecurrence, h0, u, w_rec, increments, a, act, onednn, True)


#: The fused recurrence of each cell type, by :attr:`Cell.name`.
FUSED_RECURRENCES = {"vanilla": vanilla_recurrence, "gru": gru_recurrence, "dale": dale_recurrence}


def can_fuse(model) -> bool:
    """Whether ``model`` has a fused recurrence (:data:`FUSED_RECURRENCES`) and its activation a derivative."""
    return model.cell.name in FUSED_RECURRENCES and model.act.derivative is not None


def _local_losses(model, h0: torch.Tensor, u: torch.Tensor, h: torch.Tensor, out: dict) -> None:
    r"""``out["homeostatic"]``: the cell's local loss over the states :math:`h_0 \dots h_{T-1}` of the steps."""
    states = torch.cat([h0.unsqueeze(0), h[:-1]], dim=0)
    out["homeostatic"] = model.cell.local_loss(states, u, model.w_rec.weight, model.extra_weights())


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
        h = FUSED_RECURRENCES[model.cell.name](h0, u, model.w_rec.weight, rec, model.alpha, model.act, onednn)
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
