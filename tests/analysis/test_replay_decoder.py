"""A known path against the spike score: path_line on lines and noise, compare_with_decoder's 2 x 2 table."""

import numpy as np
import pytest

from neurorx.analysis import replay
from neurorx.errors import ConfigurationError

BIN = 0.02
ANGLES = np.linspace(-np.pi, np.pi, 36, endpoint=False)
PREFS = np.linspace(-np.pi, np.pi, 24, endpoint=False)
TC = 0.5 + 30 * np.exp(4 * (np.cos(ANGLES[None, :] - PREFS[:, None]) - 1))     # Hz


def test_a_line_across_the_wrap_is_a_line_with_its_slope():
    path = np.angle(np.exp(1j * (2.8 + 0.3 * np.arange(10))))                      # wraps past +pi
    line = replay.path_line(path, circular=True, n_shuffles=500)
    assert line.fit == pytest.approx(1.0, abs=1e-4) and line.slope == pytest.approx(0.3, abs=0.01)
    assert line.is_line and line.p <= 2 / 501


def test_a_linear_path_and_its_reverse_have_opposite_slopes():
    up = replay.path_line(np.linspace(0, 1, 8), n_shuffles=200)
    down = replay.path_line(np.linspace(1, 0, 8), n_shuffles=200)
    assert up.is_line and down.is_line and up.slope == pytest.approx(-down.slope) == pytest.approx(1 / 7)


def test_a_still_or_random_path_is_not_a_line():
    assert not replay.path_line(np.full(8, 1.0), circular=True, n_shuffles=200).is_line   # every order fits alike
    rng = np.random.default_rng(0)
    calls = [replay.path_line(rng.uniform(-np.pi, np.pi, 8), circular=True, n_shuffles=200, seed=s).is_line
             for s in range(40)]
    assert np.mean(calls) <= 0.15                                                      # nominal 0.05; 40 paths


def _session(paths, seed):
    """Quiet background, then one burst per path of tuning-curve bins (24 HD cells)."""
    rng = np.random.default_rng(seed)
    blocks, events, t = [], [], 0
    for path in paths:
        blocks.append(rng.poisson(0.5 * BIN, (20, len(PREFS))))
        blocks.append(rng.poisson(3 * TC[:, path].T * BIN))
        events.append((t + 20, t + 20 + len(path)))
        t += 20 + len(path)
    return np.concatenate(blocks).astype(float), np.array(events), t


def test_the_score_finds_the_decoders_lines_and_not_its_noise():
    rng = np.random.default_rng(5)
    sweeps = [np.arange(s, s + 10) % 36 for s in (0, 12, 30)] + [np.arange(s + 10, s, -1) % 36 for s in (5, 20)]
    noise = [rng.integers(0, 36, 10) for _ in range(5)]
    counts, events, n_bins = _session(sweeps + noise, seed=6)
    res = replay.score_events(counts, TC, BIN, events, positions=ANGLES, circular=True, n_shuffles=200)
    # the network's decoder: the planted bins' angles in each event, and a still bearing in between
    decoded = np.zeros((1, n_bins))
    for (a, b), path in zip(events, sweeps + noise, strict=True):
        decoded[0, a:b] = ANGLES[path]
    agree = replay.compare_with_decoder(res, decoded, BIN, circular=True, n_shuffles=200)
    swept, noisy = agree.events[:5], agree.events[5:]
    assert all(e.path_is_line and e.score_significant for e in swept)         # both call the sweeps replay
    assert sum(e.path_is_line for e in noisy) <= 1 and sum(e.score_significant for e in noisy) <= 1   # chance: 5%
    (both, score_only), (path_only, neither) = agree.table
    assert agree.table.sum() == 10 and both >= 5 and neither >= 3
    assert agree.found == both / (both + path_only) and agree.unsupported == score_only / (both + score_only)
    assert agree.same_direction == 1.0
    speeds = np.array([e.path_speed for e in agree.events[:5]])
    np.testing.assert_allclose(speeds, np.array([1, 1, 1, -1, -1]) * (2 * np.pi / 36) / BIN, rtol=1e-2)
    assert agree.to_dict()["table"] == agree.table.tolist()


def test_replay_events_name_their_trial_and_bad_decoded_is_one_line():
    res = replay.ReplayResult(events=[replay.EventScore(5, 9, 0.5, np.nan, 1.0, 0.01, 0.01, True, trial=1)])
    with pytest.raises(ConfigurationError, match="outside decoded"):
        replay.compare_with_decoder(res, np.zeros((1, 20)), BIN)
    with pytest.raises(ConfigurationError, match="decoded must be"):
        replay.compare_with_decoder(res, np.zeros(20), BIN)
    with pytest.raises(ConfigurationError, match="at least 3 bins"):
        replay.path_line([0.0, 1.0])
    assert replay.compare_with_decoder(res, np.zeros((2, 20, 1)), BIN, n_shuffles=50).table.tolist() == [[0, 1],
                                                                                                           [0, 0]]


def test_replay_events_score_each_trial_and_the_decoders_path_is_read_in_that_trial():
    from neurorx.recording import Recording

    sweep = np.arange(4, 14)
    rng = np.random.default_rng(8)
    counts = np.stack([rng.poisson(0.5 * BIN, (60, len(PREFS))) for _ in range(2)]).astype(float)
    counts[1, 25:35] = rng.poisson(3 * TC[:, sweep].T * BIN)            # one sweep, in trial 1 only
    steps = counts.shape[1]
    decoded = np.zeros((2, steps, 1))
    decoded[1, 25:35, 0] = ANGLES[sweep]
    rec = Recording(t=(np.arange(steps) + 1) * BIN, phase=np.array(["quiescent"] * steps),
                    phase_index=np.zeros(steps, dtype=int), decoded=decoded, states=np.zeros((2, steps, 1)),
                    inputs=np.zeros((2, steps, 1)), h=counts, record_index=np.arange(steps),
                    phases=[{"label": "quiescent", "start": 0, "stop": steps}],
                    hooks={"decoder": {"tuning_curves": TC, "bin_centres_0": ANGLES}},
                    meta={"dt": BIN, "circular": True})
    res = replay.replay_events(rec, threshold=2.0, edge=0.5, min_duration=0.06, n_shuffles=200)
    (event,) = res.events
    assert event.trial == 1 and abs(event.start - 25) <= 1 and event.significant
    agree = replay.compare_with_decoder(res, rec.select("quiescent").decoded, BIN, n_shuffles=200)
    assert agree.table.tolist() == [[1, 0], [0, 0]]


def test_a_drift_slower_than_min_sweep_is_not_a_line():
    drift = 0.012 * np.arange(12)                                          # 7.6 degrees over the event
    assert replay.path_line(drift, circular=True, n_shuffles=200).is_line
    slow = replay.path_line(drift, circular=True, n_shuffles=200, min_sweep=2 * np.pi / 36)
    assert not slow.is_line and slow.p < 0.01 and slow.slope == pytest.approx(0.012, rel=0.05)
