"""Count the trials whose hidden states diverge in a sweep's runs, and what they do to Fig. 2f's total variance.

A sweep keeps decoded outputs, not hidden states. This script re-runs each finished run job of the spec on its
backend with the same seed and a :class:`neurorx.hooks.TrialPeak` hook (each trial's largest ``|h|``), checks
that the re-run's decoded outputs equal the stored ones (so the peaks belong to the stored trials), and reports
per network: the trials whose ``|h|`` passes ``--limit`` in any phase (and per phase), and for runs with a
one-phase ``total_variance`` statistic the mean total variance with and without those trials.

    python protocols/sweeps/diverging_trials.py protocols/sweeps/paper_five_seeds.yaml --runs variance \\
        --out docs/figures/paper_five_seeds/diverging_trials.json
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from neurorx import Recording
from neurorx.hooks import TrialPeak
from neurorx.io import atomic_write_bytes, check_output_file
from neurorx.sweep import Store, expand, load_spec
from neurorx.sweep.kinds import read_result, run_recording
from neurorx.sweep.migrate import old_scheme_jobs
from neurorx.sweep.runner import default_out
from neurorx.sweep.worker import worker_environment

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("spec")
parser.add_argument("--store", help="the sweep's output folder (default: the spec's)")
parser.add_argument("--runs", nargs="+", help="run names to check (default: all)")
parser.add_argument("--backends", nargs="+", default=["torch"], help="backends to check (default: torch)")
parser.add_argument("--conditions", nargs="+", help="conditions to check (default: all)")
parser.add_argument("--seeds", nargs="+", type=int, help="training seeds to check (default: all)")
parser.add_argument("--limit", type=float, default=1e3, help="a trial diverges when its |h| passes this")
parser.add_argument("--out", help="save the table as JSON here")
parser.add_argument("--force", action="store_true", help="overwrite --out")
args = parser.parse_args()
if args.out:
    try:
        check_output_file(args.out, overwrite=args.force)  # before the re-runs, not after
    except (FileExistsError, OSError) as err:
        sys.exit(f"diverging_trials.py: error: {err}")

spec = load_spec(args.spec)
store = Store(args.store or default_out(spec))
if store.scheme() == 1 and old_scheme_jobs(spec, store):
    sys.exit(f"the jobs in {store.root} are named by an earlier neurorx: run `neurorx sweep {args.spec} --migrate` "
             "first")
jobs = expand(spec)
variance_of = {j.inputs[0]: j for j in jobs
               if j.kind == "statistic" and j.config.get("statistic") == "total_variance" and len(j.inputs) == 1}
runs = [j for j in jobs if j.kind == "run" and j.config["backend"] in args.backends
        and (args.runs is None or j.labels["run"] in args.runs)
        and (args.conditions is None or j.labels["condition"] in args.conditions)
        and (args.seeds is None or j.labels["seed"] in args.seeds) and store.is_done(j.id)]
if not runs:
    sys.exit(f"no finished run jobs of {args.runs or 'any run'} on {args.backends} in {store.root}")

rows = []
for i, job in enumerate(runs, 1):
    start = time.perf_counter()
    with worker_environment():                          # one thread, as the sweep's workers ran it
        rec = run_recording(job.config, [store.path(job.inputs[0])], hooks=[TrialPeak()])
    stored = Recording.load(store.path(job.id) / "recording.npz")
    same = bool(np.array_equal(rec.decoded, stored.decoded, equal_nan=True))
    row = {**job.labels, "id": job.id, "trials": int(rec.decoded.shape[0]), "reproduced": same}
    diverging = np.zeros(rec.decoded.shape[0], bool)
    for key, peak in rec.hooks["trial_peak"].items():
        phase = key.split("/")[0]
        bad = ~(peak <= args.limit)                     # NaN counts as diverging
        row[f"diverging/{phase}"] = int(bad.sum())
        row[f"median_peak/{phase}"] = float(np.nanmedian(peak))
        diverging |= bad
    row["diverging"] = int(diverging.sum())
    stat = variance_of.get(job.id)
    if stat is not None and store.is_done(stat.id):
        per = np.asarray(read_result(store.path(stat.id))["per_trajectory"].values)
        if per.shape == diverging.shape:                # one value per trial (a one-phase statistic)
            row["total_variance"] = float(per.mean())
            row["total_variance_without_diverging"] = float(per[~diverging].mean()) if same else None
    rows.append(row)
    lab = " ".join(f"{k}={v}" for k, v in job.labels.items())
    print(f"[{i}/{len(runs)}] {lab}: {row['diverging']}/{row['trials']} diverging"
          f"{'' if same else ' (re-run differs from the stored recording: trials not matched)'}"
          f" ({time.perf_counter() - start:.0f} s)", flush=True)

print()
print("| run | condition | seed | backend | diverging trials | total variance (all) | without them | re-run matches |")
print("|---|---|---|---|---|---|---|---|")
for r in sorted(rows, key=lambda r: (r["run"], r["condition"], r["seed"], r["backend"])):
    tv = r.get("total_variance")
    tw = r.get("total_variance_without_diverging")
    print(f"| {r['run']} | {r['condition']} | {r['seed']} | {r['backend']} | {r['diverging']}/{r['trials']} | "
          f"{'' if tv is None else f'{tv:.5f}'} | {'' if tw is None else f'{tw:.5f}'} | "
          f"{'yes' if r['reproduced'] else 'NO: trials not matched'} |")
if args.out:
    doc = {"spec": spec.name, "limit": args.limit, "command": " ".join(sys.argv), "rows": rows}
    print("saved", atomic_write_bytes(Path(args.out), json.dumps(doc, indent=1).encode(), overwrite=args.force))
