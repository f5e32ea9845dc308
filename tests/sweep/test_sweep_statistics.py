"""One statistics registry: every entry of ``neurorx.analysis.STATISTICS`` is one number through ``nrx.compare``,
through ``neurorx.analysis`` and through a sweep, on the same recording."""

import shutil
import sys

import numpy as np
import pytest
import yaml
from every_statistic import BURN_IN, CELL, N_MC, params_of

import neurorx as nrx
from neurorx.analysis import STATISTICS, get_statistic
from neurorx.network import load
from neurorx.recording import Recording
from neurorx.sweep import Store

_COMPARISONS = {}


def _compare(rec, circular):
    if circular not in _COMPARISONS:
        _COMPARISONS[circular] = nrx.compare(rec, rec, burn_in=BURN_IN, n_boot=99, n_perm=99, n_mc=N_MC)
    return _COMPARISONS[circular]


def _recordings(result, seed=0) -> dict[str, Recording]:
    store = Store(result.out)
    return {j.labels["condition"]: Recording.load(store.path(j.id) / "recording.npz")
            for j in result.jobs if j.kind == "run" and j.labels["seed"] == seed}


def _train_job(result, condition, seed=0):
    return next(j for j in result.jobs
                if j.kind == "train" and j.labels["condition"] == condition and j.labels["seed"] == seed)


@pytest.mark.parametrize("name", STATISTICS.names())
def test_every_statistic_is_one_number_through_compare_analysis_and_a_sweep(swept, name):
    stat = STATISTICS.get(name)
    circular = not stat.linear                     # positions where it is defined for them, else angles
    result, ds = swept[circular]
    params = params_of(stat)
    recs = _recordings(result)
    condition, rec = next(iter(recs.items()))
    if stat.needs_network:                         # it reads the run's trained network too; compare cannot give it
        params["network"] = load(Store(result.out).path(_train_job(result, condition).id) / "network.npz")
    if stat.scope == "phase":
        kwargs = {k: v for k, v in params.items() if k != "burn_in"}
        for phase in stat.phases:
            analysis = stat.values(rec.select(phase), circular, params.get("burn_in", 0.0), **kwargs)
            var = ds[stat.key].sel(condition=condition, **CELL)
            swept_value = (var.sel(phase=phase) if "phase" in var.dims else var).values
            if stat.needs_network:
                np.testing.assert_array_equal(swept_value, analysis)
                assert stat.name not in [r.statistic for r in _compare(rec, circular).rows]
            elif stat.scalar:
                assert swept_value == np.mean(analysis)
                assert _compare(rec, circular).value(phase, stat.name, "a") == swept_value
                if stat.per_trial:
                    per_trial = ds[f"{stat.key}_per_trajectory"].sel(condition=condition, **CELL)
                    np.testing.assert_array_equal(per_trial.values, analysis)
            else:
                np.testing.assert_array_equal(swept_value, analysis)
                assert stat.name not in [r.statistic for r in _compare(rec, circular).rows]
        return
    if stat.scope == "run":
        outputs = stat.outputs(rec, **params)
        if stat.key == "reactivation_health":          # compare reports it as each recording's health
            health = next(iter(_compare(rec, circular).health.values()))
            assert outputs["flagged"].values == float(health.flagged)
            assert outputs["stepwise_shuffled"].values == health.path_noise_quiescent
            assert outputs["mean_abs_h_quiescent"].values == health.mean_abs_h_quiescent
        else:
            assert _compare(rec, circular).divergence(stat.phases[-1], stat.name).estimate == outputs[""].values
        sel = {"condition": condition, **CELL}
    elif stat.scope == "conditions":
        outputs = stat.outputs(recs, **params)
        sel = CELL
    else:
        outputs = stat.outputs(load(Store(result.out).path(_train_job(result, condition).id) / "network.npz"),
                               **params)
        sel = {"condition": condition, "seed": 0}
    assert outputs
    for suffix, out in outputs.items():
        var = ds[f"{stat.key}_{suffix}" if suffix else stat.key]
        assert var.attrs["units"] == out.unit
        np.testing.assert_array_equal(var.sel(sel).values, out.values)


def test_every_statistic_has_a_unit_a_key_and_a_description():
    keys = [STATISTICS.get(n).key for n in STATISTICS.names()]
    assert len(set(keys)) == len(keys)
    for name in STATISTICS.names():
        stat = STATISTICS.get(name)
        assert get_statistic(stat.key) is stat and get_statistic(name) is stat
        assert stat.key.isidentifier() and stat.unit
        if stat.function.__module__.startswith("neurorx."):     # test modules register their own at collection
            assert stat.description, f"{name}: a statistic of neurorx says what it measures"


def test_a_custom_statistic_of_the_whole_run_sees_both_phases(reference, tiny_spec, tmp_path):
    spec = yaml.safe_load(tiny_spec.read_text())
    spec["statistics"] = {
        "q_vs_a": {"statistic": "custom", "function": "sweep_flaky:quiescent_vs_active", "scope": "run",
                   "of": "reactivation"},
        "kl_quiescent_active": {"of": "reactivation", "n_mc": N_MC}}
    store = tmp_path / "store"
    shutil.copytree(reference[0].out, store)
    result = nrx.sweep(spec, out=store, scheduler="sync", show_progress=False)
    assert result.ok, result.summary()
    ds = result.dataset()
    np.testing.assert_array_equal(ds["q_vs_a_kl"].values, ds["kl_quiescent_active"].values)
    assert np.isfinite(ds["q_vs_a_kl"].values).all()


def test_a_labs_registered_statistic_is_swept_through_the_specs_imports(reference, tiny_spec, tmp_path):
    spec = yaml.safe_load(tiny_spec.read_text())
    spec["imports"] = ["sweep_user_statistic"]
    spec["statistics"] = {"peak": {"statistic": "peak_decoded", "of": "reactivation"}}
    store = tmp_path / "store"
    shutil.copytree(reference[0].out, store)
    try:
        result = nrx.sweep(spec, out=store, scheduler="sync", show_progress=False)
        assert result.ok, result.summary()
        ds = result.dataset()
        stat = get_statistic("peak_decoded")
        rec = _recordings(result)["Us"]
        assert ds["peak"].sel(condition="Us", **CELL) == stat.value(rec.select("quiescent"))
        assert ds["peak"].attrs["units"] == "m"
        cmp = nrx.compare(rec, rec, n_boot=99, n_perm=99)
        assert cmp.value("quiescent", "peak |decoded|") == ds["peak"].sel(condition="Us", **CELL)
    finally:
        STATISTICS.remove("peak |decoded|")
        sys.modules.pop("sweep_user_statistic", None)


def test_the_kl_matrix_is_kl_of_quiescent_against_active_with_a_uniform_column(reference):
    from neurorx.analysis import kl_divergence, kl_uniform_vs

    result, ds = reference
    kl = ds["kl"]
    assert list(kl.quiescent.values) == ["Us", "U", "uniform"]
    assert list(kl.estimator.values) == ["corrected", "reference"]
    assert kl.attrs["units"] == "nat"
    recs = _recordings(result, seed=1)
    q = recs["U"].select("quiescent").decoded.reshape(-1, 2)
    a = recs["Us"].select("active").decoded.reshape(-1, 2)
    cell = kl.sel(seed=1, backend="torch", run_seed=0, active="Us")
    assert cell.sel(quiescent="U", estimator="corrected") == kl_divergence(q, a, n_mc=200, seed=0)
    assert cell.sel(quiescent="U", estimator="reference") == kl_divergence(q, a, method="reference", n_mc=200, seed=0)
    assert cell.sel(quiescent="uniform", estimator="reference") == kl_uniform_vs(
        a, box=(-1.1, 1.1), method="reference", n_mc=200, seed=0, reference_quirk=True)


def test_the_circular_kl_matrix_is_circular_kl_of_bearings_with_a_uniform_column(hd_reference):
    from neurorx.analysis import circular_kl

    result, ds = hd_reference
    kl = ds["kl"]
    assert list(kl.quiescent.values) == ["Hs", "H", "uniform"] and kl.attrs["units"] == "nat"
    recs = _recordings(result)
    q = recs["H"].select("quiescent").decoded[..., 0]
    a = recs["Hs"].select("active").decoded[..., 0]
    cell = kl.sel(seed=0, backend="torch", run_seed=0, active="Hs")
    assert cell.sel(quiescent="H") == circular_kl(q, a)
    uniform = np.random.default_rng(0).uniform(-np.pi, np.pi, 200_000)
    assert cell.sel(quiescent="uniform") == pytest.approx(circular_kl(uniform, a), abs=0.01)
    assert (kl.values >= 0).all()
