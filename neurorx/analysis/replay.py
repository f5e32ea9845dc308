r"""Replay events as labs score them: candidate events, sequence scores on the decoded posterior, shuffles.

1. :func:`candidate_events` -- population-rate bursts: bins where the summed spike count's z-score exceeds
   ``edge``, kept when the run reaches ``threshold`` and lasts ``min_duration`` to ``max_duration``.
2. :func:`poisson_posterior` -- the Bayesian decoder's posterior of each bin from counts and tuning curves
   (the model of :func:`pynapple.decode_bayes`, vectorised so that shuffles can re-decode quickly).
3. :func:`line_fit` (Davidson, Kloosterman & Wilson 2009) and :func:`weighted_correlation` -- the sequence
   score of one event's posterior, and the replay speed (the best line's slope).
4. :func:`score_events` -- both scores per event, and Monte-Carlo p-values of the line score against a
   circular cell-identity shuffle (each cell's tuning curve rotated by its own random offset, then re-decoded)
   and a time-bin shuffle (the event's bins permuted); the fraction of significant events.

The posterior is over a 1-D feature on a regular grid: a linearised track, or head direction
(``circular=True``). Arrays: counts ``(T, n_units)``, tuning curves ``(n_units, n_pos)`` in Hz, posteriors
``(T, n_pos)``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from neurorx.errors import ConfigurationError

__all__ = ["EventScore", "ReplayResult", "candidate_events", "line_fit", "poisson_posterior", "replay_events",
           "score_events", "weighted_correlation"]


#: Rate (Hz) standing in for NaN tuning-curve bins (never visited), as in :mod:`neurorx.io.nwb`.
UNVISITED_RATE = 1e6

#: Shuffles scored at once (memory ~ chunk x slopes x grid x bins x 8 bytes).
_SHUFFLE_CHUNK = 50


def _as_2d(x, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2:
        raise ConfigurationError(f"{name} must be a 2-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ConfigurationError(f"{name} contains NaN or infinite values")
    return arr


def candidate_events(counts, bin_size: float, *, threshold: float = 3.0, edge: float = 1.0,
                     min_duration: float = 0.05, max_duration: float = 0.5) -> np.ndarray:
    r"""Population-rate bursts: ``(n_events, 2)`` bin indices ``[start, stop)``.

    Parameters
    ----------
    counts : array (T, n_units)
        Spike counts per bin (or binned rates as counts).
    bin_size : float
        Bin width in seconds.
    threshold : float
        Peak z-score an event must reach.
    edge : float
        z-score where an event starts and ends.
    min_duration, max_duration : float
        Allowed event durations in seconds.

    Notes
    -----
    With the population count :math:`n_t = \sum_i c_{ti}` and :math:`z_t = (n_t - \bar n)/s_n` over all bins,
    an event is a maximal run of bins with :math:`z_t > \text{edge}` whose maximum reaches ``threshold`` and
    whose duration :math:`(\text{stop} - \text{start})\,\Delta t` lies in ``[min_duration, max_duration]``.
    """
    counts = _as_2d(counts, "counts")
    if not (bin_size > 0 and min_duration >= 0 and max_duration >= min_duration and threshold >= edge):
        raise ConfigurationError("candidate_events needs bin_size > 0, 0 <= min_duration <= max_duration and "
                                 f"threshold >= edge; got bin_size={bin_size}, durations=({min_duration}, "
                                 f"{max_duration}), threshold={threshold}, edge={edge}")
    pop = counts.sum(axis=1)
    sd = pop.std()
    if sd == 0:
        return np.zeros((0, 2), dtype=np.int64)
    z = (pop - pop.mean()) / sd
    above = np.concatenate([[False], z > edge, [False]])
    starts = np.nonzero(~above[:-1] & above[1:])[0]
    stops = np.nonzero(above[:-1] & ~above[1:])[0]
    keep = [(a, b) for a, b in zip(starts, stops, strict=True)
            if z[a:b].max() >= threshold and min_duration - 1e-12 <= (b - a) * bin_size <= max_duration + 1e-12]
    return np.asarray(keep, dtype=np.int64).reshape(-1, 2)


def poisson_posterior(counts, tuning_curves, bin_size: float) -> np.ndarray:
    r"""Posterior over the feature bins of every time bin, with a flat prior: ``(T, n_pos)``.

    Notes
    -----
    Independent Poisson cells with rates :math:`f_i(x)` (Zhang et al. 1998, as :func:`pynapple.decode_bayes`):
    :math:`\log P(x \mid c_t) = \sum_i c_{ti}\log f_i(x) - \Delta t \sum_i f_i(x) + \text{const}`,
    normalised over :math:`x`; :math:`f_i` is floored at :math:`10^{-12}` Hz, and NaN bins (never visited)
    take :data:`UNVISITED_RATE`, so that they never hold the posterior's mass.
    """
    counts = np.asarray(counts, dtype=np.float64)
    tc = np.asarray(tuning_curves, dtype=np.float64)
    tc = np.where(np.isnan(tc), UNVISITED_RATE, tc)       # grid bins never visited: never decoded
    return _normalise(counts @ np.log(tc + 1e-12) - bin_size * tc.sum(axis=0))


def _normalise(logp: np.ndarray) -> np.ndarray:
    """Probabilities from log-probabilities along the last axis."""
    p = np.exp(logp - logp.max(axis=-1, keepdims=True))
    return p / p.sum(axis=-1, keepdims=True)


def weighted_correlation(posterior) -> float:
    r"""Correlation between time and position weighted by the posterior (linear tracks).

    Notes
    -----
    With weights :math:`w_{tx} = P(x \mid t)`, :math:`\rho = \mathrm{cov}_w(t, x) /
    \sqrt{\mathrm{var}_w(t)\,\mathrm{var}_w(x)}`, positions and times as bin indices.
    """
    p = np.asarray(posterior, dtype=np.float64)
    t, x = np.meshgrid(np.arange(p.shape[0]), np.arange(p.shape[1]), indexing="ij")
    w = p / p.sum()
    mt, mx = (w * t).sum(), (w * x).sum()
    cov = (w * (t - mt) * (x - mx)).sum()
    var = (w * (t - mt) ** 2).sum() * (w * (x - mx) ** 2).sum()
    return float(cov / np.sqrt(var)) if var > 0 else 0.0


def _band_sums(p: np.ndarray, band: int, circular: bool) -> np.ndarray:
    """``S[..., t, c]``: posterior mass within ``band`` bins of centre ``c`` (wrapping if circular)."""
    n = p.shape[-1]
    c = np.arange(n)
    zeros = np.zeros((*p.shape[:-1], 1))
    if circular:
        tiled = np.concatenate([p[..., n - band:], p, p[..., :band]], axis=-1) if band else p
        cum = np.concatenate([zeros, np.cumsum(tiled, axis=-1)], axis=-1)
        return cum[..., c + 2 * band + 1] - cum[..., c]
    cum = np.concatenate([zeros, np.cumsum(p, axis=-1)], axis=-1)
    return cum[..., np.minimum(c + band + 1, n)] - cum[..., np.maximum(c - band, 0)]


def _line_grid(n_time: int, n_pos: int, circular: bool, n_speeds: int) -> tuple[np.ndarray, np.ndarray]:
    """Candidate slopes (position bins per time bin) and centres (position bin at the event's middle)."""
    vmax = n_pos / 2 if circular else (n_pos - 1) / max(n_time - 1, 1)
    return np.linspace(-vmax, vmax, n_speeds), np.arange(n_pos, dtype=np.float64)


def _line_scores(p: np.ndarray, band: int, circular: bool, slopes: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Mean band mass along every line: ``p (..., T, n)`` -> ``(..., n_slopes, n_centres)``."""
    n_t, n = p.shape[-2:]
    sums = _band_sums(p, band, circular)
    t = np.arange(n_t) - (n_t - 1) / 2
    pos = np.rint(centres[None, :, None] + slopes[:, None, None] * t[None, None, :]).astype(np.int64)
    rows = np.arange(n_t)[None, None, :]
    if circular:
        vals = sums[..., rows, np.mod(pos, n)]
    else:
        inside = (pos >= 0) & (pos < n)
        vals = sums[..., rows, np.clip(pos, 0, n - 1)]
        off = np.median(sums, axis=-1)[..., None, None, :]                  # Davidson: median off the track
        vals = np.where(inside, vals, off)
    return vals.mean(axis=-1)


def line_fit(posterior, *, band: int = 1, circular: bool = False, n_speeds: int = 61) -> tuple[float, float, float]:
    r"""Davidson et al. (2009) line fit: ``(score, slope, centre)``.

    Parameters
    ----------
    posterior : array (T, n_pos)
        Posterior of each bin of the event over a regular 1-D grid.
    band : int
        Half-width of the band around the line, in position bins.
    circular : bool
        The grid wraps around (head direction).
    n_speeds : int
        Slopes tried, evenly spaced in :math:`[-v_{\max}, v_{\max}]` (:math:`v_{\max}` = the track per event,
        or half the circle per bin).

    Returns
    -------
    score : float
        The best line's mean posterior mass within ``band`` bins of it, :math:`R = \max_{v,c} \frac1T
        \sum_t \sum_{|x - c - v(t - \bar t)| \le \text{band}} P(x \mid t)`; bins where a line leaves a linear
        track count the median band mass of that bin.
    slope : float
        Its slope in position bins per time bin (multiply by the bin spacing over the bin duration for a speed).
    centre : float
        Its position bin at the event's middle.
    """
    p = _as_2d(posterior, "posterior")
    slopes, centres = _line_grid(*p.shape, circular, n_speeds)
    scores = _line_scores(p, band, circular, slopes, centres)
    i, j = np.unravel_index(np.argmax(scores), scores.shape)
    return float(scores[i, j]), float(slopes[i]), float(centres[j])


@dataclass(frozen=True)
class EventScore:
    """One candidate event: its bins, sequence scores, speed and shuffle p-values."""

    start: int
    stop: int
    line_score: float
    weighted_correlation: float
    speed: float
    p_cell: float
    p_time: float
    significant: bool


@dataclass
class ReplayResult:
    """Scored events and the settings that produced them."""

    events: list = field(default_factory=list)
    alpha: float = 0.05
    n_shuffles: int = 1000
    speed_unit: str = "position units/s"

    @property
    def fraction_significant(self) -> float:
        """Fraction of candidate events significant under both shuffles (NaN without events)."""
        return float(np.mean([e.significant for e in self.events])) if self.events else float("nan")

    @property
    def speeds(self) -> np.ndarray:
        """Replay speeds of the significant events."""
        return np.array([e.speed for e in self.events if e.significant])

    def to_dict(self) -> dict:
        """JSON-able summary."""
        return {"events": [asdict(e) for e in self.events], "alpha": self.alpha, "n_shuffles": self.n_shuffles,
                "fraction_significant": self.fraction_significant, "speed_unit": self.speed_unit}


def score_events(counts, tuning_curves, bin_size: float, events, *, positions=None, circular: bool = False,
                 n_shuffles: int = 1000, alpha: float = 0.05, band: int = 1, n_speeds: int = 61,
                 seed: int = 0) -> ReplayResult:
    r"""Sequence scores and shuffle significance of candidate events.

    Parameters
    ----------
    counts : array (T, n_units)
    tuning_curves : array (n_units, n_pos)
        Rates in Hz over a regular 1-D grid; NaN (never visited) bins are never decoded.
    bin_size : float
        Seconds.
    events : array (n_events, 2)
        ``[start, stop)`` bin indices (:func:`candidate_events`).
    positions : array (n_pos,), optional
        Grid positions (for speeds in their units per second; bin indices otherwise).
    circular : bool
        Head direction (or any wrapping feature).
    n_shuffles : int
        Shuffles of each kind (at least 1000 for reported p-values; the smallest p is ``1/(n_shuffles+1)``).
    alpha : float
        Significance level; an event is significant when both p-values are below it.
    band, n_speeds
        As :func:`line_fit`.
    seed : int

    Notes
    -----
    Monte-Carlo p-value: :math:`p = (1 + \#\{R^{\text{shuffle}} \ge R\}) / (1 + n)`. Cell-identity shuffle:
    each unit's tuning curve rotated circularly by an independent uniform offset, counts re-decoded with
    :func:`poisson_posterior`. Time-bin shuffle: the event's posterior rows permuted. Speed: the best line's
    slope times the grid spacing over ``bin_size``.
    """
    tc = np.asarray(tuning_curves, dtype=np.float64)
    tc = np.where(np.isnan(tc), UNVISITED_RATE, tc)       # grid bins never visited: never decoded
    counts, tc = _as_2d(counts, "counts"), _as_2d(tc, "tuning_curves")
    if counts.shape[1] != tc.shape[0]:
        raise ConfigurationError(f"counts have {counts.shape[1]} units but tuning_curves {tc.shape[0]}")
    if isinstance(n_shuffles, bool) or not isinstance(n_shuffles, int | np.integer) or n_shuffles < 1:
        raise ConfigurationError(f"n_shuffles must be a positive integer (1000 or more to report); got {n_shuffles!r}")
    events = np.asarray(events, dtype=np.int64).reshape(-1, 2)
    n_pos = tc.shape[1]
    spacing = 1.0 if positions is None else float(np.mean(np.diff(np.asarray(positions, dtype=np.float64))))
    rng = np.random.default_rng(seed)
    out = ReplayResult(alpha=alpha, n_shuffles=int(n_shuffles),
                       speed_unit="position bins/s" if positions is None else "position units/s")
    for start, stop in events:
        c = counts[start:stop]
        if len(c) < 3:
            continue
        post = poisson_posterior(c, tc, bin_size)
        slopes, centres = _line_grid(len(c), n_pos, circular, n_speeds)
        score, slope, _ = line_fit(post, band=band, circular=circular, n_speeds=n_speeds)
        cell_null, time_null = [], []
        log_tc = np.log(tc + 1e-12)
        for done in range(0, n_shuffles, _SHUFFLE_CHUNK):
            k = min(_SHUFFLE_CHUNK, n_shuffles - done)
            shifts = rng.integers(0, n_pos, (k, tc.shape[0]))
            cols = (np.arange(n_pos)[None, None, :] - shifts[:, :, None]) % n_pos
            rolled_log = np.take_along_axis(np.broadcast_to(log_tc, (k, *tc.shape)), cols, axis=-1)
            rolled_sum = np.take_along_axis(np.broadcast_to(tc, (k, *tc.shape)), cols, axis=-1).sum(axis=1)
            post_cell = _normalise(np.einsum("ti,kix->ktx", c, rolled_log) - bin_size * rolled_sum[:, None, :])
            cell_null.append(_line_scores(post_cell, band, circular, slopes, centres).max(axis=(-2, -1)))
            order = np.argsort(rng.random((k, len(c))), axis=1)
            time_null.append(_line_scores(post[order], band, circular, slopes, centres).max(axis=(-2, -1)))
        cell_null, time_null = np.concatenate(cell_null), np.concatenate(time_null)
        p_cell = (1 + np.sum(cell_null >= score)) / (1 + n_shuffles)
        p_time = (1 + np.sum(time_null >= score)) / (1 + n_shuffles)
        out.events.append(EventScore(
            start=int(start), stop=int(stop), line_score=score,
            weighted_correlation=float("nan") if circular else weighted_correlation(post),
            speed=slope * spacing / bin_size, p_cell=float(p_cell), p_time=float(p_time),
            significant=bool(max(p_cell, p_time) < alpha)))
    return out


def replay_events(rec, *, phase: str = "quiescent", threshold: float = 3.0, edge: float = 1.0,
                  min_duration: float = 0.05, max_duration: float = 0.5, **kwargs) -> ReplayResult:
    """:func:`candidate_events` and :func:`score_events` on a Recording from :func:`neurorx.io.nwb.read`.

    Uses its binned counts ``h``, its bin ``meta["dt"]`` and the tuning curves and grid of
    ``hooks["decoder"]`` (1-D features only); events are detected and scored trial by trial in ``phase``.
    """
    dec = rec.hooks.get("decoder")
    if dec is None or "tuning_curves" not in dec or "bin_centres_1" in dec:
        raise ConfigurationError("replay_events needs a Recording decoded over a 1-D feature by "
                                 "neurorx.io.nwb.read (tuning curves in hooks['decoder'])")
    sub = rec.select(phase)
    counts = sub.require("h")
    bin_size = float(rec.meta["dt"])
    result = None
    for b in range(counts.shape[0]):
        ev = candidate_events(counts[b], bin_size, threshold=threshold, edge=edge, min_duration=min_duration,
                              max_duration=max_duration)
        res = score_events(counts[b], dec["tuning_curves"], bin_size, ev, positions=dec["bin_centres_0"],
                           circular=bool(rec.meta.get("circular")), **kwargs)
        if result is None:
            result = res
        else:
            result.events.extend(res.events)
    return result
