"""The order in which a sweep runs its jobs: seed by seed, a network's results before the next training."""

import json

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
