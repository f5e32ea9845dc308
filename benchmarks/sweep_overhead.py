"""Sweep overhead and throughput: what Dask and the job store cost, and what two workers gain, in one run.

(1) Overhead per job: ``--small`` real statistic jobs (total variance of one tiny recording, each with another
    burn-in so that every job is distinct) run
    (a) as the job function called directly (``JOB_KINDS["statistic"]`` into a fresh folder),
    (b) through the store (:func:`neurorx.sweep.execute`: hash, temporary folder, rename, completion record),
    (c) through Dask in this process (``scheduler="sync"``: one worker thread; cluster start-up excluded),
    (d) through a one-worker ``LocalCluster`` (a separate process; start-up excluded).
    Reported: milliseconds per job and the overhead per job of (b), (c), (d) over (a).
(2) Throughput: ``--train`` tiny training jobs (16 units, ``--batches`` batches each; CPU-bound, about a
    second each) run one after another in one process (the job function called directly) and on a
    two-worker ``LocalCluster`` (one single-threaded worker per core); reported: the wall times and their
    ratio (the speed-up; at most 2 on two idle cores), and the cluster's start-up time separately.

Usage::

    python benchmarks/sweep_overhead.py [--small 40] [--train 8] [--batches 40] [--json OUT.json] [--quick]

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


def _spec(n_train: int, batches: int, runs: bool, n_small: int = 0) -> dict:
    spec = {"name": "bench", "retries": 0,
            "train": {"seeds": list(range(n_train)), "overrides": [*TINY_TRAIN, f"trainer.n_epochs={batches}",
                                                                 f"trainer.eval_every={batches}"],
                      "conditions": {"Us": {"card": "spatial_navigation/noisy_unbiased"}}}}
    if runs:
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


def throughput(n_train: int, batches: int, work: Path) -> dict:
    """Wall time of ``n_train`` tiny training jobs: one process vs a two-worker LocalCluster."""
    from distributed import LocalCluster

    import neurorx as nrx
    from neurorx.sweep import JOB_KINDS, expand, load_spec
    from neurorx.sweep.runner import THREAD_ENV
    from neurorx.sweep.worker import worker_environment

    spec = load_spec(_spec(n_train, batches, runs=False))
    jobs = expand(spec)
    fn = JOB_KINDS.get("train").fn

    def one_process():
        _call_directly(jobs, work / "serial")

    warm = load_spec(_spec(1, 1, runs=False))
    with worker_environment():
        first = Path(tempfile.mkdtemp(dir=work))
        fn(expand(warm)[0].config, [], first, first / ".work")    # imports, first-call costs
    serial = _timed(one_process)
    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                           env=dict(THREAD_ENV), silence_logs=40)
    startup = time.perf_counter() - t0
    try:
        # warm both workers (imports) with a one-batch job each, as a long sweep amortises them
        nrx.sweep(_spec(2, 1, runs=False), out=work / "warm2", scheduler=cluster.scheduler_address,
                  show_progress=False, gather=False)
        two = _timed(lambda: nrx.sweep(spec, out=work / "cluster", scheduler=cluster.scheduler_address,
                                       show_progress=False, gather=False))
    finally:
        cluster.close()
    return {"jobs": len(jobs), "batches": batches, "one_process_s": serial, "two_workers_s": two,
            "speedup": serial / two, "cluster_startup_s": startup}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--small", type=int, default=40, help="statistic jobs for the overhead")
    p.add_argument("--train", type=int, default=8, help="training jobs for the throughput")
    p.add_argument("--batches", type=int, default=40, help="batches per training job")
    p.add_argument("--json", help="write the results here")
    p.add_argument("--quick", action="store_true", help="few, short jobs (for the tests)")
    args = p.parse_args(argv)
    if args.quick:
        args.small, args.train, args.batches = 6, 2, 3
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="neurorx-sweep-bench-") as tmp:
        work = Path(tmp)
        (work / "o").mkdir()
        (work / "t").mkdir()
        over = overhead(args.small, work / "o")
        thr = throughput(args.train, args.batches, work / "t")
    result = {"overhead": over, "throughput": thr, "cores": len(os.sched_getaffinity(0)),
              "loadavg_before": load_before, "loadavg_after": os.getloadavg(), "args": vars(args)}
    per = over["ms_per_job"]
    print(f"overhead per job ({over['jobs']} statistic jobs; direct call {per['direct']:.1f} ms/job):")
    for k, v in over["overhead_ms_per_job"].items():
        print(f"  {k:<20} {per[k]:8.1f} ms/job  (+{v:.1f} ms over the direct call, x{per[k] / per['direct']:.2f})")
    print(f"throughput ({thr['jobs']} training jobs of {thr['batches']} batches): one process "
          f"{thr['one_process_s']:.2f} s, two-worker LocalCluster {thr['two_workers_s']:.2f} s -> speed-up "
          f"x{thr['speedup']:.2f} (cluster start-up {thr['cluster_startup_s']:.1f} s, not included)")
    print(f"cores: {result['cores']}; load average before {load_before[0]:.1f}, after {result['loadavg_after'][0]:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
