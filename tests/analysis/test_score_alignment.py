"""Score alignment: the quiescent drift against the score of the active states (neurorx.analysis.score).

The known answer: a linear network (identity activation, symmetric stable W_rec, white noise) is an
Ornstein-Uhlenbeck-type Euler map h' = A h + s*xi with A = I + a(W - I). Its stationary law is N(0, Sigma) with
Sigma = A Sigma A^T + s^2 I (discrete Lyapunov), so the score is -Sigma^{-1} h in closed form.
"""

import math

import numpy as np
import pytest
from brian2 import ms
from scipy.linalg import solve_discrete_lyapunov

import neurorx as nrx
from neurorx.analysis import score as sc
from neurorx.noise import ReferenceUniformNoise, WhiteNoise
from neurorx.tasks import SpatialNavigation

A_STEP, S_STEP, LAMBDAS = 0.2, 0.1, (0.5, 0.8, 0.9)


def linear_network(noise=None, n_rec=3, seed=0):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(n_rec, n_rec)))
    w_rec = q @ np.diag(LAMBDAS[:n_rec]) @ q.T
    task = SpatialNavigation(n_cells=16, seed=seed)
    noise = noise if noise is not None else WhiteNoise.from_step_std(S_STEP, 20 * ms)
    return nrx.RateNetwork.from_arrays(
        encoder=rng.normal(size=(n_rec, 16)) * 0.05, w_in=np.zeros((n_rec, 2)), w_rec=w_rec,
        w_out=rng.normal(size=(16, n_rec)), tau=100 * ms, dt=20 * ms, activation="identity",
        noise={"recurrent": noise}, task=task)


@pytest.fixture(scope="module")
def ou():
    """The linear network, 100 trials of its stationary states (burn-in 150 steps, every 3rd step)."""
    net = linear_network()
    rec = nrx.Protocol([nrx.Active(steps=300)]).run(net, trials=100, seed=0, record=("h",), every=3)
    states = rec.h[:, 50:]
    euler = np.eye(3) + A_STEP * (np.asarray(net.weights["w_rec"]) - np.eye(3))
    sigma = solve_discrete_lyapunov(euler, S_STEP**2 * np.eye(3))
    return net, states, euler, sigma


@pytest.fixture(scope="module")
def aligned(ou):
    """Both estimators' alignment on the linear network (all 3 components; drift without noise mean)."""
    net, states, _, _ = ou
    return {name: sc.score_alignment(net, states, estimator=name, n_components=3, noise_mean=0, steps=800)
            for name in ("kde", "dsm")}


def closed_form(result, cov):
    """The exact score of N(0, cov) at the result's samples, in its subspace coordinates."""
    sub = result.subspace
    z = result.points.reshape(-1, sub.n_components)
    prec = np.linalg.inv(sub.components @ cov @ sub.components.T)
    return -(z + sub.mean @ sub.components.T) @ prec.T


def test_the_simulated_states_have_the_closed_form_stationary_covariance(ou):
    _, states, _, sigma = ou
    emp = np.cov(states.reshape(-1, 3).T)
    assert np.allclose(emp, sigma, atol=0.15 * np.abs(sigma).max())


def test_the_drift_is_the_cells_zero_input_euler_update_minus_the_state(ou):
    net, states, euler, _ = ou
    h = states[:4]
    assert np.allclose(sc.quiescent_drift(net, h, noise_mean=0), h @ (euler - np.eye(3)).T, atol=1e-12)


def test_the_reference_uniform_noise_mean_is_added_at_the_requested_scale():
    net = linear_network(ReferenceUniformNoise(scale=0.01, dt_train=20 * ms))
    h = np.random.default_rng(1).normal(size=(5, 3))
    bare = sc.quiescent_drift(net, h, noise_mean=0)
    assert np.allclose(sc.quiescent_drift(net, h) - bare, 0.005)                       # s/2 per step
    assert np.allclose(sc.quiescent_drift(net, h, noise_mean=math.sqrt(2)) - bare, math.sqrt(2) * 0.005)
    assert sc.noise_step_moments(net) == pytest.approx((0.005, 0.01**2 / 12))


@pytest.mark.parametrize("estimator", ["kde", "dsm"])
def test_both_estimators_recover_the_closed_form_score_and_its_scale(ou, aligned, estimator):
    _, _, _, sigma = ou
    r = aligned[estimator]
    assert r.subspace.n_components == 3
    est = r.score.reshape(-1, 3)
    exact = closed_form(r, sigma)
    assert sc.cosine_similarity(est, exact).mean() > 0.95
    # each estimator targets the law smoothed by its kernel: KDE kernel covariance, or sigma^2 I for DSM
    if estimator == "kde":
        z = r.points.reshape(-1, 3)
        smooth = sigma + r.subspace.components.T @ (np.cov(z.T) * len(z) ** (-2 / 9)) @ r.subspace.components
    else:
        smooth = sigma + r.info["dsm_sigma"] ** 2 * np.eye(3)
    target = closed_form(r, smooth)
    assert np.sum(est * target) / np.sum(target * target) == pytest.approx(1.0, abs=0.1)
    # the drift's best-fit scale against the estimate matches the one against the exact (smoothed) score
    d = r.drift.reshape(-1, 3)
    assert r.scale == pytest.approx(np.sum(d * target) / np.sum(target * target), rel=0.15)
    # and a linear Langevin sampler of its own law has scale v/2 (v = per-step noise variance)
    assert np.sum(d * exact) / np.sum(exact * exact) == pytest.approx(S_STEP**2 / 2, rel=0.15)
    assert r.mean_cosine > 0.95
    assert r.theory_scale == pytest.approx(S_STEP**2)


def test_a_shuffled_distribution_does_not_align(ou, aligned):
    net, states, _, _ = ou
    perm = np.random.default_rng(0).permutation(states.shape[0] * states.shape[1])
    # score of an unrelated law: the states rotated by 90 degrees in the plane of the first two units
    rot = np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1.0]])
    other = states.reshape(-1, 3)[perm] @ rot.T * np.array([3.0, 0.3, 1.0])
    r = sc.score_alignment(net, states, score_states=other, n_components=3, noise_mean=0)
    assert r.mean_cosine < aligned["kde"].mean_cosine - 0.2


def test_the_nonlinear_cosine_sees_only_what_an_affine_fit_leaves():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(4, 50, 2))
    bump = np.stack([np.sin(3 * z[..., 0]), np.cos(2 * z[..., 1])], axis=-1)
    r = sc.ScoreAlignment(drift=-0.5 * z + 0.1 * bump, score=-z + bump, points=z,
                          cosine=sc.cosine_similarity(-0.5 * z + 0.1 * bump, -z + bump), scale=0.0, theory_scale=0.0,
                          subspace=None, estimator="test", log_density=np.zeros((4, 50)))
    assert r.nonlinear_cosine().mean() > 0.99          # same non-affine part
    other = sc.ScoreAlignment(drift=-0.5 * z + 0.1 * bump[..., ::-1], score=-z + bump, points=z, cosine=r.cosine,
                              scale=0.0, theory_scale=0.0, subspace=None, estimator="test",
                              log_density=np.zeros((4, 50)))
    assert abs(other.nonlinear_cosine().mean()) < 0.3  # same affine part, unrelated rest


def test_bootstrap_intervals_over_trials_bracket_the_estimate(aligned):
    r = aligned["kde"]
    ci = sc.alignment_intervals(r, n_resamples=300)
    assert ci["mean_cosine"][0] <= r.mean_cosine <= ci["mean_cosine"][1]
    assert ci["scale"][0] <= r.scale <= ci["scale"][1]
    assert ci["mean_cosine"][1] - ci["mean_cosine"][0] < 0.05
    assert ci["explained_drift"][0] <= r.explained_drift() <= ci["explained_drift"][1]
    # the linear network's drift is affine: nothing is left after the affine fit, so the non-linear measure
    # and its interval are undefined (NaN), not a number that would look like agreement or its absence
    assert np.isnan(r.explained_drift(nonlinear=True)) and np.isnan(ci["explained_drift_nonlinear"]).all()


def test_every_registered_estimator_points_a_gaussian_cloud_back_to_its_mean():
    x = np.random.default_rng(0).normal(size=(3000, 2)) * [1.0, 0.5]
    for name in sc.SCORE_ESTIMATORS:
        s = sc.SCORE_ESTIMATORS.get(name)(x, x[:200], sigma=0.1, steps=300)
        assert s.shape == (200, 2)
        assert sc.cosine_similarity(s, -x[:200] / [1.0, 0.25]).mean() > 0.9, name


def test_the_torch_flow_at_the_training_step_is_the_euler_update(ou):
    net, states, _, _ = ou
    h = states[:6, 0]
    flow = sc.continuous_flow(net, h, backend="torch", dt_factor=1)
    assert np.allclose(flow, sc.quiescent_drift(net, h, noise_mean=0), atol=1e-10)
    fine = sc.continuous_flow(net, h, backend="torch", dt_factor=16)
    assert not np.allclose(fine, flow, atol=1e-6)
    assert sc.cosine_similarity(fine, flow).min() > 0.99


def test_the_brian2_flow_at_the_training_step_is_the_euler_update_and_at_dt_factor_16_close_to_it(ou):
    net, states, _, _ = ou
    h = states[:4, 0]
    euler = sc.quiescent_drift(net, h, noise_mean=0)
    assert np.allclose(sc.continuous_flow(net, h, dt_factor=1, target="numpy"), euler, atol=1e-10)
    fine = sc.continuous_flow(net, h, dt_factor=16, target="numpy")
    assert np.allclose(fine, sc.continuous_flow(net, h, backend="torch", dt_factor=16), atol=1e-10)


@pytest.mark.parametrize("cell", ["vanilla", "gru"])
def test_the_drift_of_any_cell_type_is_one_noise_free_zero_input_backend_step(cell):
    from netfactory import make_network

    net = make_network(n_rec=6, cell=cell, noise={"recurrent": WhiteNoise(sigma=0.1)})
    h = np.random.default_rng(2).normal(size=(5, 6))
    assert np.allclose(sc.quiescent_drift(net, h), sc.continuous_flow(net, h, backend="torch"), atol=1e-10)


def test_the_temperature_comparison_of_a_scaled_gaussian_follows_k_squared_over_two():
    rng = np.random.default_rng(0)
    active = rng.normal(size=(2000, 2)) * [1.0, 0.5]
    for k in (1.0, 2.0):
        quiescent = rng.normal(size=(2000, 2)) * [1.0, 0.5] * k / math.sqrt(2)
        out = sc.tempered_comparison(active, quiescent, k, grid=80)
        assert out["predicted_variance_ratio"] == pytest.approx(k**2 / 2, rel=0.15)
        assert out["sample_variance_ratio"] == pytest.approx(k**2 / 2, rel=0.1)
        # the tempered law is much closer to the scaled cloud than the active law itself (KDE tails limit it)
        assert out["kl_quiescent_tempered"] < 0.5 * out["kl_quiescent_active"]


def test_the_subspace_is_the_fewest_components_explaining_the_requested_variance():
    x = np.random.default_rng(0).normal(size=(2000, 6)) * [4.0, 2.0, 1.0, 0.1, 0.1, 0.1]
    # variances 16, 4, 1, 0.01 x 3: cumulative fractions 0.76, 0.95, 0.999
    assert sc.fit_subspace(x, variance=0.75).n_components == 1
    assert sc.fit_subspace(x, variance=0.9).n_components == 2
    assert sc.fit_subspace(x, variance=0.99).n_components == 3
    assert sc.fit_subspace(x, variance=0.999, max_components=4).n_components == 4
    sub = sc.fit_subspace(x, n_components=2)
    assert np.allclose(sub.components @ sub.components.T, np.eye(2))


def test_the_summary_is_json_and_reports_disagreement_by_density(aligned):
    import json

    summary = json.loads(json.dumps(aligned["kde"].summary()))
    assert len(summary["cosine_by_density_quintile"]) == 5
    assert summary["n_components"] == 3 and summary["estimator"] == "kde"
    assert summary["explained_drift"] == pytest.approx(aligned["kde"].explained_drift(0.5))
    assert np.mean(summary["cosine_by_density_quintile"]) == pytest.approx(summary["mean_cosine"], abs=0.01)


def test_bad_input_names_the_problem(ou):
    net, states, _, _ = ou
    with pytest.raises(ValueError, match="N=3"):
        sc.quiescent_drift(net, np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"\(trials, samples, N=3\)"):
        sc.score_alignment(net, states.reshape(-1, 3))
    with pytest.raises(ValueError, match="sigma"):
        sc.dsm_score(states.reshape(-1, 3), states[0], sigma=0.0)
    with pytest.raises(ValueError, match="unknown score estimator"):
        sc.score_alignment(net, states, estimator="nope")
