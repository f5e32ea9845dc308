"""The generated Brian2 equations: names, noise terms and the order of the recurrent currents."""

from brian2 import Equations

from neurorx.backends.brian2_equations import INPUT_ARRAY, neuron_model, noise_prefix
from neurorx.noise import FrozenNoise, NoNoise, OUNoise, ReferenceUniformNoise, WhiteNoise


def test_vanilla_equations_parse_and_name_everything():
    model = neuron_model("vanilla", "relu", 2, [WhiteNoise(0.1)])
    eqs = Equations(model.equations)
    assert eqs.diff_eq_names == {"h"}
    for name in ("I_in", "I_rec", "b_in", "w_in_0", "w_in_1", "tau", "trial", "unit", "white_sigma"):
        assert name in eqs.names
    assert f"{INPUT_ARRAY}(t, trial*2 + 1)" in model.equations
    assert "clip" in model.equations and "xi_white_" in model.equations
    assert [c.name for c in model.currents] == ["I_rec"]
    assert not model.currents[0].needs_source
    assert model.noise_prefixes == {"white": "white_"}


def test_gru_currents_keep_their_order_and_candidate_source():
    model = neuron_model("gru", "tanh", 1, [])
    assert [c.name for c in model.currents] == ["I_zrec", "I_grec", "I_hrec"]
    assert [c.block for c in model.currents] == [0, 1, 2]
    cand = model.currents[2]
    assert cand.needs_source and cand.source == "src_I_hrec" and cand.expression == "g*h"
    assert [i.tag for i in model.inputs] == ["zin", "gin", "hin"]
    assert "0*Hz" in model.equations  # no noise terms


def test_every_noise_type_gets_its_own_prefixed_terms():
    import numpy as np

    models = [WhiteNoise(0.1), ReferenceUniformNoise(0.01), OUNoise(0.1, 0.05),
              FrozenNoise(np.zeros((2, 1, 3))), NoNoise(), WhiteNoise(0.0), WhiteNoise(0.2)]
    model = neuron_model("vanilla", "identity", 1, models)
    assert set(model.noise_prefixes) == {"white", "reference_uniform", "ou", "frozen"}
    assert model.noise_states == {"ou": "ou_eta"}
    eqs = Equations(model.equations)
    assert eqs.diff_eq_names == {"h", "ou_eta"}
    for name in ("white_sigma", "reference_uniform_mu", "reference_uniform_sigma", "ou_sigma", "ou_tau",
                 "frozen_gain"):
        assert name in eqs.names
    assert noise_prefix(OUNoise(0.1)) == "ou_"
