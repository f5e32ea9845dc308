"""Job-id scheme 2 and ``neurorx sweep SPEC --migrate``: a store written under scheme 1 is renamed, not recomputed."""

import fcntl
import json

import pytest
import xarray as xr

import neurorx as nrx
from neurorx.cli import main
from neurorx.errors import ConfigurationError
from neurorx.models.cells import CELLS
from neurorx.sweep import Store, expand, load_spec
from neurorx.sweep.migrate import migrate


@pytest.fixture(scope="module")
def old_store(tiny_spec, tmp_path_factory):
    """The tiny sweep run by a neurorx that named its jobs with scheme 1."""
    out = tmp_path_factory.mktemp("scheme1")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("neurorx.sweep.store.ID_SCHEME", 1)
        result = nrx.sweep(tiny_spec, out=out, scheduler="sync", show_progress=False)
    assert result.ok and {j.id for j in result.jobs} == {j.id for j in expand(load_spec(tiny_spec), scheme=1)}
    (out / "results.nc").unlink()
    return out


def _copy(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_a_cards_label_and_description_do_not_name_its_training(tiny_spec):
    spec = load_spec(tiny_spec)
    (job, *_) = [j for j in expand(spec) if j.kind == "train"]
    reworded = dict(job.config["config"], label="another label", description="reworded")
    assert nrx.sweep.job_id("train", {"config": reworded}) == job.id
    assert nrx.sweep.job_id("train", {"config": reworded}, scheme=1) != nrx.sweep.job_id(
        "train", job.config, scheme=1)          # scheme 1 retrained for a reworded card
    changed = dict(job.config["config"], seed=99)
    assert nrx.sweep.job_id("train", {"config": changed}) != job.id


@pytest.mark.parametrize("cell", CELLS.names())
def test_every_cells_class_settings_name_its_training(tiny_spec, cell, monkeypatch):
    spec = load_spec(tiny_spec)
    job = next(j for j in expand(spec) if j.kind == "train")
    card = dict(job.config["config"], rnn={**job.config["config"]["rnn"], "cell": cell})
    before = nrx.sweep.job_id("train", {"config": card})
    cls = type(CELLS.get(cell))
    for name in cls.setting_names:
        value = getattr(cls, name)
        monkeypatch.setattr(cls, name, (not value) if isinstance(value, bool) else (value or 0) + 1)
        assert nrx.sweep.job_id("train", {"config": card}) != before, f"{cell}.{name} is not in the training's id"
        monkeypatch.undo()


def test_a_custom_statistics_source_names_its_jobs(monkeypatch):
    import neurorx.sweep.jobs as jobs

    config = {"statistic": "custom", "function": "mymod:stat", "phases": [], "params": {}}

    def first(rec):
        return 1

    def second(rec):
        return 2

    monkeypatch.setattr(jobs, "_import", lambda ref: first)
    a = nrx.sweep.job_id("statistic", config)
    monkeypatch.setattr(jobs, "_import", lambda ref: second)
    assert nrx.sweep.job_id("statistic", config) != a


def test_a_scheme_1_store_is_named_and_the_sweep_refuses_to_recompute_it(old_store, tiny_spec, tmp_path):
    store = _copy(old_store, tmp_path / "old")
    with pytest.raises(ConfigurationError, match="--migrate"):
        nrx.sweep(tiny_spec, out=store, scheduler="sync", show_progress=False)
    assert not any(p.name.startswith(".") for p in (store / "jobs").iterdir())      # nothing was started


def test_migration_renames_every_job_and_the_sweep_then_runs_nothing(old_store, reference, tiny_spec, tmp_path,
                                                                       capsys):
    store = _copy(old_store, tmp_path / "old")
    spec = load_spec(tiny_spec)
    assert main(["sweep", str(tiny_spec), "--migrate", "--out", str(store)]) == 0
    assert "renamed 22 finished job folder(s)" in capsys.readouterr().out
    new = Store(store)
    for job in expand(spec):
        assert new.record(job.id)["id"] == job.id and new.record(job.id)["inputs"] == list(job.inputs)
        assert json.loads((new.path(job.id) / "job.json").read_text())["id"] == job.id
    result = nrx.sweep(tiny_spec, out=store, scheduler="sync", show_progress=False)
    assert result.ok and result.executed == [] and len(result.done_before) == 22
    xr.testing.assert_identical(result.dataset().drop_attrs(), reference[1].drop_attrs())
    again = migrate(tiny_spec, store)
    assert again.renamed == {} and len(again.already) == 22


def test_a_checkpoint_folder_follows_its_training_and_a_live_one_is_refused(old_store, tiny_spec, tmp_path):
    store = _copy(old_store, tmp_path / "old")
    old = Store(store)
    pairs = dict(zip((j.id for j in expand(load_spec(tiny_spec), scheme=1)), expand(load_spec(tiny_spec)),
                     strict=True))
    old_id = next(i for i in pairs if i.startswith("train-"))
    old.path(old_id).rename(old.work_dir(old_id))              # an unfinished training with its checkpoint
    (old.work_dir(old_id) / "done.json").unlink()
    lock = old.work_dir(old_id) / ".lock"
    lock.touch()
    with open(lock, "a+b") as held:                            # a live attempt holds it
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(ConfigurationError, match="stop the sweep"):
            migrate(tiny_spec, store)
    report = migrate(tiny_spec, store)
    new_id = pairs[old_id].id
    assert report.work_renamed == {old_id: new_id} and (old.work_dir(new_id) / "network.npz").is_file()
    assert not old.work_dir(old_id).exists() and not old.is_done(new_id)
