"""Units of a sweep's results per condition: a sweep of a spatial and a head-direction task.

A tiny sweep trains one spatial (``Us``: positions in m, test error in cm) and one head-direction condition
(``Hs``: angles in rad, test error in deg). Its results.nc must give each condition its own unit after a NetCDF
round trip, and the paired report and the summary table must show each condition's; a results file of the
earlier layout (one ``units`` attribute per variable) must still read.
"""

import json
import shutil

import numpy as np
import pytest
import xarray as xr

from neurorx.sweep import Store
from neurorx.sweep.figures import paper_figures, summary_table
from neurorx.sweep.gather import gather
from neurorx.sweep.kinds import read_result
from neurorx.sweep.paired import paired_report
from neurorx.sweep.units import UNITS_BY_CONDITION, common_unit, condition_units, unit_attrs, unit_of

SPEC = {
    "name": "tiny_mixed",
    "train": {
        "seeds": [0],
        "overrides": ["rnn.n_rec=16", "trainer.n_epochs=3", "trainer.batch_size=8", "trainer.steps=10",
                      "trainer.test_batch=8", "trainer.eval_every=1"],
        "conditions": {"Us": {"card": "spatial_navigation/noisy_unbiased"},
                       "Hs": {"card": "head_direction/noisy_unbiased"}}},
    "runs": {"reactivation": {"protocol": [{"phase": "active", "steps": 10},
                                           {"phase": "quiescent", "steps": 30, "start": "reset"}],
                              "backends": ["torch"], "trials": 6}},
    "statistics": {"learning_curve": {},
                   "total_variance": {"of": "reactivation", "burn_in": 0.5},
                   "kl_qa": {"statistic": "kl_quiescent_active", "of": "reactivation", "n_mc": 200}},
}
MIXED = {"learning_curve_test_error": {"Us": "cm", "Hs": "deg"},
         "learning_curve_final_test_error": {"Us": "cm", "Hs": "deg"},
         "total_variance": {"Us": "m^2", "Hs": "rad^2"},
         "total_variance_per_trajectory": {"Us": "m^2", "Hs": "rad^2"}}
ONE = {"learning_curve_test_loss": "1", "learning_curve_final_test_loss": "1", "kl_qa": "nat"}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, sync_sweep):
    """The sweep of both tasks, run one job at a time here: ``(SweepResult, results.nc reopened)``."""
    _, result = sync_sweep(SPEC, tmp_path_factory.mktemp("mixed"))
    with xr.open_dataset(result.results) as ds:
        return result, ds.load()


def test_each_condition_has_its_own_unit_in_results_nc(mixed):
    _, ds = mixed
    assert set(ds.data_vars) == set(MIXED) | set(ONE)
    for var, units in MIXED.items():
        assert "units" not in ds[var].attrs, var                  # no single unit that is wrong for one task
        assert json.loads(ds[var].attrs[UNITS_BY_CONDITION]) == units
        assert condition_units(ds[var]) == units and common_unit(ds[var]) is None
        assert {c: unit_of(ds[var], c) for c in units} == units
        assert unit_of(ds[var].sel(condition="Hs"), "Hs") == units["Hs"]
    for var, unit in ONE.items():                                 # one unit for both tasks: the CF attribute
        assert ds[var].attrs["units"] == unit and UNITS_BY_CONDITION not in ds[var].attrs, var
        assert condition_units(ds[var]) == {"Us": unit, "Hs": unit} and common_unit(ds[var]) == unit


def test_the_units_are_those_of_each_conditions_jobs(mixed):
    result, ds = mixed
    store = Store(result.out)
    for j in result.jobs:
        if j.kind == "statistic" and j.labels["statistic"] == "total_variance":
            out = read_result(store.path(j.id))[""]
            assert unit_of(ds["total_variance"], j.labels["condition"]) == out.unit


def test_a_condition_not_finished_yet_takes_the_unit_of_its_task(mixed, tmp_path):
    result, _ = mixed
    store = tmp_path / "store"
    shutil.copytree(result.out, store)
    for j in result.jobs:                                        # the head-direction statistics not done yet
        if j.kind == "statistic" and j.labels["condition"] == "Hs":
            (store / "jobs" / j.id / "done.json").unlink()
    ds = gather(result.spec, Store(store))
    assert ds["total_variance"].sel(condition="Hs").isnull().all()
    assert condition_units(ds["total_variance"]) == MIXED["total_variance"]    # {u}^2 for angles: rad^2
    assert condition_units(ds["kl_qa"]) == {"Us": "nat", "Hs": "nat"}
    # cm is not the learning curve's declared unit: the head-direction unit is not known, and not claimed
    assert json.loads(ds["learning_curve_final_test_error"].attrs[UNITS_BY_CONDITION]) == {"Us": "cm"}
    assert unit_of(ds["learning_curve_final_test_error"], "Hs") == ""


def test_the_paired_report_shows_each_conditions_unit(mixed):
    _, ds = mixed
    report = paired_report(ds, [("Us", "Hs")], n_boot=99)
    assert report.units["test error"] == "" and report.units["total variance"] == ""
    assert report.units["KL(Q‖A)"] == "nat"
    rows = {r["condition"]: r for r in report.rows}
    assert (rows["Us"]["test error"]["unit"], rows["Hs"]["test error"]["unit"]) == ("cm", "deg")
    assert (rows["Us"]["total variance"]["unit"], rows["Hs"]["total variance"]["unit"]) == ("m^2", "rad^2")
    assert rows["Hs"]["test error"]["text"].endswith(" deg (n=1)")
    assert rows["Us"]["total variance"]["text"].endswith(" m^2 (n=1)")
    head = report.summary_markdown().splitlines()[0]
    assert "| test error |" in head and "KL(Q‖A) (nat)" in head


def test_the_summary_table_puts_mixed_units_in_the_cells_and_one_unit_in_the_head(mixed):
    _, ds = mixed
    lines = summary_table(ds).splitlines()
    assert lines[0] == "| condition | backend | networks | final test error | total variance |"
    rows = {line.split(" | ")[0].lstrip("| "): line for line in lines[2:]}
    tv = ds["total_variance"].sel(backend="torch").isel(run_seed=0)
    for c, error_unit, tv_unit in (("Us", "cm", "m^2"), ("Hs", "deg", "rad^2")):
        cells = rows[str(ds.condition_label.sel(condition=c).item())].split(" | ")
        assert cells[3].endswith(f" {error_unit}") and cells[4].rstrip(" |").endswith(f" {tv_unit}")
        assert cells[4].startswith(f"{tv.sel(condition=c).item():.3g}")
    head = summary_table(ds.sel(condition=["Us"])).splitlines()[0]    # the spatial condition alone: one unit
    assert head.endswith("| final test error (cm) | total variance (m^2) |")


def test_fig_2f_labels_each_condition_with_its_unit(mixed, tmp_path):
    _, ds = mixed
    assert [p.name for p in paper_figures(ds[["total_variance"]], tmp_path)] == ["fig2f_total_variance.png"]


def test_a_results_file_of_one_units_attribute_still_reads(mixed, tmp_path):
    _, ds = mixed
    old = ds.copy()
    for var in old.data_vars:             # the earlier layout: one unit per variable (here the spatial one)
        attrs = dict(old[var].attrs)
        if UNITS_BY_CONDITION in attrs:
            attrs["units"] = json.loads(attrs.pop(UNITS_BY_CONDITION))["Us"]
        old[var].attrs = attrs
    path = tmp_path / "old.nc"
    old.to_netcdf(path)
    with xr.open_dataset(path) as reopened:
        assert condition_units(reopened["total_variance"]) == {"Hs": "m^2", "Us": "m^2"}
        assert unit_of(reopened["learning_curve_final_test_error"], "Hs") == "cm"
        report = paired_report(reopened, [("Us", "Hs")], n_boot=99)
        assert report.units["test error"] == "cm" and report.units["total variance"] == "m^2"
        assert "final test error (cm)" in summary_table(reopened).splitlines()[0]


def test_unit_attrs_keep_the_cf_attribute_when_the_conditions_agree():
    assert unit_attrs({"Us": "m^2", "U": "m^2"}) == {"units": "m^2"}
    assert unit_attrs({}) == {"units": ""}
    assert unit_attrs({"Us": "cm"}, ["Us", "Hs"]) == {UNITS_BY_CONDITION: '{"Us": "cm"}'}
    da = xr.DataArray(np.zeros(2), coords={"condition": ["Us", "Hs"]}, dims="condition",
                      attrs=unit_attrs({"Us": "m", "Hs": "rad"}))
    assert condition_units(da) == {"Us": "m", "Hs": "rad"} and common_unit(da) is None
