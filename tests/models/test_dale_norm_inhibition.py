"""The inhibition modes of the normalized Dale cells (``rnn.inhibition``): the steady-state drift, the stability
bound of the integrated form, the weights each mode allows, and the same dynamics on the Brian2 backend."""

import numpy as np
import pytest
import torch
from brian2 import ms

import neurorx as nrx
from neurorx.activations import get_activation
from neurorx.backends import Segment, get_backend
from neurorx.errors import ConfigurationError
from neurorx.models import get_cell
from neurorx.models.rnn import RecurrentModel
from neurorx.training import apply_overrides, load_card

RELU = get_activation("relu")
MODES = ("steady", "integrated")
KICK = 1e-6


def cell(name="dale_norm", mode="steady", pool=None):
    return get_cell(name, {"inhibition": mode} | ({"pool_input": pool} if pool else {}))


def model(name="dale_norm", mode="steady", n=12, n_in=2, seed=0, pool=None):
    torch.manual_seed(seed)
    m = RecurrentModel(cell(name, mode, pool), n_in, n, 4, 4, 0.2, bias=True).double()
    n_e = m.cell.n_excitatory(n)
    with torch.no_grad():   # inputs onto the I units, so that u_I enters the steady rates
        m.w_in.weight[n_e:] = torch.rand(m.w_in.weight[n_e:].shape, generator=torch.Generator().manual_seed(seed))
    return m


def test_steady_is_the_default_and_a_cell_parameter():
    for name in ("dale_norm", "dale_subnorm"):
        assert get_cell(name).inhibition == "steady"
        assert get_cell(name).params()["inhibition"] == "steady"
        assert cell(name, "integrated").inhibition == "integrated"
    cfg = apply_overrides(load_card("head_direction/noisy_unbiased_dale_norm"), ["rnn.inhibition=integrated"])
    assert cfg.rnn.cell_object().inhibition == "integrated"


@pytest.mark.parametrize("bad", ["stedy", "instant", 1])
def test_an_unknown_inhibition_mode_is_refused_in_one_line(bad):
    with pytest.raises(ConfigurationError, match="inhibition must be one of 'steady', 'integrated'") as err:
        get_cell("dale_norm", {"inhibition": bad})
    assert "\n" not in str(err.value) and "rnn.inhibition" in str(err.value)
    if bad == "stedy":
        assert "Did you mean" in str(err.value) and "steady" in str(err.value)


def test_a_card_with_an_unknown_inhibition_mode_is_refused_when_its_overrides_are_applied():
    with pytest.raises(ConfigurationError, match=r"got 'stedy'.*Did you mean 'steady'"):
        apply_overrides(load_card("head_direction/noisy_unbiased_dale_norm"), ["rnn.inhibition=stedy"])


@pytest.mark.parametrize(("name", "pool"), [("dale_norm", "drive"), ("dale_norm", "rates"), ("dale_subnorm", None)])
def test_steady_drift_is_the_stated_formula(name, pool):
    m = model(name, "steady", n=30, pool=pool)
    w = m.w_rec.weight.detach()
    n_e = m.cell.n_excitatory(30)
    g = torch.Generator().manual_seed(1)
    h = torch.randn(5, 30, generator=g, dtype=torch.float64)
    u = torch.randn(5, 30, generator=g, dtype=torch.float64)
    r_e = torch.relu(h[:, :n_e])
    rho = torch.relu(r_e @ w[n_e:, :n_e].T + u[:, n_e:])                     # phi(W_IE r_E + u_I)
    z = r_e @ w[:n_e, :n_e].T + u[:, :n_e] + rho @ w[:n_e, n_e:].T            # W_EE r_E + u_E - W_EI rho
    if name == "dale_norm":
        q = r_e @ w[:n_e, :n_e].T + u[:, :n_e] if pool == "drive" else r_e        # the pool's input
        z = z / torch.sqrt((q @ m.extra["w_div"].detach().T).square().mean(-1, keepdim=True) + 1e-5)
    d = m.cell.drift(h, u, w, RELU, m.extra_weights()).detach()
    torch.testing.assert_close(d, torch.cat([torch.relu(z), rho], -1) - h)
    # the E units do not read the I units' states: changing h_I changes only the I drift, by -delta
    h2 = h.clone()
    h2[:, n_e:] += 3.0
    d2 = m.cell.drift(h2, u, w, RELU, m.extra_weights()).detach()
    torch.testing.assert_close(d2[:, :n_e], d[:, :n_e])
    torch.testing.assert_close(d2[:, n_e:], d[:, n_e:] - 3.0)


def _mean_mode_network(gain: float, mode: str, n: int = 10):
    """A dale_subnorm network (gamma = 1) whose E units are all alike: W_EE = (G/N_E) 1 1^T, W_EI rows sum to 1,
    W_IE rows the column mean of W_EE, W_II = 0, a constant input u_E = 1 to the E units. Its fixed point is
    m = 1 (E rates), i = G (I rates); the loop gain of the population-mean mode is G."""
    c = cell("dale_subnorm", mode)
    n_e = c.n_excitatory(n)
    w = torch.zeros(n, n, dtype=torch.float64)
    w[:n_e, :n_e] = gain / n_e
    w[:n_e, n_e:] = -1.0 / (n - n_e)
    w[n_e:, :n_e] = gain / n_e
    u = torch.zeros(1, n, dtype=torch.float64)
    u[:, :n_e] = 1.0
    h0 = torch.cat([torch.full((1, n_e), 1.0), torch.full((1, n - n_e), gain)], dim=-1).double()
    h0[:, :n_e] += KICK                                                       # a small kick off the fixed point
    return c, w, u, h0, n_e


def _mean_mode_deviation(gain: float, mode: str, a: float, steps: int) -> np.ndarray:
    c, w, u, h, n_e = _mean_mode_network(gain, mode)
    dev = []
    for _ in range(steps):
        h = c.step(h, u, w, a, RELU)
        dev.append(float((h[:, :n_e] - 1.0).abs().max()))
    return np.array(dev)


@pytest.mark.parametrize("a", [0.2, 0.5])
def test_integrated_inhibition_is_stable_below_the_loop_gain_bound_and_not_above(a):
    # Notes of DaleNormCell: the Euler map of the mean mode has det = (1-a)^2 + aG, stable iff G < 2 - a;
    # above the bound the kick grows as an oscillation of modulus sqrt(det) per step.
    bound = 2.0 - a
    rho = np.sqrt((1 - a) ** 2 + a * 1.2 * bound)
    steps = int(np.ceil(np.log(1e4) / np.log(rho)))                           # 1e4-fold growth: still linear
    below = _mean_mode_deviation(0.8 * bound, "integrated", a, steps)
    above = _mean_mode_deviation(1.2 * bound, "integrated", a, steps)
    assert below[-40:].max() < 0.1 * KICK                                    # the kick decays
    assert above[-40:].max() > 1e3 * KICK                                    # it grows
    growth = (above[-40:].max() / above[-90:-50].max()) ** (1 / 50)          # per step, over the envelope
    np.testing.assert_allclose(growth, rho, rtol=0.01)


@pytest.mark.parametrize("gain", [0.5, 3.0, 25.0])
def test_steady_inhibition_is_stable_at_any_loop_gain(gain):
    # Steady: the mean mode is m <- (1 - a) m (the inhibition cancels c m within the step), stable for a < 2.
    dev = _mean_mode_deviation(gain, "steady", 0.5, 60)
    assert dev[-1] < 1e-6 * KICK                                             # to rounding (0.5^60)
    np.testing.assert_allclose(dev[1:6] / dev[:5], 0.5, rtol=1e-6)            # contraction by 1 - a per step


def test_steady_mode_freezes_and_requires_zero_i_to_i_weights():
    m = model("dale_norm", "steady")
    n_e = m.cell.n_excitatory(12)
    mask = m.cell.frozen_masks(m.weights())["w_rec"]
    assert mask[n_e:, n_e:].all() and mask[:n_e, n_e:].all() and not mask[:, :n_e].any()
    assert not cell("dale_norm", "integrated").frozen_masks(m.weights())["w_rec"][n_e:, n_e:].any()
    w = {k: v.detach().numpy().copy() for k, v in m.weights().items()}
    w["w_rec"][n_e:, n_e:] = -0.1
    with pytest.raises(ConfigurationError, match=r"W_II\) holds nonzero weights.*inhibition='integrated'") as err:
        m.cell.validate_weights(w, 12)
    assert "\n" not in str(err.value)
    cell("dale_norm", "integrated").validate_weights(w, 12)                  # allowed there
    t = {k: torch.tensor(v) for k, v in w.items()}
    m.cell.project_(t)                                                        # the projection zeroes W_II
    assert torch.all(t["w_rec"][n_e:, n_e:] == 0)
    m.cell.validate_weights({k: v.numpy() for k, v in t.items()}, 12)


def test_the_homeostatic_gradient_reaches_w_ie_and_u_i_within_the_step():
    # Steady: z depends on W_IE and the I inputs directly (not through the I states), so L_I trains them from
    # states that have no I activity at all; the E weights and W_II get nothing.
    m = model("dale_norm", "steady", n=20)
    n_e = m.cell.n_excitatory(20)
    g = torch.Generator().manual_seed(2)
    states = torch.rand(4, 3, 20, generator=g, dtype=torch.float64)
    states[..., n_e:] = 0.0
    u = m.cell.input_projection(torch.randn(4, 3, 2, generator=g, dtype=torch.float64), m.w_in.weight, m.bias)
    m.cell.local_loss(states, u, m.w_rec.weight, m.extra_weights(), RELU).backward()
    gw = m.w_rec.weight.grad
    assert gw[n_e:, :n_e].abs().sum() > 0 and m.w_in.weight.grad[n_e:].abs().sum() > 0
    assert torch.all(gw[:n_e] == 0) and torch.all(gw[n_e:, n_e:] == 0) and torch.all(m.w_in.weight.grad[:n_e] == 0)


@pytest.mark.parametrize(("name", "pool"), [("dale_norm", "drive"), ("dale_norm", "rates"), ("dale_subnorm", None)])
@pytest.mark.parametrize("mode", MODES)
def test_noise_off_brian2_equals_torch_in_both_modes(name, pool, mode):
    m = model(name, mode, pool=pool).float()
    net = nrx.RateNetwork.from_torch(m, tau=100 * ms, dt=20 * ms)
    assert net.cell_params["inhibition"] == mode and net.cell_params.get("pool_input") == pool
    b, t = 2, 8
    segs = [Segment("a", t, np.random.default_rng(1).normal(size=(b, t, 2)), {},
                    np.random.default_rng(0).uniform(size=(b, 12)))]
    runs = {be: np.concatenate([ch.h for ch in get_backend(be).simulate(
        net, segs, trials=b, seed=0, **({"target": "numpy", "coupling": "synapses"} if be == "brian2" else {}))],
        axis=1) for be in ("torch", "brian2")}
    np.testing.assert_allclose(runs["brian2"], runs["torch"], rtol=0, atol=1e-9)


def test_the_modes_give_different_trajectories_and_brian2_has_the_steady_rates():
    from neurorx.backends import brian2_backend as bb

    m = model("dale_norm", "steady").float()
    steady = nrx.RateNetwork.from_torch(m, tau=100 * ms, dt=20 * ms)
    integrated = nrx.RateNetwork.from_arrays(
        **{k: steady.weights[k] for k in ("encoder", "w_in", "w_rec", "w_out", "bias")}, tau=100 * ms, dt=20 * ms,
        cell="dale_norm", extra_weights={"w_div": steady.weights["w_div"]}, cell_params={"inhibition": "integrated"})
    b, t = 2, 8
    segs = [Segment("a", t, np.random.default_rng(1).normal(size=(b, t, 2)), {},
                    np.random.default_rng(0).uniform(size=(b, 12)))]
    h = [np.concatenate([ch.h for ch in get_backend("torch").simulate(n, segs, trials=b, seed=0)], axis=1)
         for n in (steady, integrated)]
    assert np.abs(h[0] - h[1]).max() > 0.05
    built = bb.build_network(steady, trials=2, coupling="synapses")
    names = {obj.name for obj in built.objects}
    assert {"neurons_E", "neurons_I", "pool"} <= names
    assert "clip((I_rec_E + I_in), 0, inf)" in str(built["neurons_I"].equations)   # I drift: -h + rho
