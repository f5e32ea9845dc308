"""Replay events: candidate bursts, Davidson line fit, weighted correlation, shuffles (planted vs noise)."""

import numpy as np
import pytest

from neurorx.analysis import replay
from neurorx.errors import ConfigurationError

BIN, N_POS, N_CELLS = 0.02, 30, 24
POSITIONS = np.linspace(0, 1.5, N_POS)           # a 1.5 m linear track, 5 cm bins
CENTRES = np.linspace(0, 1.5, N_CELLS)
TUNING = 0.2 + 20 * np.exp(-0.5 * ((POSITIONS[None, :] - CENTRES[:, None]) / 0.15) ** 2)   # Hz


def _session(paths, seed=0, gap=60, burst_gain=6.0):
    """Quiet background with one burst per path (each a sequence of position bins), ``gap`` bins apart."""
    rng = np.random.default_rng(seed)
    blocks, events, t = [], [], 0
    for path in paths:
        blocks.append(rng.poisson(0.5 * BIN, (gap, N_CELLS)))
        t += gap
        blocks.append(rng.poisson(burst_gain * TUNING[:, path].T * BIN))
        events.append((t, t + len(path)))
        t += len(path)
    blocks.append(rng.poisson(0.5 * BIN, (gap, N_CELLS)))
    return np.concatenate(blocks).astype(float), np.array(events)


def test_candidate_events_are_the_bursts_above_threshold_for_the_minimum_duration():
    paths = [np.arange(3, 27, 3)] * 4
    counts, truth = _session(paths)
    found = replay.candidate_events(counts, BIN, threshold=3.0, edge=1.0, min_duration=0.1)
    assert len(found) == 4
    assert np.all(np.abs(found - truth) <= 2)          # within two 20 ms bins of the planted edges
    # a minimum duration longer than the bursts finds none
    assert len(replay.candidate_events(counts, BIN, min_duration=0.5, max_duration=1.0)) == 0


def test_a_planted_sequence_is_found_with_its_speed():
    paths = [np.arange(3, 27, 3)] * 3 + [np.arange(27, 3, -3)] * 3      # 3 bins per 20 ms bin, both ways
    counts, events = _session(paths, seed=1)
    res = replay.score_events(counts, TUNING, BIN, events, positions=POSITIONS, n_shuffles=1000, n_speeds=31)
    assert res.n_shuffles == 1000 and len(res.events) == 6
    assert res.fraction_significant == 1.0
    assert all(e.p_cell <= 0.002 and e.p_time <= 0.002 for e in res.events)
    speed = 3 * (POSITIONS[1] - POSITIONS[0]) / BIN                       # 7.8 m/s
    speeds = np.array([e.speed for e in res.events])
    assert np.all(np.sign(speeds) == [1, 1, 1, -1, -1, -1])
    assert np.median(np.abs(speeds)) == pytest.approx(speed, rel=0.1)   # single events: within 25%
    np.testing.assert_allclose(np.abs(speeds), speed, rtol=0.25)
    assert all(e.weighted_correlation > 0.8 for e in res.events[:3])
    assert all(e.weighted_correlation < -0.8 for e in res.events[3:])


def test_pure_noise_is_significant_at_no_more_than_the_nominal_rate():
    rng = np.random.default_rng(2)
    paths = [rng.integers(0, N_POS, 8) for _ in range(40)]               # each bin at a random place
    counts, events = _session(paths, seed=2, gap=20)
    res = replay.score_events(counts, TUNING, BIN, events, n_shuffles=200, n_speeds=31, alpha=0.05)
    assert len(res.events) == 40
    assert res.fraction_significant <= 0.1                                # nominal 0.05; 40 events


def test_a_circular_sweep_is_found_across_the_wrap():
    angles = np.linspace(-np.pi, np.pi, 36, endpoint=False)
    prefs = np.linspace(-np.pi, np.pi, 24, endpoint=False)
    tc = 0.5 + 30 * np.exp(4 * (np.cos(angles[None, :] - prefs[:, None]) - 1))
    rng = np.random.default_rng(3)
    path = np.arange(30, 42) % 36                                         # crosses from +pi to -pi
    counts = rng.poisson(3 * tc[:, path].T * BIN).astype(float)
    res = replay.score_events(counts, tc, BIN, [(0, len(path))], positions=angles, circular=True, n_shuffles=1000)
    (event,) = res.events
    assert event.significant and event.speed == pytest.approx(2 * np.pi / 36 / BIN, rel=0.2)   # 1 bin/bin


def test_the_speed_on_a_circular_grid_does_not_depend_on_where_its_centres_wrap():
    # pynapple's head-direction grids run 0.09 ... 3.05, -3.05 ... -0.09 rad: the same grid, rolled
    angles = np.linspace(-np.pi, np.pi, 36, endpoint=False) + np.pi / 36
    wrapped = np.angle(np.exp(1j * (angles + np.pi)))
    assert replay.grid_spacing(wrapped, circular=True) == pytest.approx(2 * np.pi / 36)
    assert replay.grid_spacing(angles) == pytest.approx(2 * np.pi / 36)
    prefs = np.linspace(-np.pi, np.pi, 24, endpoint=False)
    tc = 0.5 + 30 * np.exp(4 * (np.cos(wrapped[None, :] - prefs[:, None]) - 1))
    rng = np.random.default_rng(3)
    path = np.arange(10, 22)
    counts = rng.poisson(3 * tc[:, path].T * BIN).astype(float)
    res = replay.score_events(counts, tc, BIN, [(0, len(path))], positions=wrapped, circular=True, n_shuffles=200)
    assert res.events[0].speed == pytest.approx(2 * np.pi / 36 / BIN, rel=0.2)                 # 1 bin per bin


def test_the_posterior_is_pynapples_bayesian_decoder():
    nap = pytest.importorskip("pynapple")
    rng = np.random.default_rng(4)
    counts = rng.poisson(2.0, (25, N_CELLS)).astype(float)
    mine = replay.poisson_posterior(counts, TUNING, BIN)
    import xarray as xr

    tc = xr.DataArray(TUNING, dims=("unit", "x"), coords={"unit": np.arange(N_CELLS), "x": POSITIONS})
    frame = nap.TsdFrame(t=(np.arange(25) + 0.5) * BIN, d=counts, columns=np.arange(N_CELLS))
    _, theirs = nap.decode_bayes(tc, frame, epochs=nap.IntervalSet(0, 25 * BIN), bin_size=BIN)
    np.testing.assert_allclose(mine, np.asarray(theirs.values), atol=1e-8)


def test_bins_never_visited_are_never_decoded():
    tc = TUNING.copy()
    tc[:, 10] = np.nan                                   # a stretch of track the animal never ran
    post = replay.poisson_posterior(np.zeros((3, N_CELLS)), tc, BIN)
    assert np.all(post[:, 10] < 1e-100) and np.allclose(post.sum(axis=1), 1)


@pytest.mark.parametrize(("call", "match"), [
    (lambda: replay.candidate_events(np.ones(5), BIN), "2-D array"),
    (lambda: replay.candidate_events(np.ones((5, 2)), BIN, min_duration=1.0, max_duration=0.1), "min_duration"),
    (lambda: replay.score_events(np.ones((5, 3)), TUNING, BIN, [(0, 5)]), "counts have 3 units"),
    (lambda: replay.score_events(np.ones((5, N_CELLS)), TUNING, BIN, [(0, 5)], n_shuffles=0), "n_shuffles"),
    (lambda: replay.line_fit(np.full((4, 4), np.nan)), "NaN"),
])
def test_bad_input_is_one_clear_line(call, match):
    with pytest.raises(ConfigurationError, match=match) as err:
        call()
    assert "\n" not in str(err.value)
