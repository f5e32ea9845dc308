r"""Matrix products for the fused training path: oneDNN float32 kernels where available, torch otherwise.

On this project's reference machines (AMD EPYC, AVX-512) torch's default float32 matrix product (MKL) runs
AVX2 kernels, while oneDNN (shipped inside torch as ``torch.ops.mkldnn``) runs AVX-512 kernels: about twice
the throughput for the ``(200 x 512) @ (512 x 512)`` products of a training step. Both compute the same
products in float32; only the order of the floating-point additions (hence the last bits) differs.

The oneDNN operator has no autograd formula, so it is used only inside the custom autograd functions of
:mod:`neurorx.models.recurrences` and :mod:`neurorx.training.fused`, whose backward passes are written by
hand. Float64 tensors (used by the tests that compare gradients to 1e-10) always take the torch path.
``NEURORX_ONEDNN=0`` in the environment, or ``trainer.onednn: false`` in a card, disables oneDNN.
"""

from __future__ import annotations

import os

import torch

__all__ = ["linear", "linear_add", "matmul_tn", "onednn_available"]

_AVAILABLE: bool | None = None

#: Products smaller than this many multiply-adds take the torch path: oneDNN's per-call cost (and its
#: threading of tiny products) outweighs its faster kernels there.
ONEDNN_MIN_MACS = 1 << 22

#: Tall products (many rows, e.g. all time steps x trials) are computed in blocks of this many rows, which
#: keeps each block's operands in cache (measured faster than one call over 20000 rows).
ROW_BLOCK = 2048


def onednn_available() -> bool:
    """Whether the oneDNN float32 product works here (probed once against ``torch.mm``)."""
    global _AVAILABLE
    if _AVAILABLE is None:
        _AVAILABLE = False
        if os.environ.get("NEURORX_ONEDNN", "1").strip().lower() not in ("0", "false", "no", "off"):
            try:
                op = torch.ops.mkldnn._linear_pointwise
                g = torch.Generator().manual_seed(0)
                x, w, c = (torch.randn(s, generator=g) for s in ((7, 5), (3, 5), (7, 3)))
                ok = torch.allclose(op(x, w, None, "none", [], ""), x @ w.T, rtol=1e-5, atol=1e-5)
                ok = ok and torch.allclose(op.binary(x, c, w, None, "add"), c + x @ w.T, rtol=1e-5, atol=1e-5)
                ok = ok and torch.allclose(op(x.T, x.T, None, "none", [], ""), x.T @ x, rtol=1e-5, atol=1e-5)
                _AVAILABLE = bool(ok and torch.backends.mkldnn.is_available())
            except (AttributeError, RuntimeError):
                _AVAILABLE = False
    return _AVAILABLE


def _use(onednn: bool, x: torch.Tensor, w: torch.Tensor, *others: torch.Tensor) -> bool:
    return (onednn and x.shape[0] * x.shape[1] * w.shape[0] >= ONEDNN_MIN_MACS
            and all(t.dtype == torch.float32 and t.device.type == "cpu" for t in (x, w, *others))
            and onednn_available())


def linear(x: torch.Tensor, w: torch.Tensor, onednn: bool = True) -> torch.Tensor:
    """:math:`x w^\top` for 2-D ``x (M, K)`` and ``w (N, K)`` (no autograd through the oneDNN path)."""
    if not _use(onednn, x, w):
        return torch.mm(x, w.T)
    op = torch.ops.mkldnn._linear_pointwise
    m = x.shape[0]
    if m <= 2 * ROW_BLOCK:
        return op(x, w, None, "none", [], "")
    out = x.new_empty((m, w.shape[0]))
    for i in range(0, m, ROW_BLOCK):
        out[i : i + ROW_BLOCK] = op(x[i : i + ROW_BLOCK], w, None, "none", [], "")
    return out


def linear_add(x: torch.Tensor, w: torch.Tensor, other: torch.Tensor, onednn: bool = True,
               out: torch.Tensor | None = None) -> torch.Tensor:
    """:math:`\text{other} + x w^\top` (``torch.addmm(other, x, w.T)`` on the torch path), optionally into ``out``."""
    if _use(onednn, x, w, other):
        z = torch.ops.mkldnn._linear_pointwise.binary(x, other, w, None, "add")
        return z if out is None else out.copy_(z)
    return torch.addmm(other, x, w.T, out=out) if out is not None else torch.addmm(other, x, w.T)


def matmul_tn(a: torch.Tensor, b: torch.Tensor, onednn: bool = True) -> torch.Tensor:
    r""":math:`a^\top b` for ``a (M, P)`` and ``b (M, Q)``: a sum over the ``M`` rows (weight gradients).

    Notes
    -----
    On the oneDNN path the sum runs over row blocks, :math:`\sum_k a_k^\top b_k`, each block's product added
    to the running sum by the kernel itself.
    """
    if not _use(onednn, a.T, b.T):
        return torch.mm(a.T, b)
    op = torch.ops.mkldnn._linear_pointwise
    acc = op(a[:ROW_BLOCK].T, b[:ROW_BLOCK].T, None, "none", [], "")
    for i in range(ROW_BLOCK, a.shape[0], ROW_BLOCK):
        acc = op.binary(a[i : i + ROW_BLOCK].T, acc, b[i : i + ROW_BLOCK].T, None, "add")
    return acc
