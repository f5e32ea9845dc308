"""The E/I experiment's runs as sweep jobs: a registered kind, a function of a resolved config."""

import json

import pytest

from neurorx.ei.experiment import ExperimentConfig
from neurorx.ei.jobs import KIND, RESULT, grid_configs, grid_jobs, run_ei_config
from neurorx.sweep.jobs import JOB_KINDS, job_kind

TINY = ExperimentConfig.quick(conditions=("ln_plus", "inorm"), epsilons=(0.0,), epochs=1, width=(8, 8))


def test_the_ei_kind_is_registered_with_the_sweeps_job_kinds():
    assert KIND in JOB_KINDS.names() and callable(job_kind(KIND).fn)


def test_the_grid_pairs_conditions_by_configuration_and_seed():
    configs = grid_configs(ExperimentConfig.quick(n_configs=2, seeds=2))
    assert len(configs) == 4 * 2 * 2 * 2
    by = {}
    for c in configs:
        by.setdefault((c["epsilon"], c["config"], c["seed"]), set()).add((c["width"], c["lr_e"], c["run_seed"]))
    assert all(len(v) == 1 for v in by.values())                     # one configuration per pairing key
    assert json.loads(json.dumps(configs)) == configs                 # plain JSON


def test_a_jobs_id_names_its_config_not_its_labels():
    a, b = grid_jobs(TINY), grid_jobs(ExperimentConfig.quick(**{**TINY.to_dict(), "epochs": 2}))
    assert [j.id for j in a] == [j.id for j in grid_jobs(TINY)]
    assert not {j.id for j in a} & {j.id for j in b}
    assert a[0].labels == {k: a[0].config[k] for k in ("condition", "epsilon", "config", "seed")}


def test_a_job_writes_its_result_and_the_kinds_function_runs_it(tmp_path, digits):
    config = grid_configs(TINY)[1]
    assert config["condition"] == "inorm"
    result = run_ei_config(config, tmp_path, data=digits)
    assert json.loads((tmp_path / RESULT).read_text()) == result
    assert 0 <= result["test_acc"] <= 1 and len(result["grad_cosine"]) == 2
    (tmp_path / "again").mkdir()
    job_kind(KIND).fn(config, [], tmp_path / "again", tmp_path)
    assert json.loads((tmp_path / "again" / RESULT).read_text())["test_acc"] == result["test_acc"]


@pytest.mark.slow
def test_the_experiment_runs_on_a_local_dask_cluster_as_in_process(tmp_path):
    from neurorx.ei.experiment import load_runs, run_experiment

    run_experiment(TINY, tmp_path / "sync", progress=False)
    run_experiment(TINY, tmp_path / "cluster", workers=2, progress=False)
    key = lambda r: (r["condition"], r["epsilon"])   # noqa: E731
    assert [(key(r), r["test_acc"]) for r in sorted(load_runs(tmp_path / "sync"), key=key)] == [
        (key(r), r["test_acc"]) for r in sorted(load_runs(tmp_path / "cluster"), key=key)]
