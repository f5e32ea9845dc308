"""The normalized Dale cells (dale_norm, dale_subnorm): initialisation, the normalized drive, the pool weights on
save and load, and the Brian2 groups."""

import numpy as np
import pytest
import torch
from brian2 import ms

import neurorx as nrx
from neurorx.activations import get_activation
from neurorx.backends import Segment, get_backend
from neurorx.backends import brian2_backend as bb
from neurorx.errors import ConfigurationError, FileFormatError
from neurorx.io import read_npz, write_npz
from neurorx.models import get_cell
from neurorx.models.rnn import RecurrentModel

NORM, SUB, DALE = get_cell("dale_norm"), get_cell("dale_subnorm"), get_cell("dale")
NORM_INT = get_cell("dale_norm", {"inhibition": "integrated"})
NORM_RATES = get_cell("dale_norm", {"pool_input": "rates"})
SUB_INT = get_cell("dale_subnorm", {"inhibition": "integrated"})
RELU = get_activation("relu")


def model(cell="dale_norm", n=50, n_in=3, seed=0, bias=True):
    torch.manual_seed(seed)
    return RecurrentModel(cell, n_in, n, 4, 4, 0.2, bias=bias).double()


def pool_input(c, r_e, w_ee, u_e):
    """What the pool reads: the E units' drive W_EE r_E + u_E (pool_input="drive") or their rates r_E."""
    return r_e @ w_ee.T + u_e if c.pool_input == "drive" else r_e


def blocks(m):
    w = m.w_rec.weight.detach()
    n_e = m.cell.n_excitatory(w.shape[1])
    return w, n_e, w[:n_e, :n_e], -w[:n_e, n_e:], w[n_e:, :n_e], -w[n_e:, n_e:]


def test_weight_shapes_add_the_pool_for_dale_norm_only():
    assert NORM.weight_shapes(50, 3, 4, 4)["w_div"] == (40, 40)                 # k = N_E pool units
    assert "w_div" not in SUB.weight_shapes(50, 3, 4, 4)
    assert NORM.extra_weights == ("w_div",) and SUB.extra_weights == ()
    assert NORM.populations(50) == SUB.populations(50) == DALE.populations(50)


@pytest.mark.parametrize("cell", ["dale_norm", "dale_subnorm"])
def test_initialisation_follows_the_inorm_layer(cell):
    m = model(cell)
    w, n_e, w_ee, w_ei, w_ie, w_ii = blocks(m)
    assert torch.all(w[:, :n_e] >= 0) and torch.all(w[:, n_e:] <= 0)                  # Dale's law
    assert torch.all(m.w_out.weight[:, n_e:] == 0)                                     # E-only readout
    torch.testing.assert_close(w_ei.sum(1), torch.ones(n_e, dtype=w.dtype), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(w_ie, w_ee.mean(0).expand_as(w_ie), rtol=1e-6, atol=1e-7)
    assert torch.all(w_ii == 0)
    assert torch.all(m.w_in.weight[n_e:] == 0) and torch.all(m.bias[n_e:] == 0)        # I units see E only
    assert torch.all(torch.diag(w_ee) == 0)
    if cell == "dale_norm":
        # the pool reads the E drive d = W_EE r + W_in,E x + b_E, and mean_k (U d)_k^2 is its variance over the
        # E units for every rate vector r and input x: LayerNorm's denominator
        g = torch.Generator().manual_seed(3)
        r = torch.rand(7, n_e, generator=g, dtype=torch.float64)
        x = torch.randn(7, 3, generator=g, dtype=torch.float64)
        d = r @ w_ee.T + x @ m.w_in.weight[:n_e].detach().T + m.bias[:n_e].detach()
        u_div = m.extra["w_div"].detach()
        torch.testing.assert_close((d @ u_div.T).square().mean(-1), d.var(-1, unbiased=False), rtol=1e-5, atol=0)


def test_with_the_pool_on_the_rates_its_initial_weights_read_the_centred_recurrent_drive():
    # pool_input="rates": U = diag(S) V^T of W = W_EE - W_EI W_IE: mean_k (U r)_k^2 = |W r|^2 / N_E for every r
    m = model(NORM_RATES)
    _, n_e, w_ee, w_ei, w_ie, _ = blocks(m)
    r = torch.rand(7, n_e, dtype=torch.float64)
    centred = r @ (w_ee - w_ei @ w_ie).T
    u_div = m.extra["w_div"].detach()
    torch.testing.assert_close((r @ u_div.T).square().mean(-1), centred.square().sum(-1) / n_e, rtol=1e-5, atol=0)


def test_an_unknown_pool_input_is_refused_in_one_line():
    with pytest.raises(ConfigurationError,
                       match=r"pool_input must be one of 'drive', 'rates'; got 'rate'.*rnn\.pool_input"):
        get_cell("dale_norm", {"pool_input": "rate"})


def test_at_the_inhibitory_fixed_point_the_e_drive_is_layer_normalised():
    # With r_I = W_IE r_E (the I units' fixed point: W_II = 0, no input) and u = 0:
    # W_EE r_E - W_EI W_IE r_E = W r_E is centred (rows of W_EI sum to 1, rows of W_IE = mean row of W_EE), and
    # gamma^2 = |W r_E|^2/N_E + eps, so z has mean 0 and variance s^2/(s^2 + eps), s^2 = |W r_E|^2/N_E.
    m = model("dale_norm", n=60)
    w, n_e, w_ee, w_ei, w_ie, _ = blocks(m)
    r_e = torch.rand(9, n_e, dtype=torch.float64) * torch.logspace(-4, 0, 9, dtype=torch.float64)[:, None]
    h = torch.cat([r_e, r_e @ w_ie.T], dim=-1)
    z = NORM.normalized_drive(h, torch.zeros_like(h), w, m.extra_weights()).detach()
    s2 = (r_e @ (w_ee - w_ei @ w_ie).T).square().mean(-1)
    np.testing.assert_allclose(z.mean(-1), 0, atol=1e-5)
    np.testing.assert_allclose(z.var(-1, unbiased=False), s2 / (s2 + NORM.eps), rtol=1e-6)
    assert float(z.var(-1).min()) < 0.5 < 0.99 < float(z.var(-1).max())   # from eps-dominated to ~LayerNorm
    # ... and the drift applies it in both inhibition modes (at the fixed point the steady rates are r_I):
    # -h + relu(z) for the E units, -h + relu(W_IE r_E - W_II r_I + u_I) for I
    for c in (NORM, NORM_INT):
        d = c.drift(h, torch.zeros_like(h), w, RELU, m.extra_weights()).detach()
        torch.testing.assert_close(d[:, :n_e], torch.relu(z) - h[:, :n_e])
        torch.testing.assert_close(d[:, n_e:], torch.relu(r_e @ w_ie.T) - h[:, n_e:])


@pytest.mark.parametrize("pool", ["drive", "rates"])
def test_integrated_drift_is_the_stated_formula_off_the_fixed_point(pool):
    norm_int = get_cell("dale_norm", {"inhibition": "integrated", "pool_input": pool})
    m = model(norm_int, n=30)
    _, n_e, w_ee, w_ei, w_ie, w_ii = blocks(m)
    with torch.no_grad():
        w_ii.copy_(torch.rand_like(w_ii) * 0.1)
        m.w_rec.weight[n_e:, n_e:] = -w_ii
    g = torch.Generator().manual_seed(1)
    h = torch.randn(5, 30, generator=g, dtype=torch.float64)
    u = torch.randn(5, 30, generator=g, dtype=torch.float64)
    r = torch.relu(h)
    r_e, r_i = r[:, :n_e], r[:, n_e:]
    q = pool_input(norm_int, r_e, w_ee, u[:, :n_e])
    gamma = torch.sqrt((q @ m.extra["w_div"].detach().T).square().mean(-1, keepdim=True) + 1e-5)
    z_e = (r_e @ w_ee.T + u[:, :n_e] - r_i @ w_ei.T) / gamma
    z_i = r_e @ w_ie.T - r_i @ w_ii.T + u[:, n_e:]
    d = norm_int.drift(h, u, m.w_rec.weight.detach(), RELU, m.extra_weights()).detach()
    torch.testing.assert_close(d, torch.cat([torch.relu(z_e), torch.relu(z_i)], -1) - h)
    # with integrated inhibition the subtractive-only cell has the Dale cell's dynamics (gamma = 1)
    w_rec = m.w_rec.weight.detach()
    torch.testing.assert_close(SUB_INT.drift(h, u, w_rec, RELU), DALE.drift(h, u, w_rec, RELU))


def test_dale_norm_needs_its_pool_weights_to_run():
    m = model("dale_norm", n=10)
    h = torch.zeros(2, 10, dtype=torch.float64)
    with pytest.raises(ConfigurationError, match="w_div"):
        NORM.step(h, h, m.w_rec.weight, 0.2, RELU)


def test_network_round_trip_keeps_the_pool_and_load_checks_it(tmp_path):
    m = model("dale_norm", n=20).float()
    net = nrx.RateNetwork.from_torch(m, tau=100 * ms, dt=20 * ms)
    path = net.save(tmp_path / "net.npz")
    back = nrx.load(path)
    assert back.cell == "dale_norm" and set(back.weights) == set(net.weights) >= {"w_div"}
    np.testing.assert_array_equal(back.weights["w_div"], m.extra["w_div"].detach().numpy())
    torch.testing.assert_close(back.to_torch().extra["w_div"], m.extra["w_div"])

    arrays, meta = read_npz(path, "network file")
    for name, change, match in (("missing.npz", lambda a: a.pop("weights/w_div"), "w_div of shape \\(16, 16\\)"),
                                ("shape.npz", lambda a: a.__setitem__("weights/w_div", np.ones((16, 15))),
                                 "w_div has shape"),
                                ("nan.npz", lambda a: a.__setitem__("weights/w_div", np.full((16, 16), np.nan)),
                                 "w_div")):
        bad = dict(arrays)
        change(bad)
        write_npz(tmp_path / name, bad, meta)
        with pytest.raises(FileFormatError, match=match):
            nrx.load(tmp_path / name)


def test_from_arrays_without_the_pool_takes_its_start_value_from_w_rec():
    m = model("dale_norm", n=20)
    w = {k: v.detach().numpy() for k, v in m.weights().items()}
    net = nrx.RateNetwork.from_arrays(encoder=w["encoder"], w_in=w["w_in"], w_rec=w["w_rec"], w_out=w["w_out"],
                                      tau=100 * ms, dt=20 * ms, cell="dale_norm")
    np.testing.assert_allclose(net.weights["w_div"], w["w_div"], rtol=1e-6, atol=1e-9)   # (init: float32)
    given = nrx.RateNetwork.from_arrays(encoder=w["encoder"], w_in=w["w_in"], w_rec=w["w_rec"], w_out=w["w_out"],
                                        tau=100 * ms, dt=20 * ms, cell="dale_norm",
                                        extra_weights={"w_div": 2 * w["w_div"]})
    np.testing.assert_array_equal(given.weights["w_div"], 2 * w["w_div"])
    with pytest.raises(ConfigurationError, match="breaks Dale's law"):
        nrx.RateNetwork.from_arrays(encoder=w["encoder"], w_in=w["w_in"], w_rec=-w["w_rec"], w_out=w["w_out"],
                                    tau=100 * ms, dt=20 * ms, cell="dale_norm")


@pytest.mark.parametrize("coupling", ["matmul", "synapses"])
def test_brian2_network_has_e_i_groups_and_the_divisive_pool(coupling):
    m = model("dale_norm", n=10).float()
    net = nrx.RateNetwork.from_torch(m, tau=100 * ms, dt=20 * ms)
    b = bb.build_network(net, trials=2, coupling=coupling)
    names = {obj.name for obj in b.objects}
    assert {"neurons_E", "neurons_I", "pool"} <= names
    pool_names = {"pool_in", "pool_out"} if coupling == "synapses" else {"pool_in_matmul", "pool_out_matmul"}
    assert pool_names <= names
    assert len(b["pool"]) == 2 * 8                                         # B * k pool units
    assert "I_div" in b["neurons_E"].variables and "I_div" not in b["neurons_I"].variables
    assert "sqrt(I_div" in str(b["neurons_E"].equations) and "sqrt" not in str(b["neurons_I"].equations)


def test_the_pool_changes_the_dynamics_on_both_backends():
    # The backend agreement tests (tests/backends, every registered cell) are only meaningful for dale_norm if
    # gamma is not ~1: the same weights run as a plain dale network give other trajectories.
    m = model("dale_norm", n=12, n_in=2).float()
    net = nrx.RateNetwork.from_torch(m, tau=100 * ms, dt=20 * ms)
    plain = nrx.RateNetwork.from_arrays(**{k: net.weights[k] for k in ("encoder", "w_in", "w_rec", "w_out", "bias")},
                                        tau=100 * ms, dt=20 * ms, cell="dale")
    b, t = 2, 10
    h0 = np.random.default_rng(0).uniform(size=(b, 12))
    x = np.random.default_rng(1).normal(size=(b, t, 2))
    segs = [Segment("a", t, x, {}, h0)]
    run = {(c, be): np.concatenate([ch.h for ch in get_backend(be).simulate(
        n, segs, trials=b, seed=0, **({"target": "numpy"} if be == "brian2" else {}))], axis=1)
        for c, n in (("norm", net), ("dale", plain)) for be in ("torch", "brian2")}
    np.testing.assert_allclose(run["norm", "brian2"], run["norm", "torch"], rtol=0, atol=1e-9)
    assert np.abs(run["norm", "torch"] - run["dale", "torch"]).max() > 0.1


@pytest.mark.parametrize("name", ["dale_norm", "dale_subnorm"])
def test_error_normalization_changes_the_errors_not_the_dynamics(name):
    # rnn.error_norm: identity forward; backward, the error e reaching the E units' drive is normalized (gamma is
    # one constant per sample, so it commutes with the operator): "center" gives e - <e>, which has mean zero over
    # the E units of every sample, and "full" the LayerNorm Jacobian (e - <e> - z <e z>)/s at the normalized drive z.
    m = model(name, n=30)
    w = m.w_rec.weight.detach()
    n_e = m.cell.n_excitatory(30)
    g = torch.Generator().manual_seed(2)
    h = torch.rand(4, 30, generator=g, dtype=torch.float64)
    readout = torch.randn(4, 30, generator=g, dtype=torch.float64)
    drifts, grads = {}, {}
    for norm in ("none", "center", "full"):
        c = get_cell(name, {"error_norm": norm})
        u = torch.randn(4, 30, generator=torch.Generator().manual_seed(5), dtype=torch.float64, requires_grad=True)
        d = c.drift(h, u, w, RELU, m.extra_weights())
        (d * readout).sum().backward()
        drifts[norm], grads[norm] = d.detach(), u.grad[:, :n_e]
    torch.testing.assert_close(drifts["full"], drifts["none"], rtol=0, atol=0)
    torch.testing.assert_close(drifts["center"], drifts["none"], rtol=0, atol=0)
    assert float(grads["none"].mean(-1).abs().max()) > 1e-3
    e = grads["none"]
    np.testing.assert_allclose(grads["center"].mean(-1), 0, atol=1e-12)
    torch.testing.assert_close(grads["center"], e - e.mean(-1, keepdim=True))
    u = torch.randn(4, 30, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    z = m.cell.normalized_drive(h, u, w, m.extra_weights()).detach()
    s = torch.sqrt(z.var(-1, unbiased=False, keepdim=True) + 1e-5)
    torch.testing.assert_close(grads["full"], (e - e.mean(-1, keepdim=True) - z * (e * z).mean(-1, keepdim=True)) / s)
    assert not torch.allclose(grads["full"], e)


@pytest.mark.parametrize(("bad", "why"), [("fulll", "got 'fulll'"), ("lateral", "got 'lateral'")])
def test_an_unusable_error_norm_is_refused_in_one_line(bad, why):
    with pytest.raises(ConfigurationError, match=rf"error_norm must be one of 'none', 'full'.*{why}.*rnn\.error_norm"):
        get_cell("dale_norm", {"error_norm": bad})
