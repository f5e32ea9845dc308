r"""Score alignment: is a network's quiescent drift the score of its active states? (paper Eqs. 16–19)

The theory says a noisy network trained on path integration learns the denoising update

.. math:: \Delta r_1^* = \sigma^2 \nabla_r \log p(r)\,\Delta t ,

the score of the distribution :math:`p` of its own (noisy) active states, so that with the input removed and
the noise variance doubled it performs Langevin sampling of :math:`p`. This module measures that directly:

- :func:`quiescent_drift` -- the network's deterministic zero-input update minus the state, from the one
  definition of the dynamics (:meth:`neurorx.models.cells.Cell.step`), optionally plus the mean of the noise.
- :func:`fit_subspace` -- the leading principal components of the active states (number chosen by explained
  variance), where densities are estimated.
- :data:`SCORE_ESTIMATORS` -- :func:`kde_score` (analytic gradient of a Gaussian KDE log density) and
  :func:`dsm_score` (denoising score matching with a small torch MLP at the network's own noise level).
- :func:`score_alignment` -- cosine of drift and score per sample, best-fit scale against the theory's
  :math:`\sigma^2\Delta t`, and :func:`alignment_intervals` (bootstrap over trials).
- :func:`continuous_flow` -- the noise-off flow of one training step on any backend (Brian2 continuous time
  at ``dt_factor`` 1, 16, ...), started at given states.
- :func:`tempered_comparison` -- the quiescent stationary law against the temperature prediction
  :math:`p^{2/k^2}` of noise scale :math:`k`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.special import logsumexp

from neurorx.registry import Registry

from ._validate import as_array, check_int
from .density import kde

__all__ = [
    "SCORE_ESTIMATORS",
    "ScoreAlignment",
    "Subspace",
    "alignment_intervals",
    "continuous_flow",
    "cosine_similarity",
    "dsm_score",
    "fit_subspace",
    "kde_score",
    "noise_step_moments",
    "quiescent_drift",
    "score_alignment",
    "score_bandwidth",
    "tempered_comparison",
]


# -- the drift ------------------------------------------------------------------------------------------------
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


# -- the subspace ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Subspace:
    """Leading principal components of a point cloud: ``z = (h - mean) @ components.T``.

    Attributes
    ----------
    mean : ndarray (N,)
    components : ndarray (k, N)
        Orthonormal rows.
    explained : ndarray (k,)
        Fraction of variance explained by each component.
    """

    mean: np.ndarray
    components: np.ndarray
    explained: np.ndarray

    @property
    def n_components(self) -> int:
        """Number of components k."""
        return self.components.shape[0]

    def project(self, h) -> np.ndarray:
        """Coordinates of states ``(..., N)`` -> ``(..., k)``."""
        return (np.asarray(h, dtype=np.float64) - self.mean) @ self.components.T

    def project_vectors(self, v) -> np.ndarray:
        """Coordinates of displacement vectors (no centring) ``(..., N)`` -> ``(..., k)``."""
        return np.asarray(v, dtype=np.float64) @ self.components.T


def fit_subspace(states, *, variance: float = 0.9, n_components: int | None = None,
                 max_components: int = 8) -> Subspace:
    """Principal subspace of ``states (..., N)``.

    The fewest components explaining ``variance`` (at most ``max_components``), or exactly ``n_components``.
    """
    from .pca import fit_pca

    x = as_array(states, "states")
    x = x.reshape(-1, x.shape[-1])
    if not 0 < variance <= 1:
        raise ValueError(f"variance is a fraction of explained variance in (0, 1]; got {variance!r}")
    pca = fit_pca(x)
    ratio = pca.explained_variance_ratio_
    if n_components is None:
        k = int(np.searchsorted(np.cumsum(ratio), variance - 1e-12) + 1)
        k = min(k, check_int(max_components, "max_components", minimum=1), len(ratio))
    else:
        k = check_int(n_components, "n_components", minimum=1)
        if k > len(ratio):
            raise ValueError(f"n_components={k} exceeds the {len(ratio)} available components")
    return Subspace(mean=pca.mean_.copy(), components=pca.components_[:k].copy(), explained=ratio[:k].copy())


# -- score estimators -----------------------------------------------------------------------------------------
#: Score estimators ``f(points (n, d), at (m, d), **options) -> (m, d)``; each ignores the others' options.
SCORE_ESTIMATORS: Registry[Callable[..., np.ndarray]] = Registry("score estimator")


def score_bandwidth(estimate) -> float:
    r"""Bandwidth factor :math:`n^{-1/(d+6)}` for KDE gradients (a ``bw_method`` callable).

    The rate-optimal factor for estimating a density's first derivatives is wider than Scott's
    :math:`n^{-1/(d+4)}` (which is tuned for the density itself): the score of a narrow KDE is dominated by
    its nearest kernels and is noisy.
    """
    return float(estimate.n ** (-1.0 / (estimate.d + 6)))


@SCORE_ESTIMATORS.register("kde")
def kde_score(points, at, *, bw_method=score_bandwidth, max_points: int = 20000, seed: int = 0, **_) -> np.ndarray:
    r"""Score :math:`\nabla\log\hat p` of a Gaussian KDE of ``points (n, d)``, evaluated at ``at (m, d)``.

    Notes
    -----
    With kernels :math:`\mathcal N(x_i, C)` (``C = gaussian_kde.covariance``: the data covariance times
    :func:`score_bandwidth` squared by default; ``bw_method="scott"`` for the density's rule),

    .. math:: \nabla\log\hat p(x) = \sum_i w_i(x)\, C^{-1}(x_i - x),\qquad
              w_i(x) \propto \exp\!\left(-\tfrac12 (x-x_i)^\top C^{-1}(x-x_i)\right),

    the exact gradient of the estimate's log density. It is the score of :math:`p * \mathcal N(0, C)`,
    i.e. of the active law smoothed by the kernel. At most ``max_points`` kernels (a random subset).
    Every estimator in :data:`SCORE_ESTIMATORS` takes ``(points, at, **options)`` and ignores the options of
    the others (``sigma``, ``steps``), so one call can try them all.
    """
    x = as_array(points, "points")
    q = as_array(at, "at")
    if x.ndim != 2 or q.ndim != 2 or x.shape[1] != q.shape[1]:
        raise ValueError(f"points (n, d) and at (m, d) must share d; got {x.shape} and {q.shape}")
    if x.shape[0] > max_points:
        x = x[np.random.default_rng(seed).choice(x.shape[0], max_points, replace=False)]
    est = kde(x, bw_method=bw_method)
    prec = np.linalg.inv(np.atleast_2d(est.covariance))
    xp = x @ prec                                   # (n, d)
    quad_x = np.einsum("nd,nd->n", xp, x)
    out = np.empty_like(q)
    for s in range(0, q.shape[0], 1024):
        qb = q[s:s + 1024]
        qp = qb @ prec
        # -0.5 (q - x)^T P (q - x) = -0.5 q'Pq + q'Px - 0.5 x'Px
        logits = qp @ x.T - 0.5 * quad_x[None, :] - 0.5 * np.einsum("md,md->m", qp, qb)[:, None]
        w = np.exp(logits - logsumexp(logits, axis=1, keepdims=True))
        out[s:s + 1024] = w @ xp - qp
    return out


@SCORE_ESTIMATORS.register("dsm")
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


# -- alignment ------------------------------------------------------------------------------------------------
def cosine_similarity(a, b) -> np.ndarray:
    """Row-wise cosine of two ``(..., d)`` arrays (0 where either vector is 0)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    na, nb = np.linalg.norm(a, axis=-1), np.linalg.norm(b, axis=-1)
    den = na * nb
    return np.divide(np.einsum("...d,...d->...", a, b), den, out=np.zeros_like(den), where=den > 0)


@dataclass
class ScoreAlignment:
    r"""Drift against score at active samples, in the principal subspace.

    Attributes
    ----------
    drift, score : ndarray (B, T, k)
        Projected drift per training step and estimated score, per trial and sample.
    points : ndarray (B, T, k)
        The samples' coordinates.
    cosine : ndarray (B, T)
        Cosine of drift and score.
    scale : float
        Least-squares :math:`c` in drift :math:`\approx c\cdot` score (:math:`\sum d\cdot s/\sum s\cdot s`).
    theory_scale : float
        The theory's :math:`\sigma^2\Delta t`: the per-step variance of the training noise.
    subspace : Subspace
    estimator : str
    log_density : ndarray (B, T)
        Log density of the active KDE at the samples (where they disagree: see :meth:`by_density`).
    info : dict
        Settings (noise level of the estimator, noise mean included, ...).
    """

    drift: np.ndarray
    score: np.ndarray
    points: np.ndarray
    cosine: np.ndarray
    scale: float
    theory_scale: float
    subspace: Subspace
    estimator: str
    log_density: np.ndarray
    info: dict = field(default_factory=dict)

    @property
    def mean_cosine(self) -> float:
        """Mean cosine over all samples."""
        return float(self.cosine.mean())

    def by_density(self, bins: int = 5) -> dict[str, np.ndarray]:
        """Mean cosine in quantile bins of the active log density (bin 0: the rarest states)."""
        ld = self.log_density.ravel()
        edges = np.quantile(ld, np.linspace(0, 1, bins + 1))
        idx = np.clip(np.searchsorted(edges, ld, side="right") - 1, 0, bins - 1)
        cos = self.cosine.ravel()
        return {"edges": edges, "mean_cosine": np.array([cos[idx == i].mean() for i in range(bins)])}

    def nonlinear_cosine(self) -> np.ndarray:
        r"""Cosine of drift and score after removing from each its best affine fit in the coordinates, (B, T).

        Any contracting network's drift and the score of any unimodal law both point roughly towards the
        mean (a linear, Gaussian-like component): this measures whether the *rest* (the place-specific,
        multi-modal structure) agrees. Least squares :math:`d \approx [z, 1]\,\beta`, :math:`s \approx [z, 1]\,\gamma`
        over all samples; cosine of the residuals.
        """
        k = self.points.shape[-1]
        z = np.concatenate([self.points.reshape(-1, k), np.ones((self.points[..., 0].size, 1))], axis=1)

        def residual(v):
            v = v.reshape(-1, k)
            return v - z @ np.linalg.lstsq(z, v, rcond=None)[0]

        return cosine_similarity(residual(self.drift), residual(self.score)).reshape(self.cosine.shape)

    def summary(self) -> dict:
        """JSON-able numbers."""
        q = np.quantile(self.cosine, [0.1, 0.25, 0.5, 0.75, 0.9])
        return {"estimator": self.estimator, "mean_cosine": self.mean_cosine,
                "cosine_quantiles": dict(zip(("q10", "q25", "q50", "q75", "q90"), map(float, q), strict=True)),
                "fraction_positive": float((self.cosine > 0).mean()), "scale": self.scale,
                "mean_nonlinear_cosine": float(self.nonlinear_cosine().mean()),
                "theory_scale": self.theory_scale,
                "scale_over_theory": self.scale / self.theory_scale if self.theory_scale else None,
                "n_components": self.subspace.n_components,
                "explained_variance": float(self.subspace.explained.sum()),
                "cosine_by_density_quintile": self.by_density(5)["mean_cosine"].tolist(), **self.info}


def score_alignment(network, states, *, score_states=None, estimator: str = "kde", subspace: Subspace | None = None,
                    variance: float = 0.9, max_components: int = 8, n_components: int | None = None,
                    noise_mean: float = 1.0, drift=None,
                    sigma: float | None = None, seed: int = 0, **estimator_options) -> ScoreAlignment:
    r"""Cosine alignment and scale of a network's quiescent drift with the score of an active distribution.

    Parameters
    ----------
    network : RateNetwork
        The drift's network (its cell, weights and training noise).
    states : array_like, shape (B, T, N)
        Active hidden states (e.g. ``rec.h`` of an :class:`~neurorx.Active` phase, burn-in dropped); the drift
        and the score are evaluated here. Trials (axis 0) are the bootstrap units of
        :func:`alignment_intervals`.
    score_states : array_like, shape (..., N), optional
        The samples whose distribution is scored (default ``states``): controls score another distribution.
    estimator : {"kde", "dsm"}
        A name in :data:`SCORE_ESTIMATORS`.
    subspace : Subspace, optional
        Default: :func:`fit_subspace` of ``score_states`` with ``variance`` / ``max_components`` /
        ``n_components``.
    noise_mean : float
        Passed to :func:`quiescent_drift` (1: include the training noise's mean).
    drift : array_like (B, T, N), optional
        A drift computed elsewhere (e.g. :func:`continuous_flow`) instead of :func:`quiescent_drift`.
    sigma : float, optional
        Noise level of the DSM estimator; default the SD of the network's per-step training noise.
    seed : int
    **estimator_options
        Passed to the estimator.

    Returns
    -------
    ScoreAlignment

    Notes
    -----
    With the subspace basis :math:`P` (k x N), drift :math:`d_i = P\,d(h_i)` and score
    :math:`s_i = \widehat{\nabla\log p}(P(h_i-\bar h))`: cosine :math:`d_i\cdot s_i/\|d_i\|\|s_i\|` and scale
    :math:`c = \sum_i d_i\cdot s_i/\sum_i\|s_i\|^2`. The theory (Eq. 16) predicts :math:`c = \sigma^2\Delta t`,
    the per-step noise variance :math:`v` (``theory_scale``), against the score of the noisy active law; a
    Langevin sampler of its own stationary law at noise :math:`v` would have :math:`c = v/2`.
    """
    est = SCORE_ESTIMATORS.get(estimator)
    h = as_array(states, "states")
    if h.ndim != 3 or h.shape[-1] != network.n_rec:
        raise ValueError(f"states must have shape (trials, samples, N={network.n_rec}); got {h.shape}. Use "
                         "rec.h[:, burn_in:] of a recording made with record=('h',)")
    ref = h if score_states is None else as_array(score_states, "score_states")
    ref = ref.reshape(-1, ref.shape[-1])
    sub = subspace or fit_subspace(ref, variance=variance, max_components=max_components, n_components=n_components)
    d_full = quiescent_drift(network, h, noise_mean=noise_mean) if drift is None else as_array(drift, "drift")
    if d_full.shape != h.shape:
        raise ValueError(f"drift has shape {d_full.shape}; it must match states {h.shape}")
    z_ref, z = sub.project(ref), sub.project(h)
    d = sub.project_vectors(d_full)
    v = noise_step_moments(network)[1]
    info = {"noise_mean": noise_mean, "noise_variance_per_step": v}
    if estimator == "dsm":
        sigma = sigma if sigma is not None else math.sqrt(v)
        info["dsm_sigma"] = sigma
        estimator_options["sigma"] = sigma
    s = est(z_ref, z.reshape(-1, sub.n_components), seed=seed, **estimator_options).reshape(z.shape)
    log_density = kde(z_ref[np.random.default_rng(seed).choice(len(z_ref), min(len(z_ref), 5000), replace=False)]
                      ).logpdf(z.reshape(-1, sub.n_components).T).reshape(z.shape[:2])
    cos = cosine_similarity(d, s)
    ss = float(np.sum(s * s))
    scale = float(np.sum(d * s)) / ss if ss > 0 else float("nan")
    return ScoreAlignment(drift=d, score=s, points=z, cosine=cos, scale=scale, theory_scale=v, subspace=sub,
                          estimator=estimator, log_density=log_density, info=info)


def alignment_intervals(result: ScoreAlignment, *, n_resamples: int = 2000, confidence: float = 0.95,
                        seed: int = 0) -> dict[str, tuple[float, float]]:
    """Bootstrap intervals over trials of the mean cosine, the scale and the mean non-linear cosine.

    Percentile intervals from :func:`scipy.stats.bootstrap`, resampling whole trials.

    The score estimate is held fixed (not refitted per resample): the intervals cover the spread over trials
    of the drift-score agreement, not the estimator's own error.
    """
    from scipy.stats import bootstrap

    if result.cosine.shape[0] < 2:
        raise ValueError("bootstrap intervals over trials need at least 2 trials")
    per_trial_cos = result.cosine.mean(axis=1)
    ds = np.einsum("btd,btd->b", result.drift, result.score)
    ss = np.einsum("btd,btd->b", result.score, result.score)
    rng = np.random.default_rng(seed)
    ci_cos = bootstrap((per_trial_cos,), np.mean, n_resamples=n_resamples, confidence_level=confidence,
                       method="percentile", rng=rng).confidence_interval
    ci_scale = bootstrap((ds, ss), lambda a, b, axis=-1: a.sum(axis) / b.sum(axis), paired=True,
                         n_resamples=n_resamples, confidence_level=confidence, method="percentile",
                         rng=rng).confidence_interval
    ci_nl = bootstrap((result.nonlinear_cosine().mean(axis=1),), np.mean, n_resamples=n_resamples,
                      confidence_level=confidence, method="percentile", rng=rng).confidence_interval
    return {"mean_cosine": (float(ci_cos.low), float(ci_cos.high)),
            "scale": (float(ci_scale.low), float(ci_scale.high)),
            "mean_nonlinear_cosine": (float(ci_nl.low), float(ci_nl.high))}


# -- temperature ----------------------------------------------------------------------------------------------
def tempered_comparison(active, quiescent, k: float, *, grid: int = 120, pad: float = 0.5,
                        bw_method="scott") -> dict:
    r"""Compare a quiescent cloud with the temperature prediction :math:`p^{2/k^2}` of the active one (2-D).

    Parameters
    ----------
    active, quiescent : array_like, shape (n, 2)
        Points in the same plane (e.g. PC1–PC2 of the active states).
    k : float
        Quiescent noise scale relative to training (:math:`\sqrt2`: the paper's doubled variance).

    Returns
    -------
    dict
        ``kl_quiescent_active`` :math:`KL(q\|p)`, ``kl_tempered_active`` :math:`KL(p_\beta\|p)` (what the theory
        predicts for the first), ``kl_quiescent_tempered`` :math:`KL(q\|p_\beta)`, ``variance_ratio``
        (total variance of q over that of p) and ``predicted_variance_ratio`` (that of :math:`p_\beta` over p;
        :math:`k^2/2` for a Gaussian), all in nats on a grid.

    Notes
    -----
    Densities are Gaussian KDEs evaluated on a ``grid x grid`` box around both clouds and normalised there;
    :math:`p_\beta \propto \hat p^{\beta}` with :math:`\beta = 2/k^2`.
    """
    a, b = as_array(active, "active"), as_array(quiescent, "quiescent")
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != 2 or b.shape[1] != 2:
        raise ValueError(f"active and quiescent must be (n, 2) point clouds; got {a.shape}, {b.shape}")
    if not (isinstance(k, int | float) and k > 0):
        raise ValueError(f"k must be a positive noise scale; got {k!r}")
    both = np.concatenate([a, b])
    lo, hi = both.min(0), both.max(0)
    span = hi - lo
    axes = [np.linspace(lo[i] - pad * span[i], hi[i] + pad * span[i], grid) for i in range(2)]
    gx, gy = np.meshgrid(*axes, indexing="ij")
    pts = np.vstack([gx.ravel(), gy.ravel()])
    cell = (axes[0][1] - axes[0][0]) * (axes[1][1] - axes[1][0])

    def norm(logp):
        return logp - logsumexp(logp) - math.log(cell)

    lp = norm(kde(a, bw_method=bw_method).logpdf(pts))
    lq = norm(kde(b, bw_method=bw_method).logpdf(pts))
    beta = 2.0 / k**2
    lt = norm(beta * lp)

    def kl(l1, l2):
        return float(np.sum(np.exp(l1) * (l1 - l2)) * cell)

    def total_var(logp):
        w = np.exp(logp) * cell
        m = pts @ w / w.sum()
        return float(((pts - m[:, None]) ** 2 * w).sum() / w.sum())

    return {"k": float(k), "beta": beta, "kl_quiescent_active": kl(lq, lp), "kl_tempered_active": kl(lt, lp),
            "kl_quiescent_tempered": kl(lq, lt), "variance_ratio": total_var(lq) / total_var(lp),
            "predicted_variance_ratio": total_var(lt) / total_var(lp), "gaussian_prediction": k**2 / 2,
            "sample_variance_ratio": float(b.var(0).sum() / a.var(0).sum())}
