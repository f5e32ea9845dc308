"""Every script in protocols/ runs end to end on the shipped networks (few trials, short phases).

The scripts run in this process (``tests/script_runner.py``, as the docs gallery runs them); one test runs a
script as its own process, on the real command line
(``test_continuous_vs_discrete_prints_and_saves_the_divergence_per_factor``).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from script_runner import run_script as run_in_process

ROOT = Path(__file__).resolve().parents[2]


def run_script(script, args, monkeypatch, capsys, cwd) -> tuple[int, str]:
    """Run ``protocols/<script>`` with the command line ``args`` in this process (exit status, what it printed)."""
    return run_in_process(ROOT / "protocols" / script, args, monkeypatch, capsys, cwd)


@pytest.fixture(scope="module")
def models():
    root = ROOT / "models"
    if not (root / "spatial_navigation/noisy_unbiased.npz").exists():
        pytest.skip("the shipped networks are not in this checkout")
    return root


SMALL = ["--trials", "6", "--force"]
SCRIPTS = {
    "active_quiescent_active.py": ["--active", "10", "--quiescent", "20"],
    "noise_swap.py": ["--active", "10", "--quiescent", "20"],
    "continuous_vs_discrete.py": ["--active", "10", "--quiescent", "20", "--factors", "1", "2"],
    "fig1_spatial_reactivation.py": ["--quiescent", "30"],
    "fig2_biased_kl_variance.py": ["--quiescent", "30", "--variance-steps", "30", "--uniform", "2000",
                                   "--mc-samples", "500"],
    "fig3_head_direction.py": ["--quiescent", "30"],
    "figC4_stepwise_distance.py": ["--quiescent", "20"],
}


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_script_runs_and_saves_its_results(script, models, tmp_path, monkeypatch, capsys):
    args = SCRIPTS[script] + SMALL + ["--out", str(tmp_path / "out")]
    if script.startswith("fig"):
        args += ["--models", str(models)]
    else:
        args += ["--network", str(models / "spatial_navigation/noisy_unbiased.npz")]
    status, printed = run_script(script, args, monkeypatch, capsys, tmp_path)
    assert status == 0, printed[-3000:]
    saved = [p for p in (tmp_path / "out").iterdir() if p.suffix in (".png", ".json", ".npz", ".csv")]
    assert saved, "the script saved nothing"


def test_continuous_vs_discrete_prints_and_saves_the_divergence_per_factor(models, tmp_path, monkeypatch, capsys):
    """The one script run as its own process: the real command line, exit status and output streams."""
    network = models / "spatial_navigation/noisy_unbiased.npz"
    args = ["--active", "5", "--quiescent", "20", "--factors", "1", "4", "16", "--trials", "6", "--target", "numpy",
            "--network", str(network), "--out", str(tmp_path / "out")]
    script = str(ROOT / "protocols" / "continuous_vs_discrete.py")
    done = subprocess.run([sys.executable, script, *args], capture_output=True, text=True, timeout=600, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    saved = json.loads((tmp_path / "out" / "continuous_vs_discrete.json").read_text())
    assert [row["dt_factor"] for row in saved["rows"]] == [1, 4, 16]
    for row in saved["rows"]:
        assert np.isfinite(row["energy_distance"]) and row["ci"][0] <= row["ci"][1]
        assert f"k={row['dt_factor']:>3}" in done.stdout
    assert done.stdout.count("energy distance to discrete") == 3
    status, printed = run_script("continuous_vs_discrete.py", args, monkeypatch, capsys, tmp_path)
    assert status != 0 and "pass --force" in printed


def test_scripts_import_nothing_from_the_demo_application():
    for script in sorted((ROOT / "protocols").glob("*.py")):
        text = script.read_text()
        assert "neurorx.experiments" not in text and "neurorx.demo" not in text, script.name


def _small_pair(tmp_path):
    """An untrained Dale network and an unconstrained one on the same small spatial task, saved as files."""
    import torch
    from brian2 import ms

    import neurorx as nrx
    from neurorx.models.rnn import RecurrentModel
    from neurorx.noise import ReferenceUniformNoise
    from neurorx.tasks import SpatialNavigation

    task = SpatialNavigation(n_cells=16, seed=0)
    paths = []
    for cell in ("dale", "vanilla"):
        torch.manual_seed(0)
        model = RecurrentModel(cell, task.n_in, 20, task.n_cells, task.n_cells, 0.2, "relu", bias=False)
        net = nrx.RateNetwork.from_torch(model, tau=100 * ms, dt=20 * ms, task=task,
                                         noise={"recurrent": ReferenceUniformNoise(0.01)})
        paths.append(net.save(tmp_path / f"{cell}.npz"))
    return paths


def test_dale_reactivation_writes_one_table_over_pairs_noise_families_and_backends(models, tmp_path, monkeypatch,
                                                                                   capsys):
    """Issue 14's table: one row per pair, backend and network (Dale, unconstrained, untrained R^σ), with the
    noise family; the markdown table holds the same rows; the Dale rows carry the per-population numbers."""
    dale, free = _small_pair(tmp_path)
    hd = models / "head_direction"
    args = ["--pair", f"small={dale},{free}", "--pair", f"HD={hd / 'noisy_unbiased_dale.npz'},"
            f"{hd / 'noisy_unbiased.npz'}", "--quiescent", "20", "--pcs", "3", "--trials", "6",
            "--out", str(tmp_path / "out")]
    status, printed = run_script("dale_reactivation.py", args, monkeypatch, capsys, tmp_path)
    assert status == 0, printed[-3000:]
    import csv

    rows = list(csv.DictReader((tmp_path / "out" / "table.csv").open()))
    assert len(rows) == 2 * 2 * 3        # pairs x backends x (Dale, unconstrained, R^σ Dale)
    assert {(r["pair"], r["backend"]) for r in rows} == {(p, b) for p in ("small", "HD") for b in ("torch", "brian2")}
    assert {r["noise"] for r in rows} == {"reference_uniform"}
    dale_rows = [r for r in rows if r["network"] == "Dale"]
    assert all(-1 <= float(r["ei_rate_correlation_quiescent"]) <= 1 for r in dale_rows)
    table = (tmp_path / "out" / "table.md").read_text().splitlines()
    assert table[0].startswith("| pair | noise | backend | network |") and len(table) == 2 + len(rows)
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == ["dale_reactivation_HD.png",
                                                                       "dale_reactivation_small.png"]


def test_noise_swap_matches_both_moments_and_flags_the_white_swap_of_a_head_direction_network(models, tmp_path,
                                                                                              monkeypatch, capsys):
    args = ["--network", str(models / "head_direction/noisy_unbiased.npz"), "--backends", "torch", "--trials", "12",
            "--active", "60", "--quiescent", "120", "--out", str(tmp_path / "out")]
    status, printed = run_script("noise_swap.py", args, monkeypatch, capsys, tmp_path)
    assert status == 0, printed[-3000:]
    saved = json.loads((tmp_path / "out" / "noise_swap.json").read_text())
    rows = {row["noise"].split(" ")[0]: row for row in saved["rows"]}
    assert saved["trained_noise"]["name"] == "reference_uniform"
    assert rows["matched"]["model"]["name"] == "drift_white" and rows["unmatched"]["model"]["name"] == "white"
    assert not rows["training"]["health"]["flagged"] and not rows["matched"]["health"]["flagged"]
    assert rows["unmatched"]["health"]["flagged"]
    assert "unmatched (white, same variance, mean 0) [torch]: KL(Q||A)" in printed and "FLAGGED" in printed
