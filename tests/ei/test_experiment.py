"""The luminosity experiment: paired design, resumable results, statistics, figures."""

import json

import numpy as np
import pytest
from scipy.stats import wilcoxon

from neurorx.ei.experiment import CONDITIONS, ExperimentConfig, analyse, load_runs, run_experiment
from neurorx.ei.figures import draw_all, format_summary
from neurorx.ei.jobs import grid_configs, run_ei_config
from neurorx.errors import ConfigurationError

TINY = dict(conditions=("ln_plus", "inorm", "inorm_full"), epsilons=(0.0, 0.75), n_configs=1, seeds=1, epochs=1,
            width=(16, 16))


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    out = tmp_path_factory.mktemp("ei") / "exp"
    cfg = ExperimentConfig.quick(**TINY)
    return out, cfg, run_experiment(cfg, out, progress=False)


def test_quick_experiment_writes_config_runs_and_summary(done):
    out, cfg, summary = done
    meta = json.loads((out / "config.json").read_text())
    assert meta["experiment"] == cfg.to_dict() and meta["provenance"]["seed"] == cfg.seed
    runs = load_runs(out)
    assert len(runs) == 3 * 2 and summary["n_runs"] == 6
    assert set(summary["table"]) == {"ln_plus", "inorm", "inorm_full"}
    assert all(0 <= summary["table"][c][e]["mean"] <= 1 for c in summary["table"] for e in ("0", "0.75"))
    assert summary["paired"]["inorm_full-inorm"]["n_pairs"] == 2
    inorm = [r for r in runs if r["condition"] == "inorm"]
    assert all(len(r["grad_cosine"]) == 2 and len(r["moments"]) == 2 for r in inorm)
    assert "| inorm_full |" in format_summary(summary)


def test_runs_are_paired_by_configuration(done):
    out, _, _ = done
    runs = load_runs(out)
    for e in (0.0, 0.75):
        same = {(r["width"], r["lr_e"], r["lr_i"]) for r in runs if r["epsilon"] == e}
        assert len(same) == 1  # every condition got the same configuration


def _records(out):
    return {p.parent.name: p.read_text() for p in (out / "jobs").glob("*/done.json")}


def test_every_run_is_a_sweep_job_and_the_results_are_its_netcdf(done):
    out, cfg, _ = done
    import xarray as xr

    from neurorx.ei.jobs import RESULT, grid_jobs
    from neurorx.sweep import Store

    store = Store(out)
    jobs = grid_jobs(cfg)
    assert len(jobs) == 6 and all(store.is_done(j.id) and j.id.startswith("ei-") for j in jobs)
    with xr.open_dataset(out / "results.nc") as ds:
        assert dict(ds.sizes) == {"condition": 3, "epsilon": 2, "config": 1, "seed": 1, "layer": 2, "moment": 2}
        for j in jobs:
            r = json.loads((store.path(j.id) / RESULT).read_text())
            assert ds.test_acc.sel(condition=r["condition"], epsilon=r["epsilon"], config=0, seed=0) == r["test_acc"]


def test_a_finished_experiment_resumes_without_rerunning(done):
    out, cfg, _ = done
    before = _records(out)
    run_experiment(cfg, out, progress=False)
    assert _records(out) == before


def test_an_interrupted_experiment_reruns_only_the_missing_runs(done, tmp_path, monkeypatch):
    import shutil

    import neurorx.ei.jobs as ei_jobs

    out, cfg, summary = done
    copy = shutil.copytree(out, tmp_path / "copy")
    lost = sorted((copy / "jobs").glob("ei-*"))[0]
    shutil.rmtree(lost)
    calls = []
    real = ei_jobs.run_ei_config
    monkeypatch.setattr(ei_jobs, "run_ei_config", lambda config, out_dir=None, data=None: calls.append(
        config["condition"]) or real(config, out_dir, data))
    again = run_experiment(cfg, copy, progress=False)
    assert len(calls) == 1 and (copy / "jobs" / lost.name / "done.json").exists()
    assert again["table"] == summary["table"] and again["paired"] == summary["paired"]


def test_another_design_in_the_same_folder_needs_force(done):
    out, _, _ = done
    other = ExperimentConfig.quick(**{**TINY, "epochs": 2})
    with pytest.raises(FileExistsError, match=r"another configuration.*--force"):
        run_experiment(other, out, progress=False)


def test_figures_are_drawn(done, tmp_path):
    out, _, _ = done
    paths = draw_all(out, overwrite=True, dpi=40)
    assert len(paths) == 4 and all(p.stat().st_size > 1000 for p in paths)


def test_paired_statistics_match_scipy():
    rng = np.random.default_rng(0)
    runs = []
    for e in (0.0, 0.5):
        for k in range(8):
            base = rng.uniform(0.8, 0.9)
            for c, shift in (("inorm", 0.0), ("inorm_full", rng.normal(0.02, 0.01)), ("ln_plus", 0.01)):
                runs.append({"condition": c, "epsilon": e, "config": k, "seed": 0, "test_acc": base + shift})
    s = analyse(runs)
    diff = [b["test_acc"] - a["test_acc"] for a, b in zip(runs[0::3], runs[1::3], strict=True)]
    p = s["paired"]["inorm_full-inorm"]
    assert p["n_pairs"] == 16 and p["mean_gain"] == pytest.approx(np.mean(diff))
    assert p["wilcoxon_p"] == pytest.approx(wilcoxon(diff).pvalue)
    assert s["mann_whitney_vs_ln_plus"]["inorm"]["0"]["p"] > 0  # per level, unpaired, as the paper reports


@pytest.mark.parametrize("name", CONDITIONS.names())
def test_every_condition_runs(name, digits):
    cfg = ExperimentConfig(conditions=(name,), epsilons=(0.25,), epochs=0, n_configs=1, seeds=1, width=(8, 8))
    (config,) = grid_configs(cfg)           # one run of the grid: one sweep job config
    res = run_ei_config(config, data=digits)
    assert 0 <= res["test_acc"] <= 1 and res["condition"] == name
    assert ("grad_cosine" in res) == (CONDITIONS.get(name).layer == "inorm")


def test_the_old_names_of_a_condition_and_a_run_name_what_replaces_them():
    import neurorx.ei.experiment as experiment

    with pytest.warns(DeprecationWarning, match="EICondition"):
        assert experiment.Condition is experiment.EICondition
    for name in ("RunSpec", "run_one"):
        with pytest.raises(AttributeError, match="grid_configs"):
            getattr(experiment, name)


def test_bad_designs_are_clear_errors():
    with pytest.raises(ConfigurationError, match=r"outside \[0, 1\]"):
        ExperimentConfig(epsilons=(0.0, 1.5))
    with pytest.raises(ConfigurationError, match="unknown experimental condition 'inorm_ful'"):
        ExperimentConfig(conditions=("inorm_ful",))
