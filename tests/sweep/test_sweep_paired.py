"""The paired report of a sweep: Dale against unconstrained networks of the same seeds, from results.nc.

A tiny sweep trains an unconstrained and a Dale condition at three seeds and collects the report's statistics
(final test error, KL(Q‖A), total variance, the I–E correlation); the report's cells and paired numbers must be
what a direct computation from results.nc gives, and a store with unfinished jobs is reported as far as it goes.
"""

import json
import math

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from neurorx.analysis import bootstrap_interval
from neurorx.cli import main
from neurorx.errors import ConfigurationError
from neurorx.sweep.paired import auto_pairs, paired_report, parse_pairs, write_report
from neurorx.sweep.units import unit_attrs

N_BOOT = 199
SPEC = {
    "name": "tiny_paired",
    "train": {
        "seeds": [0, 1, 2],
        "overrides": ["rnn.n_rec=16", "trainer.n_epochs=3", "trainer.batch_size=8", "trainer.steps=10",
                      "trainer.test_batch=8", "trainer.eval_every=1"],
        "conditions": {"Us": {"card": "spatial_navigation/noisy_unbiased"},
                       "Us_dale": {"card": "spatial_navigation/noisy_unbiased_dale"}}},
    "runs": {"reactivation": {"protocol": [{"phase": "active", "steps": 10},
                                           {"phase": "quiescent", "steps": 30, "start": "reset"}],
                              "backends": ["torch"], "trials": 6, "record": ["h"]}},
    "statistics": {"learning_curve": {},
                   "total_variance": {"of": "reactivation", "burn_in": 0.5},
                   "kl_qa": {"statistic": "kl_quiescent_active", "of": "reactivation", "n_mc": 200},
                   "ie_corr": {"statistic": "ie_correlation", "of": "reactivation", "phases": ["quiescent"]}},
}
COLUMNS = {"test error": "learning_curve_final_test_error", "KL(Q‖A)": "kl_qa",
           "total variance": "total_variance", "I–E corr.": "ie_corr"}


@pytest.fixture(scope="module")
def paired_sweep(tmp_path_factory, sync_sweep):
    """The tiny paired sweep, run one job at a time here: ``(spec path, store, Dataset)``."""
    spec, result = sync_sweep(SPEC, tmp_path_factory.mktemp("paired"))
    return spec, result.out, result.dataset()


def test_the_i_e_correlation_is_a_number_for_dale_networks_and_nan_without_an_ei_split(paired_sweep):
    ds = paired_sweep[2]
    ie = ds["ie_corr"].isel(run_seed=0).sel(backend="torch")
    assert np.isfinite(ie.sel(condition="Us_dale")).all() and (np.abs(ie.sel(condition="Us_dale")) <= 1).all()
    assert np.isnan(ie.sel(condition="Us")).all()


def test_the_report_takes_the_default_columns_and_pairs_every_condition_with_its_dale_twin(paired_sweep):
    ds = paired_sweep[2]
    report = paired_report(ds, n_boot=N_BOOT)
    assert report.columns == COLUMNS
    assert report.pairs == [("Us", "Us_dale")] == auto_pairs(ds.condition.values)
    assert [(r["label"], r["backend"]) for r in report.rows] == [("U^σ (Us)", "torch"), ("U^σ Dale (Us_dale)", "torch")]
    assert [c.column for c in report.comparisons] == report.paired == ["test error", "KL(Q‖A)", "total variance"]
    assert report.units["test error"] == "cm" and report.units["KL(Q‖A)"] == "nat"


def test_each_cell_is_the_mean_and_sd_over_seeds_of_results_nc(paired_sweep):
    ds = paired_sweep[2]
    report = paired_report(ds, n_boot=N_BOOT)
    for row in report.rows:
        for label, var in COLUMNS.items():
            da = ds[var].sel(condition=row["condition"])
            if "backend" in da.dims:
                da = da.sel(backend=row["backend"], run_seed=0)
            v = da.values[np.isfinite(da.values)]
            cell = row[label]
            assert cell["n"] == len(v)
            if len(v):
                assert cell["mean"] == pytest.approx(v.mean(), rel=1e-12)
                assert cell["sd"] == pytest.approx(v.std(), rel=1e-12, abs=1e-15)
                assert cell["text"].endswith(f"(n={len(v)})")
            else:
                assert math.isnan(cell["mean"]) and cell["text"] == "– (n=0)"
    assert {row["condition"]: row["I–E corr."]["n"] for row in report.rows} == {"Us": 0, "Us_dale": 3}


def test_the_paired_numbers_are_a_direct_computation_from_results_nc(paired_sweep):
    ds = paired_sweep[2]
    report = paired_report(ds, n_boot=N_BOOT, seed=3)
    assert len(report.comparisons) == 3                # the I–E correlation is not paired: Us has no E/I split
    for comp in report.comparisons:
        var = COLUMNS[comp.column]
        a, b = (ds[var].sel(condition=c) for c in ("Us", "Us_dale"))
        if "backend" in a.dims:
            a, b = (x.sel(backend="torch", run_seed=0) for x in (a, b))
        a, b = a.values, b.values
        assert comp.n == 3 and comp.seeds == [0, 1, 2]
        d = b - a
        assert comp.mean_diff == pytest.approx(d.mean(), rel=1e-12)
        assert (comp.mean_a, comp.mean_b) == (pytest.approx(a.mean()), pytest.approx(b.mean()))
        assert comp.p_t == pytest.approx(stats.ttest_rel(b, a).pvalue, rel=1e-12)
        assert comp.p_wilcoxon == pytest.approx(stats.wilcoxon(b, a, method="exact").pvalue, rel=1e-12)
        boot = bootstrap_interval(np.mean, d, n_boot=N_BOOT, seed=3)
        assert (comp.ci_low, comp.ci_high, comp.ci_method) == (boot.low, boot.high, boot.method)
        assert comp.ci_low <= comp.mean_diff <= comp.ci_high


def test_an_unfinished_store_is_reported_as_far_as_it_goes(paired_sweep):
    ds = paired_sweep[2].copy(deep=True)
    ds["total_variance"].loc[{"condition": "Us_dale", "seed": 1}] = np.nan      # a run not finished yet
    ds["kl_qa"].loc[{"condition": "Us"}] = np.nan                              # a condition with none finished
    report = paired_report(ds, n_boot=N_BOOT)
    rows = {r["condition"]: r for r in report.rows}
    assert rows["Us_dale"]["total variance"]["n"] == 2 and rows["Us"]["total variance"]["n"] == 3
    assert rows["Us"]["KL(Q‖A)"]["text"] == "– (n=0)"
    comps = {c.column: c for c in report.comparisons}
    assert comps["total variance"].seeds == [0, 2]
    tv = ds["total_variance"].sel(backend="torch", run_seed=0, seed=[0, 2])
    assert comps["total variance"].mean_diff == pytest.approx(
        float((tv.sel(condition="Us_dale") - tv.sel(condition="Us")).mean()))
    assert comps["KL(Q‖A)"].n == 0 and "| Us_dale − Us | torch | KL(Q‖A) (nat) | 0 |" in report.pairs_markdown()


def test_one_finished_pair_has_a_difference_but_no_interval_or_test(paired_sweep):
    ds = paired_sweep[2].copy(deep=True)
    ds["total_variance"].loc[{"seed": [1, 2]}] = np.nan
    comp = next(c for c in paired_report(ds, n_boot=N_BOOT).comparisons if c.column == "total variance")
    assert comp.n == 1 and np.isfinite(comp.mean_diff)
    assert math.isnan(comp.ci_low) and math.isnan(comp.p_t) and math.isnan(comp.p_wilcoxon)


def test_the_cli_gathers_and_writes_tables_json_and_figure(paired_sweep, capsys):
    spec, store, _ = paired_sweep
    assert main(["sweep", str(spec), "--out", str(store), "--report", "Us:Us_dale", "--quiet"]) == 0
    assert "report:" in capsys.readouterr().out
    folder = store / "report"
    md = (folder / "report.md").read_text(encoding="utf-8")
    assert "| U^σ (Us) | torch |" in md and "p (Wilcoxon)" in md and "(n=3)" in md
    saved = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    direct = paired_report(xr.open_dataset(store / "results.nc"), [("Us", "Us_dale")])
    assert [c["mean_diff"] for c in saved["comparisons"]] == pytest.approx(
        [c.mean_diff for c in direct.comparisons], nan_ok=True)
    assert (folder / "paired.png").stat().st_size > 0


def test_write_report_replaces_an_earlier_report(paired_sweep, tmp_path):
    ds = paired_sweep[2]
    first = write_report(ds, tmp_path, n_boot=N_BOOT)
    again = write_report(ds, tmp_path, n_boot=N_BOOT)
    assert first == again and set(first) == {"markdown", "json", "figure"}


def test_bad_pairs_and_columns_are_one_line(paired_sweep, capsys):
    spec, store, ds = paired_sweep
    with pytest.raises(ConfigurationError, match="no condition 'Bs'"):
        paired_report(ds, "Bs:Bs_dale")
    with pytest.raises(ConfigurationError, match="pairs are A:B"):
        parse_pairs("Us-Us_dale")
    with pytest.raises(ConfigurationError, match=r"dimensions .*eval_batch"):
        paired_report(ds, columns=["learning_curve_test_loss"])
    assert main(["sweep", str(spec), "--out", str(store), "--report", "Us-Us_dale", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("neurorx sweep: error: pairs are A:B") and len(err.splitlines()) == 1


def _two_backends(ds):
    """``ds`` with a second backend whose recording statistics are the first's times 1.1 (the layout of a
    sweep on both backends, without running Brian2)."""
    other = ds.assign_coords(backend=["brian2"])
    for var in ("total_variance", "kl_qa", "ie_corr"):
        other[var] = other[var] * 1.1
    return xr.concat([ds, other], dim="backend", data_vars="minimal", coords="minimal", compat="override")


def test_each_backend_has_its_rows_and_pairs_and_the_training_statistic_is_compared_once(paired_sweep, tmp_path):
    ds = _two_backends(paired_sweep[2])
    report = paired_report(ds, n_boot=N_BOOT)
    assert [(r["condition"], r["backend"]) for r in report.rows] == [
        ("Us", "torch"), ("Us", "brian2"), ("Us_dale", "torch"), ("Us_dale", "brian2")]
    assert [(c.column, c.backend) for c in report.comparisons] == [
        ("test error", "–"), ("KL(Q‖A)", "torch"), ("KL(Q‖A)", "brian2"), ("total variance", "torch"),
        ("total variance", "brian2")]
    by = {(c.column, c.backend): c for c in report.comparisons}
    assert by["total variance", "brian2"].mean_diff == pytest.approx(1.1 * by["total variance", "torch"].mean_diff)
    assert write_report(ds, tmp_path, n_boot=N_BOOT)["figure"].stat().st_size > 0


def test_conditions_in_different_units_give_each_cell_its_own_unit(paired_sweep):
    """The report reads each condition's stored unit (``units_by_condition``; a real sweep of two tasks is in
    ``test_sweep_units.py``)."""
    ds = paired_sweep[2].copy(deep=True)
    for var, units in (("learning_curve_final_test_error", ("cm", "deg")), ("total_variance", ("m^2", "rad^2"))):
        attrs = {k: v for k, v in ds[var].attrs.items() if k != "units"}
        ds[var].attrs = {**attrs, **unit_attrs(dict(zip(("Us", "Us_dale"), units, strict=True)))}
    report = paired_report(ds, n_boot=N_BOOT)
    assert report.units["test error"] == "" and report.units["KL(Q‖A)"] == "nat"
    rows = {r["condition"]: r for r in report.rows}
    assert (rows["Us"]["test error"]["unit"], rows["Us_dale"]["test error"]["unit"]) == ("cm", "deg")
    assert (rows["Us"]["total variance"]["unit"], rows["Us_dale"]["total variance"]["unit"]) == ("m^2", "rad^2")
    assert " deg (n=3)" in rows["Us_dale"]["test error"]["text"]
