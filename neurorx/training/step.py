r"""One optimisation step and the decoding error it is judged by.

The loss is the reference's (``paper.md`` §2.3): the mean squared error of the raw linear outputs
:math:`y_t = W_{out}h_{t+1}` against the target cell codes,

.. math:: L = \frac{1}{B\,T\,n_{out}} \sum_{b,t,i} \big(y_{b,t,i} - f_i(s_{b,t})\big)^2,

minimised by Adam over full backpropagation through time.
"""

from __future__ import annotations

import numpy as np
import torch

from neurorx.training.batches import Batch
from neurorx.training.fused import forward_time_major

__all__ = ["decoding_error", "train_step"]


def train_step(model, optimizer, batch: Batch, noise, dt: float, generator, fused: bool = True,
               onednn: bool = True, *, homeostatic_weight: float = 0.01, record: dict | None = None):
    r"""One optimisation step on ``batch``: forward, reference MSE loss, BPTT, Adam update.

    The noise is ``batch.increments`` if drawn ahead, else drawn from ``generator``. A non-finite loss skips
    the update (the caller stops training).

    For a cell with a local loss (:attr:`Cell.has_local_loss`: ``dale_norm``, ``dale_subnorm``) the
    gradient is that of :math:`L_{task} + \lambda L_I` with :math:`\lambda` = ``homeostatic_weight``: the
    cell's stop-gradients route the task loss to the excitatory weights and the homeostatic loss
    :math:`L_I` to the weights onto the inhibitory units (:class:`~neurorx.models.cells.DaleNormCell`), so one
    backward pass and one Adam step serve both; the unweighted :math:`L_I` goes into ``record["homeostatic_loss"]``.
    Entries the cell freezes (:meth:`Cell.frozen_masks`) are restored after the step.

    Returns
    -------
    loss : torch.Tensor
        The (detached) task loss before the update.
    y : torch.Tensor (T, B, n_out)
        The (detached) outputs.
    """
    optimizer.zero_grad(set_to_none=True)
    local = {} if model.cell.has_local_loss else None
    _, y, loss = forward_time_major(model, batch.inputs, batch.init_code, noise, dt, generator, fused=fused,
                                    targets=batch.targets, onednn=onednn, increments=batch.increments,
                                    local_losses=local)
    total = loss
    if local:
        homeostatic = local["homeostatic"]
        if record is not None:
            record["homeostatic_loss"] = float(homeostatic.detach())
        total = loss + homeostatic_weight * homeostatic
    if not torch.isfinite(total):
        return loss.detach(), y.detach()
    total.backward()
    frozen = {name: (mask, model.weights()[name].detach()[mask].clone())
              for name, mask in model.cell.frozen_masks(model.weights()).items()}
    optimizer.step()
    if frozen:
        weights = model.weights()
        with torch.no_grad():
            for name, (mask, values) in frozen.items():
                weights[name][mask] = values
    model.cell.project_(model.weights())   # constrained cells (dale: sign structure); a no-op for the others
    return loss.detach(), y.detach()


def decoding_error(task, y: torch.Tensor, states: np.ndarray) -> float:
    """Mean top-k decoding error of time-major outputs ``y (T, B, n)`` against ``states (B, T, d)``."""
    decoded = task.decode(y.detach().transpose(0, 1).to("cpu", torch.float64))
    err = task.error(decoded, torch.from_numpy(states))
    return float(err.mean())
