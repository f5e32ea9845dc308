"""A store that verifies what it trusts: damaged or missing outputs are named once and recomputed with what reads
them; ``--gather`` gathers what is sound; ``--verify`` checks content hashes; old records stay done."""

import json
import shutil

import pytest
import xarray as xr

import neurorx as nrx
from neurorx.cli import main
from neurorx.sweep import Store


@pytest.fixture
def store(reference, tmp_path):
    """A copy of the tiny sweep's finished store."""
    out = tmp_path / "store"
    shutil.copytree(reference[0].out, out)
    (out / "results.nc").unlink()
    return out


def _job(reference, kind, **labels):
    return next(j for j in reference[0].jobs if j.kind == kind and all(j.labels.get(k) == v for k, v in labels.items()))


def _readers(reference, job_id) -> set[str]:
    """The jobs that read ``job_id``, directly or not."""
    out, frontier = set(), {job_id}
    while frontier:
        frontier = {j.id for j in reference[0].jobs if set(j.inputs) & frontier} - out
        out |= frontier
    return out


def _same_results(result, reference):
    xr.testing.assert_identical(result.dataset().drop_attrs(), reference[1].drop_attrs())


def test_every_record_holds_the_size_and_hash_of_each_output(reference):
    store = Store(reference[0].out)
    for job in reference[0].jobs:
        outputs = store.record(job.id)["outputs"]
        assert set(outputs) >= set({"train": ["network.npz"], "run": ["recording.npz"],
                                    "statistic": ["result.npz"]}[job.kind])
        assert "job.json" not in outputs and "done.json" not in outputs
        for name, digest in outputs.items():
            assert (store.path(job.id) / name).stat().st_size == digest["size"] and len(digest["sha256"]) == 64


def test_a_truncated_recording_is_named_once_and_recomputed_with_every_job_that_reads_it(reference, store, tiny_spec,
                                                                                           capfd):
    run = _job(reference, "run", condition="Us", seed=1)
    path = Store(store).path(run.id) / "recording.npz"
    path.write_bytes(path.read_bytes()[:100])
    assert main(["sweep", str(tiny_spec), "--dry-run", "--out", str(store)]) == 0
    out = capfd.readouterr().out
    assert f"[todo, recording.npz damaged] {run.id}" in out
    readers = _readers(reference, run.id)
    assert len(readers) == 3 and all(f"reads the damaged job {run.id}" in out for _ in readers)
    result = nrx.sweep(tiny_spec, out=store, scheduler="sync", show_progress=False)
    err = capfd.readouterr().err
    assert err.count(f"job {run.id}: recording.npz damaged, recomputing") == 1
    assert result.ok and set(result.executed) == {run.id} | readers
    _same_results(result, reference)


def test_a_deleted_result_is_left_nan_by_gather_named_and_recomputed_by_the_next_run(reference, store, tiny_spec,
                                                                                      capsys):
    stat = _job(reference, "statistic", statistic="total_variance", condition="U", seed=0)
    (Store(store).path(stat.id) / "result.npz").unlink()
    assert main(["sweep", str(tiny_spec), "--gather", "--out", str(store)]) == 0
    out = capsys.readouterr().out
    assert f"not gathered: job {stat.id}: result.npz missing" in out
    with xr.open_dataset(store / "results.nc") as ds:
        tv = ds["total_variance"].load()
    assert tv.sel(condition="U", seed=0).isnull().all() and stat.id in tv.attrs["missing_jobs"]
    assert tv.sel(condition="Us").notnull().all()
    result = nrx.sweep(tiny_spec, out=store, scheduler="sync", show_progress=False)
    assert result.executed == [stat.id]
    _same_results(result, reference)


def test_a_truncated_completion_record_does_not_count_as_done(reference, store, tiny_spec):
    stat = _job(reference, "statistic", statistic="kl", seed=0)
    done = Store(store).path(stat.id) / "done.json"
    done.write_bytes(done.read_bytes()[:40])
    assert Store(store).problem(stat.id) == "done.json damaged"
    result = nrx.sweep(tiny_spec, out=store, scheduler="sync", show_progress=False)
    assert result.executed == [stat.id]
    _same_results(result, reference)


def test_verify_finds_content_damaged_at_the_same_size_and_the_next_run_recomputes_it(reference, store, tiny_spec,
                                                                                       capsys):
    train = _job(reference, "train", condition="U", seed=0)
    path = Store(store).path(train.id) / "network.npz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert Store(store).is_done(train.id)                 # the size matches: only the hash tells
    assert main(["sweep", str(tiny_spec), "--verify", "--out", str(store)]) == 1
    out = capsys.readouterr().out
    readers = _readers(reference, train.id)
    assert f"job {train.id}: network.npz damaged" in out
    assert f"{len(reference[0].jobs) - 1 - len(readers)} job(s) sound, {1 + len(readers)} damaged, 0 not done" in out
    result = nrx.sweep(tiny_spec, out=store, scheduler="sync", show_progress=False)
    assert set(result.executed) == {train.id} | readers
    _same_results(result, reference)
    assert main(["sweep", str(tiny_spec), "--verify", "--out", str(store)]) == 0


def test_records_without_hashes_stay_done_and_verify_adds_their_hashes(reference, store, tiny_spec, capsys):
    st = Store(store)
    for job in reference[0].jobs:                        # as neurorx wrote them before records held hashes
        record = st.record(job.id)
        del record["outputs"]
        (st.path(job.id) / "done.json").write_text(json.dumps(record))
    result = nrx.sweep(tiny_spec, out=store, scheduler="sync", show_progress=False)
    assert result.executed == [] and len(result.done_before) == len(reference[0].jobs)
    assert main(["sweep", str(tiny_spec), "--verify", "--out", str(store)]) == 0
    assert f"hashes added to {len(reference[0].jobs)} older record(s)" in capsys.readouterr().out
    assert all("outputs" in st.record(j.id) for j in reference[0].jobs)
    run = _job(reference, "run", condition="U", seed=0)
    (st.path(run.id) / "recording.npz").unlink()          # an old record's listed file gone: not done
    assert st.problem(run.id) == "recording.npz missing"


@pytest.mark.parametrize("text, fragment", [("{not json", "is not a neurorx store record"),
                                            ('{"id_scheme": 7}', "the job-id scheme 7, which this neurorx does not"),
                                            ("[2]", "is not a neurorx store record")])
def test_an_unreadable_store_record_is_one_line(store, tiny_spec, capsys, text, fragment):
    (store / "store.json").write_text(text)
    for flag in ("--dry-run", "--verify"):
        assert main(["sweep", str(tiny_spec), flag, "--out", str(store)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and fragment in err
