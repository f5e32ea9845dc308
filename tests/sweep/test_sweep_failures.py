"""Errors a sweep cannot fix by trying again: refused before any job, or reported in one line and not retried."""

import json
import shutil

import numpy as np
import yaml

import neurorx as nrx
from neurorx.cli import main
from neurorx.sweep import Store


def test_a_planar_statistic_of_head_direction_is_refused_at_the_dry_run_in_one_line(tiny_hd_spec, tmp_path, capsys):
    spec = yaml.safe_load(tiny_hd_spec.read_text())
    spec["statistics"]["kl"] = {"statistic": "kl_matrix", "of": "reactivation"}
    path = tmp_path / "hd.yaml"
    path.write_text(yaml.safe_dump(spec))
    assert main(["sweep", str(path), "--dry-run", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "statistics.kl: kl_matrix is not defined for angles" in err and "circular_kl_matrix" in err
    assert not (tmp_path / "out").exists()


def test_a_circular_statistic_of_positions_is_refused_too(tiny_spec, tmp_path, capsys):
    spec = yaml.safe_load(tiny_spec.read_text())
    spec["statistics"]["kl"] = {"statistic": "circular_kl_matrix", "of": "reactivation"}
    path = tmp_path / "planar.yaml"
    path.write_text(yaml.safe_dump(spec))
    assert main(["sweep", str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "circular_kl_matrix is not defined for positions" in err and "use kl_matrix" in err


def test_a_statistic_that_fails_deterministically_is_reported_once_not_retried_and_left_nan(reference, tiny_spec,
                                                                                              tmp_path):
    spec = yaml.safe_load(tiny_spec.read_text())
    spec["retries"] = 2
    marker = tmp_path / "attempts.txt"
    spec["statistics"]["bad"] = {"statistic": "custom", "function": "sweep_flaky:refuse", "of": "reactivation",
                                 "marker": str(marker)}
    store = tmp_path / "store"
    shutil.copytree(reference[0].out, store)
    result = nrx.sweep(spec, out=store, scheduler="sync", show_progress=False)
    bad = [j.id for j in result.jobs if j.labels.get("statistic") == "bad"]
    assert sorted(result.failed) == sorted(bad) and len(bad) == 4
    assert len(marker.read_text().splitlines()) == 4                   # one attempt each: no retry
    assert set(result.failed.values()) == {"ConfigurationError: this statistic does not fit these recordings"}
    assert not any(Store(store).path(i).exists() for i in bad)
    ds = result.dataset()
    assert ds["bad"].isnull().all() and sorted(json.loads(ds["bad"].attrs["missing_jobs"])) == sorted(bad)
    np.testing.assert_array_equal(ds["total_variance"].values, reference[1]["total_variance"].values)


def test_the_test_error_is_in_the_unit_the_training_log_prints(reference, hd_reference):
    for (result, ds), unit in ((reference, "cm"), (hd_reference, "deg")):
        train = next(j for j in result.jobs if j.kind == "train")
        net = nrx.load(Store(result.out).path(train.id) / "network.npz")
        assert net.metrics["error_unit"] == unit
        for var in ("learning_curve_test_error", "learning_curve_final_test_error"):
            assert ds[var].attrs["units"] == unit
        scale = 100.0 if unit == "cm" else 180.0 / np.pi
        final = ds["learning_curve_final_test_error"].sel(condition=train.labels["condition"], seed=0)
        assert final == net.metrics["curve"]["test_error"][-1] * scale
