"""The torch backend: the network's discrete Euler–Maruyama map, batched over trials, without autograd.

It uses the very step loop the trainer uses (:meth:`neurorx.models.cells.Cell.run` over
:meth:`~neurorx.models.cells.Cell.step`), so at ``dt_factor=1`` with
the training noise it *is* the trained model. ``dt_factor=k`` takes ``k`` steps of ``dt/k`` per training step
(inputs held), the same refinement the Brian2 backend makes.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from neurorx.activations import get_activation
from neurorx.backends.base import (
    BACKENDS,
    Chunk,
    Segment,
    check_dt_factor,
    check_finite,
    check_positive_int,
    derive_seed,
)
from neurorx.errors import ConfigurationError
from neurorx.noise import NoiseStream, NoNoise, add_increments

__all__ = ["TorchBackend"]

_DTYPES = {"float64": torch.float64, "float32": torch.float32}


#: Trials per noise stream: every block of this many trials draws its noise from its own generator, so a run
#: gives the same result however its trials are grouped (and however its time is chunked).
TRIAL_BLOCK = 32


class _BlockNoise:
    """One noise model's increments for a segment, drawn block by block of trials, each from its own stream.

    Every block of :data:`TRIAL_BLOCK` trials has a :class:`~neurorx.noise.NoiseStream` of its own (its own
    generator and model state) over the model restricted to its trials (:meth:`NoiseModel.for_trials`).
    """

    def __init__(self, model, trials: int, width: int, dt: float, steps: int, gens, dtype, device):
        model.check_run(steps, (trials, width), dt)
        self.zero, self.width, self.dtype, self.device = model.is_zero, width, dtype, device
        self.trials = trials
        self.streams = []
        for b, gen in enumerate(gens):
            rows = slice(b * TRIAL_BLOCK, min((b + 1) * TRIAL_BLOCK, trials))
            self.streams.append(NoiseStream(model.for_trials(rows), (rows.stop - rows.start, width), dt, gen,
                                            dtype, device))

    def draw(self, steps: int, per_step: int, blocks: range):
        """Increments ``(steps*per_step, trials of blocks, width)`` for the trial blocks ``blocks``, or None.

        Each block draws ``per_step`` increments (the substeps of one training step) per call: the shape of
        every draw, and so the numbers a stream yields, do not depend on how the run is chunked.
        """
        if self.zero:
            return None
        lo, hi = blocks.start * TRIAL_BLOCK, min(blocks.stop * TRIAL_BLOCK, self.trials)
        out = torch.empty((steps * per_step, hi - lo, self.width), dtype=self.dtype, device=self.device)
        for b in blocks:
            r0 = b * TRIAL_BLOCK - lo
            r1 = r0 + self.streams[b].shape[0]
            for t in range(steps):
                out[t * per_step : (t + 1) * per_step, r0:r1] = self.streams[b].draw(per_step)
        return out


class TorchBackend:
    """Discrete-time simulation in torch.

    Options
    -------
    dtype : {"float64", "float32"}
    threads : int, optional
        ``torch.set_num_threads`` for the run.
    device : str
        Torch device ("cpu" by default).
    memory_budget : float, optional
        Bytes for the temporaries of a chunk (noise increments at every substep and the input projection of
        every gate block): they are made ``s`` training steps at a time for all trials, ``s`` chosen to fit;
        if even one step of all trials does not fit, trials advance in groups of blocks of
        :data:`TRIAL_BLOCK` trials. :meth:`neurorx.Protocol.run` passes its own ``memory_budget``. The
        yielded chunk itself, ``(B, chunk_steps, N)``, is the caller's to bound through ``chunk_steps``.

    Notes
    -----
    Per step of size :math:`\\Delta t = D/k` (``D`` the training step):
    :math:`h \\leftarrow h + \\frac{\\Delta t}{\\tau}F(h, W_{in}(x+n_{in}) + b) + \\Delta N`, with the noise
    increment :math:`\\Delta N` from the segment's recurrent noise model at step :math:`\\Delta t`, and input
    noise :math:`n_{in}` drawn once per training step.

    Every block of :data:`TRIAL_BLOCK` trials draws its recurrent and its input noise from two streams of its
    own, seeded from ``seed``, in time order: a run gives the same result (up to floating-point rounding)
    whatever ``chunk_steps``, ``memory_budget`` or grouping of trials it runs with.
    """

    name = "torch"
    options = ("dtype", "threads", "device", "memory_budget")

    def simulate(self, network, segments: list[Segment], *, trials: int, seed: int, dt_factor: int = 1,
                 chunk_steps: int = 100, dtype: str = "float64", threads: int | None = None,
                 device: str = "cpu", memory_budget: float | None = None) -> Iterator[Chunk]:
        """Yield the hidden state after every training step, ``chunk_steps`` steps at a time."""
        k = check_dt_factor(dt_factor)
        chunk_steps = check_positive_int(chunk_steps, "chunk_steps")
        trials = check_positive_int(trials, "trials")
        try:
            tdtype = _DTYPES[dtype]
        except KeyError:
            raise ValueError(f"dtype must be one of {sorted(_DTYPES)}; got {dtype!r}") from None
        _check_device(device)
        if threads is not None:
            torch.set_num_threads(check_positive_int(threads, "threads"))
        dt = network.dt / k
        a = dt / network.tau
        cell, act = network.cell_object, get_activation(network.activation)
        w = network.torch_weights(tdtype, device)
        n = network.n_rec
        n_blocks = -(-trials // TRIAL_BLOCK)
        gens = [[torch.Generator(device=device).manual_seed(derive_seed(int(seed), p, b, bits=64))
                 for b in range(n_blocks)] for p in (0, 1)]        # [recurrent, input][block]
        blocks_per_step = w["w_in"].shape[0] // n                  # gate blocks of the input projection (GRU: 3)
        per_trial_step = tdtype.itemsize * (k * n + blocks_per_step * n + network.n_in)
        sub, group = chunk_steps, n_blocks                         # steps and trial blocks handled at once
        if memory_budget is not None:
            sub = int(memory_budget // (trials * per_trial_step))
            if sub >= 1:
                sub = min(sub, chunk_steps)
            else:
                sub, group = 1, max(1, int(memory_budget // (TRIAL_BLOCK * per_trial_step)))
        h = None
        with torch.inference_mode():
            for si, seg in enumerate(segments):
                if seg.h0 is not None:
                    h = torch.tensor(np.asarray(seg.h0), dtype=tdtype, device=device)
                if h is None:
                    raise ValueError(f"segment {seg.name!r} continues from a previous state, but it is the first")
                rec = _BlockNoise(seg.noise.get("recurrent", NoNoise()), trials, n, dt, seg.steps * k, gens[0],
                                  tdtype, device)
                inp = _BlockNoise(seg.noise.get("input", NoNoise()), trials, network.n_in, network.dt, seg.steps,
                                  gens[1], tdtype, device)
                for start in range(0, seg.steps, chunk_steps):
                    m = min(chunk_steps, seg.steps - start)
                    x_all = torch.as_tensor(np.asarray(seg.inputs)[:, start:start + m], dtype=tdtype, device=device)
                    out = torch.empty((trials, m, n), dtype=tdtype, device=device)
                    for t0 in range(0, m, sub):
                        ms = min(sub, m - t0)
                        for g0 in range(0, n_blocks, group):
                            blocks = range(g0, min(g0 + group, n_blocks))
                            rows = slice(g0 * TRIAL_BLOCK, min(blocks.stop * TRIAL_BLOCK, trials))
                            h = self._advance(h, rows, x_all[rows, t0 : t0 + ms], rec, inp,
                                              blocks, ms, k, cell, act, w, a, out, t0)
                    arr = out.cpu().numpy()
                    check_finite(arr, seg, start, network.dt)
                    yield Chunk(si, start, arr)

    @staticmethod
    def _advance(h, rows, x, rec, inp, blocks, ms, k, cell, act, w, a, out, t0):
        """Advance the trials ``rows`` (blocks ``blocks``) by ``ms`` training steps, writing ``out``."""
        x = add_increments(x, inp.draw(ms, 1, blocks), time_axis=1)
        u = cell.input_projection(x, w["w_in"], w["bias"])
        whole = rows.start == 0 and rows.stop == h.shape[0]
        hg = h if whole else h[rows]
        extra = {name: w[name] for name in cell.extra_weights} or None
        states = cell.run(hg, u.transpose(0, 1), w["w_rec"], a, act, rec.draw(ms, k, blocks), substeps=k,
                          out=out[rows, t0 : t0 + ms].transpose(0, 1), extra=extra)
        hg = states[-1].clone()   # not a view of the chunk handed to the caller
        if whole:
            return hg
        h[rows] = hg
        return h


BACKENDS.add("torch", TorchBackend())


def _check_device(device: str) -> None:
    """Raise one clear line for a torch device this machine does not have."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigurationError(f"device={device!r} is not a torch device; use 'cpu' or 'cuda'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigurationError(f"device={device!r}, but this torch build or machine has no CUDA; use "
                                 f"device='cpu'")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigurationError(f"device={device!r}, but MPS is not available here; use device='cpu'")
