"""Job folders: named by content, written atomically, done exactly when the completion record exists."""

import json

import pytest

from neurorx.sweep import JOB_KINDS, Store, execute, job_id
from neurorx.sweep.jobs import make_job


@pytest.fixture
def kinds():
    calls = []

    def write(config, inputs, out):
        calls.append(config)
        (out / "value.json").write_text(json.dumps({"x": config["x"], "inputs": [p.name for p in inputs]}))

    def fail(config, inputs, out):
        (out / "partial.txt").write_text("half")
        raise RuntimeError("job failed on purpose")

    JOB_KINDS.add("test_write", write)
    JOB_KINDS.add("test_fail", fail)
    yield calls
    JOB_KINDS.remove("test_write")
    JOB_KINDS.remove("test_fail")


def test_the_id_is_a_hash_of_kind_config_inputs_and_version(monkeypatch):
    a = job_id("run", {"x": 1, "y": [1, 2]})
    assert a == job_id("run", {"y": [1, 2], "x": 1}) and a.startswith("run-")
    assert a != job_id("run", {"x": 2, "y": [1, 2]})
    assert a != job_id("run", {"x": 1, "y": [1, 2]}, ["train-abc"])
    assert a != job_id("train", {"x": 1, "y": [1, 2]})
    monkeypatch.setattr("neurorx._version.__version__", "99.0")
    assert a != job_id("run", {"x": 1, "y": [1, 2]})


def test_a_job_writes_its_files_then_the_completion_record_and_runs_once(kinds, tmp_path):
    store = Store(tmp_path)
    first = make_job("test_write", {"x": 1})
    second = make_job("test_write", {"x": 2}, [first.id])
    with pytest.raises(RuntimeError, match="input job"):
        execute(second.to_dict(), str(tmp_path))
    assert execute(first.to_dict(), str(tmp_path))["status"] == "ran"
    assert execute(second.to_dict(), str(tmp_path))["status"] == "ran"
    assert json.loads((store.path(second.id) / "value.json").read_text())["inputs"] == [first.id]
    record = store.record(second.id)
    assert record["files"] == ["job.json", "value.json"] and record["inputs"] == [first.id]
    assert record["provenance"]["neurorx"]
    assert execute(first.to_dict(), str(tmp_path))["status"] == "cached"
    assert len(kinds) == 2
    assert not list(store.jobs_dir.glob(".*.tmp"))


def test_a_failing_job_leaves_no_folder(kinds, tmp_path):
    job = make_job("test_fail", {"x": 1})
    with pytest.raises(RuntimeError, match="on purpose"):
        execute(job.to_dict(), str(tmp_path))
    assert not Store(tmp_path).path(job.id).exists()
    assert not list((tmp_path / "jobs").iterdir())


def test_a_folder_without_completion_record_is_redone(kinds, tmp_path):
    store = Store(tmp_path)
    job = make_job("test_write", {"x": 3})
    folder = store.path(job.id)
    folder.mkdir(parents=True)
    (folder / "value.json").write_text("truncated")     # a killed attempt
    assert not store.is_done(job.id)
    assert execute(job.to_dict(), str(tmp_path))["status"] == "ran"
    assert json.loads((folder / "value.json").read_text())["x"] == 3 and store.is_done(job.id)


def test_a_file_as_output_folder_is_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OSError, match="not a folder"):
        Store(tmp_path / "f")
