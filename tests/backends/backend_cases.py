"""Shared cases of the backend tests: small networks, inputs, a plain torch reference, a diverging run, and an
instance of every registered noise model.

A plain module (not a test module), imported by the test modules of this folder.
"""

import math

import numpy as np
import torch
from brian2 import ms

from neurorx import RateNetwork
from neurorx.activations import get_activation
from neurorx.backends import Segment, get_backend
from neurorx.models.cells import CELLS
from neurorx.noise import NOISE_MODELS

TAU, DT = 100 * ms, 20 * ms
A = 0.2  # dt / tau
D = 0.02  # training step in seconds


def make_net(cell="vanilla", activation="relu", n=8, n_in=2, seed=0, rec_scale=1.0, w_rec=None, w_in=None,
             bias=True) -> RateNetwork:
    rng = np.random.default_rng(seed)
    g = len(CELLS.get(cell).gates)
    weights = {"w_rec": rec_scale * rng.normal(size=(g * n, n)) / math.sqrt(n) if w_rec is None else w_rec,
               "w_out": rng.normal(size=(3, n))}
    if CELLS.get(cell).populations(n):   # a constrained cell (dale): project the random weights onto its rules
        weights = {k: torch.as_tensor(np.array(v, dtype=np.float64)) for k, v in weights.items()}
        CELLS.get(cell).project_(weights)
        weights = {k: v.numpy() for k, v in weights.items()}
    return RateNetwork.from_arrays(
        encoder=rng.normal(size=(n, 4)),
        w_in=rng.normal(size=(g * n, n_in)) if w_in is None else w_in,
        w_rec=weights["w_rec"],
        w_out=weights["w_out"],
        bias=0.1 * rng.normal(size=g * n) if bias else None,
        tau=TAU, dt=DT, cell=cell, activation=activation,
    )


def torch_reference(net, segments, increments=None, h_start=None, substeps=1):
    """States after every step of every segment, (B, T_total, N), with recurrent ``increments[s]`` (T, B, N).

    ``substeps=k`` takes ``k`` Euler steps of ``dt/k`` per training step (inputs held; ``increments`` then
    given per substep) and keeps the state at the end of each training step.
    """
    model = net.to_torch(torch.float64)
    out = []
    h = None if h_start is None else torch.as_tensor(h_start)
    with torch.no_grad():
        for s, seg in enumerate(segments):
            if seg.h0 is not None:
                h = torch.as_tensor(np.asarray(seg.h0, dtype=np.float64))
            u = model.cell.input_projection(torch.as_tensor(seg.inputs), model.w_in.weight, model.bias)
            inc = None if increments is None else increments[s]
            for t in range(seg.steps * substeps):
                step_inc = None if inc is None else torch.tensor(inc[t])
                h = model.cell.step(h, u[:, t // substeps], model.w_rec.weight, model.alpha / substeps, model.act,
                                    step_inc)
                if (t + 1) % substeps == 0:
                    out.append(h)
    return torch.stack(out, dim=1).numpy()


def inputs(trials, steps, n_in, seed=1, scale=1.0):
    return scale * np.random.default_rng(seed).normal(size=(trials, steps, n_in))



def simulate(backend, net, segments, trials, **kw):
    """States ``(B, T_total, N)`` of ``segments`` on ``backend`` (a name or a backend object), seed 0.

    A backend with a code-generation ``target`` option runs its ``"numpy"`` target (no compilation).
    """
    impl = get_backend(backend) if isinstance(backend, str) else backend
    kw.setdefault("seed", 0)
    if "target" in getattr(impl, "options", ()):
        kw.setdefault("target", "numpy")
    chunks = list(impl.simulate(net, segments, trials=trials, **kw))
    return np.concatenate([c.h for c in chunks], axis=1)


def diverging_run(b=2, n=4):
    """A calm phase, then phase "boom" (t0 = 1 s) from h = 1e200 with h' = (1 + a*49) h; and the step of
    "boom" at which h overflows."""
    net = make_net("vanilla", "identity", n=n, n_in=1, w_rec=50 * np.eye(n), bias=False)
    segs = [Segment("calm", 3, np.zeros((b, 3, 1)), {}, np.ones((b, n))),
            Segment("boom", 400, np.zeros((b, 400, 1)), {}, np.full((b, n), 1e200), t0=1.0)]
    h, overflow = np.float64(1e200), 0
    with np.errstate(over="ignore"):
        while np.isfinite(h):
            h, overflow = h * (1 + A * 49), overflow + 1
    return net, segs, overflow



def noise_instances(placement, b, t, n, n_in, dt_factor):
    """One instance of every registered noise model (:meth:`NoiseModel.example`) for a run of ``t`` training
    steps of ``b`` trials at ``dt_factor``, by name."""
    shape = (b, n_in) if placement == "input" else (b, n)
    steps = t if placement == "input" else t * dt_factor   # input noise is drawn once per training step
    step = D if placement == "input" else D / dt_factor
    return {name: cls.example(steps, shape, step, placement=placement, seed=8) for name, cls in NOISE_MODELS.items()}


#: Unit roundoff of float32 (round to nearest): every float32 operation has a relative error of at most this.
U32 = 2.0 ** -24


def float32_error_bound(net, segments, h64, increments=None):
    """A first-order worst-case bound on ``|h32 - h64|`` (per trial, step, unit) of a vanilla-cell run in float32.

    ``h64`` (B, T, N) is the float64 run of ``segments`` (taken as exact: its own rounding, ~1e-16, is far
    below float32's), ``increments[s]`` (steps, B, N) a segment's frozen recurrent increments. The bound is
    the standard forward error analysis of one Euler step :math:`h' = h + a(-h + \\phi(z)) + \\Delta N`,
    :math:`z = Wh + W_{in}x + b`, in float32 (unit roundoff :math:`u = 2^{-24}`,
    :math:`\\gamma_k = ku/(1-ku)`), carried through the run:

    - local error of a step (weights, inputs and increments rounded to float32 included):
      :math:`r = a(\\gamma_{N+n_{in}+3}\\,S + 2u|\\phi(z)|) + \\gamma_8(|h| + a|h| + a|\\phi(z)| + |\\Delta N|)`
      with :math:`S = |W||h| + |W_{in}||x| + |b|` (a dot product of ``N + n_in + 1`` rounded terms, then the
      activation evaluated to 2 ulp, then at most 8 roundings of the elementwise update: ``a``, ``1/tau``, the
      products, the sums and the store);
    - propagation: an error :math:`e` in ``h`` becomes at most :math:`((1-a)I + aL|W|)\\,e` (componentwise,
      :math:`L = 1` the activation's Lipschitz constant: tanh, ReLU), so :math:`e_{n+1} \\le
      ((1-a)I + a|W|)e_n + r_n` from :math:`e_0 = u|h_0|`.

    Nothing here is fitted to a measured error; terms of order :math:`u^2` are left out.
    """
    def gamma(k):
        return k * U32 / (1 - k * U32)

    w = np.abs(np.asarray(net.weights["w_rec"], dtype=np.float64))
    w_in = np.asarray(net.weights["w_in"], dtype=np.float64)
    bias = np.asarray(net.weights["bias"], dtype=np.float64)
    a, n, n_in = float(net.alpha), net.n_rec, net.n_in
    prop = (1 - a) * np.eye(n) + a * w                       # (N, N), acts on column vectors of errors
    act = get_activation(net.activation)
    if net.cell != "vanilla" or act.name not in ("tanh", "relu"):
        raise ValueError("float32_error_bound covers vanilla cells with a 1-Lipschitz tanh or relu")
    out, col, e, h = np.empty_like(h64), 0, None, None
    for s, seg in enumerate(segments):
        if seg.h0 is not None:
            h = np.asarray(seg.h0, dtype=np.float64)
            e = U32 * np.abs(h)
        x = np.asarray(seg.inputs, dtype=np.float64)
        for t in range(seg.steps):
            z = h @ np.asarray(net.weights["w_rec"], dtype=np.float64).T + x[:, t] @ w_in.T + bias
            phi = np.abs(act.numpy(z))
            inc = 0.0 if increments is None or increments[s] is None else np.abs(increments[s][t])
            size = np.abs(h) @ w.T + np.abs(x[:, t]) @ np.abs(w_in).T + np.abs(bias)
            r = a * (gamma(n + n_in + 3) * size + 2 * U32 * phi) + gamma(8) * (np.abs(h) * (1 + a) + a * phi + inc)
            e = e @ prop.T + r
            h = h64[:, col]
            out[:, col] = e
            col += 1
    return out
