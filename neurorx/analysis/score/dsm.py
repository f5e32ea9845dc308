r"""Denoising score matching: the score of a point cloud from a small torch MLP trained at a noise level."""

from __future__ import annotations

import math

import numpy as np

from .._validate import as_array, check_int

__all__ = ["dsm_score"]


def dsm_score(points, at, *, sigma: float, hidden: int = 64, steps: int = 1500, batch: int = 256,
              lr: float = 2e-3, seed: int = 0, **_) -> np.ndarray:
    r"""Score of ``points (n, d)`` smoothed by :math:`\mathcal N(0,\sigma^2 I)`, by denoising score matching.

    A small MLP :math:`\hat\epsilon_\theta` is trained to predict the unit noise :math:`\epsilon` from
    :math:`\tilde x = x + \sigma\epsilon`; the score is :math:`s(\tilde x) = -\hat\epsilon_\theta(\tilde x)/\sigma`
    (Vincent 2011). With ``sigma`` the network's own per-step noise SD this is the score of the paper's
    :math:`p(r) = \int \mathcal N(r; \bar r, \sigma^2\Delta t)\,p(\bar r)\,d\bar r` (Eq. 16).

    Notes
    -----
    Loss :math:`\mathbb E\,\|\hat\epsilon_\theta(x+\sigma\epsilon) - \epsilon\|^2`; its minimiser is
    :math:`\hat\epsilon^* = -\sigma\nabla\log p_\sigma`. Inputs are standardised per coordinate for the MLP
    (a fixed affine map, so the score is unchanged). Adam, ``steps`` minibatches of ``batch``, cosine
    learning-rate decay; the random streams come from ``seed`` (:mod:`neurorx.seeds`).
    """
    import torch

    from neurorx.seeds import torch_generator

    x = as_array(points, "points")
    q = as_array(at, "at")
    if x.ndim != 2 or q.ndim != 2 or x.shape[1] != q.shape[1]:
        raise ValueError(f"points (n, d) and at (m, d) must share d; got {x.shape} and {q.shape}")
    if not (isinstance(sigma, int | float) and math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"dsm_score needs sigma > 0 (the noise level to denoise); got {sigma!r}. A network "
                         "trained without noise has none: pass sigma= explicitly")
    steps = check_int(steps, "steps", minimum=1)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)            # a small MLP: one thread is fastest, and does not oversubscribe
    try:
        gen = torch_generator(seed, 1501)
        mu, sd = x.mean(0), x.std(0) + 1e-12
        d = x.shape[1]
        layers, width = [], d
        for _ in range(3):
            lin = torch.nn.Linear(width, hidden)
            layers += [lin, torch.nn.SiLU()]
            width = hidden
        layers.append(torch.nn.Linear(width, d))
        net = torch.nn.Sequential(*layers)
        with torch.no_grad():           # seeded initialisation (torch's default scheme, our stream)
            for p in net.parameters():
                bound = 1.0 / math.sqrt(p.shape[-1] if p.ndim == 2 else hidden)
                p.copy_(torch.rand(p.shape, generator=gen) * 2 * bound - bound)
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
        xt = torch.as_tensor((x - mu) / sd, dtype=torch.float32)
        noise_sd = torch.as_tensor(sigma / sd, dtype=torch.float32)
        for _ in range(steps):
            idx = torch.randint(0, xt.shape[0], (batch,), generator=gen)
            eps = torch.randn(batch, d, generator=gen)
            loss = ((net(xt[idx] + noise_sd * eps) - eps) ** 2).sum(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        with torch.no_grad():
            eps_hat = net(torch.as_tensor((q - mu) / sd, dtype=torch.float32)).double().numpy()
    finally:
        torch.set_num_threads(threads)
    return -eps_hat / sigma
