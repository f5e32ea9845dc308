"""Job folders: named by content, written atomically, done exactly when the completion record exists."""

import json
from pathlib import Path

import pytest

from neurorx.sweep import JOB_KINDS, Store, execute, job_id
from neurorx.sweep.job import JobKind, make_job


@pytest.fixture
def kinds():
    calls = []

    def write(config, inputs, out, work):
        calls.append(config)
        (out / "value.json").write_text(json.dumps({"x": config["x"], "inputs": [p.name for p in inputs]}))

    def fail(config, inputs, out, work):
        (out / "partial.txt").write_text("half")
        raise RuntimeError("job failed on purpose")

    JOB_KINDS.add("test_write", JobKind(write))
    JOB_KINDS.add("test_fail", JobKind(fail))
    yield calls
    JOB_KINDS.remove("test_write")
    JOB_KINDS.remove("test_fail")


def test_the_id_is_a_hash_of_kind_config_inputs_and_version(monkeypatch):
    a = job_id("run", {"x": 1, "y": [1, 2]})
    assert a == job_id("run", {"y": [1, 2], "x": 1}) and a.startswith("run-")
    assert a != job_id("run", {"x": 2, "y": [1, 2]})
    assert a != job_id("run", {"x": 1, "y": [1, 2]}, ["train-abc"])
    assert a != job_id("statistic", {"x": 1, "y": [1, 2]})
    assert a != job_id("run", {"x": 1, "y": [1, 2]}, scheme=1)
    monkeypatch.setattr("neurorx._version.__version__", "99.0")
    assert a != job_id("run", {"x": 1, "y": [1, 2]})


def test_bumping_a_kinds_code_version_renames_its_jobs(monkeypatch):
    a = job_id("run", {"x": 1})
    monkeypatch.setitem(JOB_KINDS._items, "run", JobKind(JOB_KINDS.get("run").fn, code_version=2))
    assert job_id("run", {"x": 1}) != a


def test_an_unknown_id_scheme_is_refused():
    with pytest.raises(ValueError, match="schemes are 1 and 2"):
        job_id("run", {"x": 1}, scheme=3)


def test_a_job_writes_its_files_then_the_completion_record_and_runs_once(kinds, tmp_path):
    store = Store(tmp_path)
    first = make_job("test_write", {"x": 1})
    second = make_job("test_write", {"x": 2}, [first.id])
    skipped = execute(second.to_dict(), str(tmp_path))           # its input is not done: not run, not raised
    assert skipped["status"] == "skipped" and f"input job {first.id} is not done" in skipped["error"]
    assert not store.path(second.id).exists()
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


def test_the_folders_of_killed_attempts_are_removed_when_the_job_is_done(kinds, tmp_path):
    store = Store(tmp_path)
    job, other = make_job("test_write", {"x": 4}), make_job("test_write", {"x": 5})
    store.jobs_dir.mkdir(parents=True)
    stale = [store.jobs_dir / f".{job.id}.0badc0de.tmp", store.jobs_dir / f".{job.id}.0badc0de.tmp.work"]
    kept = store.jobs_dir / f".{other.id}.0badc0de.tmp"    # another job's attempt: not this job's business
    for folder in [*stale, kept]:
        folder.mkdir()
        (folder / "half.txt").write_text("killed here")
    assert execute(job.to_dict(), str(tmp_path))["status"] == "ran"
    assert not any(p.exists() for p in stale) and kept.is_dir()
    assert sorted(p.name for p in store.jobs_dir.iterdir()) == sorted([job.id, kept.name])


def test_a_file_as_output_folder_is_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OSError, match="not a folder"):
        Store(tmp_path / "f")


def test_an_interrupted_training_job_resumes_from_its_checkpoint(tmp_path):
    """A train job killed mid-training leaves its checkpoint in the job's scratch folder; the next attempt
    continues from it (it does not start afresh) and gives exactly the network of an uninterrupted job; the
    scratch folder is gone once the job is done."""
    import numpy as np

    import neurorx as nrx
    from neurorx.training import Config, train

    spec = nrx.sweep.load_spec(Path(__file__).parent / "tiny.yaml")
    job = next(j for j in nrx.sweep.expand(spec) if j.kind == "train")
    config = Config.from_dict(job.config["config"])
    n = config.trainer.n_epochs
    store = Store(tmp_path / "interrupted")

    def stop_after_first(trainer, batch, record):
        if batch == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):        # the first attempt, killed after batch 1 (checkpointed)
        train(config, store.work_dir(job.id), quiet=True, callback=stop_after_first)
    assert (store.work_dir(job.id) / "checkpoint.npz").is_file()
    resumed = []

    def count(trainer, batch, record):
        resumed.append(batch)

    import neurorx.sweep.kinds as training  # where the train job kind calls neurorx.training.train
    real = training.train

    def spy(*args, **kwargs):
        return real(*args, **kwargs, callback=count)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(training, "train", spy)
        assert execute(job.to_dict(), str(store.root))["status"] == "ran"
    assert resumed == list(range(2, n + 1))       # batches 2..n only: continued, not restarted
    assert not store.work_dir(job.id).exists() and store.is_done(job.id)

    fresh = Store(tmp_path / "fresh")
    execute(job.to_dict(), str(fresh.root))
    a, b = (nrx.load(st.path(job.id) / "network.npz") for st in (store, fresh))
    for key in a.weights:
        np.testing.assert_array_equal(a.weights[key], b.weights[key])


def test_a_concurrent_attempt_works_in_a_private_scratch_folder(tmp_path):
    """While one attempt holds a job's scratch folder (its lock), another attempt of the same job does not
    touch it: it gets a private scratch folder."""
    import fcntl

    seen = []

    def record_work(config, inputs, out, work):
        seen.append(work)
        work.mkdir(parents=True, exist_ok=True)
        (out / "ok.txt").write_text("done")

    JOB_KINDS.add("test_work", JobKind(record_work))
    try:
        job = make_job("test_work", {"x": 1})
        store = Store(tmp_path)
        shared = store.work_dir(job.id)
        shared.mkdir(parents=True)
        (shared / "checkpoint.npz").write_text("another attempt's")
        with open(shared / ".lock", "w") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            execute(job.to_dict(), str(tmp_path))
            # done, but the scratch folder a live attempt holds is left to that attempt
            assert store.is_done(job.id) and (shared / "checkpoint.npz").read_text() == "another attempt's"
        assert seen and seen[0] != shared and shared not in seen[0].parents
        assert not seen[0].exists() and not (store.path(job.id) / seen[0].name).exists()   # nor kept in the outputs
        # the holder died without cleaning up: the next look at the done job removes the folder
        assert execute(job.to_dict(), str(tmp_path))["status"] == "cached" and not shared.exists()
    finally:
        JOB_KINDS.remove("test_work")


def _tiny_train_job():
    import neurorx as nrx

    spec = nrx.sweep.load_spec(Path(__file__).parent / "tiny.yaml")
    return next(j for j in nrx.sweep.expand(spec) if j.kind == "train")


def _execute_with_callback(job, store, callback):
    """``execute`` with ``callback`` handed to every ``train`` call the job makes."""
    import neurorx.sweep.kinds as training  # where the train job kind calls neurorx.training.train

    real = training.train
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(training, "train", lambda *a, **k: real(*a, **k, callback=callback))
        return execute(job.to_dict(), str(store.root))


def _same_network(store_a, store_b, job):
    import numpy as np

    import neurorx as nrx

    a, b = (nrx.load(st.path(job.id) / "network.npz") for st in (store_a, store_b))
    for key in a.weights:
        np.testing.assert_array_equal(a.weights[key], b.weights[key])


def test_a_training_killed_before_its_first_checkpoint_still_resumes_after_the_next_kill(tmp_path):
    """The files a kill before the first checkpoint leaves (config.yaml, metric lines) do not push the next
    attempt into a replacement folder that a later attempt would throw away: after a second kill, the third
    attempt continues from the second one's checkpoint."""
    job = _tiny_train_job()
    store = Store(tmp_path / "killed")
    work = store.work_dir(job.id)
    work.mkdir(parents=True)
    (work / "config.yaml").write_text("from an attempt killed before its first checkpoint\n")
    (work / "metrics.jsonl").write_text('{"kind": "eval", "batch": 0}\n')

    def kill_after_two(trainer, batch, record):
        if batch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _execute_with_callback(job, store, kill_after_two)
    assert (work / "checkpoint.npz").is_file()
    batches = []
    assert _execute_with_callback(job, store, lambda t, batch, r: batches.append(batch))["status"] == "ran"
    assert batches == [3]                                   # continued after batch 2, not restarted
    fresh = Store(tmp_path / "fresh")
    execute(job.to_dict(), str(fresh.root))
    _same_network(store, fresh, job)


def test_a_checkpoint_that_cannot_be_continued_is_reported_and_the_job_trains_afresh(tmp_path, capfd):
    job = _tiny_train_job()
    store = Store(tmp_path / "corrupt")
    work = store.work_dir(job.id)
    work.mkdir(parents=True)
    (work / "checkpoint.npz").write_bytes(b"not a checkpoint")
    batches = []
    assert _execute_with_callback(job, store, lambda t, batch, r: batches.append(batch))["status"] == "ran"
    assert batches == [1, 2, 3]
    log = capfd.readouterr().err          # the neurorx.sweep log line
    assert "is not a training checkpoint" in log and "training afresh" in log
    fresh = Store(tmp_path / "fresh")
    execute(job.to_dict(), str(fresh.root))
    _same_network(store, fresh, job)


@pytest.mark.parametrize("winner_renames", ["before the check", "between the check and the rename"])
def test_of_two_attempts_finishing_together_the_first_rename_wins_and_nothing_is_left_over(tmp_path, winner_renames,
                                                                                          monkeypatch):
    """Attempt B is still running when attempt A of the same job finishes; B's folder is discarded, the job's
    folder holds A's outputs with their record, and no temporary folder remains."""
    import neurorx.sweep.store as store_module

    store = Store(tmp_path)
    calls = []

    def attempt(config, inputs, out, work):
        calls.append(out.name)
        (out / "value.json").write_text(json.dumps({"attempt": len(calls)}))
        if len(calls) == 1 and winner_renames == "before the check":
            execute(job.to_dict(), str(tmp_path))                  # A runs and finishes while B is running

    real_replace = store_module.os.replace

    def late_winner(src, dst):
        if len(calls) == 1 and Path(dst) == store.path(job.id):    # B is about to rename: A wins just before
            execute(job.to_dict(), str(tmp_path))
        return real_replace(src, dst)

    JOB_KINDS.add("test_race", JobKind(attempt))
    try:
        job = make_job("test_race", {"x": 1})
        if winner_renames != "before the check":
            monkeypatch.setattr(store_module.os, "replace", late_winner)
        assert execute(job.to_dict(), str(tmp_path))["status"] == "cached"
    finally:
        JOB_KINDS.remove("test_race")
    assert store.is_done(job.id) and json.loads((store.path(job.id) / "value.json").read_text()) == {"attempt": 2}
    assert store.record(job.id)["files"] == ["job.json", "value.json"]
    assert sorted(p.name for p in store.jobs_dir.iterdir()) == [job.id]


def _block(config, inputs, out, work):
    """A job that checkpoints, writes half its output, says so in ``config["started"]``, and hangs."""
    import time

    (work / "checkpoint.txt").write_text("batch 7")
    (out / "half.txt").write_text("half")
    Path(config["started"]).write_text("started")
    time.sleep(600)


def _age(*paths, seconds: float = 3600) -> None:
    """Make ``paths`` look ``seconds`` old."""
    import os
    import time

    for p in paths:
        os.utime(p, (time.time() - seconds, time.time() - seconds))


def test_a_killed_attempts_folders_are_removed_once_its_process_is_gone_and_its_checkpoint_is_kept(tmp_path):
    import multiprocessing
    import os
    import signal
    import time

    JOB_KINDS.add("test_block", JobKind(_block))
    try:
        store = Store(tmp_path)
        job = make_job("test_block", {"started": str(tmp_path / "started")})
        child = multiprocessing.get_context("fork").Process(target=execute, args=(job.to_dict(), str(tmp_path)))
        child.start()
        try:
            end = time.monotonic() + 60
            while not (tmp_path / "started").exists() and time.monotonic() < end:
                time.sleep(0.05)
            [tmp] = store.jobs_dir.glob(f".{job.id}.*.tmp")
            owner = tmp.with_name(tmp.name + ".owner")
            assert owner.read_text().split() == [__import__("socket").gethostname(), str(child.pid)]
            _age(tmp, owner)
            assert store.remove_stale(0) == [] and tmp.is_dir()          # its owner runs: left alone
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.join()
        assert store.remove_stale(7200) == [] and tmp.is_dir()           # younger than min_age: left alone
        assert sorted(store.remove_stale(60)) == sorted([tmp, owner])
        assert (store.work_dir(job.id) / "checkpoint.txt").read_text() == "batch 7"   # what the next attempt resumes
        assert sorted(p.name for p in store.jobs_dir.iterdir()) == [f".{job.id}.work"]
    finally:
        JOB_KINDS.remove("test_block")


def test_stale_attempt_folders_go_only_when_no_live_process_can_own_them(kinds, tmp_path):
    import os
    import socket

    store = Store(tmp_path)
    store.jobs_dir.mkdir(parents=True)
    made = {}

    def attempt(job, token, owner=None, private=False):
        tmp = store.jobs_dir / f".{job}.{token}.tmp"
        tmp.mkdir()
        parts = [tmp]
        if private:
            parts.append(tmp.with_name(tmp.name + ".work"))
            parts[-1].mkdir()
        if owner is not None:
            parts.append(tmp.with_name(tmp.name + ".owner"))
            parts[-1].write_text(owner)
        _age(*parts)
        made[token] = parts
        return parts

    attempt("train-elsewhere", "a", owner="another-machine 4242", private=True)   # its lock is free: gone
    attempt("train-here", "b", owner=f"{socket.gethostname()} {os.getpid()}")     # lock free, process alive: kept
    attempt("train-legacy", "c")                         # no owner file, and no attempt holds a scratch folder
    attempt("train-resumable", "d")                      # no owner file, its job's scratch folder is there: kept
    store.work_dir("train-resumable").mkdir()
    (store.work_dir("train-resumable") / "checkpoint.npz").write_text("resume from me")
    done = make_job("test_write", {"x": 1})              # no owner file but its job is done: garbage
    store.path(done.id).mkdir()
    (store.path(done.id) / "done.json").write_text(json.dumps({"outputs": {}}))
    store.work_dir(done.id).mkdir()
    attempt(done.id, "e")
    young = attempt("train-young", "f", owner="another-machine 4243")
    os.utime(young[0])                                   # just written to
    removed = store.remove_stale(900)
    assert sorted(removed) == sorted(made["a"] + made["c"] + made["e"])
    assert all(p.exists() for t in "bdf" for p in made[t])
    assert (store.work_dir("train-resumable") / "checkpoint.npz").exists() and store.work_dir(done.id).is_dir()


def test_a_sweep_removes_stale_attempts_when_it_starts(kinds, tmp_path, monkeypatch):
    from neurorx.sweep import runner

    store = Store(tmp_path)
    job = make_job("test_write", {"x": 6})
    store.jobs_dir.mkdir(parents=True)
    stale = store.jobs_dir / ".train-gone.0badc0de.tmp"
    stale.mkdir()
    monkeypatch.setattr(runner, "STALE_AFTER", 0.0)
    result = runner.run_jobs([job], tmp_path, name="stale", scheduler="sync", show_progress=False)
    assert result.ok and store.is_done(job.id) and not stale.exists()
