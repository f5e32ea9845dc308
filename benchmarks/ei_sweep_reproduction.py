"""Re-make runs of the documented E/I experiment as sweep jobs and compare them with ``docs/figures/ei``.

Runs the jobs of ``ExperimentConfig.full()`` for the given configurations (seed 0) through the sweep
(:func:`neurorx.sweep.runner.run_jobs`, in process), prints each run's test accuracy next to the documented one,
then the documented summary with those runs replaced by the new ones (cell means, paired tests)::

    python benchmarks/ei_sweep_reproduction.py --out /tmp/ei_full_subset --configs 0     # 12 runs
"""

import argparse
import json
from pathlib import Path

from neurorx.ei.experiment import ExperimentConfig, analyse
from neurorx.ei.jobs import RESULT, grid_jobs
from neurorx.sweep.runner import run_jobs
from neurorx.sweep.store import Store

ROOT = Path(__file__).resolve().parents[1]
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", required=True, help="the sweep store of the re-made runs")
parser.add_argument("--configs", type=int, nargs="+", default=[0], help="configurations to re-make (seed 0)")
args = parser.parse_args()

jobs = [j for j in grid_jobs(ExperimentConfig.full()) if j.config["config"] in args.configs and j.config["seed"] == 0]
run_jobs(jobs, args.out, name="ei_reproduction", scheduler="sync", show_progress=False)
doc = [json.loads(line) for line in (ROOT / "docs/figures/ei/runs.jsonl").read_text().splitlines()]
by_key = {r["key"]: r for r in doc}
store = Store(args.out)
new = {}
for job in jobs:
    r = json.loads((store.path(job.id) / RESULT).read_text())
    new[r["key"]] = r
    d = by_key[r["key"]]["test_acc"]
    print(f"{r['key']:<22} {r['test_acc']:.4f} documented {d:.4f} "
          + ("identical" if r["test_acc"] == d else f"differs by {r['test_acc'] - d:+.4f}"))
print(f"{sum(new[k]['test_acc'] == by_key[k]['test_acc'] for k in new)}/{len(new)} identical")
before, after = analyse(doc), analyse([new.get(r["key"], r) for r in doc])
for c, row in before["table"].items():
    print(c, "  ".join(f"ε={e}: {100 * v['mean']:.2f}±{100 * v['sd']:.1f} -> {100 * after['table'][c][e]['mean']:.2f}"
                       f"±{100 * after['table'][c][e]['sd']:.1f}" for e, v in row.items()))
for k, p in before["paired"].items():
    q = after["paired"][k]
    print(f"{k}: gain {100 * p['mean_gain']:+.2f} -> {100 * q['mean_gain']:+.2f}, better/worse {p['n_better']}/"
          f"{p['n_worse']} -> {q['n_better']}/{q['n_worse']}, p {p['wilcoxon_p']:.2g} -> {q['wilcoxon_p']:.2g}")
