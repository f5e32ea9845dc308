"""``neurorx sweep``: dry run, errors as one line with exit status 2, a finished sweep re-run does nothing."""

import shutil

import yaml

from neurorx.cli import main


def test_dry_run_lists_every_job_and_what_is_done(reference, tiny_spec, tmp_path, capsys):
    result, _ = reference
    assert main(["sweep", str(tiny_spec), "--dry-run", "--out", str(tmp_path / "empty")]) == 0
    out = capsys.readouterr().out
    assert "train jobs: 4 (0 done)" in out and "total: 22 jobs, 0 done, 22 to run" in out
    assert "condition=Us seed=1" in out and not (tmp_path / "empty").exists()
    assert main(["sweep", str(tiny_spec), "--dry-run", "--out", str(result.out)]) == 0
    assert "total: 22 jobs, 22 done, 0 to run" in capsys.readouterr().out


def test_a_finished_sweep_run_again_runs_nothing_and_exits_0(reference, tiny_spec, tmp_path, capsys):
    out = tmp_path / "copy"
    shutil.copytree(reference[0].out, out)
    (out / "results.nc").unlink()
    assert main(["sweep", str(tiny_spec), "--out", str(out), "--quiet"]) == 0
    assert "22 already done, 0 run now, 0 failed" in capsys.readouterr().out
    assert (out / "results.nc").is_file()


def test_an_invalid_spec_is_one_line_and_exit_status_2(tiny_spec, tmp_path, capsys):
    spec = yaml.safe_load(tiny_spec.read_text())
    spec["train"]["conditions"]["U"]["card"] = "spatial_navigation/nosiy_unbiased"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(spec))
    assert main(["sweep", str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("neurorx sweep: error:") and "nosiy_unbiased" in err and len(err.splitlines()) == 1
    assert main(["sweep", str(tmp_path / "missing.yaml")]) == 2
    assert "no sweep spec" in capsys.readouterr().err
    assert main(["sweep", str(tiny_spec), "--workers", "0"]) == 2


def test_gather_writes_the_results_of_the_jobs_finished_so_far_and_runs_nothing(reference, tiny_spec, tmp_path,
                                                                                  capsys):
    import json

    import numpy as np
    import xarray as xr

    from neurorx.sweep.figures import paper_figures, summary_table

    out = tmp_path / "half"
    shutil.copytree(reference[0].out, out)
    (out / "results.nc").unlink()
    for done in (out / "jobs").glob("*/done.json"):   # a sweep stopped after its first seed
        if json.loads(done.read_text())["labels"]["seed"] == 1:
            shutil.rmtree(done.parent)
    assert main(["sweep", str(tiny_spec), "--out", str(out), "--gather"]) == 0
    printed = capsys.readouterr().out
    assert "gathered 7 of 14 statistic jobs" in printed and "11 of 22 jobs done" in printed
    assert main(["sweep", str(tiny_spec), "--out", str(out), "--dry-run"]) == 0
    assert "total: 22 jobs, 11 done, 11 to run" in capsys.readouterr().out    # nothing was run
    with xr.open_dataset(out / "results.nc") as ds:
        ds = ds.load()
    tv = ds["total_variance"].sel(backend="torch").isel(run_seed=0)
    assert np.isfinite(tv.sel(seed=0)).all() and np.isnan(tv.sel(seed=1)).all()
    assert ds["total_variance"].attrs["missing_jobs"]
    table = [row for row in summary_table(ds).splitlines() if row.startswith("|")]   # the lines under it aside
    assert table[0].startswith("| condition | backend | networks |")
    assert all(row.split(" | ")[2] == "1" for row in table[2:])
    assert f"{tv.sel(seed=0, condition='Us').item():.3g} |" in table[2]    # the one finished network, no SD
    assert len(paper_figures(ds, tmp_path / "figs")) == 4


def test_dry_run_and_gather_exclude_each_other(tiny_spec, capsys):
    import pytest

    with pytest.raises(SystemExit) as stop:
        main(["sweep", str(tiny_spec), "--dry-run", "--gather"])
    assert stop.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_a_sweep_writing_to_a_log_file_logs_one_line_per_finished_job(reference, tiny_spec, tmp_path, capsys):
    import json

    out = tmp_path / "half"
    shutil.copytree(reference[0].out, out)
    for done in (out / "jobs").glob("*/done.json"):   # leave the second seed's 11 jobs to run
        if json.loads(done.read_text())["labels"]["seed"] == 1:
            shutil.rmtree(done.parent)
    assert main(["sweep", str(tiny_spec), "--out", str(out), "--scheduler", "sync"]) == 0   # stderr: no terminal
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("sweep 'tiny': ") and "/11 " in line]
    assert [line.split()[2] for line in lines] == [f"{k}/11" for k in range(1, 12)]
    assert "train condition=Us seed=1 (" in err and " s)" in lines[0]
