"""Baselines of the KL matrix (Fig. 2e): the uniform box and the untrained random network.

**Uniform baseline** (column 𝒰). The reference code (``output_kl.py``) uses
``scipy.stats.uniform(loc=-1.1, scale=2.2)``, i.e. positions uniform on the ``[-1.1, 1.1]^2`` arena, and
draws its Monte-Carlo points with ``rvs((n, d))``. :func:`uniform_box_samples` draws the same points
(same scipy call, seeded). The density is handled in :mod:`neurorx.analysis.divergence`
(:func:`~neurorx.analysis.uniform_box_logpdf`, :func:`~neurorx.analysis.kl_uniform_vs`), including the
reference's log 2.2 bug.

**Random-network baseline** (column R^σ). In the reference code it is an *untrained* vanilla RNN with
the same shapes as the trained ones (``n_in``, ``n_rec``, ``n_out``, ``n_init``; no biases) and torch's
default ``nn.Linear`` initialisation, run through the quiescent protocol (zero input, initial state
``encoder(init_code)`` of a fresh test batch, recurrent noise ``sqrt(2) * sqrt(noise)``), its outputs
decoded with the task of the *last loaded* trained model. :func:`random_weights` draws the weights from the
same distribution as torch's default (not the same random stream: torch's generator is not numpy's);
:func:`random_network` wraps them into a :class:`~neurorx.RateNetwork` shaped like a trained one.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ._validate import as_box, check_int, check_seed

__all__ = ["random_network", "random_weights", "uniform_box_samples"]


def uniform_box_samples(n: int, box=(-1.1, 1.1), d: int = 2, seed=0) -> np.ndarray:
    r"""Draw points uniformly from an axis-aligned box.

    Parameters
    ----------
    n : int
        Number of points (>= 1).
    box : (low, high) or array_like of shape (d, 2), default (-1.1, 1.1)
        The same interval on every axis, or one ``[low, high]`` row per axis. The default is the
        reference arena (a 2.2 m square centred on 0).
    d : int, default 2
        Number of dimensions.
    seed : int, numpy Generator/RandomState or None, default 0
        Random state, passed to scipy as ``random_state``.

    Returns
    -------
    numpy.ndarray, shape (n, d)
        The points.

    Notes
    -----
    Each coordinate is independent, :math:`x_k \sim \mathcal{U}(\mathrm{low}_k, \mathrm{high}_k)`.
    With a common interval this is exactly the reference's
    ``scipy.stats.uniform(loc=low, scale=high - low).rvs((n, d))`` with ``random_state=seed``, so the
    Monte-Carlo points of :func:`~neurorx.analysis.kl_uniform_vs` are ``uniform_box_samples(n_mc, box, d,
    seed)``.
    """
    n = check_int(n, "n", minimum=1)
    d = check_int(d, "d", minimum=1)
    seed = check_seed(seed)
    lim = as_box(box, d)
    lows, widths = lim[:, 0], lim[:, 1] - lim[:, 0]
    if np.all(lows == lows[0]) and np.all(widths == widths[0]):
        return stats.uniform(loc=lows[0], scale=widths[0]).rvs((n, d), random_state=seed)
    unit = stats.uniform().rvs((n, d), random_state=seed)
    return lows + widths * unit


def random_weights(
    n_rec: int, n_in: int, n_out: int, n_init: int, seed=0, *, bias: bool = False
) -> dict[str, np.ndarray]:
    r"""Draw untrained RNN weights like torch's default ``nn.Linear`` initialisation.

    Parameters
    ----------
    n_rec : int
        Number of recurrent units ``N``.
    n_in : int
        Number of inputs (2 for spatial navigation, 1 for head direction).
    n_out : int
        Number of outputs (the number of place / head-direction cells).
    n_init : int
        Size of the initial-state code fed to the encoder.
    seed : int, numpy Generator or None, default 0
        Random state (``numpy.random.default_rng(seed)``).
    bias : bool, default False
        Also draw biases ``b_encoder``, ``b_in``, ``b_rec``, ``b_out`` (the reference uses none).

    Returns
    -------
    dict of str to numpy.ndarray
        Float64 arrays in torch's ``[post, pre]`` layout: ``encoder`` ``(N, n_init)``, ``w_in``
        ``(N, n_in)``, ``w_rec`` ``(N, N)``, ``w_out`` ``(n_out, N)``, plus the biases if requested.

    Notes
    -----
    ``nn.Linear(fan_in, fan_out)`` initialises its weight with Kaiming-uniform, ``a = sqrt(5)``:
    gain :math:`g = \sqrt{2 / (1 + a^2)} = \sqrt{1/3}` and bound
    :math:`g \sqrt{3 / \mathrm{fan\_in}} = 1/\sqrt{\mathrm{fan\_in}}`, and its bias with the same bound:

    .. math:: W_{ij} \sim \mathcal{U}\left(-\tfrac{1}{\sqrt{\mathrm{fan\_in}}},
              \tfrac{1}{\sqrt{\mathrm{fan\_in}}}\right),
              \qquad \operatorname{sd}(W_{ij}) = \frac{1}{\sqrt{3\,\mathrm{fan\_in}}}.

    ``fan_in`` is the number of columns (presynaptic units). The values follow the same distribution as
    torch's, not the same random numbers.
    """
    n_rec = check_int(n_rec, "n_rec", minimum=1)
    n_in = check_int(n_in, "n_in", minimum=1)
    n_out = check_int(n_out, "n_out", minimum=1)
    n_init = check_int(n_init, "n_init", minimum=1)
    seed = check_seed(seed)
    if isinstance(seed, np.random.RandomState):
        raise TypeError("random_weights: seed must be None, an int or a numpy Generator, not a RandomState.")
    rng = np.random.default_rng(seed)

    def linear(fan_in: int, fan_out: int) -> tuple[np.ndarray, np.ndarray]:
        bound = 1.0 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, size=(fan_out, fan_in)), rng.uniform(-bound, bound, size=fan_out)

    # key: (fan_in, fan_out), i.e. nn.Linear(fan_in, fan_out); the weight is (fan_out, fan_in) = [post, pre].
    shapes = {
        "encoder": (n_init, n_rec),
        "w_in": (n_in, n_rec),
        "w_rec": (n_rec, n_rec),
        "w_out": (n_rec, n_out),
    }
    weights: dict[str, np.ndarray] = {}
    for key, (fan_in, fan_out) in shapes.items():
        w, b = linear(fan_in, fan_out)
        weights[key] = w
        if bias:
            weights["b_" + key.removeprefix("w_")] = b
    return weights


def random_network(like, seed: int = 0):
    """The paper's R^σ baseline: an untrained network with ``like``'s shapes, time constants, task and noise.

    Parameters
    ----------
    like : RateNetwork
        The trained network whose shapes, ``tau``, ``dt``, cell, activation, noise and task are copied.
    seed : int, default 0
        Seed of :func:`random_weights`.

    Returns
    -------
    RateNetwork

    Notes
    -----
    Weights :math:`W_{ij} \\sim \\mathcal{U}(\\pm 1/\\sqrt{\\mathrm{fan\\_in}})`, as torch's default
    initialisation (:func:`random_weights`).
    """
    from neurorx.network import RateNetwork

    w = random_weights(like.n_rec, like.n_in, like.n_out, like.n_init, seed=seed)
    return RateNetwork.from_arrays(**w, tau=like.tau_quantity, dt=like.dt_quantity, cell=like.cell,
                                   activation=like.activation, noise=dict(like.noise), task=like.task,
                                   config={"baseline": "random", "seed": seed})
