"""compare(): the same statistics side by side, divergences with intervals, clear errors."""

import json

import numpy as np
import pytest
from brian2 import ms
from netfactory import make_network

import neurorx as nrx
from neurorx.analysis import Statistic, register_statistic
from neurorx.protocols import Active, Protocol, Quiescent

# registration only: compare() picks it up without other edits
register_statistic(Statistic("largest step (test_compare)",
                             lambda x, circular: np.linalg.norm(np.diff(x, axis=1), axis=-1).max(axis=1), "{u}",
                             description="largest step of the decoded path (registered by tests/test_compare.py)"))


@pytest.fixture(scope="module")
def recs():
    net = make_network(n_rec=10, noise={"recurrent": nrx.WhiteNoise.from_step_std(0.05, 20 * ms)})
    proto = Protocol([Active(steps=20), Quiescent(steps=40)])
    a = proto.run(net, trials=8, seed=0, record=("h",))
    b = proto.run(net, trials=8, seed=1, record=("h",))
    return net, a, b


def test_statistics_are_side_by_side_per_phase(recs):
    _, a, b = recs
    cmp = nrx.compare(a, b, n_boot=20)
    phases = {r.phase for r in cmp.rows}
    assert phases == {"active", "quiescent"}
    sd = cmp.value("quiescent", "stepwise distance", "a")
    from neurorx.analysis import stepwise_distance

    assert sd == pytest.approx(stepwise_distance(a.select("quiescent").decoded).mean())
    assert "torch (a)" in str(cmp) and "energy distance" in str(cmp)


def test_identical_recordings_have_zero_distance(recs):
    _, a, _ = recs
    cmp = nrx.compare(a, a, n_boot=20)
    d = cmp.divergence("active", "energy distance (decoded)")
    assert d.estimate == pytest.approx(0.0, abs=1e-6)
    assert d.p_value > 0.5  # indistinguishable


def test_shifted_distribution_is_detected(recs):
    _, a, _ = recs
    shifted = nrx.Recording(**{**a.__dict__, "decoded": a.decoded + 0.5})
    cmp = nrx.compare(a, shifted, n_boot=20)
    d = cmp.divergence("active", "energy distance (decoded)")
    assert d.low > 0.1 and d.p_value < 0.1


def test_reactivation_kl_within_each_recording(recs):
    _, a, b = recs
    cmp = nrx.compare(a, b, n_boot=10)
    within = [d for d in cmp.divergences if d.statistic.startswith("KL(quiescent")]
    assert len(within) == 2 and all(np.isfinite(d.estimate) for d in within)


def test_json_round_trip(recs, tmp_path):
    _, a, b = recs
    cmp = nrx.compare(a, b, n_boot=10)
    path = cmp.to_json(tmp_path / "cmp.json")
    data = json.loads(path.read_text())
    assert data["names"] == list(cmp.names) and len(data["rows"]) == len(cmp.rows)
    with pytest.raises(FileExistsError):
        cmp.to_json(path)


def test_mismatched_recordings_are_refused(recs):
    net, a, _ = recs
    hd = nrx.HeadDirection(n_cells=16)
    other = make_network(n_rec=10, task=hd)
    c = Protocol([Active(steps=5)]).run(other, trials=2)
    with pytest.raises(ValueError, match="different quantities"):
        nrx.compare(a, c)
    q_only = Protocol([Quiescent(steps=5, label="sleep")]).run(net, trials=2)
    with pytest.raises(ValueError, match="share no phase"):
        nrx.compare(a, q_only)
    one_step = Protocol([Active(steps=1)]).run(net, trials=2)
    with pytest.raises(ValueError, match="at least 2"):
        nrx.compare(one_step, one_step)


def test_same_seed_runs_are_compared_as_paired_trials(recs):
    _, a, b = recs
    cmp_paired = nrx.compare(a, a, n_boot=10)
    assert cmp_paired.meta["paired_trials"] and "paired" in cmp_paired.divergence("active",
                                                                                  "energy distance (decoded)").between
    assert not nrx.compare(a, b, n_boot=10).meta["paired_trials"]  # different seeds: independent trials


def test_interval_brackets_the_estimate_for_two_seeds(recs):
    _, a, b = recs
    d = nrx.compare(a, b, n_boot=30).divergence("quiescent", "energy distance (decoded)")
    assert d.low <= d.estimate <= d.high


def test_a_divergence_interval_is_the_analysis_bootstrap_interval_and_saves_as_low_high(recs):
    """One result type for a bootstrap interval: compare's divergence holds neurorx.analysis's own."""
    from neurorx.analysis import BootstrapInterval, PermutationResult

    _, a, b = recs
    cmp = nrx.compare(a, b, n_boot=30, n_perm=19)
    d = cmp.divergence("quiescent", "energy distance (decoded)")
    assert isinstance(d.interval, BootstrapInterval) and isinstance(d.test, PermutationResult)
    assert (d.low, d.high, d.p_value, d.min_p) == (d.interval.low, d.interval.high, d.test.p_value, d.test.min_p)
    saved = next(x for x in cmp.to_dict()["divergences"] if x["statistic"] == d.statistic and x["phase"] == "quiescent")
    assert (saved["low"], saved["high"], saved["p_value"]) == (d.low, d.high, d.p_value)
    json.dumps(cmp.to_dict())                          # plain JSON: no replicate arrays
    kl = cmp.divergence("quiescent", "KL(a‖b) decoded")
    assert kl.interval is None and kl.low is None and kl.p_value is None


def test_head_direction_total_variance_is_taken_on_unwrapped_angles():
    from neurorx.analysis import total_variance

    net = make_network(n_rec=10, task=nrx.HeadDirection(n_cells=16, seed=0),
                       noise={"recurrent": nrx.WhiteNoise.from_step_std(0.05, 20 * ms)})
    rec = Protocol([Active(steps=30)]).run(net, trials=6, seed=0)
    cmp = nrx.compare(rec, rec, n_boot=5)
    dec = rec.decoded
    burn = int(dec.shape[1] * 0.5)
    assert np.abs(np.diff(dec[:, burn:], axis=1)).max() > np.pi    # some trajectory crosses +-pi here
    assert cmp.value("active", "total variance", "a") == pytest.approx(
        total_variance(dec, burn_in=burn, circular=True))


def test_every_applicable_registered_statistic_is_a_row(recs):
    from neurorx.analysis import applicable_statistics

    _, a, b = recs
    cmp = nrx.compare(a, b, n_boot=10, n_perm=9)
    for stat in applicable_statistics(circular=False):
        for phase in ("active", "quiescent"):
            expected = stat.value(a.select(phase), False, 0.5)
            assert cmp.value(phase, stat.name, "a") == pytest.approx(expected), stat.name
    assert "mean angular velocity" not in {r.statistic for r in cmp.rows}   # defined for angles only


def test_smallest_reportable_p_is_stated_and_reached(recs):
    _, a, b = recs
    shifted = nrx.Recording(**{**b.__dict__, "decoded": b.decoded + 0.5})
    cmp = nrx.compare(a, shifted, n_boot=10, n_perm=999)        # independent trials: C(16, 8) > 999
    d = cmp.divergence("active", "energy distance (decoded)")
    assert d.min_p == pytest.approx(0.001) and d.p_value == pytest.approx(0.001)
    assert "Smallest reportable permutation p: 0.001 (999 permutations" in str(cmp) and "≤ 0.001" in str(cmp)


def test_a_statistic_registered_in_a_test_file_is_in_the_table(recs):
    _, a, b = recs
    cmp = nrx.compare(a, b, n_boot=10, n_perm=9)
    q = a.select("quiescent").decoded
    expected = np.linalg.norm(np.diff(q, axis=1), axis=-1).max(axis=1).mean()
    assert cmp.value("quiescent", "largest step (test_compare)", "a") == pytest.approx(expected)
    assert "| quiescent | largest step (test_compare) [m] |" in str(cmp)
