"""Speed and peak memory of the ``brian2-spiking`` backend against the rate ``brian2`` backend (same protocol).

Usage (the issue's size; docs/spiking.md says what was run)::

    python -m benchmarks.spiking_speed --network models/spatial_navigation/noisy_unbiased.npz --trials 200 \\
        --active 100 --quiescent 1000 --per-unit 1 4 16 64 --spike-trials 10

Every configuration runs in its own child process: a 4-step run of the same sizes first (it compiles Brian2's
cython code, which inlines the network's sizes), then the timed run. Each child process has its own peak resident
memory (``ru_maxrss``); the rate ``brian2`` run is measured in the same invocation, and the printed ratios are
spiking / rate, in wall time and in CPU time of the process (the better measure on a shared machine).
Decoded outputs are recorded, and spikes for ``--spike-trials`` trials.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path


def one(args) -> dict:
    import neurorx as nrx

    net = nrx.load(args.network)
    proto = nrx.Protocol([nrx.Active(steps=args.active), nrx.Quiescent(steps=args.quiescent, noise_scale=2 ** 0.5)])
    opts = {} if args.backend != "brian2-spiking" else {"per_unit": args.m, "neuron": args.neuron,
                                                       "spike_trials": args.spike_trials, "record": ("spikes",)}
    # Brian2 inlines sizes into its generated code: a short run of the same sizes compiles (cached) first
    warm = nrx.Protocol([nrx.Active(steps=2), nrx.Quiescent(steps=2, noise_scale=2 ** 0.5)])
    warm.run(net, backend=args.backend, trials=args.trials, seed=args.seed, **opts)
    t, cpu = time.perf_counter(), time.process_time()
    rec = proto.run(net, backend=args.backend, trials=args.trials, seed=args.seed, **opts)
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    out = {"backend": args.backend, "per_unit": args.m, "neuron": args.neuron, "trials": args.trials,
           "steps": args.active + args.quiescent, "wall_s": wall, "cpu_s": cpu,
           "cpu_ms_per_trial_step": 1e3 * cpu / (args.trials * (args.active + args.quiescent)),
           "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}
    if rec.spikes is not None:
        out["spikes_kept"] = len(rec.spikes)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", default="models/spatial_navigation/noisy_unbiased.npz")
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--active", type=int, default=100)
    parser.add_argument("--quiescent", type=int, default=1000)
    parser.add_argument("--per-unit", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--neuron", nargs="+", default=["poisson"])
    parser.add_argument("--spike-trials", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="folder of one result file per configuration (skips done ones)")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--backend", default="brian2", help=argparse.SUPPRESS)
    parser.add_argument("--m", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        args.neuron = args.neuron[0]
        print(json.dumps(one(args)))
        return 0
    common = ["--network", args.network, "--trials", str(args.trials), "--active", str(args.active), "--quiescent",
              str(args.quiescent), "--spike-trials", str(args.spike_trials), "--seed", str(args.seed), "--one"]

    out = Path(args.out) if args.out else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)

    def child(*extra) -> dict:
        name = "_".join(e.replace("-", "") for e in extra) + f"_T{args.trials}_A{args.active}_Q{args.quiescent}"
        if out is not None and (out / f"{name}.json").exists():   # done in an earlier invocation: resume
            return json.loads((out / f"{name}.json").read_text())
        done = subprocess.run([sys.executable, "-m", "benchmarks.spiking_speed", *common, *extra], check=True,
                              capture_output=True, text=True)
        row = json.loads(done.stdout.strip().splitlines()[-1])
        if out is not None:
            (out / f"{name}.json").write_text(json.dumps(row))
        return row

    rate = child("--backend", "brian2")
    print(json.dumps(rate), flush=True)
    for neuron in args.neuron:
        for m in args.per_unit:
            row = child("--backend", "brian2-spiking", "--m", str(m), "--neuron", neuron)
            row["wall_ratio_to_rate_brian2"] = row["wall_s"] / rate["wall_s"]
            row["cpu_ratio_to_rate_brian2"] = row["cpu_s"] / rate["cpu_s"]
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
