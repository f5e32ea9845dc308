"""Sweep overhead and throughput: what Dask and the job store cost, and what two workers gain, in one run.

(1) Overhead per job: ``--small`` real statistic jobs (total variance of one tiny recording, each with another
    burn-in so that every job is distinct) run
    (a) as the job function called directly (``JOB_KINDS["statistic"]`` into a fresh folder),
    (b) through the store (:func:`neurorx.sweep.execute`: hash, temporary folder, rename, completion record),
    (c) through Dask in this process (``scheduler="sync"``: one worker thread; cluster start-up excluded),
    (d) through a one-worker ``LocalCluster`` (a separate process; start-up excluded).
    Reported: milliseconds per job and the overhead per job of (b), (c), (d) over (a).
(2) Throughput: ``--train`` tiny training jobs (16 units, ``--batches`` batches each; CPU-bound, about a
    second each), then ``--runs`` protocol jobs of one trained network (``--run-steps`` quiescent steps each), run
    on a one-worker and on a two-worker ``LocalCluster`` (single-threaded worker processes, both started and
    warmed first, then used in turn for ``--repeat`` interleaved rounds, the minimum kept; the training
    jobs once more one after another in this process, the job function called directly). Reported, per kind:
    the wall times, the speed-up one worker / two workers against the bar 1.8 (``--bar``; at most 2 on two
    idle cores), and the workers' busy fraction (the jobs' own seconds, from their completion records, over
    wall time x workers): a low fraction means workers waited (scheduling, the client), a high one with a
    low speed-up that the jobs themselves ran slower side by side (cores, memory bandwidth, other load).

Usage::

    python benchmarks/sweep_overhead.py [--small 40] [--train 8] [--batches 40] [--runs 8] [--repeat 2]
                                        [--json OUT.json] [--quick]

On a machine shared with other work the ratios are lower than on an idle one: the script prints the load
average before and after so that the numbers can be read in context.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

TINY_TRAIN = ["rnn.n_rec=16", "trainer.batch_size=8", "trainer.steps=10", "trainer.test_batch=8"]


def _spec(n_train: int, batches: int, runs: bool, n_small: int = 0, n_runs: int = 0, run_steps: int = 0) -> dict:
    spec = {"name": "bench", "retries": 0,
            "train": {"seeds": list(range(n_train)), "overrides": [*TINY_TRAIN, f"trainer.n_epochs={batches}",
                                                                 f"trainer.eval_every={batches}"],
                      "conditions": {"Us": {"card": "spatial_navigation/noisy_unbiased"}}}}
    if n_runs:   # distinct protocol jobs of one network (each a few steps longer than the last)
        spec["runs"] = {f"r{i}": {"protocol": [{"phase": "quiescent", "steps": run_steps + i}], "trials": 50}
                        for i in range(n_runs)}
    elif runs:
        spec["runs"] = {"r": {"protocol": [{"phase": "quiescent", "steps": n_small + 5}], "trials": 4}}   # + warm-up
        spec["statistics"] = {f"tv{i}": {"statistic": "total_variance", "of": "r", "burn_in": i}
                              for i in range(n_small)}
    return spec


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _call_directly(jobs, folder: Path, store=None) -> None:
    """Each job's function called in this process, as a worker would, without the store or Dask."""
    from neurorx.sweep import JOB_KINDS
    from neurorx.sweep.worker import worker_environment

    for i, j in enumerate(jobs):
        out = folder / str(i)
        out.mkdir(parents=True)
        with worker_environment():
            JOB_KINDS.get(j.kind).fn(j.config, [store.path(x) for x in j.inputs], out, out / ".work")


def overhead(n_small: int, work: Path) -> dict:
    """Milliseconds per statistic job: direct call, through the store, through Dask (in process, one worker)."""
    from distributed import LocalCluster

    import neurorx as nrx
    from neurorx.sweep import Store, execute, expand, load_spec

    spec = load_spec(_spec(1, 2, runs=True, n_small=n_small))
    base = work / "base"
    nrx.sweep({**spec.to_dict(), "statistics": {}}, out=base, scheduler="sync", show_progress=False, gather=False)
    jobs = [j for j in expand(spec) if j.kind == "statistic"]
    store = Store(base)

    def direct():
        _call_directly(jobs, work / "direct", store)

    def through_store():
        for j in jobs:
            execute(j.to_dict(), str(work / "store"))

    def copy_base(name):
        shutil.copytree(base / "jobs", work / name / "jobs")

    copy_base("warm")
    execute(jobs[0].to_dict(), str(work / "warm"))        # imports, first-call costs
    copy_base("store")
    res = {"direct": _timed(direct), "store": _timed(through_store)}
    for name, (nworkers, processes) in {"dask_in_process": (1, False), "dask_local_1_worker": (1, True)}.items():
        copy_base(name)
        cluster = LocalCluster(n_workers=nworkers, threads_per_worker=1, processes=processes,
                               dashboard_address=":0", silence_logs=40)
        try:   # warm the worker (imports, first-call costs) with one more, distinct job
            warm_spec = {**spec.to_dict(), "statistics": {"warm": {"statistic": "total_variance", "of": "r",
                                                                   "burn_in": n_small}}}
            nrx.sweep(warm_spec, out=work / name, scheduler=cluster.scheduler_address, show_progress=False,
                      gather=False)
            res[name] = _timed(lambda n=name, c=cluster: nrx.sweep(spec, out=work / n, scheduler=c.scheduler_address,
                                                                    show_progress=False, gather=False))
        finally:
            cluster.close()
    n = len(jobs)
    per = {k: 1e3 * v / n for k, v in res.items()}
    return {"jobs": n, "ms_per_job": per,
            "overhead_ms_per_job": {k: per[k] - per["direct"] for k in per if k != "direct"}}


def _busy_seconds(out: Path) -> float:
    """The jobs' own seconds, summed over the completion records of the sweep folder ``out``."""
    return sum(json.loads(p.read_text())["seconds"] for p in (out / "jobs").glob("*/done.json"))


def throughput(n_train: int, batches: int, n_runs: int, run_steps: int, repeat: int, work: Path) -> dict:
    """Wall times of ``n_train`` tiny training jobs and ``n_runs`` protocol jobs on one and on two workers."""
    from distributed import LocalCluster

    import neurorx as nrx
    from neurorx.sweep import JOB_KINDS, expand, load_spec
    from neurorx.sweep.runner import THREAD_ENV
    from neurorx.sweep.worker import worker_environment

    spec = load_spec(_spec(n_train, batches, runs=False))
    jobs = expand(spec)
    fn = JOB_KINDS.get("train").fn
    train_one = _spec(1, batches, runs=False)                       # the network of the protocol jobs
    runs_spec = _spec(1, batches, runs=False, n_runs=n_runs, run_steps=run_steps)

    warm = load_spec(_spec(1, 1, runs=False))
    with worker_environment():
        first = Path(tempfile.mkdtemp(dir=work))
        fn(expand(warm)[0].config, [], first, first / ".work")    # imports, first-call costs
    serial = _timed(lambda: _call_directly(jobs, work / "serial"))
    clusters, startup = {}, {}
    try:
        for nw in (1, 2):
            t0 = time.perf_counter()
            clusters[nw] = LocalCluster(n_workers=nw, threads_per_worker=1, processes=True, dashboard_address=":0",
                                        env=dict(THREAD_ENV), silence_logs=40)
            startup[nw] = time.perf_counter() - t0
            # warm every worker (imports; Brian2's and torch's first-call costs) with a one-batch job each and a
            # protocol run, as a long sweep amortises them
            nrx.sweep({**_spec(nw, 1, runs=False, n_runs=nw, run_steps=5)}, out=work / f"warm{nw}",
                      scheduler=clusters[nw].scheduler_address, show_progress=False, gather=False)
        walls = {kind: {nw: [] for nw in clusters} for kind in ("train", "runs")}
        busy = {kind: {nw: [] for nw in clusters} for kind in ("train", "runs")}
        for r in range(repeat):
            for nw, cluster in clusters.items():
                addr = cluster.scheduler_address
                out = work / f"train{nw}-{r}"
                walls["train"][nw].append(_timed(lambda o=out, a=addr: nrx.sweep(spec, out=o, scheduler=a,
                                                                                  show_progress=False, gather=False)))
                busy["train"][nw].append(_busy_seconds(out))
                out = work / f"runs{nw}-{r}"
                nrx.sweep(train_one, out=out, scheduler=addr, show_progress=False, gather=False)   # the network
                trained = _busy_seconds(out)
                walls["runs"][nw].append(_timed(lambda o=out, a=addr: nrx.sweep(runs_spec, out=o, scheduler=a,
                                                                                 show_progress=False, gather=False)))
                busy["runs"][nw].append(_busy_seconds(out) - trained)
    finally:
        for cluster in clusters.values():
            cluster.close()
    res = {"jobs": len(jobs), "batches": batches, "n_runs": n_runs, "run_steps": run_steps, "repeat": repeat,
           "one_process_s": serial, "cluster_startup_s": startup}
    for kind in walls:
        one, two = min(walls[kind][1]), min(walls[kind][2])
        res[kind] = {"one_worker_s": one, "two_workers_s": two, "speedup": one / two, "walls_s": walls[kind],
                     "busy_fraction": {nw: busy[kind][nw][walls[kind][nw].index(min(walls[kind][nw]))]
                                       / (min(walls[kind][nw]) * nw) for nw in clusters}}
    res["two_workers_s"] = res["train"]["two_workers_s"]
    res["speedup"] = serial / res["two_workers_s"]     # against the job function called in one process
    return res


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--small", type=int, default=40, help="statistic jobs for the overhead")
    p.add_argument("--train", type=int, default=8, help="training jobs for the throughput")
    p.add_argument("--batches", type=int, default=40, help="batches per training job")
    p.add_argument("--runs", type=int, default=8, help="protocol jobs for the throughput")
    p.add_argument("--run-steps", type=int, default=4000, help="quiescent steps of each protocol job")
    p.add_argument("--repeat", type=int, default=2, help="interleaved rounds on the one- and two-worker clusters")
    p.add_argument("--bar", type=float, default=1.8, help="smallest two-worker speed-up that passes")
    p.add_argument("--json", help="write the results here")
    p.add_argument("--quick", action="store_true", help="few, short jobs (for the tests)")
    args = p.parse_args(argv)
    if args.quick:
        args.small, args.train, args.batches, args.runs, args.run_steps, args.repeat = 6, 2, 3, 2, 20, 1
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="neurorx-sweep-bench-") as tmp:
        work = Path(tmp)
        (work / "o").mkdir()
        (work / "t").mkdir()
        over = overhead(args.small, work / "o")
        thr = throughput(args.train, args.batches, args.runs, args.run_steps, args.repeat, work / "t")
    result = {"overhead": over, "throughput": thr, "cores": len(os.sched_getaffinity(0)),
              "loadavg_before": load_before, "loadavg_after": os.getloadavg(), "args": vars(args)}
    per = over["ms_per_job"]
    print(f"overhead per job ({over['jobs']} statistic jobs; direct call {per['direct']:.1f} ms/job):")
    for k, v in over["overhead_ms_per_job"].items():
        print(f"  {k:<20} {per[k]:8.1f} ms/job  (+{v:.1f} ms over the direct call, x{per[k] / per['direct']:.2f})")
    print(f"throughput ({thr['jobs']} training jobs of {thr['batches']} batches, {thr['n_runs']} protocol jobs of "
          f"{thr['run_steps']} steps; min of {thr['repeat']} interleaved rounds): training jobs one after another in "
          f"this process {thr['one_process_s']:.2f} s (x{thr['speedup']:.2f} against two workers)")
    fails = []
    for kind in ("train", "runs"):
        k = thr[kind]
        ok = k["speedup"] >= args.bar
        fails += [] if ok else [f"{kind} x{k['speedup']:.2f}"]
        bf = k["busy_fraction"]
        print(f"  {kind:<5} one worker {k['one_worker_s']:.2f} s, two workers {k['two_workers_s']:.2f} s -> speed-up "
              f"x{k['speedup']:.2f} (bar x{args.bar}) {'PASS' if ok else 'FAIL'}; workers busy "
              f"{bf[1]:.0%} (one), {bf[2]:.0%} (two)")
    print(f"  (cluster start-up {thr['cluster_startup_s'][1]:.1f} s and {thr['cluster_startup_s'][2]:.1f} s, "
          f"not included)")
    print(f"cores: {result['cores']}; load average before {load_before[0]:.1f}, after {result['loadavg_after'][0]:.1f}")
    print("ALL PASS" if not fails else "FAIL: " + "; ".join(fails))
    result["failures"] = fails
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
