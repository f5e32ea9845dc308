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
5. :func:`path_line` and :func:`compare_with_decoder` -- whether a known path over an event's bins (a
   network's own decoded output) is a line, and how often the spike score agrees with it (a 2 x 2 table).

The posterior is over a 1-D feature on a regular grid: a linearised track, or head direction
(``circular=True``). Arrays: counts ``(T, n_units)``, tuning curves ``(n_units, n_pos)`` in Hz, posteriors
``(T, n_pos)``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np

from neurorx.errors import ConfigurationError

__all__ = ["DecoderAgreement", "EventComparison", "EventScore", "PathLine", "ReplayResult", "candidate_events",
           "compare_with_decoder", "grid_spacing", "line_fit", "one_d_decoder", "path_line", "poisson_posterior",
           "replay_events", "score_events", "weighted_correlation"]


#: Rate (Hz) given to tuning-curve bins never visited in the awake epoch (NaN tuning curves), here and in
#: :func:`neurorx.io.nwb.read`: an expected count so large that the decoder never places the animal there.
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
    """One candidate event: its bins ``[start, stop)`` in ``trial``, sequence scores, speed and shuffle p-values."""

    start: int
    stop: int
    line_score: float
    weighted_correlation: float
    speed: float
    p_cell: float
    p_time: float
    significant: bool
    trial: int = 0


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


def grid_spacing(positions, *, circular: bool = False) -> float:
    r"""The step of a regular 1-D grid of bin centres, also when a circular grid's centres wrap around.

    Head-direction grids often run ``0.09, ..., 3.05, -3.05, ..., -0.09`` rad: the plain mean of the differences
    would average the one jump of :math:`-2\pi` into every step. For a circular grid each difference is taken
    modulo :math:`2\pi` into :math:`[-\pi, \pi)`, and the median step is returned.
    """
    d = np.diff(np.asarray(positions, dtype=np.float64))
    if d.size == 0:
        raise ConfigurationError("positions must hold at least two grid bins")
    if circular:
        d = np.mod(d + np.pi, 2 * np.pi) - np.pi
    return float(np.median(d))


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
    slope times the grid spacing (:func:`grid_spacing`) over ``bin_size``.
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
    spacing = 1.0 if positions is None else grid_spacing(positions, circular=circular)
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


def one_d_decoder(rec, who: str) -> dict:
    """``rec.hooks["decoder"]`` of a Recording decoded over a 1-D feature by :func:`neurorx.io.nwb.read`.

    Raises
    ------
    ConfigurationError
        Naming ``who`` when the Recording has no such decoder (not from ``read``, or a 2-D position).
    """
    dec = rec.hooks.get("decoder")
    if dec is None or "tuning_curves" not in dec or "bin_centres_1" in dec:
        raise ConfigurationError(f"{who} needs a Recording decoded over a 1-D feature by "
                                 "neurorx.io.nwb.read (tuning curves in hooks['decoder'])")
    return dec


def replay_events(rec, *, phase: str = "quiescent", threshold: float = 3.0, edge: float = 1.0,
                  min_duration: float = 0.05, max_duration: float = 0.5, **kwargs) -> ReplayResult:
    """:func:`candidate_events` and :func:`score_events` on a Recording from :func:`neurorx.io.nwb.read`.

    Uses its binned counts ``h``, its bin ``meta["dt"]`` and the tuning curves and grid of
    ``hooks["decoder"]`` (1-D features only); events are detected and scored trial by trial in ``phase``
    (each :class:`EventScore` names its ``trial``; ``start``/``stop`` are bins of that trial's ``phase``).
    """
    dec = one_d_decoder(rec, "replay_events")
    sub = rec.select(phase)
    counts = sub.require("h")
    bin_size = float(rec.meta["dt"])
    result = None
    for b in range(counts.shape[0]):
        ev = candidate_events(counts[b], bin_size, threshold=threshold, edge=edge, min_duration=min_duration,
                              max_duration=max_duration)
        res = score_events(counts[b], dec["tuning_curves"], bin_size, ev, positions=dec["bin_centres_0"],
                           circular=bool(rec.meta.get("circular")), **kwargs)
        res.events = [replace(e, trial=b) for e in res.events]
        if result is None:
            result = res
        else:
            result.events.extend(res.events)
    return result


@dataclass(frozen=True)
class PathLine:
    """How well a known path over an event's bins is a line: fit, slope, time-shuffle p-value, verdict."""

    fit: float
    slope: float
    p: float
    is_line: bool


def _path_fits(paths: np.ndarray, circular: bool, speeds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fit quality and slope of every row of ``paths (n, T)``: circular-linear R or Pearson |r|."""
    t = np.arange(paths.shape[-1]) - (paths.shape[-1] - 1) / 2
    if circular:
        r = np.abs(np.exp(1j * paths) @ np.exp(-1j * speeds[None, :] * t[:, None])) / paths.shape[-1]   # (n, V)
        best = np.argmax(r, axis=-1)
        return r[np.arange(len(paths)), best], speeds[best]
    x = paths - paths.mean(axis=-1, keepdims=True)
    sxx, stt = (x ** 2).sum(axis=-1), (t ** 2).sum()
    sxt = x @ t
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(sxx > 0, np.abs(sxt) / np.sqrt(sxx * stt), 0.0)
    return r, sxt / stt


def path_line(path, *, circular: bool = False, n_shuffles: int = 1000, alpha: float = 0.05, n_speeds: int = 721,
              min_sweep: float = 0.0, seed: int = 0) -> PathLine:
    r"""Is a known path (one value per time bin of an event) a line in time? Fit, slope and shuffle p-value.

    Parameters
    ----------
    path : array (T,)
        The path over the event's bins, e.g. a network's own decoded output (radians if ``circular``).
    circular : bool
        The path is an angle (head direction); lines wrap around the circle.
    n_shuffles : int
        Permutations of the path's bins for the p-value.
    alpha : float
        The path is a line when ``p < alpha`` and it sweeps at least ``min_sweep``.
    n_speeds : int
        Circular slopes tried, evenly spaced in :math:`[-\pi, \pi]` radians per bin (the reported slope is
        then refined on a grid 100 times finer around the best one).
    min_sweep : float
        Smallest distance the line must cover over the event, :math:`|v|(T-1)`, in path units (e.g. one bin of
        the grid the spike score decodes on: a slower drift is invisible to it).
    seed : int

    Returns
    -------
    PathLine
        ``fit`` (1 for a perfect line), ``slope`` (path units per bin), ``p`` and ``is_line``.

    Notes
    -----
    Circular paths: the circular-linear fit (Kempter et al. 2012) :math:`R = \max_v \bigl|\frac1T \sum_t
    e^{i(\theta_t - v t)}\bigr|`, the mean resultant length of the residuals about the best line of slope
    :math:`v`; linear paths: :math:`R = |r|`, the absolute Pearson correlation of position and time, slope the
    least-squares one. Significance as the spike score's time-bin shuffle: :math:`p = (1 + \#\{R^{\pi} \ge
    R\})/(1 + n)` over random permutations :math:`\pi` of the bins. A path that does not move (every
    permutation fits as well) gets :math:`p = 1`; with :math:`T` bins the smallest reachable p is about
    :math:`2/T!` (a path and its reverse fit alike), so events shorter than 5 bins are never lines at 5%
    (the score's time-bin shuffle has the same floor).
    """
    x = np.asarray(path, dtype=np.float64).ravel()
    if x.size < 3 or not np.all(np.isfinite(x)):
        raise ConfigurationError(f"path_line needs a finite path of at least 3 bins; got {x.size} bins"
                                 f"{'' if np.all(np.isfinite(x)) else ' with NaN or infinite values'}")
    if isinstance(n_shuffles, bool) or not isinstance(n_shuffles, int | np.integer) or n_shuffles < 1:
        raise ConfigurationError(f"n_shuffles must be a positive integer; got {n_shuffles!r}")
    speeds = np.linspace(-np.pi, np.pi, n_speeds)
    (fit,), (slope,) = _path_fits(x[None, :], circular, speeds)
    rng = np.random.default_rng(seed)
    order = np.argsort(rng.random((n_shuffles, x.size)), axis=1)
    null, _ = _path_fits(x[order], circular, speeds)
    p = (1 + np.sum(null >= fit - 1e-9)) / (1 + n_shuffles)          # ties (a reordered sum) count as >=
    if circular:                                                      # the slope on a finer grid; p as above
        step = speeds[1] - speeds[0] if n_speeds > 1 else 0.0
        _, (slope,) = _path_fits(x[None, :], circular, np.linspace(slope - step, slope + step, 201))
    sweep = abs(slope) * (x.size - 1)
    return PathLine(fit=float(fit), slope=float(slope), p=float(p), is_line=bool(p < alpha and sweep >= min_sweep))


@dataclass(frozen=True)
class EventComparison:
    """One candidate event: the spike score's verdict and speed next to the known path's."""

    trial: int
    start: int
    stop: int
    score_significant: bool
    score_speed: float
    path_fit: float
    path_speed: float
    path_p: float
    path_is_line: bool


@dataclass
class DecoderAgreement:
    """Spike-score replay against the known path's line, event by event."""

    events: list = field(default_factory=list)

    @property
    def table(self) -> np.ndarray:
        """``[[both, score only], [path only, neither]]``: rows the score, columns the path (line / not)."""
        s = np.array([e.score_significant for e in self.events], dtype=bool)
        d = np.array([e.path_is_line for e in self.events], dtype=bool)
        return np.array([[np.sum(s & d), np.sum(s & ~d)], [np.sum(~s & d), np.sum(~s & ~d)]], dtype=np.int64)

    @property
    def found(self) -> float:
        """Fraction of the paths' lines that the score finds significant (NaN without lines)."""
        (both, _), (path_only, _) = self.table
        return both / (both + path_only) if both + path_only else float("nan")

    @property
    def unsupported(self) -> float:
        """Fraction of the score's significant events whose path is not a line (NaN without any)."""
        (both, score_only), _ = self.table
        return score_only / (both + score_only) if both + score_only else float("nan")

    @property
    def same_direction(self) -> float:
        """Among events both call replay, the fraction whose speeds have the same sign (NaN without any)."""
        both = [e for e in self.events if e.score_significant and e.path_is_line]
        return float(np.mean([np.sign(e.score_speed) == np.sign(e.path_speed) for e in both])) if both \
            else float("nan")

    def to_dict(self) -> dict:
        """JSON-able summary."""
        return {"table": self.table.tolist(), "table_layout": "[[both, score only], [path only, neither]]",
                "found": self.found, "unsupported": self.unsupported, "same_direction": self.same_direction,
                "events": [asdict(e) for e in self.events]}


def compare_with_decoder(result: ReplayResult, decoded, bin_size: float, *, circular: bool = True, offset: int = 0,
                         n_shuffles: int = 1000, alpha: float | None = None, min_sweep: float = 0.0,
                         seed: int = 0) -> DecoderAgreement:
    r"""Does the spike score find the path a network's own decoder reports? Event by event, a 2 x 2 table.

    Parameters
    ----------
    result : ReplayResult
        Scored events (:func:`replay_events`; ``trial``, ``start``, ``stop`` index ``decoded``).
    decoded : array (trials, T) or (trials, T, 1)
        The known path in every bin of the scored phase (a network's readout of its own state, in the units of
        the score's positions: radians if ``circular``), on the events' bins.
    bin_size : float
        Seconds per bin (for the path's speed in units per second).
    circular : bool
        Angles (head direction).
    offset : int
        Index in ``decoded``'s time axis of the events' bin 0.
    n_shuffles : int
        Permutations for :func:`path_line`.
    alpha : float, optional
        Level for the path's line (default: the score's ``result.alpha``).
    min_sweep : float
        Smallest distance the path's line must cover over the event (:func:`path_line`).
    seed : int

    Returns
    -------
    DecoderAgreement
        Per event the score's verdict and speed next to :func:`path_line` of the decoded path over the event's
        bins; ``table``, ``found`` (replays of the path the score finds), ``unsupported`` (score replays whose
        path is not a line) and ``same_direction``.

    Notes
    -----
    The path "reports a replay" when :func:`path_line` finds it a line at level :math:`\alpha` against
    permutations of its bins that covers at least ``min_sweep``; the score reports one when both of its shuffles
    do. ``path_speed`` is the path's slope over ``bin_size``; the score's ``speed`` is in its own position units
    per second.
    """
    d = np.asarray(decoded, dtype=np.float64)
    if d.ndim == 3 and d.shape[-1] == 1:
        d = d[..., 0]
    if d.ndim != 2:
        raise ConfigurationError(f"decoded must be (trials, T) or (trials, T, 1) (a 1-D path per trial); got shape "
                                 f"{np.asarray(decoded).shape}")
    alpha = result.alpha if alpha is None else alpha
    out = DecoderAgreement()
    for k, e in enumerate(result.events):
        a, b = e.start + offset, e.stop + offset
        if not (0 <= e.trial < d.shape[0] and 0 <= a and b <= d.shape[1]):
            raise ConfigurationError(f"event {k} (trial {e.trial}, bins {e.start}..{e.stop}, offset {offset}) lies "
                                     f"outside decoded of shape {d.shape}; pass the decoded path of the scored phase")
        line = path_line(d[e.trial, a:b], circular=circular, n_shuffles=n_shuffles, alpha=alpha,
                         min_sweep=min_sweep, seed=seed + k)
        out.events.append(EventComparison(trial=e.trial, start=e.start, stop=e.stop, score_significant=e.significant,
                                          score_speed=e.speed, path_fit=line.fit, path_speed=line.slope / bin_size,
                                          path_p=line.p, path_is_line=line.is_line))
    return out
