"""Every writer, stopped by SIGTERM at its worst moment, leaves the earlier outputs whole and no mixed folder.

The command line turns SIGTERM into :class:`neurorx.cli.Terminated` raised where the program is; these tests
raise it at the last step of each writer (deterministic, in process) and check the folder.
"""

import json
import os
import signal
import time

import pytest

from neurorx.cli import Terminated, _install_signal_handlers, main
from neurorx.ei.experiment import ExperimentConfig, load_runs, run_experiment
from neurorx.experiments import demo as demo_module
from neurorx.experiments.demo import DemoConfig, run_demo

EI = dict(conditions=("ln_plus", "inorm"), epsilons=(0.0,), n_configs=1, seeds=1, epochs=1, width=(8, 8))


def _listing(folder):
    return sorted(p.name for p in folder.iterdir())


def _stop_at(monkeypatch, module, name):
    """Raise Terminated (what SIGTERM raises) when ``module.name`` is called."""
    def stop(*args, **kwargs):
        raise Terminated
    monkeypatch.setattr(module, name, stop)


def _demo(models_dir, seed=0):
    return DemoConfig(models_dir=str(models_dir), trials=3, active_steps=10, quiescent_steps=10, seed=seed,
                      backends=("torch",), head_direction=False, n_mc=100, max_kde_points=300, n_boot=20, n_perm=19)


def test_demo_force_terminated_before_its_report_keeps_the_earlier_report_whole(models_dir, tmp_path, monkeypatch):
    out = tmp_path / "demo"
    run_demo(out, _demo(models_dir, seed=0), quiet=True)
    before = {name: (out / name).read_bytes() for name in _listing(out)}
    assert "report.md" in before and "trajectories.png" in before
    _stop_at(monkeypatch, demo_module, "_report")        # the figures are drawn, the report not yet
    with pytest.raises(Terminated):
        run_demo(out, _demo(models_dir, seed=5), force=True, quiet=True)
    assert {name: (out / name).read_bytes() for name in _listing(out)} == before


def test_demo_refused_by_a_check_leaves_no_folder(models_dir, tmp_path, capsys):
    out = tmp_path / "new" / "demo"
    code = main(["demo", "--models", str(models_dir), "--out", str(out), "--trials", "3", "--quiescent", "5",
                 "--backends", "torch", "--no-head-direction", "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--quiescent 10 or more" in err[0]
    assert not (tmp_path / "new").exists()


def test_demo_failing_midway_leaves_no_folder(models_dir, tmp_path, monkeypatch):
    _stop_at(monkeypatch, demo_module, "_figures")
    with pytest.raises(Terminated):
        run_demo(tmp_path / "demo", _demo(models_dir), quiet=True)
    assert _listing(tmp_path) == []


def _files(folder):
    """Every file under ``folder`` (relative path -> bytes), staging folders left out."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and ".replacing" not in p.parts}


def test_ei_force_terminated_keeps_the_old_experiment_and_resumes_the_new_one(tmp_path, monkeypatch):
    from neurorx.ei import jobs as ei_jobs
    from neurorx.sweep.store import Store

    out = tmp_path / "ei"
    old = ExperimentConfig.quick(**EI)
    run_experiment(old, out, progress=False)
    before = _files(out)
    assert {"config.json", "summary.json", "results.nc"} <= set(before)
    new = ExperimentConfig.quick(**{**EI, "seed": 1})
    real = ei_jobs.run_ei_config
    calls = []

    def second_run_terminated(config, *args, **kwargs):
        calls.append(config["condition"])
        if len(calls) == 2:          # the first new run is finished: SIGTERM reaches the command mid-run
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(2)            # the main thread unwinds meanwhile; this run never finishes
            raise RuntimeError("stopped")
        return real(config, *args, **kwargs)

    monkeypatch.setattr(ei_jobs, "run_ei_config", second_run_terminated)
    previous = _install_signal_handlers()          # what the command line does: SIGTERM raises Terminated
    try:
        with pytest.raises(Terminated):
            run_experiment(new, out, force=True, progress=False)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    assert _files(out) == before                                   # nothing of the old one lost ...
    assert load_runs(out) and json.loads((out / "summary.json").read_text())["experiment"] == old.to_dict()
    kept = Store(out / ".replacing").done_ids(j.id for j in ei_jobs.grid_jobs(new))
    assert len(kept) == 1                                          # ... and the new one's first run kept
    calls.clear()
    monkeypatch.setattr(ei_jobs, "run_ei_config", lambda config, *a, **k: calls.append(1) or real(config, *a, **k))
    summary = run_experiment(new, out, force=True, progress=False)  # the same command resumes
    assert len(calls) == 1 and summary["n_runs"] == 2 and not (out / ".replacing").exists()
    assert json.loads((out / "config.json").read_text())["experiment"] == new.to_dict()
    assert len(load_runs(out)) == 2
    assert Store(out).done_ids(j.id for j in ei_jobs.grid_jobs(old)) == set()   # no old run mixed in


def test_ei_figures_interrupted_keep_the_earlier_figures(tmp_path, monkeypatch):
    from neurorx.ei import figures

    out = tmp_path / "ei"
    run_experiment(ExperimentConfig.quick(**EI), out, progress=False)
    figures.draw_all(out, dpi=30)
    before = {p.name: p.read_bytes() for p in (out / "figures").iterdir()}
    assert len(before) == 4
    _stop_at(monkeypatch, figures, "moments_panel")        # the last of the four panels
    with pytest.raises(Terminated):
        figures.draw_all(out, overwrite=True, dpi=31)
    assert {p.name: p.read_bytes() for p in (out / "figures").iterdir()} == before
    assert _listing(out) == ["config.json", "figures", "jobs", "results.nc", "store.json", "summary.json"]


@pytest.mark.parametrize("bad", [["--data", "nope"], ["--epochs", "0"], ["--workers", "0"]])
def test_ei_refused_by_a_check_leaves_no_folder(tmp_path, capsys, bad):
    out = tmp_path / "new" / "ei"
    assert main(["ei", "experiment", "--quick", "--out", str(out), "--quiet", *bad]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and not (tmp_path / "new").exists(), err
