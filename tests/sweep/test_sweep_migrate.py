"""Job-id scheme 2 and ``neurorx sweep SPEC --migrate``: a store written under scheme 1 is renamed, not recomputed."""

import fcntl
import json

import pytest
import xarray as xr

import neurorx as nrx
from neurorx.cli import main
from neurorx.errors import ConfigurationError
from neurorx.models.cells import CELLS
from neurorx.models.dale_cells import INHIBITION_MODES, POOL_INPUTS
from neurorx.sweep import Store, expand, load_spec
from neurorx.sweep.migrate import migrate

#: The values of the cells' string-valued parameters.
OTHER_CHOICES = {"inhibition": INHIBITION_MODES, "pool_input": POOL_INPUTS, "error_norm": ("none", "full")}


@pytest.fixture(scope="module")
def old_store(tiny_spec, tmp_path_factory):
    """The tiny sweep run by a neurorx that named its jobs with scheme 1."""
    out = tmp_path_factory.mktemp("scheme1")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("neurorx.sweep.job.ID_SCHEME", 1)
        mp.setattr("neurorx.sweep.store.ID_SCHEME", 1)
        result = nrx.sweep(tiny_spec, out=out, scheduler="sync", show_progress=False)
    assert result.ok and {j.id for j in result.jobs} == {j.id for j in expand(load_spec(tiny_spec), scheme=1)}
    (out / "results.nc").unlink()
    (out / "store.json").unlink()          # neurorx before scheme 2 wrote no store record
    return out


def test_scheme_1_ids_are_those_neurorx_computed_before_scheme_2():
    # computed by neurorx at commit c98ecc1, the last before scheme 2
    assert nrx.sweep.job_id("run", {"x": 1, "y": [1, 2]}, ["train-abc"], scheme=1) == "run-55f671a3460ef3ee6c4f"
    assert nrx.sweep.job_id("train", {"config": {"seed": 3, "label": "L"}}, scheme=1) == "train-984d9ee464379b700a42"


def _copy(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_a_cards_label_description_and_prefetch_do_not_name_its_training(tiny_spec):
    spec = load_spec(tiny_spec)
    (job, *_) = [j for j in expand(spec) if j.kind == "train"]
    reworded = dict(job.config["config"], label="another label", description="reworded")
    assert nrx.sweep.job_id("train", {"config": reworded}) == job.id
    assert nrx.sweep.job_id("train", {"config": reworded}, scheme=1) != nrx.sweep.job_id(
        "train", job.config, scheme=1)          # scheme 1 retrained for a reworded card
    changed = dict(job.config["config"], seed=99)
    assert nrx.sweep.job_id("train", {"config": changed}) != job.id
    card = job.config["config"]
    prefetched = dict(card, trainer={**card["trainer"], "prefetch": not card["trainer"].get("prefetch", False)})
    assert nrx.sweep.job_id("train", {"config": prefetched}) == job.id     # in RESULT_FREE_KEYS
    assert card["label"] and card["trainer"]["n_epochs"]                     # the test edits real keys
    longer = dict(card, trainer={**card["trainer"], "n_epochs": card["trainer"]["n_epochs"] + 1})
    assert nrx.sweep.job_id("train", {"config": longer}) != job.id


@pytest.mark.parametrize("cell", CELLS.names())
def test_every_cells_parameters_name_its_training_and_a_stated_default_does_not(tiny_spec, cell):
    spec = load_spec(tiny_spec)
    job = next(j for j in expand(spec) if j.kind == "train")
    card = dict(job.config["config"], rnn={**job.config["config"]["rnn"], "cell": cell})
    before = nrx.sweep.job_id("train", {"config": card})
    for name, value in CELLS.get(cell).params().items():
        stated = dict(card, rnn={**card["rnn"], name: value})
        assert nrx.sweep.job_id("train", {"config": stated}) == before, f"stating {cell}.{name} renames it"
        if isinstance(value, str):                    # a choice (dale_norm's inhibition): another of its values
            other = next(v for v in OTHER_CHOICES[name] if v != value)
        else:
            other = (value or 0) + 1 if not isinstance(value, float) else value / 2
        changed = dict(card, rnn={**card["rnn"], name: other})
        assert nrx.sweep.job_id("train", {"config": changed}) != before, f"{cell}.{name} is not in the training's id"


def test_a_custom_statistics_source_names_its_jobs(monkeypatch):
    import neurorx.sweep.kinds as kinds

    config = {"statistic": "custom", "function": "mymod:stat", "phases": [], "params": {}}

    def first(rec):
        return 1

    def second(rec):
        return 2

    monkeypatch.setattr(kinds, "import_callable", lambda ref: first)
    a = nrx.sweep.job_id("statistic", config)
    assert nrx.sweep.job_id("statistic", config) == a
    monkeypatch.setattr(kinds, "import_callable", lambda ref: second)
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
    assert Store(store).scheme() == 2
    again = migrate(tiny_spec, store)
    assert again.current and again.renamed == {} and "nothing to migrate" in again.summary()


def test_an_interrupted_migration_finishes_on_the_next_run(old_store, tiny_spec, tmp_path, monkeypatch):
    import neurorx.sweep.migrate as mig

    store = _copy(old_store, tmp_path / "old")
    real, calls = mig._rewrite_records, []

    def killed_after_the_third_rename(folder, job):
        calls.append(job.id)
        if len(calls) == 3:
            raise KeyboardInterrupt
        real(folder, job)

    monkeypatch.setattr(mig, "_rewrite_records", killed_after_the_third_rename)
    with pytest.raises(KeyboardInterrupt):
        migrate(tiny_spec, store)
    monkeypatch.setattr(mig, "_rewrite_records", real)
    assert Store(store).scheme() == 1                         # not marked: the migration did not finish
    report = migrate(tiny_spec, store)
    assert len(report.renamed) == 22 - 3 and len(report.already) == 3
    for job in expand(load_spec(tiny_spec)):
        assert Store(store).record(job.id)["id"] == job.id    # the interrupted one's records are fixed too


def test_two_cards_that_differ_only_in_prose_become_one_job(old_store, tiny_spec, tmp_path):
    import shutil

    import yaml

    from neurorx.training import load_card

    cards = tmp_path / "cards"
    (cards / "spatial_navigation").mkdir(parents=True)
    card = load_card("spatial_navigation/noisy_unbiased").to_dict()
    for name, label in (("a", "first"), ("b", "second")):
        (cards / "spatial_navigation" / f"{name}.yml").write_text(yaml.safe_dump({**card, "label": label}))
    spec = yaml.safe_load(tiny_spec.read_text())
    spec["train"]["conditions"] = {"A": {"card": str(cards / "spatial_navigation/a.yml")},
                                   "B": {"card": str(cards / "spatial_navigation/b.yml")}}
    spec["train"]["seeds"] = [0]
    spec["runs"] = {}
    spec["statistics"] = {}
    old = [j for j in expand(load_spec(spec), scheme=1) if j.kind == "train"]
    new = [j for j in expand(load_spec(spec)) if j.kind == "train"]
    assert len({j.id for j in old}) == 2 and len({j.id for j in new}) == 1
    root = tmp_path / "store"
    train = next(j.id for j in expand(load_spec(tiny_spec), scheme=1) if j.kind == "train")
    for job in old:                                           # two finished scheme-1 trainings
        shutil.copytree(old_store / "jobs" / train, root / "jobs" / job.id)
    report = migrate(spec, root)
    assert report.renamed == {old[0].id: new[0].id} and report.shadowed == {old[1].id: new[0].id}
    assert (root / "jobs" / old[1].id / "done.json").is_file()   # left in place, nothing deleted
    assert "left 1 old folder(s)" in report.summary()


def test_a_scheme_1_store_holding_only_a_checkpoint_is_refused_too(old_store, tiny_spec, tmp_path):
    store = tmp_path / "ckpt"
    old_train = next(j.id for j in expand(load_spec(tiny_spec), scheme=1) if j.kind == "train")
    (store / "jobs" / f".{old_train}.work").mkdir(parents=True)
    (store / "jobs" / f".{old_train}.work" / "checkpoint.npz").write_bytes(b"")
    with pytest.raises(ConfigurationError, match="checkpoints"):
        nrx.sweep(tiny_spec, out=store, dry_run=True)


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
    before = sorted(p.name for p in old.jobs_dir.iterdir())
    with open(lock, "a+b") as held:                            # a live attempt holds it
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(ConfigurationError, match="stop the sweep"):
            migrate(tiny_spec, store)
    assert sorted(p.name for p in old.jobs_dir.iterdir()) == before     # refused before renaming anything
    report = migrate(tiny_spec, store)
    new_id = pairs[old_id].id
    assert report.work_renamed == {old_id: new_id} and (old.work_dir(new_id) / "network.npz").is_file()
    assert not old.work_dir(old_id).exists() and not old.is_done(new_id)
