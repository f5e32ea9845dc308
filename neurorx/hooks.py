"""Analysis hooks: statistics computed chunk by chunk while a protocol runs.

A long or large-batch run need not keep its hidden states: pass hooks to :meth:`neurorx.Protocol.run`
and each sees every chunk ``(h, y, decoded)`` as the backend produces it. The same hook objects work on
every backend; their results land in ``Recording.hooks[hook.name]`` as arrays keyed ``"<phase>/<stat>"``.

Examples
--------
>>> hist = DecodedHistogram(extent=(-1.1, 1.1), bins=50)                     # doctest: +SKIP
>>> cov = StateCovariance()                                                  # doctest: +SKIP
>>> rec = protocol.run(net, trials=500, hooks=[hist, cov])                   # doctest: +SKIP
>>> rec.hooks["state_covariance"]["quiescent/explained_variance_ratio"][:10] # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

__all__ = ["DecodedHistogram", "Hook", "PCAProjection", "PhaseStatistics", "RunningMoments", "StateCovariance",
           "TrialPeak"]

_SOURCES = ("h", "y", "decoded")


class Hook:
    """An analysis that consumes a run chunk by chunk, so large runs need not keep hidden states.

    Subclasses override :meth:`update` (called with each chunk, in time order, with the phase label, the
    step indices and the arrays ``h (B, n, N)``, ``y (B, n, n_out)``, ``decoded (B, n, d)``) and
    :meth:`result` (a dict of arrays stored in ``Recording.hooks[name]``). The same hook works on every
    backend.
    """

    name = "hook"

    def start(self, network, trials: int, phases: list[dict]) -> None:
        """Called once before the run."""

    def update(self, phase: str, steps: np.ndarray, h: np.ndarray, y: np.ndarray, decoded: np.ndarray) -> None:
        """Consume one chunk."""
        raise NotImplementedError

    def result(self) -> dict[str, np.ndarray]:
        """The hook's result."""
        raise NotImplementedError



def _check_source(of: str) -> str:
    if of not in _SOURCES:
        raise ValueError(f"a hook reads one of {_SOURCES}; got of={of!r}")
    return of


class _PerPhase(Hook):
    """Keeps one accumulator per phase label."""

    def __init__(self, of: str = "h", name: str | None = None):
        self.of = _check_source(of)
        if name is not None:
            self.name = name
        self.acc: dict[str, dict[str, np.ndarray]] = {}

    def start(self, network, trials, phases):
        self.acc = {}

    def _pick(self, h, y, decoded) -> np.ndarray:
        return {"h": h, "y": y, "decoded": decoded}[self.of]

    def result(self) -> dict[str, np.ndarray]:
        out = {}
        for phase, acc in self.acc.items():
            for key, value in self.finish(acc).items():
                out[f"{phase}/{key}"] = np.asarray(value)
        return out

    def finish(self, acc: dict) -> dict:
        return acc


class RunningMoments(_PerPhase):
    """Per-phase mean and variance of each unit of ``h``, ``y`` or ``decoded`` over trials and steps.

    Parameters
    ----------
    of : {"h", "y", "decoded"}
    burn_in : int
        Steps at the start of each phase to skip.

    Notes
    -----
    Chan et al.'s parallel update of (count, mean, M2) per chunk, so the result equals the two-pass
    statistics of the concatenated data to rounding error. Results: ``count``, ``mean``, ``var`` (ddof 0) and
    ``total_variance`` (sum of the variances).
    """

    name = "moments"

    def __init__(self, of: str = "h", burn_in: int = 0, name: str | None = None):
        super().__init__(of, name)
        self.burn_in = int(burn_in)

    def start(self, network, trials, phases):
        super().start(network, trials, phases)
        self._phase_of_step = np.concatenate([np.full(p["stop"] - p["start"], p["start"]) for p in phases])

    def update(self, phase, steps, h, y, decoded):
        x = self._pick(h, y, decoded)
        keep = steps - self._phase_of_step[steps] >= self.burn_in
        if not keep.any():
            return
        x = x[:, keep].reshape(-1, x.shape[-1]).astype(np.float64)
        n_b, mean_b = x.shape[0], x.mean(axis=0)
        m2_b = ((x - mean_b) ** 2).sum(axis=0)
        acc = self.acc.get(phase)
        if acc is None:
            self.acc[phase] = {"count": np.array(n_b), "mean": mean_b, "m2": m2_b}
            return
        n_a = acc["count"]
        n = n_a + n_b
        delta = mean_b - acc["mean"]
        acc["mean"] = acc["mean"] + delta * n_b / n
        acc["m2"] = acc["m2"] + m2_b + delta**2 * n_a * n_b / n
        acc["count"] = np.array(n)

    def finish(self, acc):
        var = acc["m2"] / acc["count"]
        return {"count": acc["count"], "mean": acc["mean"], "var": var, "total_variance": var.sum()}


class TrialPeak(_PerPhase):
    r"""Per phase, the largest magnitude each trial's ``h``, ``y`` or ``decoded`` reaches.

    Flags trials that diverge (an exploding state) without keeping the states: a run of 500 trials x 2000
    steps x 512 units needs 500 numbers per phase instead of 4 GB.

    Parameters
    ----------
    of : {"h", "y", "decoded"}

    Notes
    -----
    Result per phase: ``peak`` (trials,), :math:`\max_{t,i} |x_{b,t,i}|` over the phase's steps. A NaN in a
    trial makes its peak NaN.
    """

    name = "trial_peak"

    def update(self, phase, steps, h, y, decoded):
        x = self._pick(h, y, decoded)
        if not x.size:
            return
        peak = np.maximum(x.max(axis=(1, 2)), -x.min(axis=(1, 2))).astype(np.float64)
        acc = self.acc.get(phase)
        self.acc[phase] = {"peak": peak if acc is None else np.maximum(acc["peak"], peak)}   # NaN propagates


class StateCovariance(_PerPhase):
    """Per-phase covariance of ``h`` (or ``y``), hence PCA, without keeping the states.

    Results per phase: ``mean``, ``cov`` (ddof 1, as ``sklearn.decomposition.PCA``), ``components`` (rows,
    by decreasing variance), ``explained_variance`` and ``explained_variance_ratio``.

    Notes
    -----
    Accumulates :math:`n`, :math:`\\sum x` and :math:`\\sum x x^\\top` (float64); then
    :math:`C = (\\sum xx^\\top - n\\bar x\\bar x^\\top)/(n-1)` and its eigen-decomposition. Memory is
    :math:`O(N^2)` whatever the run's length.
    """

    name = "state_covariance"

    def update(self, phase, steps, h, y, decoded):
        x = self._pick(h, y, decoded)
        x = x.reshape(-1, x.shape[-1]).astype(np.float64)
        acc = self.acc.setdefault(phase, {"n": 0, "s": np.zeros(x.shape[1]), "ss": np.zeros((x.shape[1],) * 2)})
        acc["n"] += x.shape[0]
        acc["s"] += x.sum(axis=0)
        acc["ss"] += x.T @ x

    def finish(self, acc):
        n = acc["n"]
        if n < 2:
            raise ValueError("StateCovariance needs at least two samples in a phase")
        mean = acc["s"] / n
        cov = (acc["ss"] - n * np.outer(mean, mean)) / (n - 1)
        evals, evecs = np.linalg.eigh(cov)
        order = np.argsort(evals)[::-1]
        evals = np.clip(evals[order], 0, None)
        return {"mean": mean, "cov": cov, "components": evecs[:, order].T, "explained_variance": evals,
                "explained_variance_ratio": evals / evals.sum() if evals.sum() > 0 else evals}


class PCAProjection(_PerPhase):
    """Project each chunk of ``h`` onto a given basis (e.g. the active phase's PCs) and keep only that.

    Parameters
    ----------
    components : array (k, N) or fitted ``sklearn.decomposition.PCA``
        Rows of the basis.
    mean : array (N,), optional
        Centre subtracted first (the PCA's ``mean_`` if a PCA is given).
    every : int
        Keep every ``every``-th step.

    Notes
    -----
    Results per phase: ``projection`` of shape (B, T_kept, k) and ``steps`` (global step indices).
    """

    name = "pca_projection"

    def __init__(self, components, mean=None, of: str = "h", every: int = 1, name: str | None = None):
        super().__init__(of, name)
        if hasattr(components, "components_"):
            mean = components.mean_ if mean is None else mean
            components = components.components_
        self.components = np.asarray(components, dtype=np.float64)
        if self.components.ndim != 2:
            raise ValueError(f"components must have shape (k, N); got {self.components.shape}")
        self.mean = np.zeros(self.components.shape[1]) if mean is None else np.asarray(mean, dtype=np.float64)
        self.every = int(every)

    def update(self, phase, steps, h, y, decoded):
        x = self._pick(h, y, decoded)
        if x.shape[-1] != self.components.shape[1]:
            raise ValueError(f"PCAProjection basis has {self.components.shape[1]} dimensions but the states have "
                             f"{x.shape[-1]}")
        keep = steps % self.every == 0
        proj = (x[:, keep] - self.mean) @ self.components.T
        acc = self.acc.setdefault(phase, {"projection": [], "steps": []})
        acc["projection"].append(proj)
        acc["steps"].append(steps[keep])

    def finish(self, acc):
        return {"projection": np.concatenate(acc["projection"], axis=1), "steps": np.concatenate(acc["steps"])}


class DecodedHistogram(_PerPhase):
    """Per-phase histogram of decoded positions (2-D) or angles (1-D): a density without keeping samples.

    Parameters
    ----------
    extent : (low, high)
        Range per dimension (e.g. ``(-1.25, 1.25)`` for the box, ``(-pi, pi)`` for angles).
    bins : int
        Bins per dimension.

    Notes
    -----
    Results per phase: ``counts`` (bins,)*d, ``edges`` (bins+1,) and ``density`` (normalised so that it
    integrates to 1 over the extent; samples outside are counted in ``outside``).
    """

    name = "decoded_histogram"

    def __init__(self, extent=(-1.25, 1.25), bins: int = 50, name: str | None = None):
        super().__init__("decoded", name)
        self.edges = np.linspace(float(extent[0]), float(extent[1]), int(bins) + 1)

    def update(self, phase, steps, h, y, decoded):
        pts = decoded.reshape(-1, decoded.shape[-1])
        counts, _ = np.histogramdd(pts, bins=[self.edges] * pts.shape[1])
        acc = self.acc.setdefault(phase, {"counts": np.zeros_like(counts), "total": 0})
        acc["counts"] += counts
        acc["total"] += pts.shape[0]

    def finish(self, acc):
        counts = acc["counts"]
        width = np.diff(self.edges)[0]
        inside = counts.sum()
        return {"counts": counts, "edges": self.edges, "outside": np.array(acc["total"] - inside),
                "density": counts / max(inside, 1) / width ** counts.ndim}


class PhaseStatistics(_PerPhase):
    """Every registered statistic of the decoded outputs (:data:`neurorx.analysis.STATISTICS`), per phase.

    Parameters
    ----------
    names : sequence of str, optional
        Statistics to compute (default: every registered one defined for the task's data, on decoded outputs).
    burn_in : float
        Fraction of each phase dropped by statistics that use a burn-in (as :func:`neurorx.compare`).

    Notes
    -----
    Keeps the decoded outputs of each phase (``B x T x d``, small) and computes the statistics at the end.
    Results per phase: ``<statistic name>`` (the mean over trials) and ``<statistic name>/per_trial``.
    """

    name = "statistics"

    def __init__(self, names=None, burn_in: float = 0.5, name: str | None = None):
        super().__init__("decoded", name)
        self.names, self.burn_in = names, float(burn_in)

    def start(self, network, trials, phases):
        from neurorx.analysis import STATISTICS, applicable_statistics

        super().start(network, trials, phases)
        self.circular = bool(getattr(network.task, "circular", False))
        stats = applicable_statistics(self.circular, has_h=False)
        self.stats = stats if self.names is None else [STATISTICS.get(n) for n in self.names]

    def update(self, phase, steps, h, y, decoded):
        self.acc.setdefault(phase, {"decoded": []})["decoded"].append(np.asarray(decoded))

    def finish(self, acc):
        x = np.concatenate(acc["decoded"], axis=1)
        out = {}
        for stat in self.stats:
            values = stat.values(x, self.circular, self.burn_in)
            out[stat.name] = values.mean()
            out[f"{stat.name}/per_trial"] = values
        return out
