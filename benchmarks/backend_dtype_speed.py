"""Step time of every backend in float64 and float32 against the floor measured in the same process: PASS/FAIL.

    python benchmarks/backend_dtype_speed.py            # N=512, B=200, runs of 50, 300 and 1000 steps, 3 repeats
    python benchmarks/backend_dtype_speed.py --steps 1000 --repeat 3
    python benchmarks/backend_dtype_speed.py --quick    # a small smoke run (N=64, B=20, 10 and 50 steps, 1 repeat)

For each backend in ``neurorx.backends.all_backends()`` (Brian2: its default coupling, ``matmul``, and
target, ``auto``) and each dtype, a quiescent protocol (the reference noise, scaled by sqrt(2)) runs
``--repeat`` times after one warm-up run (which also compiles Brian2's code). The repeats are interleaved
(round after round, every backend and dtype once per round, the floor re-measured in every round) and the
minimum is kept, so that load from other processes on a shared machine biases every ratio the same way. The
time per step is a run's seconds over its steps (so a 50-step run carries the build and set-up cost a
1000-step run spreads).

The floor is measured in the same process, in each dtype, with ``step_floor.matmul_floor``: the coupling
product ``(B, N) @ W.T``, the readout product and ``B*N`` Gaussian draws in that dtype (numpy's
``Generator.standard_normal``, the generator the Brian2 backend draws with), each the best of several timings.

Printed: ms per step; backend / floor (same dtype), against the bar 1.5 (``--floor-bar``); float32 / float64
(same backend); Brian2 / torch (same dtype and protocol), against the bar 1.2 (``--backend-bar``); the floor's
parts; the load average before and after each block. The last line says ALL PASS or lists the failures.
"""

import argparse
import json
import os
import time

import numpy as np
from brian2 import ms
from step_floor import matmul_floor

import neurorx as nrx
from neurorx.backends import all_backends

DTYPES = ("float64", "float32")


def random_network(n, seed=0):
    """A random vanilla ReLU network of ``n`` units with the spatial task's 512-cell readout and the reference
    noise (the setting of ``protocol_speed.py``)."""
    rng = np.random.default_rng(seed)
    task = nrx.SpatialNavigation(n_cells=512, seed=seed)
    return nrx.RateNetwork.from_arrays(
        encoder=rng.normal(size=(n, 512)) / np.sqrt(512), w_in=rng.normal(size=(n, 2)),
        w_rec=rng.normal(size=(n, n)) * 0.9 / np.sqrt(n), w_out=rng.normal(size=(512, n)) / np.sqrt(n),
        tau=100 * ms, dt=20 * ms, noise={"recurrent": nrx.ReferenceUniformNoise(0.01, 20 * ms)}, task=task)


def timed(fn) -> float:
    """Seconds of one call of ``fn``."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def load() -> str:
    """The 1-minute load average and the core count, for the record next to every number."""
    return f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=512)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--steps", type=int, nargs="+", default=[50, 300, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--floor-bar", type=float, default=1.5, help="largest backend / floor that passes")
    parser.add_argument("--backend-bar", type=float, default=1.2, help="largest brian2 / torch that passes")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    if args.quick:
        args.n, args.trials, args.steps, args.repeat = 64, 20, [10, 50], 1
    t_start = time.perf_counter()
    net = random_network(args.n)
    # backends in both dtypes (the spiking backend runs float64 only; benchmarks/spiking_speed.py measures it)
    backends = [b for b, impl in all_backends().items() if set(DTYPES) <= set(getattr(impl, "dtypes", DTYPES))]
    results = {"args": vars(args), "versions": nrx.provenance.provenance(0), "runs": []}
    failures = []
    print(f"N={args.n}, B={args.trials}, quiescent protocol, min of {args.repeat} interleaved runs after a warm-up",
          flush=True)
    for steps in args.steps:
        proto = nrx.Protocol([nrx.Quiescent(steps=steps)])
        load_before = load()
        runs = {(b, d): (lambda b=b, d=d, p=proto: p.run(net, backend=b, trials=args.trials, seed=0, dtype=d,
                                                          progress=False))
                for b in backends for d in DTYPES}
        for fn in runs.values():
            fn()                                            # warm-up (Brian2: compiles)
        times = {key: [] for key in runs}
        floor_rounds = {d: [] for d in DTYPES}
        for _ in range(args.repeat):
            for d in DTYPES:
                floor_rounds[d].append(matmul_floor(net, args.trials, dtype=d, draws="dtype"))
            for key, fn in runs.items():
                times[key].append(timed(fn))
        floors = {d: {k: min(f[k] for f in rounds) for k in rounds[0]} for d, rounds in floor_rounds.items()}
        for fl in floors.values():
            fl["total"] = fl["coupling product"] + fl["readout product"] + fl["gaussian draws"]
        block = {"steps": steps, "floor_ms": floors, "backends": {}, "load_before": load_before}
        for (backend, dtype), ts in times.items():
            step_ms = min(ts) / steps * 1e3
            block["backends"].setdefault(backend, {})[dtype] = {
                "runs_s": ts, "step_ms": step_ms, "over_floor": step_ms / floors[dtype]["total"]}
        for per in block["backends"].values():
            per["float32/float64"] = per["float32"]["step_ms"] / per["float64"]["step_ms"]
        block["load_after"] = load()
        results["runs"].append(block)
        print(f"\n{steps} steps per run ({load_before} before, {block['load_after']} after)")
        print(f"  {'backend':>8} | {'dtype':>7} | {'ms/step':>8} | {'floor ms':>8} | {'/ floor':>7} | "
              f"{'32 / 64':>7} | floor bar {args.floor_bar}")
        for backend, per in block["backends"].items():
            for dtype in DTYPES:
                ratio = f"{per['float32/float64']:7.2f}" if dtype == "float32" else f"{'':>7}"
                ok = per[dtype]["over_floor"] <= args.floor_bar
                if not ok:
                    failures.append(f"{backend} {dtype} {steps} steps: {per[dtype]['over_floor']:.2f} x floor")
                print(f"  {backend:>8} | {dtype:>7} | {per[dtype]['step_ms']:8.3f} | {floors[dtype]['total']:8.3f} | "
                      f"{per[dtype]['over_floor']:7.2f} | {ratio} | {verdict(ok)}")
        if {"brian2", "torch"} <= set(block["backends"]):
            for dtype in DTYPES:
                r = block["backends"]["brian2"][dtype]["step_ms"] / block["backends"]["torch"][dtype]["step_ms"]
                block[f"brian2/torch {dtype}"] = r
                ok = r <= args.backend_bar
                if not ok:
                    failures.append(f"brian2/torch {dtype} {steps} steps: {r:.2f}")
                print(f"  brian2 / torch ({dtype}): {r:.2f} (bar {args.backend_bar}) {verdict(ok)}")
        for dtype, fl in floors.items():
            gflops = fl[f"{dtype} GFLOP/s"]
            print(f"  floor {dtype}: coupling product {fl['coupling product']:.3f} + readout product "
                  f"{fl['readout product']:.3f} (best {gflops:.0f} GFLOP/s) + Gaussian draws "
                  f"{fl['gaussian draws']:.3f} = {fl['total']:.3f} ms")
        print(flush=True)
    results["seconds"] = time.perf_counter() - t_start
    results["failures"] = failures
    print(f"{results['seconds']:.0f} s; {load()}")
    print("ALL PASS" if not failures else "FAIL: " + "; ".join(failures))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
