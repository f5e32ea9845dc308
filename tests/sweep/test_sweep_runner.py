"""The order in which a sweep runs its jobs: seed by seed, a network's results before the next training."""

import json

import pytest

from neurorx.sweep import plan
from neurorx.sweep.runner import priorities
from neurorx.sweep.store import DONE


def test_trainings_are_ranked_seed_by_seed_and_below_every_other_job(tiny_spec, tmp_path):
    spec, _, jobs, _ = plan(tiny_spec, tmp_path)
    rank = priorities(spec, jobs)
    trains = [j for j in jobs if j.kind == "train"]
    for a in trains:
        for b in trains:
            if a.labels["seed"] < b.labels["seed"]:
                assert rank[a.id] > rank[b.id], (a.labels, b.labels)
    assert min(rank[j.id] for j in jobs if j.kind != "train") > max(rank[j.id] for j in trains)


def test_a_sweep_finishes_every_job_of_a_seed_before_it_trains_the_next_seed(reference):
    """So a sweep stopped half way holds whole seeds, each with all its conditions and results."""
    result, _ = reference
    records = sorted(((p.stat().st_mtime_ns, json.loads(p.read_text()))
                      for p in (result.out / "jobs").glob(f"*/{DONE}")), key=lambda r: r[0])
    order = [(r["kind"], r["labels"]["seed"]) for _, r in records]
    first_seed1_training = order.index(("train", 1))
    assert {seed for _, seed in order[:first_seed1_training]} == {0}
    assert sum(seed == 0 for _, seed in order) == first_seed1_training, order


def test_a_dry_run_says_at_which_batch_a_checkpointed_training_resumes(tiny_spec, tmp_path):
    from neurorx.sweep import Store, expand, format_plan, load_spec
    from neurorx.training import Config, train

    jobs = expand(load_spec(tiny_spec))
    job = next(j for j in jobs if j.kind == "train")
    store = Store(tmp_path)

    def stop_after_first(trainer, batch, record):
        if batch == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(Config.from_dict(job.config["config"]), store.work_dir(job.id), quiet=True, callback=stop_after_first)
    lines = format_plan(jobs, set(), store).splitlines()
    assert f"  [todo, resumes at batch 1/3] {job.id}  {job.describe()}" in lines
    assert sum("resumes" in line for line in lines) == 1                  # the other trainings start afresh
    (store.work_dir(job.id) / "checkpoint.npz").write_bytes(b"torn")
    assert "resumes" not in format_plan(jobs, set(), store)                 # unreadable: it will start afresh
