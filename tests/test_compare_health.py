"""The collapse trap of issue 27 (trap 1): a noise swap that silences the network must not look like reactivation.

``head_direction/noisy_unbiased`` was trained with the reference's ``0.1 U[0,1)`` noise (mean 0.05 per step).
Swapped for white noise of the same per-step variance (no mean), its activity falls to the noise floor and the
decoded direction becomes noise, and noise decoded on a circle is close to the near-uniform active distribution:
KL(Q‖A) comes out *smaller* than under the training noise. ``compare`` must flag that run, and not the run
under the training noise.
"""

import numpy as np
import pytest

import neurorx as nrx
from neurorx.zoo import models_dir

HD = models_dir() / "head_direction" / "noisy_unbiased.npz"
pytestmark = pytest.mark.skipif(not HD.exists(), reason="shipped head-direction network not found")


@pytest.fixture(scope="module")
def trap():
    net = nrx.load(HD)
    matched = nrx.WhiteNoise.from_step_std(net.recurrent_noise.scale / np.sqrt(12), net.dt)   # same variance
    runs = {}
    for name, q in (("training noise", nrx.Quiescent(steps=120)), ("white swap", nrx.Quiescent(steps=120,
                                                                                             noise=matched))):
        runs[name] = nrx.Protocol([nrx.Active(steps=60), q]).run(net, trials=12, seed=0, record=("h",))
    cmp = nrx.compare(runs["training noise"], runs["white swap"], names=tuple(runs), n_boot=19, n_perm=19,
                      max_points=200, n_mc=200)
    return runs, cmp


def test_the_trap_is_real_the_swap_gets_the_smaller_kl(trap):
    _, cmp = trap
    kl = {d.between: d.estimate for d in cmp.divergences if d.statistic == "KL(quiescent‖active) decoded"}
    assert kl["white swap"] < kl["training noise"]


def test_the_swap_is_flagged_and_the_training_noise_run_is_not(trap):
    _, cmp = trap
    assert cmp.flagged("white swap") and not cmp.flagged("training noise")
    swap = cmp.health["white swap"]
    assert swap.mean_abs_h_quiescent < 0.25 * swap.mean_abs_h_active
    assert swap.noise_fraction_quiescent > 0.5 > cmp.health["training noise"].noise_fraction_quiescent
    assert swap.stepwise_quiescent > 3.5 * swap.stepwise_active


def test_the_table_shows_the_flag_and_the_null(trap):
    _, cmp = trap
    text = cmp.table()
    assert "KL(quiescent‖active) decoded ⚠ flagged | white swap" in text
    assert "KL(uniform‖active) decoded (null)" in text
    assert "FLAGGED: collapsed" in text and "| training noise |" in text
    assert cmp.to_dict()["health"]["white swap"]["flagged"] is True


def test_recording_health_of_one_recording(trap):
    from neurorx.compare import recording_health

    runs, _ = trap
    assert recording_health(runs["white swap"]).flagged
    assert recording_health(runs["training noise"].select("active")) is None      # no quiescent phase
