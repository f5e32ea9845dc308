"""The torch backend: the network's discrete Euler–Maruyama map, batched over trials, without autograd.

It uses the very step the trainer uses (:meth:`neurorx.models.cells.Cell.step`), so at ``dt_factor=1`` with
the training noise it *is* the trained model. ``dt_factor=k`` takes ``k`` steps of ``dt/k`` per training step
(inputs held), the same refinement the Brian2 backend makes.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from neurorx.activations import get_activation
from neurorx.backends.base import BACKENDS, Chunk, Segment, check_dt_factor, check_finite
from neurorx.models.cells import get_cell
from neurorx.noise import NoNoise, sample_steps

__all__ = ["TorchBackend"]

_DTYPES = {"float64": torch.float64, "float32": torch.float32}


class TorchBackend:
    """Discrete-time simulation in torch.

    Options
    -------
    dtype : {"float64", "float32"}
    threads : int, optional
        ``torch.set_num_threads`` for the run.
    device : str
        Torch device ("cpu" by default).

    Notes
    -----
    Per step of size :math:`\\Delta t = D/k` (``D`` the training step):
    :math:`h \\leftarrow h + \\frac{\\Delta t}{\\tau}F(h, W_{in}(x+n_{in}) + b) + \\Delta N`, with the noise
    increment :math:`\\Delta N` from the segment's recurrent noise model at step :math:`\\Delta t`, and input
    noise :math:`n_{in}` drawn once per training step.
    """

    name = "torch"

    def simulate(self, network, segments: list[Segment], *, trials: int, seed: int, dt_factor: int = 1,
                 chunk_steps: int = 100, dtype: str = "float64", threads: int | None = None,
                 device: str = "cpu") -> Iterator[Chunk]:
        """Yield the hidden state after every training step, ``chunk_steps`` steps at a time."""
        k = check_dt_factor(dt_factor)
        try:
            tdtype = _DTYPES[dtype]
        except KeyError:
            raise ValueError(f"dtype must be one of {sorted(_DTYPES)}; got {dtype!r}") from None
        if threads is not None:
            torch.set_num_threads(int(threads))
        dt = network.dt / k
        a = dt / network.tau
        cell, act = get_cell(network.cell), get_activation(network.activation)
        w = network.torch_weights(tdtype, device)
        gen = torch.Generator(device=device).manual_seed(int(seed))
        n = network.n_rec
        h = None
        with torch.inference_mode():
            for si, seg in enumerate(segments):
                if seg.h0 is not None:
                    h = torch.tensor(np.asarray(seg.h0), dtype=tdtype, device=device)
                if h is None:
                    raise ValueError(f"segment {seg.name!r} continues from a previous state, but it is the first")
                x_all = torch.tensor(np.asarray(seg.inputs), dtype=tdtype, device=device)
                rec = seg.noise.get("recurrent", NoNoise())
                inp = seg.noise.get("input", NoNoise())
                rec_state = inp_state = None
                for start in range(0, seg.steps, chunk_steps):
                    m = min(chunk_steps, seg.steps - start)
                    x = x_all[:, start : start + m]
                    if not inp.is_zero:
                        inc, inp_state = sample_steps(inp, m, (trials, network.n_in), network.dt, gen, inp_state,
                                                      tdtype, device)
                        x = x + inc.transpose(0, 1)
                    u = cell.input_projection(x, w["w_in"], w["bias"])
                    incs, rec_state = sample_steps(rec, m * k, (trials, n), dt, gen, rec_state, tdtype, device)
                    out = torch.empty((trials, m, n), dtype=tdtype, device=device)
                    for t in range(m):
                        u_t = u[:, t]
                        for s in range(k):
                            h = cell.step(h, u_t, w["w_rec"], a, act, None if incs is None else incs[t * k + s])
                        out[:, t] = h
                    arr = out.cpu().numpy()
                    check_finite(arr, seg, start, network.dt)
                    yield Chunk(si, start, arr)


BACKENDS.add("torch", TorchBackend())
