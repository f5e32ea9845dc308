"""The brian2 backend against a plain torch float64 reference (design.md §5).

The reference is written here with ``network.to_torch`` and ``Cell.step`` (not the torch backend), so these
tests hold the Brian2 export to the one definition of the dynamics.
"""

import itertools
import math
import warnings

import brian2
import numpy as np
import pytest
from backend_cases import (
    DT,
    A,
    D,
    diverging_run,
    float32_error_bound,
    inputs,
    make_net,
    noise_instances,
    torch_reference,
)
from brian2 import StateMonitor, prefs
from netfactory import divergence_step_and_time

from neurorx import FrozenNoise, OUNoise, ReferenceUniformNoise, WhiteNoise
from neurorx.backends import BACKENDS, Segment, SimulationError, get_backend
from neurorx.backends import brian2_backend as bb
from neurorx.backends.brian2.inputs import INPUT_OFFSET

CELLS = [("vanilla", "relu"), ("vanilla", "tanh"), ("gru", "tanh"), ("gru", "relu")]


def run(net, segments, trials, **kw):
    kw.setdefault("seed", 0)
    kw.setdefault("target", "numpy")
    chunks = list(get_backend("brian2").simulate(net, segments, trials=trials, **kw))
    return np.concatenate([c.h for c in chunks], axis=1), chunks


# -- 1. noise off: equal to torch -------------------------------------------------------------------------
@pytest.mark.parametrize("coupling", ["matmul", "synapses"])
@pytest.mark.parametrize(("cell", "activation"), CELLS)
def test_noise_off_equals_torch(cell, activation, coupling):
    b, t = 3, 20
    net = make_net(cell, activation)
    h0 = net.encode_init(np.random.default_rng(2).normal(size=(b, 4)))
    segs = [Segment("active", t, inputs(b, t, 2), {}, h0), Segment("quiet", 9, np.zeros((b, 9, 2)))]
    h, chunks = run(net, segs, b, coupling=coupling, chunk_steps=7)
    assert [(c.segment, c.start, c.h.shape) for c in chunks] == [
        (0, 0, (b, 7, 8)), (0, 7, (b, 7, 8)), (0, 14, (b, 6, 8)), (1, 0, (b, 7, 8)), (1, 7, (b, 2, 8))]
    np.testing.assert_allclose(h, torch_reference(net, segs), rtol=0, atol=1e-9)


@pytest.mark.parametrize(("cell", "coupling"), [("vanilla", "matmul"), ("gru", "matmul"), ("vanilla", "synapses")])
def test_noise_off_equals_torch_with_cython(cell, coupling):
    b, t = 3, 20
    net = make_net(cell, "relu")
    segs = [Segment("active", t, inputs(b, t, 2), {}, np.random.default_rng(3).normal(size=(b, 8)))]
    h, _ = run(net, segs, b, target="cython", coupling=coupling)
    np.testing.assert_allclose(h, torch_reference(net, segs), rtol=0, atol=1e-9)


def test_cython_cache_directory_is_used(tmp_path, monkeypatch):
    from brian2.codegen.runtime.cython_rt.extension_manager import cython_extension_manager

    monkeypatch.setattr(cython_extension_manager, "_code_cache", {})   # no modules compiled earlier in-process
    b, t = 2, 4
    net = make_net("vanilla", "tanh", n=5)
    segs = [Segment("active", t, inputs(b, t, 2), {}, np.ones((b, 5)))]
    h, _ = run(net, segs, b, target="cython", cache_dir=tmp_path / "cache")
    np.testing.assert_allclose(h, torch_reference(net, segs), rtol=0, atol=1e-9)
    assert list((tmp_path / "cache").glob("_cython_magic_*.so")), "the compiled modules went elsewhere"


def test_cython_failure_falls_back_to_numpy_once(monkeypatch, tmp_path):
    monkeypatch.setattr(bb, "_CYTHON_FAILED", [])
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    b, t = 2, 5
    net = make_net(n=5)
    segs = [Segment("active", t, inputs(b, t, 2), {}, np.ones((b, 5)))]
    with pytest.warns(RuntimeWarning, match="numpy target"):
        h, _ = run(net, segs, b, target="auto", cache_dir=blocker / "cache")
    np.testing.assert_allclose(h, torch_reference(net, segs), rtol=0, atol=1e-9)
    with warnings.catch_warnings(record=True) as caught:  # warned once: the second run is silent
        warnings.simplefilter("always")
        run(net, segs, b, target="auto", cache_dir=blocker / "cache")
    assert not [w for w in caught if "numpy target" in str(w.message)]
    with pytest.raises(SimulationError, match="cython"):
        run(net, segs, b, target="cython", cache_dir=blocker / "cache")


# -- 2. frozen noise: pathwise equal ----------------------------------------------------------------------
@pytest.mark.parametrize("coupling", ["matmul", "synapses"])
@pytest.mark.parametrize("cell", ["vanilla", "gru"])
def test_frozen_noise_pathwise_equal(cell, coupling):
    b, t, n = 3, 20, 8
    net = make_net(cell, "tanh")
    inc = 0.05 * np.random.default_rng(4).normal(size=(t, b, n))
    segs = [Segment("active", t, inputs(b, t, 2), {"recurrent": FrozenNoise(inc, dt=DT)}, np.zeros((b, n)))]
    h, _ = run(net, segs, b, coupling=coupling)
    np.testing.assert_allclose(h, torch_reference(net, segs, [inc]), rtol=0, atol=1e-9)


@pytest.mark.parametrize("coupling", ["matmul", "synapses"])
@pytest.mark.parametrize("cell", ["vanilla", "gru"])
def test_dt_factor_is_euler_at_the_finer_step(cell, coupling):
    # dt_factor=k: k Euler steps of dt/k per training step, inputs held, the state reported every k-th.
    b, t, n, k = 3, 8, 8, 3
    net = make_net(cell, "tanh")
    inc = 0.05 * np.random.default_rng(14).normal(size=(t * k, b, n))
    segs = [Segment("a", t, inputs(b, t, 2), {"recurrent": FrozenNoise(inc, dt=D / k)}, np.ones((b, n)))]
    h, chunks = run(net, segs, b, dt_factor=k, chunk_steps=5, coupling=coupling)
    assert [c.h.shape[1] for c in chunks] == [5, 3]
    np.testing.assert_allclose(h, torch_reference(net, segs, [inc], substeps=k), rtol=0, atol=1e-9)


def test_frozen_input_noise_is_added_to_the_inputs():
    b, t, n = 3, 12, 8
    net = make_net("vanilla", "tanh")
    x = inputs(b, t, 2)
    inc = 0.3 * np.random.default_rng(5).normal(size=(t, b, 2))
    segs = [Segment("active", t, x, {"input": FrozenNoise(inc, dt=DT, placement="input")}, np.zeros((b, n)))]
    h, _ = run(net, segs, b)
    ref = torch_reference(net, [Segment("active", t, x + inc.transpose(1, 0, 2), {}, np.zeros((b, n)))])
    np.testing.assert_allclose(h, ref, rtol=0, atol=1e-9)


# -- 3. random noise: stationary moments of a leaky linear unit ----------------------------------------
# With zero weights a vanilla identity unit leaks at rate 1/tau; a GRU unit (z = sigmoid(0) = 1/2, candidate
# tanh(0) = 0) leaks at 1/(2 tau). Both backends, both couplings, both cells must give the same moments.
SETUPS = [("brian2", "vanilla", "matmul"), ("brian2", "vanilla", "synapses"), ("brian2", "gru", "matmul"),
          ("torch", "vanilla", None), ("torch", "gru", None)]


def _leaky_stats(noise, dt_factor, backend="brian2", cell="vanilla", coupling="matmul", trials=50, n=40,
                 steps=400, burn=50, seed=0):
    g = 3 if cell == "gru" else 1
    net = make_net(cell, "identity" if cell == "vanilla" else "tanh", n=n, n_in=1, w_rec=np.zeros((g * n, n)),
                   w_in=np.zeros((g * n, 1)), bias=False)
    segs = [Segment("q", steps, np.zeros((trials, steps, 1)), {"recurrent": noise}, np.zeros((trials, n)))]
    opts = {"target": "numpy", "coupling": coupling} if backend == "brian2" else {}
    chunks = get_backend(backend).simulate(net, segs, trials=trials, dt_factor=dt_factor, seed=seed,
                                           chunk_steps=steps, **opts)
    h = np.concatenate([c.h for c in chunks], axis=1)
    x = h[:, burn:, :].transpose(0, 2, 1).reshape(trials * n, -1)   # one row per independent unit
    mean_u, var_u = x.mean(axis=1), x.var(axis=1)
    k = len(mean_u)
    # Units are independent (w_rec = 0): the spread of the per-unit time averages gives honest standard
    # errors whatever the autocorrelation in time.
    return mean_u.mean(), mean_u.std() / math.sqrt(k), var_u.mean() + mean_u.var(), var_u.std() / math.sqrt(k)


def _leak(cell, dt_factor):
    """Euler retention factor alpha = 1 - delta/tau_eff of the zero-weight unit."""
    return 1 - (D / dt_factor) / 0.1 / (2 if cell == "gru" else 1)


def _ar1_var(q, alpha):
    """Stationary variance of x' = alpha*x + e with Var(e) = q."""
    return q / (1.0 - alpha**2)


@pytest.mark.parametrize(("backend", "cell", "coupling"), SETUPS)
@pytest.mark.parametrize("dt_factor", [1, 2])
def test_white_noise_stationary_moments(dt_factor, backend, cell, coupling):
    # Leaky unit dh = -h/tau dt + sigma dW, Euler at step delta: h' = (1-a)h + sigma*sqrt(delta)*xi with
    # a = delta/tau, so Var = sigma^2 delta / (1 - (1-a)^2) (-> sigma^2 tau/2 as delta -> 0; at delta = D it
    # is 1/(1 - a/2) times larger than the continuous value).
    sigma = 0.5
    delta = D / dt_factor
    mean, se_mean, var, se_var = _leaky_stats(WhiteNoise(sigma), dt_factor, backend, cell, coupling)
    expected = _ar1_var(sigma**2 * delta, _leak(cell, dt_factor))
    assert abs(mean) < 5 * se_mean
    assert abs(var - expected) < 5 * se_var, (var, expected, se_var)
    assert se_var / expected < 0.01  # the test resolves the (1 - a/2) discretisation factor (10 % at a=0.2)


@pytest.mark.parametrize(("backend", "cell", "coupling"), SETUPS)
@pytest.mark.parametrize("dt_factor", [1, 2])
def test_reference_uniform_noise_stationary_moments(dt_factor, backend, cell, coupling):
    # Drift mu = s/(2D) plus diffusion c = s/sqrt(12 D): mean mu*tau_eff, Var = c^2 delta / (1 - alpha^2).
    # The torch backend draws the reference's uniform increments at dt_factor=1 (same mean and variance).
    noise = ReferenceUniformNoise(scale=0.1, dt_train=D)
    tau_eff = 0.1 * (2 if cell == "gru" else 1)
    mean, se_mean, var, se_var = _leaky_stats(noise, dt_factor, backend, cell, coupling)
    assert abs(mean - noise.drift * tau_eff) < 5 * se_mean
    expected = _ar1_var(noise.diffusion**2 * D / dt_factor, _leak(cell, dt_factor))
    assert abs(var - expected) < 5 * se_var, (var, expected, se_var)


@pytest.mark.parametrize(("backend", "cell", "coupling"), SETUPS)
@pytest.mark.parametrize("dt_factor", [1, 2])
def test_ou_noise_stationary_moments(dt_factor, backend, cell, coupling):
    # h' = alpha*h + delta*eta, eta' = beta*eta + (sigma/tau_n) sqrt(delta) xi with beta = 1-b,
    # b = delta/tau_n; Var(delta*eta) = delta^2 sigma^2/(2 tau_n)/(1-b/2) and
    # Var(h) = Var(delta*eta) (1 + alpha*beta) / ((1 - alpha^2)(1 - alpha*beta)).
    noise = OUNoise(sigma=0.5, tau_noise=0.04)
    delta = D / dt_factor
    alpha, beta = _leak(cell, dt_factor), 1 - delta / 0.04
    v_y = delta**2 * noise.stationary_variance(delta)
    expected = v_y * (1 + alpha * beta) / ((1 - alpha**2) * (1 - alpha * beta))
    mean, se_mean, var, se_var = _leaky_stats(noise, dt_factor, backend, cell, coupling)
    assert abs(mean) < 5 * se_mean
    assert abs(var - expected) < 5 * se_var, (var, expected, se_var)


# -- 4. dt convergence ------------------------------------------------------------------------------------
@pytest.mark.parametrize("coupling", ["matmul", "synapses"])
@pytest.mark.parametrize("cell", ["vanilla", "gru"])
def test_dt_convergence_is_first_order(cell, coupling):
    b, t, n, finest = 3, 20, 8, 64
    net = make_net(cell, "tanh", rec_scale=1.5)
    x = inputs(b, t, 2)
    inc = 0.2 * math.sqrt(D / finest) * np.random.default_rng(6).normal(size=(t * finest, b, n))
    noise = FrozenNoise(inc, dt=D / finest)
    h0 = np.random.default_rng(7).normal(size=(b, n))

    def solve(k):
        return run(net, [Segment("a", t, x, {"recurrent": noise}, h0)], b, dt_factor=k, chunk_steps=t,
                   coupling=coupling)[0]

    ref = solve(finest)
    errors = [np.sqrt(np.mean((solve(k) - ref) ** 2)) for k in (1, 2, 4, 8)]
    ratios = [e1 / e2 for e1, e2 in itertools.pairwise(errors)]
    assert all(1.6 < r < 2.5 for r in ratios), (errors, ratios)


# -- 5. every noise model, every placement ----------------------------------------------------------------
@pytest.mark.parametrize("cell", ["vanilla", "gru"])
@pytest.mark.parametrize("placement", ["recurrent", "input", "output"])
def test_every_noise_model_runs(placement, cell):
    b, t, n, k = 3, 6, 8, 2
    net = make_net(cell, "tanh")
    models = noise_instances(placement, b, t, n, 2, k)   # every registered model
    x, h0 = inputs(b, t, 2), np.random.default_rng(9).normal(size=(b, n))
    segs = [Segment(name, t, x, {placement: m}, h0) for name, m in models.items()]
    h, chunks = run(net, segs, b, dt_factor=k)
    quiet, _ = run(net, [Segment("off", t, x, {}, h0)], b, dt_factor=k)
    assert [c.segment for c in chunks] == list(range(len(models)))
    assert np.all(np.isfinite(h))
    for s, (name, m) in enumerate(models.items()):
        block = h[:, s * t : (s + 1) * t]
        if placement == "output" or m.is_zero:
            np.testing.assert_allclose(block, quiet, rtol=0, atol=1e-12, err_msg=name)
        else:
            assert np.abs(block - quiet).max() > 1e-3, name


# -- 6. weight layout -------------------------------------------------------------------------------------
@pytest.mark.parametrize("coupling", ["matmul", "synapses"])
def test_weight_layout_first_step(coupling):
    n, b = 4, 2
    w = np.zeros((n, n))
    w[0, 1] = 2.0   # unit 1 -> unit 0 (torch [post, pre])
    w[2, 3] = -1.0  # unit 3 -> unit 2
    net = make_net("vanilla", "identity", n=n, n_in=1, w_rec=w, w_in=np.zeros((n, 1)), bias=False)
    h0 = np.array([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    segs = [Segment("step", 1, np.zeros((b, 1, 1)), {}, h0)]
    h, _ = run(net, segs, b, coupling=coupling)
    expected = (1 - A) * h0 + A * h0 @ w.T
    np.testing.assert_allclose(h[:, 0], expected, rtol=0, atol=1e-12)
    assert h[0, 0, 0] == pytest.approx(2 * A) and h[0, 0, 2] == 0.0   # not the transpose
    assert h[1, 0, 2] == pytest.approx(-A) and h[1, 0, 3] == pytest.approx(1 - A)
    np.testing.assert_allclose(h, torch_reference(net, segs), rtol=0, atol=1e-12)


@pytest.mark.parametrize("coupling", ["matmul", "synapses"])
def test_gru_weight_layout_every_gate_block(coupling):
    # An asymmetric w_rec (3 blocks [post, pre]) drives each gate and the candidate's g*h source; Brian2 must
    # equal the torch step, and a transposed block must not.
    n, b, t = 5, 2, 4
    rng = np.random.default_rng(21)
    w = np.concatenate([np.triu(rng.normal(size=(n, n)) * 1.5, k=1) for _ in range(3)])   # asymmetric blocks
    net = make_net("gru", "tanh", n=n, w_rec=w)
    h0 = rng.normal(size=(b, n))
    segs = [Segment("a", t, inputs(b, t, 2), {}, h0)]
    h, _ = run(net, segs, b, coupling=coupling)
    np.testing.assert_allclose(h, torch_reference(net, segs), rtol=0, atol=1e-12)
    for blk in range(3):
        wt = w.copy()
        wt[blk * n : (blk + 1) * n] = w[blk * n : (blk + 1) * n].T
        assert np.abs(h - torch_reference(make_net("gru", "tanh", n=n, w_rec=wt), segs)).max() > 1e-3, blk


# -- phases -----------------------------------------------------------------------------------------------
def test_phases_switch_noise_type_continue_and_reset():
    b, t, n = 3, 10, 8
    net = make_net("vanilla", "tanh")
    x = inputs(b, t, 2)
    h0 = np.random.default_rng(10).normal(size=(b, n))
    inc = 0.05 * np.random.default_rng(11).normal(size=(t, b, n))
    segs = [
        Segment("white", t, x, {"recurrent": WhiteNoise(2.0)}, h0),
        Segment("frozen", t, x, {"recurrent": FrozenNoise(inc, dt=DT)}),   # continues
        Segment("ou", t, x, {"recurrent": OUNoise(2.0, 0.05)}),
        Segment("none", t, x, {}),
        Segment("reset", t, x, {}, h0),
    ]
    h, _ = run(net, segs, b, chunk_steps=4)
    blocks = [h[:, s * t : (s + 1) * t] for s in range(len(segs))]
    # white noise is off in phase 1: frozen pathwise from phase 0's end state
    np.testing.assert_allclose(blocks[1], torch_reference(net, [segs[1]], [inc], blocks[0][:, -1]), atol=1e-9)
    # OU state is zeroed once OU is inactive: deterministic from phase 2's end state
    np.testing.assert_allclose(blocks[3], torch_reference(net, [segs[3]], None, blocks[2][:, -1]), atol=1e-9)
    # a reset starts again from h0
    np.testing.assert_allclose(blocks[4], torch_reference(net, [segs[4]]), atol=1e-9)
    assert np.abs(blocks[2] - torch_reference(net, [segs[2]], None, blocks[1][:, -1])).max() > 1e-3


def test_same_seed_same_result():
    b, t = 3, 10
    net = make_net("vanilla", "relu")
    segs = [Segment("a", t, inputs(b, t, 2), {"recurrent": WhiteNoise(0.5)}, np.zeros((b, 8))),
            Segment("b", t, np.zeros((b, t, 2)), {"recurrent": OUNoise(0.5, 0.05), "input": WhiteNoise(1.0)})]
    h1, _ = run(net, segs, b, seed=3, chunk_steps=4)
    h2, _ = run(net, segs, b, seed=3, chunk_steps=4)
    h3, _ = run(net, segs, b, seed=4, chunk_steps=4)
    np.testing.assert_array_equal(h1, h2)
    assert np.abs(h1 - h3).max() > 1e-3
    # successive chunks draw fresh noise (per-run seeds are derived, not repeated)
    inc = np.diff(h1[:, :8], axis=1)
    assert np.abs(inc[:, :3] - inc[:, 4:7]).max() > 1e-3


def test_the_euler_updater_draws_the_noise_variables_in_sorted_order():
    from brian2 import Equations
    from brian2.stateupdaters.explicit import euler

    eqs = Equations("dh/dt = -h/(10*ms) + a*xi_white_/sqrt(ms) + c*xi_ou_/sqrt(ms) + d*xi_b_/sqrt(ms) : 1\n"
                    "a : 1\nc : 1\nd : 1")
    ours, brian2s = bb.euler_sorted_draws(eqs).split("\n"), euler(eqs).split("\n")
    assert ours[:3] == [f"{xi} = dt**.5 * randn()" for xi in ("xi_b_", "xi_ou_", "xi_white_")]
    assert sorted(ours[:3]) == sorted(brian2s[:3]) and ours[3:] == brian2s[3:]


_HASH_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
import numpy as np
from backend_cases import inputs, make_net
from neurorx import OUNoise, WhiteNoise
from neurorx.backends import Segment, get_backend
net = make_net("vanilla", "relu")
segs = [Segment("a", 6, inputs(2, 6, 2), {{"recurrent": WhiteNoise(0.5)}}, np.zeros((2, 8))),
        Segment("b", 6, np.zeros((2, 6, 2)), {{"recurrent": OUNoise(0.5, 0.05)}})]
chunks = get_backend("brian2").simulate(net, segs, trials=2, seed=3, target="numpy")
print(list({{"xi_white_", "xi_ou_"}}), np.concatenate([c.h for c in chunks], axis=1).tobytes().hex())
"""


def test_the_same_seed_gives_the_same_paths_in_processes_with_other_string_hashing():
    """Two noise types in one network (white, then OU): Brian2 draws them in an order it takes from a set of
    names, which Python orders differently in each process unless the draws are sorted."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = _HASH_SCRIPT.format(tests=str(Path(__file__).parent))
    out = {}
    for hash_seed in ("0", "1"):   # CPython 3.11 orders {"xi_white_", "xi_ou_"} one way under 0, the other under 1
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                              env={**os.environ, "PYTHONHASHSEED": hash_seed})
        assert done.returncode == 0, done.stderr[-2000:]
        set_order, paths = done.stdout.strip().rsplit("\n", 1)[-1].split("] ")
        out[hash_seed] = (set_order, paths)
    assert len({order for order, _ in out.values()}) == 2, "the hash seeds must order the set both ways"
    assert len({paths for _, paths in out.values()}) == 1


def test_record_every_and_float32():
    b, t = 2, 10
    net = make_net()
    segs = [Segment("a", t, inputs(b, t, 2), {}, np.ones((b, 8)))]
    full, _ = run(net, segs, b)
    sub, chunks = run(net, segs, b, record_every=2, chunk_steps=5, dtype="float32")
    assert sub.dtype == np.float32 and [c.h.shape[1] for c in chunks] == [2, 3]
    np.testing.assert_allclose(sub, full[:, 1::2], rtol=1e-6)


# -- float32: Brian2's core.default_float_dtype ----------------------------------------------------------
def _built(monkeypatch):
    """Capture the assemblies ``simulate`` builds."""
    built = []
    assemble = bb._assemble

    def spy(*args, **kw):
        built.append(assemble(*args, **kw))
        return built[-1]

    monkeypatch.setattr(bb, "_assemble", spy)
    return built


def _float32_cases():
    """Every cell x coupling on numpy; on cython one case runs by default and the rest are ``slow``.

    The dtypes checked are those of Brian2's variables, which the target does not choose; the cython case
    checks that the generated code runs in float32 too. Each cython case compiles its own modules (seconds
    each on a cold cache), so the full cython matrix runs with ``-m slow``.
    """
    cases = []
    for target, cell, coupling in itertools.product(["numpy", "cython"], ["vanilla", "gru", "dale"],
                                                    ["matmul", "synapses"]):
        slow = target == "cython" and (cell, coupling) != ("vanilla", "matmul")
        cases.append(pytest.param(cell, coupling, target, id=f"{cell}-{coupling}-{target}",
                                  marks=[pytest.mark.slow] if slow else []))
    return cases


@pytest.mark.parametrize(("cell", "coupling", "target"), _float32_cases())
def test_float32_simulates_in_float32_and_restores_brian2s_prefs(monkeypatch, cell, coupling, target):
    b, t, n = 2, 6, 8
    net = make_net(cell, "tanh")
    built = _built(monkeypatch)
    segs = [Segment("a", t, inputs(b, t, 2), {"recurrent": OUNoise(0.3, 0.05)}, np.ones((b, n)))]
    h32, chunks = run(net, segs, b, dtype="float32", coupling=coupling, target=target)
    assert prefs["core.default_float_dtype"] is np.float64   # the pref was set for the call only
    assert h32.dtype == np.float32 and all(c.h.dtype == np.float32 for c in chunks)
    (assembly,) = built
    clock, state = {}, {}
    for obj in assembly.net.objects:
        for name, var in getattr(obj, "variables", {}).items():
            if getattr(var, "dtype", None) is not None and np.dtype(var.dtype).kind == "f":
                kind = clock if isinstance(var.owner, brian2.Clock) or INPUT_OFFSET in name else state
                kind[f"{obj.name}.{name}"] = np.dtype(var.dtype)
    # Brian2 keeps t and dt in float64 by design, and the input window's offset is a time like t
    assert clock and set(clock.values()) == {np.dtype(np.float64)}
    assert any(k.endswith(f".{INPUT_OFFSET}") for k in clock)
    assert any(k.endswith(".h") for k in state) and any(k.endswith(".ou_eta") for k in state)
    assert set(state.values()) == {np.dtype(np.float32)}, [k for k, v in state.items() if v != np.float32]
    if coupling == "synapses":
        assert any(k.endswith(".w") for k in state)
    h64, _ = run(net, segs, b, coupling=coupling, target=target)
    assert h64.dtype == np.float64
    assert 0 < np.abs(h32 - h64).max() < 1e-3   # rounded differently, same noise path (drawn in float64)


def test_float32_restores_the_prefs_when_the_run_fails():
    b = 2
    net, segs, _ = diverging_run(b)   # its second phase starts at h = 1e200, beyond float32: inf at once
    with pytest.raises(SimulationError, match="diverged"), pytest.warns(RuntimeWarning, match="overflow"):
        run(net, segs, b, dtype="float32")
    assert prefs["core.default_float_dtype"] is np.float64


@pytest.mark.parametrize(("target", "coupling"), [("numpy", "matmul"), ("cython", "matmul"), ("numpy", "synapses")])
@pytest.mark.parametrize("noise", ["off", "frozen"])
def test_float32_agrees_with_float64_within_the_float32_rounding_bound(noise, target, coupling):
    """Every state of a float32 run lies within the forward-error bound of float32 rounding around the float64
    run (:func:`backend_cases.float32_error_bound`, derived from the unit roundoff 2**-24 and the weights, not
    fitted), and differs from it by more than float64 rounding could (it really ran in float32)."""
    b, t, n = 3, 20, 8
    net = make_net("vanilla", "tanh")
    inc = 0.05 * np.random.default_rng(4).normal(size=(t, b, n))
    rec = {} if noise == "off" else {"recurrent": FrozenNoise(inc, dt=DT)}
    segs = [Segment("a", t, inputs(b, t, 2), rec, np.random.default_rng(2).normal(size=(b, n))),
            Segment("q", 10, np.zeros((b, 10, 2)))]
    h64, _ = run(net, segs, b, target=target, coupling=coupling)
    h32, _ = run(net, segs, b, target=target, coupling=coupling, dtype="float32")
    bound = float32_error_bound(net, segs, h64, None if noise == "off" else [inc, None])
    err = np.abs(h32.astype(np.float64) - h64)
    assert np.all(err <= bound), f"worst err/bound {np.max(err / bound):.3g}"
    assert err.max() > 1e-10


# -- errors ----------------------------------------------------------------------------------------------
def _error_cases():
    b, t, n = 2, 4, 8
    x, h0 = np.zeros((b, t, 2)), np.zeros((b, n))
    ok = [Segment("a", t, x, {}, h0)]
    return [
        ({"segments": [Segment("a", t, np.zeros((b, t, 3)), {}, h0)]}, ValueError, r"inputs have shape"),
        ({"segments": [Segment("a", t, np.zeros((b + 1, t, 2)), {}, h0)]}, ValueError, r"\(trials, steps, n_in\)"),
        ({"segments": [Segment("a", t, x, {}, np.zeros((b, n + 1)))]}, ValueError, r"h0 has shape"),
        ({"segments": [Segment("a", t, x, {})]}, ValueError, r"it is the first; give it an h0"),
        ({"segments": ok, "dt_factor": 0}, ValueError, "dt_factor"),
        ({"segments": ok, "dt_factor": 1.5}, ValueError, "dt_factor"),
        ({"segments": ok, "dt_factor": True}, ValueError, "dt_factor"),
        ({"segments": ok, "coupling": "dense"}, ValueError, r"unknown coupling 'dense'; choose one of"),
        ({"segments": ok, "target": "cpp"}, ValueError, "choose one of"),
        ({"segments": ok, "dtype": "int32"}, ValueError, "dtype"),
        ({"segments": ok, "chunk_steps": 0}, ValueError, "chunk_steps"),
        ({"segments": [Segment("a", t, x, {"recurrent": FrozenNoise(np.zeros((t, b, n + 1)))}, h0)]},
         ValueError, r"segment 0 \('a'\), recurrent noise: .*trials"),
        ({"segments": [Segment("a", t, x, {"recurrent": FrozenNoise(np.zeros((t - 1, b, n)), dt=DT)}, h0)]},
         ValueError, "supply more increments"),
        ({"segments": [Segment("a", t, x, {"recurrent": OUNoise(0.1, 0.005)}, h0)]}, ValueError, "unstable"),
        ({"segments": [Segment("a", t, x, {"hidden": WhiteNoise(0.1)}, h0)]}, ValueError, "placement"),
    ]


@pytest.mark.parametrize(("kw", "exc", "match"), _error_cases())
def test_bad_arguments_raise_clear_errors(kw, exc, match):
    kw = dict(kw)
    segments = kw.pop("segments")
    with pytest.raises(exc, match=match):
        run(make_net(), segments, 2, **kw)


def test_divergence_raises_simulation_error_naming_the_phase():
    b = 2
    net, segs, expected = diverging_run(b)
    for every in (1, 4):
        gen = get_backend("brian2").simulate(net, segs, trials=b, seed=0, target="numpy", chunk_steps=50,
                                             record_every=every)
        assert next(gen).segment == 0
        with pytest.raises(SimulationError, match=r"phase 'boom' at step \d+ of 400") as info:
            list(gen)
        step, t = divergence_step_and_time(info.value)
        reported = -(-expected // every) * every   # the first reported step at or after the overflow
        assert step == reported and t == pytest.approx(1.0 + reported * D, rel=1e-3)


# -- Brian2 network for users; devices -------------------------------------------------------------------
@pytest.mark.parametrize("coupling", ["matmul", "synapses"])
def test_build_network_is_a_plain_brian2_network(coupling):
    b, t, n = 2, 6, 8
    net = make_net("vanilla", "tanh")
    x, h0 = inputs(b, t, 2), np.random.default_rng(12).normal(size=(b, n))
    bnet = bb.build_network(net, b, inputs=x, h0=h0, coupling=coupling)
    assert isinstance(bnet, brian2.Network)
    neurons = bnet["neurons"]
    assert neurons.N == b * n and list(neurons.trial[:]) == [0] * n + [1] * n
    assert ("recurrent" if coupling == "synapses" else "recurrent_matmul") in [o.name for o in bnet.objects]
    mon = StateMonitor(neurons, "h", record=True, when="end")
    bnet.add(mon)
    old = prefs.codegen.target
    prefs.codegen.target = "numpy"
    try:
        bnet.run(t * DT, namespace={})
    finally:
        prefs.codegen.target = old
    h = mon.h_.T.reshape(t, b, n).transpose(1, 0, 2)
    np.testing.assert_allclose(h, torch_reference(net, [Segment("a", t, x, {}, h0)]), rtol=0, atol=1e-9)


@pytest.mark.parametrize("coupling", ["matmul", "synapses"])
def test_gru_network_names_its_currents(coupling):
    bnet = bb.build_network(make_net("gru", "tanh"), 2, coupling=coupling)
    names = {o.name for o in bnet.objects} | {o.name for o in bnet["neurons"].contained_objects}
    prefix = "recurrent_matmul" if coupling == "matmul" else "recurrent"
    assert {f"{prefix}_I_zrec", f"{prefix}_I_grec", f"{prefix}_I_hrec", "source_I_hrec", "neurons"} <= names


@pytest.mark.parametrize(("kw", "match"), [
    ({"inputs": np.zeros((2, 5, 3))}, r"inputs have shape \(2, 5, 3\); expected \(trials, steps, n_in\)"),
    ({"inputs": np.zeros((3, 5, 2))}, r"inputs have shape"),
    ({"h0": np.zeros((2, 9))}, r"h0|shape"),
])
def test_build_network_refuses_arrays_of_the_wrong_shape(kw, match):
    with pytest.raises(ValueError, match=match):
        bb.build_network(make_net(), 2, **kw)


def test_registered_and_couplings_resolve():
    assert BACKENDS.get("brian2") is get_backend("brian2")
    assert bb.resolve_coupling("auto") == "matmul"
    with pytest.raises(ValueError, match="choose one of"):
        bb.build_network(make_net(), 2, coupling="sparse")


@pytest.fixture
def standalone(tmp_path):
    directory = str(tmp_path / "standalone")
    brian2.set_device("cpp_standalone", directory=directory, build_on_run=False)
    device = brian2.get_device()
    device.test_directory = directory  # build() defaults to ./output otherwise
    try:
        yield device
    finally:
        brian2.device.reinit()
        brian2.device.activate()
        brian2.set_device("runtime")


def test_standalone_refuses_matmul_and_simulate(standalone):
    assert bb.resolve_coupling("auto") == "synapses"
    with pytest.raises(ValueError, match="silently drops"):
        bb.build_network(make_net(), 2, coupling="matmul")
    segs = [Segment("a", 2, np.zeros((2, 2, 2)), {}, np.zeros((2, 8)))]
    with pytest.raises(SimulationError, match="build_network"):
        list(bb.simulate(make_net(), segs, trials=2, seed=0))


def test_synapses_coupling_in_cpp_standalone(standalone):
    # a few seconds: Brian2 compiles the whole standalone project
    b, t, n = 2, 6, 8
    net = make_net("vanilla", "tanh")
    x, h0 = inputs(b, t, 2), np.random.default_rng(13).normal(size=(b, n))
    bnet = bb.build_network(net, b, inputs=x, h0=h0)
    mon = StateMonitor(bnet["neurons"], "h", record=True, when="end")
    bnet.add(mon)
    bnet.run(t * DT, namespace={})
    standalone.build(directory=standalone.test_directory, run=True, compile=True)
    h = np.asarray(mon.h_).T.reshape(t, b, n).transpose(1, 0, 2)
    np.testing.assert_allclose(h, torch_reference(net, [Segment("a", t, x, {}, h0)]), rtol=0, atol=1e-9)
