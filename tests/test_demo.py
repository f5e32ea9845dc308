"""The demo (main job): runs end to end on a models folder, writes its report, refuses to overwrite."""

import json

import numpy as np
import pytest
from brian2 import ms
from netfactory import make_network

import neurorx as nrx
from neurorx.analysis import Statistic, random_network, register_statistic
from neurorx.experiments.demo import DemoConfig, run_demo

# registration only: the demo report and compare() pick it up without other edits
register_statistic(Statistic("furthest excursion (test)", lambda x, circular: np.abs(x).max(axis=(1, 2)), "{u}",
                             circular=False))


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    noise = {"recurrent": nrx.ReferenceUniformNoise(0.01, 20 * ms)}
    task = nrx.SpatialNavigation(n_cells=32, seed=0)
    make_network(n_rec=16, task=task, noise=noise, seed=0).save(root / "spatial_navigation/noisy_unbiased.npz")
    biased = nrx.SpatialNavigation(n_cells=32, seed=0, biased=True)
    make_network(n_rec=16, task=biased, noise=noise, seed=1).save(root / "spatial_navigation/noisy_biased.npz")
    return root


def test_demo_writes_report_figures_and_results(models_dir, tmp_path):
    cfg = DemoConfig(models_dir=str(models_dir), trials=6, active_steps=20, quiescent_steps=40, n_mc=200,
                     max_kde_points=500, backend_options={"brian2": {"target": "numpy"}}, n_boot=20, n_perm=19)
    results = run_demo(tmp_path / "demo", cfg, quiet=True)
    out = tmp_path / "demo"
    report = (out / "report.md").read_text()
    assert "Fig. 2e" in report and "torch vs brian2" in report
    # a statistic registered in this test file alone is in the report's table and in the comparison
    assert "furthest excursion (test) (m)" in report and report.count("furthest excursion (test)") >= 2
    for png in ("trajectories.png", "kl_matrix.png", "explained_variance.png", "occupancy.png"):
        assert (out / png).stat().st_size > 1000
    data = json.loads((out / "results.json").read_text())
    assert set(data["backends"]) == {"torch", "brian2"}
    kl = data["backends"]["torch"]["kl"]
    assert len(kl) == 2 and len(kl[0]) == 4
    assert results["versions"]["torch"]
    with pytest.raises(FileExistsError, match="--force"):
        run_demo(out, cfg, quiet=True)


def test_missing_network_says_how_to_train_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="neurorx train"):
        run_demo(tmp_path / "out", DemoConfig(models_dir=str(tmp_path)), quiet=True)


def test_random_baseline_has_the_shapes_task_and_noise():
    net = make_network(n_rec=16, noise={"recurrent": nrx.WhiteNoise(0.1)})
    rnd = random_network(net, seed=3)
    assert rnd.n_rec == net.n_rec and rnd.n_out == net.n_out and rnd.noise == net.noise
    assert rnd.task is not None and abs(rnd.weights["w_rec"]).max() <= 1 / 16**0.5


def test_demo_reports_health_and_nulls_and_flags_the_random_baseline(models_dir, tmp_path):
    cfg = DemoConfig(models_dir=str(models_dir), trials=6, active_steps=20, quiescent_steps=40, n_mc=200,
                     max_kde_points=500, backends=("torch",), head_direction=False)
    results = run_demo(tmp_path / "demo", cfg, quiet=True)
    health = results["backends"]["torch"]["health"]
    assert set(health) == {"U^σ", "B^σ", "R^σ"} and all("flags" in h for h in health.values())
    report = (tmp_path / "demo" / "report.md").read_text()
    assert "## Health of the quiescent activity" in report and "(null)" in report
    from neurorx.experiments.demo import summary_table

    flagged_u = {**results, "backends": {"torch": {**results["backends"]["torch"],
                                                   "health": {**health, "U^σ": {**health["U^σ"], "flagged": True}}}}}
    assert "not assessed (U^σ flagged)" in summary_table(flagged_u)      # a flagged run is never ranked
    flagged = [label for label, h in health.items() if h["flagged"]]
    assert summary_table(results).endswith(f"| {', '.join(flagged) or 'none'} |")     # the table names them


def test_demo_cli_prints_results_on_stdout_and_logs_on_stderr(models_dir, tmp_path, capsys):
    from neurorx.cli import main

    assert main(["demo", "--models", str(models_dir), "--out", str(tmp_path / "d"), "--trials", "6",
                 "--quiescent", "40", "--backends", "torch", "--no-head-direction"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("| backend | KL(Q_U^σ‖A_U^σ)") and "report: " in out
    assert "ran U^σ on torch" in err and "| backend |" not in err
