"""The gathered results: a NetCDF file that plain xarray opens, with labelled dimensions and units."""

import json
import shutil

import numpy as np
import xarray as xr

from neurorx.analysis import burn_in_fraction
from neurorx.sweep import Store, load_spec
from neurorx.sweep.gather import gather


def test_the_netcdf_opens_with_plain_xarray_with_dims_coords_and_units(reference, tiny_spec):
    result, _ = reference
    with xr.open_dataset(result.results) as ds:
        tv = ds["total_variance"]
        assert tv.dims == ("condition", "seed", "backend", "run_seed")
        assert list(ds.condition.values) == ["Us", "U"] and list(ds.condition_label.values) == ["U^σ", "U"]
        assert list(ds.seed.values) == [0, 1] and list(ds.backend.values) == ["torch"]
        assert tv.attrs["units"] == "m^2" and json.loads(tv.attrs["params"]) == {"burn_in": burn_in_fraction(10, 30)}
        assert ds["total_variance_per_trajectory"].sizes["trajectory"] == 6
        ev = ds["explained_variance"]
        assert ev.dims[-2:] == ("phase", "component") and list(ds.phase.values) == ["active", "quiescent"]
        assert ev.attrs["units"] == "1" and np.all(np.diff(ev.values, axis=-1) >= -1e-12)   # cumulative
        assert ds["kl"].dims == ("seed", "backend", "run_seed", "active", "quiescent", "estimator")
        assert ds["learning_curve_test_loss"].dims == ("condition", "seed", "eval_batch")
        assert ds["learning_curve_test_error"].attrs["units"] == "cm"        # as the training log prints it
        assert list(ds.eval_batch.values) == [0, 1, 2, 3]
        assert json.loads(ds.attrs["spec"]) == load_spec(tiny_spec).to_dict()
        for var in ds.data_vars:
            assert "units" in ds[var].attrs and not ds[var].isnull().any(), var
        # the mean over the five (here two) networks is one call
        assert ds["total_variance"].mean("seed").sizes == {"condition": 2, "backend": 1, "run_seed": 1}


def test_a_job_that_did_not_finish_leaves_nan_and_is_listed(reference, tmp_path):
    result, _ = reference
    out = tmp_path / "copy"
    shutil.copytree(result.out, out)
    job = next(j for j in result.jobs if j.labels.get("statistic") == "total_variance")
    (out / "jobs" / job.id / "done.json").unlink()
    ds = gather(result.spec, Store(out))
    where = {k: job.labels[k] for k in ("condition", "seed", "backend", "run_seed")}
    assert np.isnan(ds["total_variance"].sel(where).item())
    assert ds["total_variance"].count().item() == 3
    assert json.loads(ds["total_variance"].attrs["missing_jobs"]) == [job.id]


def test_dimensions_with_other_labels_get_their_own_name(reference, tmp_path):
    from dataclasses import replace

    from neurorx.sweep import execute, expand

    result, ref = reference
    out = tmp_path / "copy"
    shutil.copytree(result.out, out)
    stats = {s.name: s for s in result.spec.statistics}
    flipped = replace(stats["explained_variance"], name="ev_flipped", phases=("quiescent", "active"))
    spec = replace(result.spec, statistics=(*result.spec.statistics, flipped))
    jobs = expand(spec)
    for job in jobs:
        execute(job.to_dict(), str(out))       # only the flipped statistic jobs are not done yet
    ds = gather(spec, Store(out))
    assert list(ds.phase.values) == ["active", "quiescent"]
    assert ds["ev_flipped"].dims[-2:] == ("ev_flipped_phase", "component")
    assert list(ds.ev_flipped_phase.values) == ["quiescent", "active"]
    np.testing.assert_array_equal(ds["ev_flipped"].sel(ev_flipped_phase="active").values,
                                  ref["explained_variance"].sel(phase="active").values)


def test_a_run_of_some_conditions_is_gathered_on_every_condition_with_nan_for_the_others(tiny_spec, tmp_path):
    import numpy as np
    import yaml

    import neurorx as nrx

    spec = yaml.safe_load(tiny_spec.read_text())
    spec["train"]["seeds"] = [0]
    spec["runs"]["only_us"] = {**spec["runs"]["reactivation"], "conditions": ["Us"]}
    spec["statistics"] = {"learning_curve": {}, "tv_us": {"statistic": "total_variance", "of": "only_us",
                                                          "burn_in": 10}}
    ds = nrx.sweep(spec, out=tmp_path, scheduler="sync", show_progress=False).dataset()
    tv = ds["tv_us"].sel(backend="torch").isel(run_seed=0, seed=0)
    assert list(ds.condition.values) == ["Us", "U"]
    assert np.isfinite(tv.sel(condition="Us")) and np.isnan(tv.sel(condition="U"))


def test_runs_with_other_protocol_seeds_curves_of_other_lengths_and_shared_jobs_are_each_gathered_in_place(
        tiny_spec, tmp_path):
    """One Dataset for a spec whose runs differ in protocol seeds, whose conditions train for different numbers
    of batches, and where two statistics name the same recordings (one job serves both): every value lands on
    its own labels, the cells a run does not cover are NaN."""
    import yaml

    import neurorx as nrx

    spec = yaml.safe_load(tiny_spec.read_text())
    spec["train"]["seeds"] = [0]
    spec["train"]["conditions"]["U"]["overrides"] = ["trainer.n_epochs=5"]
    reactivation = spec["runs"]["reactivation"]
    spec["runs"] = {"reactivation": reactivation,
                    "only_us": {**reactivation, "conditions": ["Us"]},          # the same jobs as Us above
                    "later": {**reactivation, "conditions": ["Us"], "seeds": [1, 2]}}
    spec["statistics"] = {"learning_curve": {},
                          "total_variance": {"of": "reactivation", "burn_in": 10},
                          "tv_us": {"statistic": "total_variance", "of": "only_us", "burn_in": 10},
                          "tv_later": {"statistic": "total_variance", "of": "later", "burn_in": 10}}
    ds = nrx.sweep(spec, out=tmp_path, scheduler="sync", show_progress=False).dataset()
    assert list(ds.run_seed.values) == [0, 1, 2]
    tv, tv_us, later = (ds[v].sel(backend="torch", seed=0) for v in ("total_variance", "tv_us", "tv_later"))
    assert np.isfinite(tv.sel(run_seed=0)).all() and np.isnan(tv.sel(run_seed=[1, 2])).all()
    assert tv_us.sel(condition="Us", run_seed=0).item() == tv.sel(condition="Us", run_seed=0).item()
    assert np.isnan(tv_us.sel(condition="U")).all()
    assert np.isfinite(later.sel(condition="Us", run_seed=[1, 2])).all()
    assert np.isnan(later.sel(run_seed=0)).all() and np.isnan(later.sel(condition="U")).all()
    assert later.sel(condition="Us", run_seed=1).item() != later.sel(condition="Us", run_seed=2).item()
    curve = ds["learning_curve_test_error"].sel(seed=0)
    assert list(ds.eval_batch.values) == [0, 1, 2, 3, 4, 5]
    assert np.isfinite(curve.sel(condition="U")).all()                 # 5 batches: evaluations 0..5
    assert np.isfinite(curve.sel(condition="Us", eval_batch=[0, 1, 2, 3])).all()
    assert np.isnan(curve.sel(condition="Us", eval_batch=[4, 5])).all()  # 3 batches: no evaluation at 4, 5
