"""Speed and memory of a quiescent protocol on the torch backend and both Brian2 couplings, in one process.

    python benchmarks/protocol_speed.py                 # N=512, B=200, 1000 steps (the issue's setting)
    python benchmarks/protocol_speed.py --quick         # a small smoke run

Prints seconds, ratios against the torch backend, and peak memory; a per-step profile of the Brian2 network
(state update, recurrent coupling, protocol-side readout and decoding); a floor under the matmul coupling's
step on this machine (its two float64 matrix products and Brian2's Gaussian draws, timed alone, best of
several runs), which bounds the ratio against the synapses coupling that this machine can reach; then the
memory of a B=500, N=512, 2000-step protocol that records decoded outputs only (measured in a fresh
subprocess, so earlier runs do not count). Times are medians over --repeat runs after one warm-up (which
also compiles Brian2's code); the synapses coupling is timed over the full run too (--synapse-repeat runs;
each builds its B*N^2 synapses), not extrapolated from a shorter one, which would also multiply its build
time.
"""

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
from brian2 import ms, profiling_summary, second
from step_floor import matmul_floor

import neurorx as nrx


def random_network(n, n_cells, seed=0):
    rng = np.random.default_rng(seed)
    task = nrx.SpatialNavigation(n_cells=n_cells, seed=seed)
    return nrx.RateNetwork.from_arrays(
        encoder=rng.normal(size=(n, n_cells)) / np.sqrt(n_cells), w_in=rng.normal(size=(n, 2)),
        w_rec=rng.normal(size=(n, n)) * 0.9 / np.sqrt(n), w_out=rng.normal(size=(n_cells, n)) / np.sqrt(n),
        tau=100 * ms, dt=20 * ms, noise={"recurrent": nrx.ReferenceUniformNoise(0.01, 20 * ms)}, task=task)


def timed(fn, repeat, warmup=None):
    (warmup or fn)()  # warm-up: Brian2 compiles here
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def peak_rss_mb():
    """Peak resident memory of this process image (VmHWM; unlike ru_maxrss it does not inherit the parent's)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step_profile(net, trials, steps=100):
    """Per-step milliseconds of each Brian2 object (matmul coupling) and of the protocol's readout + decoding."""
    from neurorx.backends.brian2 import brian2_prefs, build_network

    noise = [net.recurrent_noise.scaled(2 ** 0.5)]
    bnet = build_network(net, trials, coupling="matmul", noise_models=noise, seed=0)
    with brian2_prefs("cython", None):
        bnet.run(0 * second, namespace={})
        bnet.run(steps * net.dt * second, namespace={}, profile=True)
    out = {name: float(t) / steps * 1e3 for name, t in bnet.profiling_info}
    h = np.random.default_rng(0).normal(size=(trials, 40, net.n_rec))
    t0 = time.perf_counter()
    for _ in range(5):
        net.task.decode(net.readout(h))
    out["protocol readout + decode"] = (time.perf_counter() - t0) / (5 * 40) * 1e3
    print(profiling_summary(bnet))
    return out


def memory_child(n, trials, steps):
    net = random_network(n, 512)
    proto = nrx.Protocol([nrx.Quiescent(steps=steps)])
    before = peak_rss_mb()
    proto.run(net, backend="torch", trials=trials, seed=0)
    print(json.dumps({"peak_rss_mb": peak_rss_mb(), "before_mb": before}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=512)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--synapse-repeat", type=int, default=1,
                        help="timed runs of the (slow) synapses coupling, each over the full --steps")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", default=None)
    parser.add_argument("--memory-child", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(*args.memory_child)
        return
    if args.quick:
        args.n, args.trials, args.steps, args.repeat = 64, 20, 100, 1
    net = random_network(args.n, 512)
    proto = nrx.Protocol([nrx.Quiescent(steps=args.steps)])
    short = nrx.Protocol([nrx.Quiescent(steps=2)])
    results = {}
    runs = {
        "torch": (lambda: proto.run(net, backend="torch", trials=args.trials, seed=0), args.repeat, None),
        "brian2 matmul": (lambda: proto.run(net, backend="brian2", trials=args.trials, seed=0, coupling="matmul"),
                          args.repeat, None),
        "brian2 synapses": (lambda: proto.run(net, backend="brian2", trials=args.trials, seed=0,
                                              coupling="synapses"), args.synapse_repeat,
                            lambda: short.run(net, backend="brian2", trials=args.trials, seed=0, coupling="synapses")),
    }
    for name, (fn, repeat, warmup) in runs.items():
        med, times = timed(fn, repeat, warmup)
        results[name] = {"seconds": med, "runs": times, "peak_rss_mb": peak_rss_mb()}
        print(f"{name:>16}: {med:8.3f} s for {args.steps} steps (peak RSS so far {peak_rss_mb():.0f} MB)",
              flush=True)
    t_torch = results["torch"]["seconds"]
    t_mm = results["brian2 matmul"]["seconds"]
    t_syn = results["brian2 synapses"]["seconds"]
    print(f"\nN={args.n}, B={args.trials}, {args.steps} quiescent steps")
    print(f"brian2 matmul / torch      = {t_mm / t_torch:6.2f}x   (target <= 1.5)")
    print(f"brian2 synapses / matmul   = {t_syn / t_mm:6.2f}x   (target >= 15)")
    prof = step_profile(net, args.trials)
    print("per step (ms): " + ", ".join(f"{k} {v:.2f}" for k, v in prof.items()))
    results["step_profile_ms"] = prof
    floor = matmul_floor(net, args.trials)   # float64, Brian2's Gaussian source
    floor_ms = floor.pop("total")
    need_ms = t_syn / 15 / args.steps * 1e3
    print(f"matmul step floor (ms, best of 7): coupling product {floor['coupling product']:.2f} + readout product "
          f"{floor['readout product']:.2f} ({floor['float64 GFLOP/s']:.0f} GFLOP/s float64) + Brian2's Gaussian "
          f"draws {floor['gaussian draws']:.2f} = {floor_ms:.2f}; measured step {t_mm / args.steps * 1e3:.2f}")
    print(f"15x needs a whole matmul step <= {need_ms:.2f} ms; the floor alone allows at most "
          f"{t_syn / (floor_ms * args.steps / 1e3):.1f}x on this machine")
    results["matmul_floor_ms"] = {**floor, "total": floor_ms, "needed_for_15x": need_ms}
    trials, steps = (50, 200) if args.quick else (500, 2000)
    child = subprocess.run([sys.executable, __file__, "--memory-child", str(args.n), str(trials), str(steps)],
                           capture_output=True, text=True, check=True)
    mem = json.loads(child.stdout.strip().splitlines()[-1])
    print(f"B={trials}, N={args.n}, {steps} steps, decoded only: peak RSS {mem['peak_rss_mb']:.0f} MB "
          f"(process baseline {mem['before_mb']:.0f} MB; target < 1024 MB)")
    results["memory"] = {"trials": trials, "steps": steps, **mem}
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"args": vars(args), "results": results}, fh, indent=2)


if __name__ == "__main__":
    main()
