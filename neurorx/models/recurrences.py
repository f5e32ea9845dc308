r"""The fused recurrences: a cell's whole time loop as one autograd function with a hand-written backward.

Each is the step loop :meth:`neurorx.models.cells.Cell.run` of one cell type (the same Euler step, the same
products), run forward keeping only the states, gates and pre-activations, and differentiated by hand (BPTT)
with the recurrent weight gradient formed as one product over all steps. Inside them float32 products use
oneDNN's kernels (:mod:`neurorx.linalg`). A cell names its recurrence in its registry entry
(:attr:`Cell.fused_recurrence <neurorx.models.cells.Cell.fused_recurrence>`); the trainer
(:func:`neurorx.training.fused.forward_time_major`) runs it when the activation states its derivative.

Tensors are time-major, ``(T, B, ...)``, so that each step reads and writes contiguous memory.
"""

from __future__ import annotations

import torch

from neurorx.linalg import linear, linear_add, matmul_tn

__all__ = ["GRURecurrence", "VanillaRecurrence", "dale_recurrence", "gru_recurrence", "vanilla_recurrence"]


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
    <neurorx.models.cells.DaleCell.drift>`, :math:`h + a(\phi(u + [h]_+ W^\top) - h)`. The sign constraint is
    not applied here: the trainer projects the weights after every optimizer step.
    """
    return _apply(VanillaRecurrence, h0, u, w_rec, increments, a, act, onednn, True)
