"""The Brian2 backend's Gaussian draws: the equations read z variables filled by one Generator call per step."""

import numpy as np
from brian2 import Network, NetworkOperation, NeuronGroup, ms, prefs, second

from neurorx.backends.brian2.draws import GaussianDraws, buffered_equations


def test_every_xi_becomes_a_z_variable_scaled_by_one_over_root_dt():
    eqs, variables = buffered_equations("dh/dt = -h/tau + white_sigma*xi_white_ : 1\n"
                                        "dou_eta/dt = -ou_eta/ou_tau + ou_sigma/ou_tau*xi_ou_ : Hz")
    assert variables == {"ou_": "z_ou_", "white_": "z_white_"}
    assert "xi_" not in eqs
    assert "(z_white_*dt**-0.5)" in eqs and "(z_ou_*dt**-0.5)" in eqs
    assert eqs.endswith("z_ou_ : 1\nz_white_ : 1")


def test_equations_without_noise_are_unchanged():
    assert buffered_equations("dh/dt = -h/tau : 1") == ("dh/dt = -h/tau : 1", {})


def test_one_euler_step_adds_sigma_root_dt_times_the_draw():
    """h' = h + sigma*sqrt(dt)*z: the Euler-Maruyama increment of sigma*xi, with the drawn z."""
    eqs, variables = buffered_equations("dh/dt = s*xi_w_ : 1\ns : second**-0.5 (shared)")
    old = prefs["codegen.target"]
    prefs["codegen.target"] = "numpy"
    try:
        group = NeuronGroup(5, eqs, method="euler", dt=20 * ms, namespace={})
        group.s = 0.3 / second**0.5
        draws = GaussianDraws([group], variables, np.random.default_rng(1))
        net = Network(group, NetworkOperation(draws, dt=20 * ms, when="start"))
        net.run(20 * ms, namespace={})
    finally:
        prefs["codegen.target"] = old
    z = np.random.default_rng(1).standard_normal(5)
    np.testing.assert_allclose(group.h[:], 0.3 * np.sqrt(0.02) * z, rtol=1e-12)


def test_float32_variables_get_the_float64_draws_rounded_and_inactive_ones_zeros():
    class Var:
        def __init__(self, a):
            self.a = a

        def get_value(self):
            return self.a

    class Group:
        def __init__(self, dtype):
            self.variables = {"z_a_": Var(np.ones(4, dtype)), "z_b_": Var(np.ones(4, dtype))}

    g32 = Group(np.float32)
    draws = GaussianDraws([g32], {"a_": "z_a_", "b_": "z_b_"}, np.random.default_rng(3))
    draws.set_active(["a_"])
    draws()
    expected = np.random.default_rng(3).standard_normal(4).astype(np.float32)
    np.testing.assert_array_equal(g32.variables["z_a_"].a, expected)
    np.testing.assert_array_equal(g32.variables["z_b_"].a, 0)
