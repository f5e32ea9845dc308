r"""The network side of score alignment: a network's zero-input update, and its flow on a backend.

These functions run the network (one step of :meth:`~neurorx.models.cells.Cell.step`, or a backend's
simulation); everything else in :mod:`neurorx.analysis.score` works on the arrays they return.
"""

from __future__ import annotations

import math

import numpy as np

from .._validate import as_array

__all__ = ["continuous_flow", "noise_step_moments", "quiescent_drift"]


def noise_step_moments(network, noise_scale: float = 1.0) -> tuple[float, float]:
    """Per-unit mean and variance of one training step's recurrent noise increment, scaled by ``noise_scale``.

    For :class:`~neurorx.noise.ReferenceUniformNoise` of scale :math:`s` this is :math:`(s/2, s^2/12)`, for
    :class:`~neurorx.noise.WhiteNoise` :math:`(0, \\sigma^2\\Delta t)`, for no noise ``(0, 0)``.
    """
    model = network.recurrent_noise.scaled(noise_scale)
    if model.is_zero:
        return 0.0, 0.0
    mean, var = model.step_moments(network.dt)
    return float(mean), float(var)


def quiescent_drift(network, states, *, noise_mean: float = 1.0) -> np.ndarray:
    r"""The deterministic zero-input update of one training step, minus the state.

    Parameters
    ----------
    network : RateNetwork
        Any cell type: the update is :meth:`Cell.step <neurorx.models.cells.Cell.step>` of the network's cell.
    states : array_like, shape (..., N)
        Hidden states to evaluate the drift at.
    noise_mean : float, default 1.0
        Add the mean of the recurrent noise increment at this noise scale: 1 (the training noise's mean:
        the theory's :math:`\Delta r_1` is the update the noise's mean is part of), :math:`\sqrt2` (what the
        quiescent phase adds per step), 0 (the bare cell update). Zero-mean noise (white) adds nothing.

    Returns
    -------
    ndarray, shape (..., N)
        :math:`d(h) = h + a\,F(h, W_{in}\cdot 0 + b) - h + \mu_k`, per training step, float64.

    Notes
    -----
    With input removed and the noise off, one Euler step of the network is :math:`h \mapsto h + aF(h, b)`.
    The reference uniform noise :math:`s\,U[0,1)` has mean :math:`s/2` per step (the continuous drift
    :math:`s/(2D)` over a step :math:`D`): during quiescence that constant is part of the deterministic update,
    so with ``noise_mean=k`` it is included as :math:`\mu_k = k s/2`.
    """
    import torch

    from neurorx.activations import get_activation

    h = as_array(states, "states")
    if h.ndim < 1 or h.shape[-1] != network.n_rec:
        raise ValueError(f"states must end in N={network.n_rec} units (the network's size); got shape {h.shape}")
    if not (isinstance(noise_mean, int | float) and math.isfinite(noise_mean) and noise_mean >= 0):
        raise ValueError(f"noise_mean is a noise scale (0, 1 or sqrt(2)); got {noise_mean!r}")
    cell, act = network.cell_object, get_activation(network.activation)
    w = network.torch_weights(dtype=torch.float64)
    flat = torch.as_tensor(h.reshape(-1, network.n_rec))
    u = cell.input_projection(torch.zeros(flat.shape[0], network.n_in, dtype=torch.float64), w["w_in"], w["bias"])
    with torch.no_grad():
        extra = {name: w[name] for name in cell.extra_weights} or None
        d = (cell.step(flat, u, w["w_rec"], network.alpha, act, extra=extra) - flat).numpy()
    if noise_mean:
        d = d + noise_step_moments(network, noise_mean)[0]
    return d.reshape(h.shape)


def continuous_flow(network, states, *, backend: str = "brian2", dt_factor: int = 1, seed: int = 0,
                    **backend_options) -> np.ndarray:
    r"""The noise-off, zero-input flow over one training step, simulated by a backend from ``states``.

    Parameters
    ----------
    network : RateNetwork
    states : array_like, shape (M, N)
        Start states (one trial each).
    backend : {"brian2", "torch"}
    dt_factor : int
        Integration step ``network.dt / dt_factor``: 1 is the Euler map the network was trained as; 16
        approaches the continuous-time flow :math:`\varphi_{\Delta t}(h) - h` of
        :math:`\tau\,dh/dt = F(h, b)`.
    **backend_options
        Passed to the backend's ``simulate`` (e.g. ``target="numpy"``).

    Returns
    -------
    ndarray, shape (M, N)
        :math:`h(\Delta t) - h(0)`, without the noise (and its mean: add it as in :func:`quiescent_drift`).
    """
    from neurorx.backends import get_backend
    from neurorx.backends.base import Segment

    h0 = as_array(states, "states")
    if h0.ndim != 2 or h0.shape[1] != network.n_rec:
        raise ValueError(f"states must have shape (M, N={network.n_rec}); got {h0.shape}")
    m = h0.shape[0]
    seg = Segment(name="flow", steps=1, inputs=np.zeros((m, 1, network.n_in)), noise={}, h0=h0)
    chunks = list(get_backend(backend).simulate(network, [seg], trials=m, seed=seed, dt_factor=dt_factor,
                                                chunk_steps=1, **backend_options))
    return np.asarray(chunks[-1].h[:, -1], dtype=np.float64) - h0
