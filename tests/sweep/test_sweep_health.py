"""Sweeps flag the collapse trap of issue 27 as ``nrx.compare`` and the demo do (one rule: ``health_flags``).

A tiny head-direction sweep whose "training" is the shipped ``head_direction/noisy_unbiased`` network (trained
with the reference's ``0.1 U[0,1)`` noise, mean 0.05 per step): condition ``Hs`` keeps its training noise,
condition ``Hw`` is the same weights with the card's noise swapped for zero-mean white noise of the same per-step
variance, the swap that silences the network. The sweep's ``results.nc``, its table and its KL figure flag
``Hw`` and not ``Hs``, although ``Hw``'s KL(Q‖A) is the smaller.
"""

import json

import numpy as np
import pytest
import xarray as xr

import neurorx as nrx
from neurorx.analysis import health_flags, recording_health
from neurorx.noise import make_noise
from neurorx.sweep import figures
from neurorx.zoo import models_dir

HD = models_dir() / "head_direction" / "noisy_unbiased.npz"
pytestmark = pytest.mark.skipif(not HD.exists(), reason="shipped head-direction network not found")
SWAP = 0.1 / np.sqrt(12) / np.sqrt(0.02)        # white noise: the training noise's per-step variance, mean 0

SPEC = {
    "name": "trap_hd",
    "train": {"seeds": [0], "conditions": {
        "Hs": {"card": "head_direction/noisy_unbiased"},
        "Hw": {"card": "head_direction/noisy_unbiased",
               "overrides": [f"noise.recurrent={{name: white, sigma: {SWAP}}}", "label=white swap"]},
    }},
    "runs": {"reactivation": {"protocol": [{"phase": "active", "steps": 60},
                                           {"phase": "quiescent", "steps": 120, "start": "reset"}],
                              "backends": ["torch"], "trials": 12, "record": ["h"]}},
    "statistics": {"kl": {"statistic": "circular_kl_matrix", "of": "reactivation"},
                   "health": {"statistic": "reactivation_health", "of": "reactivation"}},
}


def _shipped_weights_with_the_cards_noise(cfg, out, **kwargs):
    """The training a test can afford: the shipped network of the card, with the noise the card names."""
    net = nrx.load(HD)
    noise = {placement: make_noise(d) for placement, d in (cfg.noise or {}).items()}
    net.with_changes(noise=noise).save(out / "network.npz")


@pytest.fixture(scope="module")
def trap_sweep(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setattr("neurorx.sweep.kinds.train", _shipped_weights_with_the_cards_noise)
    try:
        result = nrx.sweep(SPEC, out=tmp_path_factory.mktemp("trap") / "store", scheduler="sync",
                           show_progress=False)
    finally:
        mp.undo()
    assert result.ok, result.summary()
    with xr.open_dataset(result.results) as ds:            # the file, as a user reads it
        return result, ds.load()


def test_the_trap_is_in_the_sweep_the_swap_has_the_smaller_kl(trap_sweep):
    _, ds = trap_sweep
    kl = ds["kl"].isel(seed=0, backend=0, run_seed=0)
    assert kl.sel(active="Hs", quiescent="Hw") < kl.sel(active="Hs", quiescent="Hs")


def test_results_nc_flags_the_swap_and_not_the_training_noise(trap_sweep):
    _, ds = trap_sweep
    flag = ds["health_flagged"].isel(seed=0, backend=0, run_seed=0)
    assert flag.sel(condition="Hw") == 1 and flag.sel(condition="Hs") == 0
    reasons = json.loads(ds["health_flagged"].attrs["reasons"])
    assert list(reasons) == ["condition=Hw seed=0 backend=torch run_seed=0"]
    assert any(r.startswith("at the noise floor") for r in reasons["condition=Hw seed=0 backend=torch run_seed=0"])
    assert ds["health_flagged"].attrs["flag_meanings"] == "healthy flagged"
    assert ds["health_stepwise_quiescent"].attrs["units"] == "rad/step"


def test_the_sweep_flags_what_compare_flags_from_the_same_recordings(trap_sweep):
    result, ds = trap_sweep
    for job in result.jobs:
        if job.kind == "run":
            rec = nrx.Recording.load(result.out / "jobs" / job.id / "recording.npz")
            cell = ds["health_flagged"].sel(condition=job.labels["condition"]).isel(seed=0, backend=0, run_seed=0)
            health = recording_health(rec)
            assert bool(cell == 1) == health.flagged
            assert float(ds["health_mean_abs_h_quiescent"].sel(condition=job.labels["condition"])
                         .isel(seed=0, backend=0, run_seed=0)) == pytest.approx(health.mean_abs_h_quiescent)
            stored = json.loads(ds["health_flagged"].attrs["reasons"]).get(
                f"condition={job.labels['condition']} seed=0 backend=torch run_seed=0", [])
            assert stored == health_flags(health, circular=True)


def test_the_table_marks_the_swap(trap_sweep):
    _, ds = trap_sweep
    rows = {line.split(" | ")[0].strip("| "): line for line in figures.summary_table(ds).splitlines()}
    hw, hs = rows[str(ds.condition_label.sel(condition="Hw").item())], rows[
        str(ds.condition_label.sel(condition="Hs").item())]
    assert "⚠ 1 of 1 flagged: at the noise floor" in hw and hw.count("⚠") == 2      # the KL cell and the health cell
    assert hs.rstrip(" |").endswith("ok") and "⚠" not in hs


def test_the_kl_figure_hatches_the_swap_column(trap_sweep, tmp_path, monkeypatch):
    _, ds = trap_sweep
    (panel,) = figures.kl_panels(ds)
    hw = f"Q {ds.condition_label.sel(condition='Hw').item()}"
    assert panel["flagged_cols"] == [hw] and panel["estimator"] is None
    drawn = []
    original = figures.nplt.kl_matrix
    monkeypatch.setattr(figures.nplt, "kl_matrix", lambda *a, **k: drawn.append(k) or original(*a, **k))
    paths = figures.paper_figures(ds, tmp_path)
    assert [p.name for p in paths] == ["fig2e_kl.png"] and drawn[0]["flagged_cols"] == [hw]


def test_a_sweep_without_the_health_statistic_says_so(trap_sweep):
    _, ds = trap_sweep
    unchecked = ds.drop_vars([v for v in ds.data_vars if v.startswith("health")])
    assert "Health not checked" in figures.summary_table(unchecked)
