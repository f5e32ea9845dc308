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
