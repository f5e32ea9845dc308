"""Where noise goes: the one piece that draws each placement's increments and adds them in its place.

A run's noise is a mapping placement -> :class:`~neurorx.noise.NoiseModel`:

- ``"input"``: added to each input sample (held over the training step), before the input projection;
- ``"recurrent"``: added to the hidden state after each Euler step (:meth:`neurorx.models.cells.Cell.step`);
- ``"output"``: added to the readout :math:`y = W_{out}h`.

Every consumer goes through this module: the torch model and the trainer (:func:`draw_placed`,
:func:`add_increments`), the torch backend (one :class:`NoiseStream` per block of trials and placement), the
Brian2 backend (input noise; recurrent noise enters its equations through the model's Brian2 terms) and the
protocol runner (:class:`OutputNoise`). Increments are time-major, ``(steps, trials, size)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from neurorx.noise.base import NoiseModel
from neurorx.noise.none import NoNoise

__all__ = ["DRAW_ORDER", "NoiseStream", "OutputNoise", "add_increments", "draw_placed", "sample_steps"]

#: The order in which one generator serves the placements of a batch (the trainer's and the model's draws).
DRAW_ORDER = ("input", "recurrent", "output")


def sample_steps(model: NoiseModel, steps: int, shape, dt: float, generator, state=None, dtype=torch.float64,
                 device=None):
    """Increments of ``model`` for ``steps`` steps of ``dt``: :meth:`NoiseModel.sample_steps` (kept as a
    function for existing callers). Returns ``(tensor (steps, *shape) or None, state)``.
    """
    return model.sample_steps(steps, shape, dt, generator, state, dtype, device)


class NoiseStream:
    """One noise model drawing increments of a fixed per-step ``shape`` from one generator, keeping its state.

    Parameters
    ----------
    model : NoiseModel
    shape : tuple
        Per-step shape, ``(trials, size)``.
    dt : float
        Step (seconds) of each increment.
    generator : torch.Generator or None
    """

    def __init__(self, model: NoiseModel, shape, dt: float, generator=None, dtype=torch.float64, device=None):
        self.model, self.shape, self.dt = model, tuple(shape), dt
        self.generator, self.dtype, self.device = generator, dtype, device
        self.state = None

    @property
    def is_zero(self) -> bool:
        """True if the stream adds nothing."""
        return self.model.is_zero

    def draw(self, steps: int) -> torch.Tensor | None:
        """The next ``steps`` increments, ``(steps, *shape)`` (``None`` for a zero model)."""
        inc, self.state = self.model.sample_steps(steps, self.shape, self.dt, self.generator, self.state,
                                                  self.dtype, self.device)
        return inc


def draw_placed(noise: Mapping[str, NoiseModel] | None, steps: int, sizes: Mapping[str, int], batch: int,
                dt: float, generator, dtype=torch.float64, device=None) -> dict[str, torch.Tensor]:
    """Increments of every placement for one batch, time-major ``(steps, batch, sizes[placement])``.

    Drawn from one ``generator`` in :data:`DRAW_ORDER` (input, recurrent, output); placements with zero
    noise draw nothing and are left out.
    """
    noise = noise or {}
    out = {}
    for placement in DRAW_ORDER:
        model = noise.get(placement, NoNoise())
        if not model.is_zero:
            inc, _ = model.sample_steps(steps, (batch, sizes[placement]), dt, generator, None, dtype, device)
            out[placement] = inc
    return out


def add_increments(values, increments, *, time_axis: int = 0):
    """``values`` plus time-major ``increments (steps, trials, size)`` (``values`` unchanged if ``None``).

    ``time_axis=0`` for time-major ``values (steps, trials, size)``, ``1`` for ``(trials, steps, size)``; numpy
    arrays and tensors alike.
    """
    if increments is None:
        return values
    if time_axis == 1:
        increments = increments.transpose(0, 1) if isinstance(increments, torch.Tensor) else \
            np.swapaxes(increments, 0, 1)
    if isinstance(values, np.ndarray) and isinstance(increments, torch.Tensor):
        increments = increments.numpy()
    return values + increments


class OutputNoise:
    """The output noise of a protocol run, added to the readout chunk by chunk.

    One generator (seeded with ``seed``) serves the whole run and draws one step at a time, so the numbers do
    not depend on the chunking; a stateful model (OU, frozen) starts afresh in each segment.

    Parameters
    ----------
    models : sequence of NoiseModel or None
        The output noise of each segment.
    shape : tuple
        ``(trials, n_out)``.
    dt : float
        The training step (seconds).
    seed : int
        Seed of the run's output-noise generator.
    """

    def __init__(self, models: Sequence[NoiseModel | None], shape, dt: float, seed: int):
        self.models, self.shape, self.dt, self.seed = list(models), tuple(shape), dt, seed
        self.generator, self.stream, self.segment = None, None, None

    def apply(self, segment: int, y: np.ndarray) -> np.ndarray:
        """``y (trials, steps, n_out)`` of segment ``segment`` plus its output noise."""
        model = self.models[segment]
        if model is None or model.is_zero:
            return y
        if self.generator is None:
            self.generator = torch.Generator().manual_seed(self.seed)
        if self.segment != segment:
            self.stream, self.segment = NoiseStream(model, self.shape, self.dt, self.generator), segment
        m = y.shape[1]
        inc = np.empty((m, *self.shape))
        for t in range(m):   # one step per draw: the numbers do not depend on the chunking
            inc[t] = self.stream.draw(1)[0].numpy()
        return add_increments(y, inc, time_axis=1)
