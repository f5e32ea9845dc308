"""Bad input fails early, saying what is wrong and how to fix it."""

import numpy as np
import pytest

from neurorx import analysis as nra

RNG = np.random.default_rng(0)
CLOUD = RNG.normal(size=(100, 2))
TRAJ = RNG.normal(size=(4, 20, 2))


def with_nan(x):
    x = np.array(x, dtype=float)
    x.flat[3] = np.nan
    return x


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: nra.kde(with_nan(CLOUD)), r"1 NaN .*first at index \(1, 1\).*drop"),
        (lambda: nra.kde(np.inf * CLOUD), "infinite"),
        (lambda: nra.kde(CLOUD[:, 0]), r"points\[:, None\]"),
        (lambda: nra.kde(TRAJ), r"reshape\(-1, 2\)"),
        (lambda: nra.kde(np.empty((0, 2))), "empty"),
        (lambda: nra.kde(CLOUD[:2]), "at least 3 points"),
        (lambda: nra.kde(CLOUD[:1, :1]), "at least 2 points"),
        (lambda: nra.kde(RNG.normal(size=(2, 50))), "transpose"),
        (lambda: nra.kde(np.c_[CLOUD[:, 0], np.ones(100)]), r"zero spread in dimension\(s\) \[1\]"),
        (lambda: nra.kde(np.c_[CLOUD[:, 0], 2 * CLOUD[:, 0]]), "singular.*collinear"),
        (lambda: nra.kde(CLOUD, bw_method="scot"), "bw_method must be"),
        (lambda: nra.kde(CLOUD, bw_method=-1.0), "must be > 0"),
        (lambda: nra.kde_grid(RNG.normal(size=(50, 3)), extent=(-1, 1)), "1-D or 2-D"),
        (lambda: nra.kde_grid(CLOUD, extent=(1, -1)), "high > low"),
        (lambda: nra.kl_divergence(CLOUD, RNG.normal(size=(100, 3))), "same dimension"),
        (lambda: nra.kl_divergence(CLOUD, CLOUD, method="exact"), "'corrected' or 'reference'"),
        (lambda: nra.kl_divergence(CLOUD, CLOUD, method="reference", clip=(1, 0.5)), "0 < low < high"),
        (lambda: nra.kl_divergence(CLOUD, with_nan(CLOUD)), "q_samples contains 1 NaN"),
        (lambda: nra.kl_uniform_vs(CLOUD, box=(1.1, -1.1)), "high > low"),
        (lambda: nra.kl_uniform_vs(CLOUD, box=[[0, 1], [0, 1], [0, 1]]), r"shape \(2, 2\)"),
        (lambda: nra.energy_distance(CLOUD, RNG.normal(size=(10, 3))), "same dimension"),
        (lambda: nra.total_variance(TRAJ[0]), r"\(B, T, d\).*\[None\]"),
        (lambda: nra.total_variance(TRAJ, burn_in=19), "at least 2 time steps after the burn-in"),
        (lambda: nra.total_variance(with_nan(TRAJ)), "NaN"),
        (lambda: nra.stepwise_distance(TRAJ[:, :1]), "at least 2"),
        (lambda: nra.explained_variance(TRAJ, n_components=3), r"min\(samples, units\) = min\(80, 2\)"),
        (lambda: nra.explained_variance(TRAJ[0, 0]), "at least one leading axis"),
        (lambda: nra.project(TRAJ, nra.fit_pca(RNG.normal(size=(50, 3)))), "fitted on 3"),
        (lambda: nra.project(TRAJ, nra.fit_pca(TRAJ), n_components=5), "exceeds the 2"),
        (lambda: nra.angular_velocity(np.zeros(10)), r"\[None\]"),
        (lambda: nra.angular_velocity(np.zeros((2, 10)), unwrap="numpy"), "'reference' or 'wrap'"),
        (lambda: nra.circular_kl([0.1], [0.2], pseudocount=0), "pseudocount must be a positive"),
        (lambda: nra.circular_mean([]), "empty"),
        (lambda: nra.bootstrap_interval(np.mean, CLOUD, ci=95), "strictly between 0 and 1"),
        (lambda: nra.bootstrap_interval(lambda a: a.mean(axis=0), CLOUD), "must return one number"),
        (lambda: nra.bootstrap_interval(np.mean, np.empty((0, 2))), "at least one sample"),
        (lambda: nra.uniform_box_samples(10, d=0), "d must be >= 1"),
    ],
)
def test_bad_input_raises_value_error_with_a_fix(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: nra.kde([["a", "b"], ["c", "d"]]), "numeric array"),
        (lambda: nra.kl_divergence(CLOUD, CLOUD, n_mc=2.5), "n_mc must be an integer"),
        (lambda: nra.kl_divergence(CLOUD, CLOUD, seed="zero"), "seed must be None"),
        (lambda: nra.project(TRAJ, "pca"), "fitted sklearn"),
        (lambda: nra.bootstrap_interval("mean", CLOUD), "stat_fn must be callable"),
        (lambda: nra.random_weights(8, 2, 4, 4.0), "n_init must be an integer"),
        (lambda: nra.fit_pca(None), r"is None\. .*record=\('h',\)"),   # rec.h of a run that did not record h
    ],
)
def test_wrong_types_raise_type_error(call, match):
    with pytest.raises(TypeError, match=match):
        call()


def test_torch_tensors_are_accepted():
    torch = pytest.importorskip("torch")
    x = torch.tensor(TRAJ, requires_grad=True)
    assert nra.total_variance(x) == pytest.approx(nra.total_variance(TRAJ))
