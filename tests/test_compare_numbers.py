"""Numbers without surprise (issue 27, trap 5): no negative KL, no "0 [0, x] p = 1", the interface's own spelling."""

import re

import pytest
from brian2 import ms
from netfactory import make_network

import neurorx as nrx
from neurorx.compare import format_nonnegative
from neurorx.protocols import Active, Protocol, Quiescent


@pytest.fixture(scope="module")
def recs():
    net = make_network(n_rec=10, noise={"recurrent": nrx.WhiteNoise.from_step_std(0.05, 20 * ms)})
    proto = Protocol([Active(steps=20), Quiescent(steps=40)])
    return proto.run(net, trials=8, seed=0, record=("h",)), proto.run(net, trials=8, seed=1, record=("h",))


def test_a_nonnegative_estimate_within_its_error_of_zero_is_printed_as_zero_with_a_bound():
    assert format_nonnegative(-0.0003742, 0.0005) == "≈ 0 (< 0.001)"     # the README's "KL(a‖b) = -0.0003742"
    assert format_nonnegative(0.32, 0.01) == "0.32 ± 0.01"
    assert format_nonnegative(0.0, None, 0.34) == "≈ 0 (< 0.34)"
    assert format_nonnegative(0.0, None, 0.0) == "0"


def test_no_kl_in_a_comparison_is_negative(recs):
    a, b = recs
    for seed in range(3):
        cmp = nrx.compare(a, b, n_boot=9, n_perm=9, n_mc=100, seed=seed)
        for d in cmp.divergences:
            if d.statistic.startswith("KL"):
                assert d.estimate >= 0 and d.stderr is not None and d.stderr >= 0
        assert not re.search(r"\| -\d", cmp.table().split("| phase | divergence")[1]), cmp.table()


def test_a_difference_the_trials_cannot_resolve_is_not_printed_as_zero_with_p_one(recs):
    a, _ = recs
    order = slice(None, None, -1)                    # the same trials in another order: unpaired, same law
    near = nrx.Recording(**{**a.__dict__, **{k: getattr(a, k)[order] for k in ("decoded", "states", "inputs", "h")}})
    cmp = nrx.compare(a, near, n_boot=19, n_perm=19, n_mc=100)
    d = cmp.divergence("active", "energy distance (decoded)")
    assert not d.resolved
    row = next(line for line in cmp.table().splitlines() if line.startswith("| active | energy distance (decoded)"))
    assert "not resolved" in row and "≈ 0 (<" in row and "| 1 |" not in row
    assert "cannot resolve a difference" in cmp.table()


def test_options_are_spelled_as_the_interface_spells_them(recs):
    a, b = recs
    shifted = nrx.Recording(**{**b.__dict__, "decoded": b.decoded + 0.5})
    cmp = nrx.compare(a, shifted, n_boot=9, n_perm=99, n_mc=100)
    assert "pass n_perm=999" in cmp.table() and "--n-perm" not in cmp.table()
    assert "pass --n-perm 999" in cmp.table(style="cli") and "n_perm=" not in cmp.table(style="cli")
    with pytest.raises(ValueError, match="style must be"):
        cmp.table(style="shell")
