"""What the jobs of protocols/sweeps/paper_five_seeds.yaml cost, and the wall time of the whole sweep.

Times, in this process with one thread (as a sweep worker runs a job):

- a training batch at the paper's scale (512 units, 200 trajectories of 100 steps; ``--batches`` batches);
- the ``reactivation`` (200 trials, 100 active + 1000 quiescent steps) and ``variance`` (500 trials, 2000
  quiescent steps) runs on the shipped ``noisy_unbiased`` network, on each backend;
- one cell of the KL matrix at that size (corrected, reference, uniform column).

From these it prints the sweep's core-hours and its wall time on ``--workers`` workers, next to the training
time implied by the batch times the shipped networks recorded when they were trained
(``metrics["seconds_per_batch"]``, 2 torch threads). The machine's load average is printed: on a shared
machine every number is inflated.

Usage::

    python benchmarks/sweep_job_costs.py [--batches 20] [--workers 2] [--backends torch brian2] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CARDS = {"Us": "noisy_unbiased", "Bs": "noisy_biased", "U": "no-noise_unbiased", "B": "no-noise_biased"}


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batches", type=int, default=20, help="training batches timed")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--backends", nargs="+", default=["torch", "brian2"])
    p.add_argument("--json")
    args = p.parse_args(argv)

    import numpy as np
    import torch
    from threadpoolctl import threadpool_limits

    import neurorx as nrx
    from neurorx.analysis import kl_divergence, kl_uniform_vs
    from neurorx.sweep import expand, load_spec
    from neurorx.training import apply_overrides, load_card, train

    torch.set_num_threads(1)
    spec = load_spec(ROOT / "protocols" / "sweeps" / "paper_five_seeds.yaml")
    jobs = expand(spec)
    n_net = len(spec.train.conditions) * len(spec.train.seeds)
    res = {"loadavg_before": os.getloadavg()}
    with threadpool_limits(1):
        cfg = apply_overrides(load_card("spatial_navigation/noisy_unbiased"),
                              [f"trainer.n_epochs={args.batches}", f"trainer.eval_every={args.batches}",
                               "trainer.threads=1"])
        net = train(cfg, None, quiet=True)
        res["seconds_per_batch"] = net.metrics["seconds_per_batch"]
        print(f"training batch (512 units, 1 thread): {res['seconds_per_batch']:.3f} s", flush=True)
        shipped = nrx.load(ROOT / "models" / "spatial_navigation" / "noisy_unbiased.npz")
        runs = {"reactivation": (nrx.Protocol([nrx.Active(steps=100), nrx.Quiescent(steps=1000, start="reset")]),
                                 200),
                "variance": (nrx.Protocol([nrx.Quiescent(steps=2000)]), 500)}
        res["runs_s"] = {}
        rec = None
        for backend in args.backends:
            for name, (protocol, trials) in runs.items():
                def go(protocol=protocol, trials=trials, backend=backend):
                    nonlocal rec
                    out = protocol.run(shipped, backend=backend, trials=trials, seed=0)
                    if backend == "torch" and len(protocol.phases) == 2:
                        rec = out
                res["runs_s"][f"{name}/{backend}"] = _timed(go)
                print(f"run {name} on {backend}: {res['runs_s'][f'{name}/{backend}']:.1f} s", flush=True)
        if rec is None:
            rng = np.random.default_rng(0)
            q, a = rng.normal(size=(200_000, 2)) * 0.3, rng.normal(size=(20_000, 2)) * 0.4
        else:
            q = rec.select("quiescent").decoded.reshape(-1, 2)
            a = rec.select("active").decoded.reshape(-1, 2)
        res["kl_cell_s"] = {"corrected": _timed(lambda: kl_divergence(q, a, n_mc=2500)),
                            "reference": _timed(lambda: kl_divergence(q, a, method="reference", n_mc=2500)),
                            "uniform": _timed(lambda: kl_uniform_vs(a, n_mc=2500))}
        print(f"KL cell: {res['kl_cell_s']}", flush=True)
    res["loadavg_after"] = os.getloadavg()

    n_cond = len(spec.train.conditions)
    train_h = n_net * 2500 * res["seconds_per_batch"] / 3600
    per_net_runs = sum(res["runs_s"].values()) * (2 if len(args.backends) == 1 else 1)
    pca = sum(v for k, v in res["runs_s"].items() if k.startswith("reactivation")) / 2   # 100 trials, U^σ only
    runs_h = (n_net * per_net_runs + len(spec.train.seeds) * pca) / 3600
    kl = res["kl_cell_s"]
    kl_job = n_cond * n_cond * (kl["corrected"] + kl["reference"]) + n_cond * 2 * kl["uniform"]
    kl_h = sum(1 for j in jobs if j.labels.get("statistic") == "kl") * kl_job / 3600
    shipped_rate = [nrx.load(ROOT / "models" / "spatial_navigation" / f"{c}.npz").metrics["seconds_per_batch"]
                    for c in CARDS.values()]
    res["estimate_core_hours"] = {"training": train_h, "runs": runs_h, "kl": kl_h}
    res["estimate_wall_hours"] = (train_h + runs_h + kl_h) / args.workers
    res["shipped_seconds_per_batch"] = dict(zip(CARDS, shipped_rate, strict=True))
    res["shipped_training_hours"] = len(spec.train.seeds) * 2500 * sum(shipped_rate) / 3600
    print(f"{len(jobs)} jobs. Core-hours at these timings: training {train_h:.1f}, runs {runs_h:.1f}, KL {kl_h:.1f}; "
          f"wall time on {args.workers} workers ~{res['estimate_wall_hours']:.1f} h")
    rates = ", ".join(f"{k} {v:.3f} s" for k, v in res["shipped_seconds_per_batch"].items())
    print(f"training at the batch times the shipped networks recorded (2 threads, the whole machine): "
          f"{res['shipped_training_hours']:.1f} h ({rates})")
    print(f"load average before {res['loadavg_before'][0]:.1f}, after {res['loadavg_after'][0]:.1f} "
          f"on {len(os.sched_getaffinity(0))} cores")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    return res


if __name__ == "__main__":
    main()
