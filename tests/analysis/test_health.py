"""Health measures: collapsed or noise-like quiescent activity is told apart from reactivation (issue 27, trap 1)."""

import numpy as np
import pytest

from neurorx.analysis.health import (
    HealthThresholds,
    activity_level,
    noise_floor_variance,
    noise_fraction,
    path_noise_ratio,
    reactivation_health,
    uniform_reference,
)


def ar1(a, std, shape, seed=0, mean=0.0):
    """Leaky units driven by noise alone: h <- (1-a) h + eps (the collapsed ReLU network)."""
    rng = np.random.default_rng(seed)
    b, t, n = shape
    h = np.zeros(shape)
    h[:, 0] = rng.normal(0, std / np.sqrt(a * (2 - a)), size=(b, n))
    for k in range(1, t):
        h[:, k] = (1 - a) * h[:, k - 1] + rng.normal(mean, std, size=(b, n))
    return h


def test_noise_floor_variance_is_the_stationary_variance_of_a_leaky_unit():
    h = ar1(0.5, 0.1, (40, 2000, 4))
    assert noise_floor_variance(0.01, 0.5) == pytest.approx(0.01 / 0.75)
    assert h[:, 100:].var() == pytest.approx(noise_floor_variance(0.01, 0.5), rel=0.05)


def test_noise_fraction_is_one_at_the_noise_floor_and_small_for_carried_activity():
    a, std = 0.5, 0.05
    floor = ar1(a, std, (10, 500, 8))
    assert noise_fraction(floor, std**2, a) > 0.9
    t = np.linspace(0, 4 * np.pi, 500)
    carried = floor + np.sin(t)[None, :, None] * np.linspace(0.5, 1, 8)    # a slow, large signal on top
    assert noise_fraction(carried, std**2, a) < 0.2
    assert noise_fraction(carried, 0.0, a) == 0.0                           # no noise, nothing is noise


def test_path_noise_ratio_tells_a_path_from_noise():
    rng = np.random.default_rng(1)
    walk = np.cumsum(rng.normal(0, 0.01, size=(5, 300, 2)), axis=1)
    iid = rng.uniform(-1, 1, size=(5, 300, 2))
    assert path_noise_ratio(walk).mean() < 0.2
    assert path_noise_ratio(iid).mean() == pytest.approx(1.0, abs=0.1)
    angles = rng.uniform(-np.pi, np.pi, size=(5, 300, 1))
    assert path_noise_ratio(angles, circular=True).mean() == pytest.approx(1.0, abs=0.1)


def test_uniform_reference_covers_the_circle_or_the_active_box():
    act = np.random.default_rng(2).uniform([-1, 0], [1, 3], size=(4, 50, 2))
    ref = uniform_reference(act, 1000)
    assert ref.shape == (1000, 2) and (ref.min(0) >= act.reshape(-1, 2).min(0)).all()
    assert (ref.max(0) <= act.reshape(-1, 2).max(0)).all()
    circ = uniform_reference(act[..., :1], 1000, circular=True)
    assert circ.min() >= -np.pi and circ.max() < np.pi and circ.max() - circ.min() > 6


def test_activity_level_is_mean_absolute_state():
    h = np.array([[[1.0, -3.0]], [[0.0, 2.0]]])
    assert activity_level(h).tolist() == [2.0, 1.0]


def test_reactivation_health_flags_collapse_and_noise_like_paths_only():
    rng = np.random.default_rng(3)
    act_dec = np.cumsum(rng.normal(0, 0.05, size=(6, 100, 1)), axis=1)
    act_h = 0.4 + 0.1 * rng.random((6, 100, 16))
    healthy_dec = np.cumsum(rng.normal(0, 0.01, size=(6, 200, 1)), axis=1)
    healthy_h = 0.5 + 0.3 * np.sin(np.linspace(0, 6, 200))[None, :, None] + 0.01 * rng.random((6, 200, 16))
    ok = reactivation_health(act_dec, healthy_dec, circular=True, active_h=act_h, quiescent_h=healthy_h,
                             noise_step_variance=0.01**2, alpha=0.5)
    assert not ok.flagged, ok.flags
    noise_dec = rng.uniform(-np.pi, np.pi, size=(6, 200, 1))
    floor_h = ar1(0.5, 0.04, (6, 200, 16))
    bad = reactivation_health(act_dec, noise_dec, circular=True, active_h=act_h, quiescent_h=floor_h,
                              noise_step_variance=0.04**2, alpha=0.5)
    assert bad.flagged
    text = " ".join(bad.flags)
    assert "collapsed" in text and "noise floor" in text and "moves like noise" in text
    assert bad.to_dict()["flagged"] is True
    lenient = reactivation_health(act_dec, noise_dec, circular=True,
                                  thresholds=HealthThresholds(path_noise=2.0, step_ratio=1e3))
    assert not lenient.flagged                                     # decoded-only, with thresholds it passes
