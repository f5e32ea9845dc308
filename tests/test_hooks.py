"""Analysis hooks equal the same statistics computed on the full recording, on every backend."""

import numpy as np
import pytest
from brian2 import ms
from netfactory import make_network
from sklearn.decomposition import PCA

import neurorx as nrx
from neurorx.hooks import DecodedHistogram, PCAProjection, RunningMoments, StateCovariance, TrialPeak
from neurorx.protocols import Active, Protocol, Quiescent


@pytest.fixture(scope="module")
def run():
    net = make_network(n_rec=12, noise={"recurrent": nrx.WhiteNoise.from_step_std(0.05, 20 * ms)})
    basis = np.random.default_rng(0).normal(size=(3, 12))
    hooks = [RunningMoments(burn_in=5), StateCovariance(), PCAProjection(basis, every=2),
             DecodedHistogram(extent=(-1.25, 1.25), bins=10), TrialPeak()]
    # a small memory budget forces many chunks, so the accumulation across chunks is exercised
    rec = Protocol([Active(steps=23), Quiescent(steps=31)]).run(
        net, trials=5, seed=1, record=("h",), hooks=hooks, memory_budget=8 * 5 * 16 * 4)
    return rec, basis


def test_running_moments_equal_two_pass_statistics(run):
    rec, _ = run
    h = rec.select("quiescent").h[:, 5:].reshape(-1, 12)
    res = rec.hooks["moments"]
    np.testing.assert_allclose(res["quiescent/mean"], h.mean(axis=0), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res["quiescent/var"], h.var(axis=0), rtol=1e-8, atol=1e-14)
    assert int(res["quiescent/count"]) == h.shape[0]


def test_state_covariance_gives_sklearn_pca(run):
    rec, _ = run
    h = rec.select("active").h.reshape(-1, 12)
    pca = PCA().fit(h)
    res = rec.hooks["state_covariance"]
    np.testing.assert_allclose(res["active/explained_variance_ratio"], pca.explained_variance_ratio_,
                               rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(res["active/cov"], np.cov(h.T), rtol=1e-8, atol=1e-12)


def test_pca_projection_keeps_only_projections(run):
    rec, basis = run
    res = rec.hooks["pca_projection"]
    q = rec.select("quiescent")
    steps = res["quiescent/steps"]
    np.testing.assert_array_equal(steps % 2, 0)
    full = rec.h[:, steps] @ basis.T
    np.testing.assert_allclose(res["quiescent/projection"], full, rtol=1e-10)
    assert q.h.shape[1] == 31


def test_decoded_histogram_counts_every_decoded_point(run):
    rec, _ = run
    res = rec.hooks["decoded_histogram"]
    pts = rec.select("active").decoded.reshape(-1, 2)
    counts, _ = np.histogramdd(pts, bins=[np.linspace(-1.25, 1.25, 11)] * 2)
    np.testing.assert_array_equal(res["active/counts"], counts)
    width = 0.25
    assert res["active/density"].sum() * width**2 == pytest.approx(1.0)


def test_hook_rejects_unknown_source():
    with pytest.raises(ValueError, match="one of"):
        RunningMoments(of="z")


def test_same_hooks_on_brian2_equal_its_recording():
    net = make_network(n_rec=12, noise={"recurrent": nrx.WhiteNoise.from_step_std(0.05, 20 * ms)})
    rec = Protocol([Active(steps=12), Quiescent(steps=15)]).run(
        net, backend="brian2", trials=4, seed=2, record=("h",), hooks=[RunningMoments(), StateCovariance()],
        memory_budget=8 * 4 * 16 * 5, target="numpy")
    h = rec.select("quiescent").h.reshape(-1, 12)
    np.testing.assert_allclose(rec.hooks["moments"]["quiescent/mean"], h.mean(axis=0), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rec.hooks["state_covariance"]["quiescent/cov"], np.cov(h.T), rtol=1e-8, atol=1e-12)


def test_phase_statistics_hook_equals_the_registry_on_the_recording(tiny_net):
    net = tiny_net
    from neurorx.analysis import applicable_statistics
    from neurorx.hooks import PhaseStatistics

    rec = Protocol([Active(steps=12), Quiescent(steps=20)]).run(net, trials=3, hooks=[PhaseStatistics()],
                                                               memory_budget=8 * 3 * 16 * 5)
    res = rec.hooks["statistics"]
    for stat in applicable_statistics(circular=False, has_h=False):
        for phase in ("active", "quiescent"):
            assert res[f"{phase}/{stat.name}"] == pytest.approx(stat.value(rec.select(phase), False, 0.5))


def test_trial_peak_is_each_trials_largest_state_magnitude(run):
    rec, _ = run
    res = rec.hooks["trial_peak"]
    for phase in ("active", "quiescent"):
        h = rec.select(phase).h
        np.testing.assert_array_equal(res[f"{phase}/peak"], np.abs(h).max(axis=(1, 2)))


def test_trial_peak_flags_a_trial_with_nan():
    hook = TrialPeak()
    hook.start(None, 2, [])
    h = np.ones((2, 3, 4))
    hook.update("quiescent", np.arange(3), h, h, h)
    h = h.copy()
    h[1, 0, 0] = np.nan
    hook.update("quiescent", np.arange(3, 6), h, h, h)
    peak = hook.result()["quiescent/peak"]
    assert peak[0] == 1.0 and np.isnan(peak[1])
