"""The spiking convergence benchmark and its tables: every configuration once, resumable, the mean-noise limit."""

import json
from pathlib import Path

import numpy as np
import pytest
from netfactory import make_network
from script_runner import run_script

from neurorx.noise import DriftWhiteNoise, ReferenceUniformNoise

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def small_network(tmp_path):
    """A small spatial network trained with the reference uniform noise (positive step mean)."""
    net = make_network(n_rec=8, noise={"recurrent": ReferenceUniformNoise(scale=0.1, dt_train=0.02)}, seed=0)
    return net, net.save(tmp_path / "small.npz")


def test_the_mean_noise_reference_keeps_each_noises_step_mean_and_drops_its_fluctuation(small_network):
    from benchmarks.spiking_convergence import mean_noise

    net, _ = small_network
    ref = mean_noise(net)
    model = ref.noise["recurrent"]
    assert isinstance(model, DriftWhiteNoise) and model.sigma == 0.0
    mean, _ = net.noise["recurrent"].step_moments(net.dt)
    assert model.step_moments(net.dt) == pytest.approx((mean, 0.0))
    assert mean > 0


def test_convergence_writes_one_file_per_configuration_resumes_and_tabulates(small_network, tmp_path, monkeypatch,
                                                                             capsys):
    _, path = small_network
    out, figs = tmp_path / "conv", tmp_path / "figs"
    args = ["--network", path, "--trials", "2", "--active", "4", "--quiescent", "8", "--per-unit", "1", "2",
            "--neuron", "poisson", "--noise", "mean", "--rate-backends", "torch", "--rate-mean-noise",
            "--rate-noise-scales", "0", "--spike-trials", "1", "--target", "numpy", "--out", out]
    status, printed = run_script(ROOT / "benchmarks" / "spiking_convergence.py", args, monkeypatch, capsys, tmp_path)
    assert status == 0, printed[-2000:]
    files = sorted(p.stem.split("__")[1] for p in out.glob("*.json"))
    assert files == ["poisson-mean-M1", "poisson-mean-M2", "rate-torch", "rate-torch-meannoise", "rate-torch-qnoise0"]
    for p in out.glob("*.json"):
        result = json.loads(p.read_text())
        assert np.isfinite(result["active_error"]) and result["cpu_s"] > 0
    status, printed = run_script(ROOT / "benchmarks" / "spiking_convergence.py", args, monkeypatch, capsys, tmp_path)
    assert status == 0 and printed.count("done  ") == 5 and "start" not in printed   # nothing runs twice

    status, printed = run_script(ROOT / "benchmarks" / "spiking_tables.py", [out, "--figures", figs], monkeypatch,
                                 capsys, tmp_path)
    assert status == 0, printed[-2000:]
    assert "| rate, torch, noise=mean |" in printed and "| rate, torch |" in printed
    assert "torch, noise=mean, 2 trials" in printed   # the M -> infinity limit is a reference of its own
    assert len(list(figs.glob("*_convergence.png"))) == len(list(figs.glob("*_noise_replacement.png"))) == 1
