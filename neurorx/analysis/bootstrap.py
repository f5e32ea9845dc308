"""Resampling statistics from scipy: BCa bootstrap intervals and permutation p-values, over whole samples.

Both resample *along axis 0* (whole trials of a ``(B, T, d)`` array: the points of one trajectory are not
independent) by handing scipy the sample indices, so any statistic of arrays can be used.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from neurorx.resources import check_resamples

from ._validate import as_array, check_finite, check_int, check_seed

__all__ = ["BootstrapInterval", "PermutationResult", "bootstrap_interval", "permutation_p_value"]


@dataclass(frozen=True)
class BootstrapInterval:
    """Result of :func:`bootstrap_interval`.

    Attributes
    ----------
    estimate : float
        The statistic on the original data.
    low, high : float
        Interval bounds.
    ci : float
        Nominal coverage, e.g. 0.95.
    replicates : numpy.ndarray, shape (n_boot,)
        The statistic on each bootstrap resample.
    method : str
        ``"BCa"`` or ``"percentile"``.
    """

    estimate: float
    low: float
    high: float
    ci: float
    replicates: np.ndarray
    method: str = "BCa"

    def contains(self, value: float) -> bool:
        """Return whether ``low <= value <= high``."""
        return bool(self.low <= value <= self.high)

    @property
    def stderr(self) -> float:
        """Bootstrap standard error: the SD (ddof 1) of the replicates."""
        return float(np.std(self.replicates, ddof=1))


@dataclass(frozen=True)
class PermutationResult:
    """Result of :func:`permutation_p_value`.

    Attributes
    ----------
    estimate : float
        The statistic on the original data.
    p_value : float
        One-sided p-value of ``statistic >= estimate`` under exchangeability.
    min_p : float
        The smallest p-value this test can report (``1/(n_resamples + 1)``, or ``1/#permutations`` when all
        are enumerated): a reported ``p == min_p`` means "at most this".
    n_resamples : int
        Permutations drawn (or enumerated).
    exact : bool
        Whether every permutation was enumerated.
    """

    estimate: float
    p_value: float
    min_p: float
    n_resamples: int
    exact: bool


def _scalar(value, where: str) -> float:
    arr = np.asarray(value, dtype=float)
    if arr.size != 1:
        raise ValueError(f"stat_fn must return one number; it returned shape {arr.shape} {where}.")
    return float(arr.reshape(()))


def _samples(stat_fn, a, b) -> list[np.ndarray]:
    if not callable(stat_fn):
        raise TypeError(f"stat_fn must be callable, e.g. energy_distance; got {type(stat_fn).__name__}.")
    samples = [as_array(a, "a")] + ([] if b is None else [as_array(b, "b")])
    for name, arr in zip("ab", samples, strict=False):
        if arr.ndim == 0 or arr.shape[0] == 0:
            raise ValueError(f"{name} must have at least one sample along axis 0; got shape {arr.shape}.")
        check_finite(arr, name)
    return samples


def _rng(seed) -> np.random.Generator:
    seed = check_seed(seed)
    if isinstance(seed, np.random.RandomState):
        raise TypeError("resampling needs seed to be None, an int or a numpy Generator.")
    return np.random.default_rng(seed)


def bootstrap_interval(
    stat_fn: Callable[..., float],
    a,
    b=None,
    n_boot: int = 200,
    seed=0,
    ci: float = 0.95,
    *,
    paired: bool = False,
    method: str = "BCa",
) -> BootstrapInterval:
    r"""Bootstrap interval of ``stat_fn(a, b)`` (or ``stat_fn(a)``), by :func:`scipy.stats.bootstrap`.

    Parameters
    ----------
    stat_fn : callable
        ``stat_fn(a, b) -> float`` (two-sample) or ``stat_fn(a) -> float``, e.g.
        :func:`~neurorx.analysis.energy_distance`.
    a : array_like, shape (n, ...)
        First sample. Resampling is along axis 0 only, so pass trajectories as ``(B, T, d)`` to resample
        *whole trials*; ``stat_fn`` does any reshaping.
    b : array_like, shape (m, ...), optional
        Second sample, resampled independently of ``a`` (jointly with it when ``paired``).
    n_boot : int, default 200
        Number of bootstrap resamples (>= 2; the tails of a 95 % interval need a few hundred).
    seed : int, numpy Generator or None, default 0
        Random state.
    ci : float, default 0.95
        Nominal coverage, in (0, 1).
    paired : bool, default False
        ``a[i]`` and ``b[i]`` belong together (e.g. one trial run on two backends): resample pairs.
    method : {"BCa", "percentile"}, default "BCa"

    Returns
    -------
    BootstrapInterval

    Raises
    ------
    ValueError
        For empty samples, NaNs, a bad ``ci``, unequal paired samples, or if ``stat_fn`` returns a non-scalar
        or non-finite value.

    Notes
    -----
    With replicates :math:`\theta^{*b}` on resamples drawn with replacement, the percentile interval is
    :math:`[q_{\alpha/2}(\theta^*), q_{1-\alpha/2}(\theta^*)]`; BCa (Efron 1987) moves both quantiles by the
    bias correction :math:`z_0 = \Phi^{-1}(\#\{\theta^{*b} < \hat\theta\}/n)` and the jackknife acceleration
    :math:`a`, :math:`\alpha_{1,2} = \Phi\big(z_0 + \frac{z_0 + z_{\alpha}}{1 - a(z_0 + z_\alpha)}\big)`, which
    makes it second-order accurate and corrects the upward bias of a distance on resampled data with
    duplicated trials. A degenerate statistic (every replicate equal) gives the interval
    :math:`[\hat\theta, \hat\theta]`.
    """
    n_boot = check_int(n_boot, "n_boot", minimum=2)
    if isinstance(ci, bool) or not (isinstance(ci, numbers.Real) and 0 < ci < 1):
        raise ValueError(f"ci must be a number strictly between 0 and 1, e.g. 0.95; got {ci!r}.")
    if method not in ("BCa", "percentile"):
        raise ValueError(f"method must be 'BCa' or 'percentile'; got {method!r}.")
    rng = _rng(seed)
    samples = _samples(stat_fn, a, b)
    if paired and (len(samples) != 2 or samples[0].shape[0] != samples[1].shape[0]):
        raise ValueError("paired=True needs two samples with the same number of rows along axis 0.")
    check_resamples(n_boot, sum(x.shape[0] for x in samples), "the bootstrap")

    estimate = _scalar(stat_fn(*samples), "on the original data")
    count = [0]

    def on_indices(*idx):
        count[0] += 1
        value = _scalar(stat_fn(*(s[np.asarray(i, dtype=np.int64)] for s, i in zip(samples, idx, strict=True))),
                        f"on bootstrap resample {count[0]}")
        if not math.isfinite(value):
            raise ValueError("stat_fn returned a non-finite value on a bootstrap resample; a statistic that can be "
                             "NaN/inf on resampled data (ties, too few distinct points) cannot be bootstrapped.")
        return value

    data = tuple(np.arange(s.shape[0]) for s in samples)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        warnings.simplefilter("ignore", RuntimeWarning)   # 0/0 in BCa's acceleration on degenerate data
        res = stats.bootstrap(data, on_indices, n_resamples=n_boot, vectorized=False, paired=paired,
                              confidence_level=float(ci), method=method, rng=rng)
    replicates = np.asarray(res.bootstrap_distribution, dtype=float)
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if not (math.isfinite(low) and math.isfinite(high)):
        if np.ptp(replicates) > 0:   # BCa undefined (e.g. every replicate on one side): fall back, say so
            method = "percentile"
            low, high = np.quantile(replicates, [(1 - ci) / 2, 1 - (1 - ci) / 2])
        else:
            low = high = estimate
    return BootstrapInterval(estimate, float(low), float(high), float(ci), replicates, method)


def permutation_p_value(
    stat_fn: Callable[[np.ndarray, np.ndarray], float],
    a,
    b,
    n_resamples: int = 999,
    seed=0,
    *,
    paired: bool = False,
) -> PermutationResult:
    r"""One-sided permutation p-value of ``stat_fn(a, b)`` (large = different), by :func:`scipy.stats.permutation_test`.

    Parameters
    ----------
    stat_fn : callable
        ``stat_fn(a, b) -> float``, large when the samples differ (e.g. an energy distance).
    a, b : array_like, shapes (n, ...) and (m, ...)
        Samples; rows (axis 0) are the exchangeable units (whole trials).
    n_resamples : int, default 999
        Permutations; the smallest reportable p is :math:`1/(n_{resamples}+1)` (999 -> 0.001).
    seed : int, numpy Generator or None
    paired : bool, default False
        ``a[i]`` and ``b[i]`` are a pair: permute by swapping the members of random pairs (otherwise rows are
        pooled and reassigned).

    Returns
    -------
    PermutationResult

    Notes
    -----
    :math:`p = (1 + \#\{\pi: T(\pi) \ge T_{obs}\}) / (1 + n)` for ``n`` random permutations; when ``n`` is at
    least the number of distinct permutations (:math:`2^n` pair swaps, or :math:`\binom{n+m}{n}`), all are
    enumerated and :math:`p = \#\{T(\pi) \ge T_{obs}\} / \#\pi`.
    """
    n_resamples = check_int(n_resamples, "n_resamples", minimum=1)
    rng = _rng(seed)
    sa, sb = _samples(stat_fn, a, b)
    if sa.shape[1:] != sb.shape[1:]:
        raise ValueError(f"a and b must have the same shape after axis 0 to be pooled; got {sa.shape} and {sb.shape}.")
    if paired and sa.shape[0] != sb.shape[0]:
        raise ValueError("paired=True needs a and b with the same number of rows.")
    n_a = sa.shape[0]
    distinct = 2 ** n_a if paired else math.comb(n_a + sb.shape[0], n_a)
    check_resamples(min(n_resamples, distinct), n_a + sb.shape[0], "the permutation test")
    pooled = np.concatenate([sa, sb])

    def on_indices(ia, ib):
        return _scalar(stat_fn(pooled[np.asarray(ia, dtype=np.int64)], pooled[np.asarray(ib, dtype=np.int64)]),
                       "on a permutation")

    ia, ib = np.arange(n_a), n_a + np.arange(sb.shape[0])
    res = stats.permutation_test((ia, ib), on_indices, permutation_type="samples" if paired else "independent",
                                 vectorized=False, n_resamples=n_resamples, alternative="greater", rng=rng)
    total = 2.0 ** n_a if paired else float(math.comb(pooled.shape[0], n_a))
    exact = total <= n_resamples
    min_p = 1.0 / total if exact else 1.0 / (n_resamples + 1)
    return PermutationResult(float(res.statistic), float(res.pvalue), min_p,
                             int(total) if exact else n_resamples, bool(exact))
