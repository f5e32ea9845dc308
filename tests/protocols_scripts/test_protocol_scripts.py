"""Every script in protocols/ runs end to end on the shipped networks (few trials, short phases)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


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
    "fig2_biased_kl_variance.py": ["--quiescent", "30", "--variance-steps", "30"],
    "fig3_head_direction.py": ["--quiescent", "30"],
    "figC4_stepwise_distance.py": ["--quiescent", "20"],
}


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_script_runs_and_saves_its_results(script, models, tmp_path):
    args = SCRIPTS[script] + SMALL + ["--out", str(tmp_path / "out")]
    if script.startswith("fig"):
        args += ["--models", str(models)]
    else:
        args += ["--network", str(models / "spatial_navigation/noisy_unbiased.npz")]
    done = subprocess.run([sys.executable, str(ROOT / "protocols" / script), *args], capture_output=True, text=True,
                          timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    saved = [p for p in (tmp_path / "out").iterdir() if p.suffix in (".png", ".json", ".npz", ".csv")]
    assert saved, "the script saved nothing"
