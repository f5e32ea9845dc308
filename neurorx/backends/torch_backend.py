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
from neurorx.backends.base import BACKENDS, Chunk, Segment, check_dt_factor, check_finite, check_positive_int
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
    memory_budget : float, optional
        Bytes for the temporaries of one chunk (noise increments at every substep and the input
        projection of every gate block): they are made ``s`` training steps at a time, ``s`` chosen to fit
        (at least one step). :meth:`neurorx.Protocol.run` passes its own ``memory_budget``. The yielded
        chunk itself, ``(B, chunk_steps, N)``, is the caller's to bound through ``chunk_steps``.

    Notes
    -----
    Per step of size :math:`\\Delta t = D/k` (``D`` the training step):
    :math:`h \\leftarrow h + \\frac{\\Delta t}{\\tau}F(h, W_{in}(x+n_{in}) + b) + \\Delta N`, with the noise
    increment :math:`\\Delta N` from the segment's recurrent noise model at step :math:`\\Delta t`, and input
    noise :math:`n_{in}` drawn once per training step.

    Recurrent and input noise come from two random streams seeded from ``seed``, each drawn in time order, so
    a run does not depend on ``chunk_steps`` or ``memory_budget`` (up to floating-point rounding). Memory:
    the yielded chunk, ``(B, chunk_steps, N)``, plus the temporaries bounded by ``memory_budget``; all
    ``B`` trials advance together, so one training step of all trials is the least a run holds.
    """

    name = "torch"
    options = ("dtype", "threads", "device", "memory_budget")

    def simulate(self, network, segments: list[Segment], *, trials: int, seed: int, dt_factor: int = 1,
                 chunk_steps: int = 100, dtype: str = "float64", threads: int | None = None,
                 device: str = "cpu", memory_budget: float | None = None) -> Iterator[Chunk]:
        """Yield the hidden state after every training step, ``chunk_steps`` steps at a time."""
        k = check_dt_factor(dt_factor)
        chunk_steps = check_positive_int(chunk_steps, "chunk_steps")
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
        # One stream per noise placement, each drawn in time order: the run does not depend on how it is chunked.
        gen = torch.Generator(device=device).manual_seed(int(seed))
        inp_gen = torch.Generator(device=device).manual_seed(
            int(np.random.SeedSequence(int(seed), spawn_key=(1,)).generate_state(1, np.uint64)[0] >> 1))
        n = network.n_rec
        blocks = w["w_in"].shape[0] // n   # gate blocks of the input projection (GRU: 3)
        per_step = tdtype.itemsize * trials * (k * n + blocks * n + network.n_in)
        sub = chunk_steps if memory_budget is None else max(1, min(chunk_steps, int(memory_budget // per_step)))
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
                    out = torch.empty((trials, m, n), dtype=tdtype, device=device)
                    for t0 in range(0, m, sub):   # temporaries for `sub` steps at a time (draws stay in order)
                        ms = min(sub, m - t0)
                        x = x_all[:, start + t0 : start + t0 + ms]
                        if not inp.is_zero:
                            inc, inp_state = sample_steps(inp, ms, (trials, network.n_in), network.dt, inp_gen,
                                                          inp_state, tdtype, device)
                            x = x + inc.transpose(0, 1)
                        u = cell.input_projection(x, w["w_in"], w["bias"])
                        incs, rec_state = sample_steps(rec, ms * k, (trials, n), dt, gen, rec_state, tdtype, device)
                        for t in range(ms):
                            u_t = u[:, t]
                            for s in range(k):
                                h = cell.step(h, u_t, w["w_rec"], a, act, None if incs is None else incs[t * k + s])
                            out[:, t0 + t] = h
                        del x, u, incs
                    arr = out.cpu().numpy()
                    check_finite(arr, seg, start, network.dt)
                    yield Chunk(si, start, arr)


BACKENDS.add("torch", TorchBackend())
