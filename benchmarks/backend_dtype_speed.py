"""Step time of every backend in float64 and float32 against the floor measured in the same process.

    python benchmarks/backend_dtype_speed.py            # N=512, B=200, runs of 50 and 1000 steps, 5 repeats
    python benchmarks/backend_dtype_speed.py --quick    # a small smoke run (N=64, B=20, 10 and 50 steps, 1 repeat)

For each backend in ``neurorx.backends.all_backends()`` (Brian2: its default coupling, ``matmul``, and
target, ``auto``) and each dtype, a quiescent protocol (the reference noise, scaled by sqrt(2)) runs
``--repeat`` times after one warm-up run (which also compiles Brian2's code); the time per step is the median
run's seconds over its steps (so a 50-step run carries the build and set-up cost a 1000-step run spreads).
The floor is measured in the same process, in each dtype, with ``step_floor.matmul_floor``: the coupling
product ``(B, N) @ W.T``, the readout product and ``B*N`` Gaussian draws in that dtype (numpy's
``Generator.standard_normal``), each the best of several timings. Brian2 draws its Gaussian numbers with
numpy's legacy float64 generator in both dtypes; that draw is timed too and printed next to the floor.

Printed: ms per step; backend / floor (same dtype); float32 / float64 (same backend); and the floor's parts.
"""

import argparse
import json
import statistics
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


def time_runs(fn, repeat):
    """Seconds of ``repeat`` runs of ``fn`` after one warm-up run."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=512)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--steps", type=int, nargs="+", default=[50, 1000])
    parser.add_argument("--repeat", type=int, default=5)
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
    print(f"N={args.n}, B={args.trials}, quiescent protocol, median of {args.repeat} runs after a warm-up", flush=True)
    for steps in args.steps:
        proto = nrx.Protocol([nrx.Quiescent(steps=steps)])
        floors = {dtype: matmul_floor(net, args.trials, dtype=dtype, draws="dtype") for dtype in DTYPES}
        brian2_draws = matmul_floor(net, args.trials, draws="brian2")["gaussian draws"]
        block = {"steps": steps, "floor_ms": floors, "brian2_gaussian_draws_ms": brian2_draws, "backends": {}}
        for backend in backends:
            for dtype in DTYPES:
                times = time_runs(lambda b=backend, d=dtype, p=proto: p.run(net, backend=b, trials=args.trials, seed=0,
                                                                       dtype=d), args.repeat)
                step_ms = statistics.median(times) / steps * 1e3
                block["backends"].setdefault(backend, {})[dtype] = {
                    "runs_s": times, "step_ms": step_ms, "over_floor": step_ms / floors[dtype]["total"]}
            per = block["backends"][backend]
            per["float32/float64"] = per["float32"]["step_ms"] / per["float64"]["step_ms"]
        results["runs"].append(block)
        print(f"\n{steps} steps per run")
        print(f"  {'backend':>8} | {'dtype':>7} | {'ms/step':>8} | {'floor ms':>8} | {'/ floor':>7} | {'32 / 64':>7}")
        for backend, per in block["backends"].items():
            for dtype in DTYPES:
                ratio = f"{per['float32/float64']:7.2f}" if dtype == "float32" else f"{'':>7}"
                print(f"  {backend:>8} | {dtype:>7} | {per[dtype]['step_ms']:8.3f} | {floors[dtype]['total']:8.3f} | "
                      f"{per[dtype]['over_floor']:7.2f} | {ratio}")
        for dtype, fl in floors.items():
            print(f"  floor {dtype}: coupling product {fl['coupling product']:.3f} + readout product "
                  f"{fl['readout product']:.3f} ({fl[f'{dtype} GFLOP/s']:.0f} GFLOP/s) + Gaussian draws "
                  f"{fl['gaussian draws']:.3f} = {fl['total']:.3f} ms")
        print(f"  (Brian2's own float64 Gaussian draws, both dtypes: {brian2_draws:.3f} ms per step)", flush=True)
    results["seconds"] = time.perf_counter() - t_start
    print(f"\n{results['seconds']:.0f} s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
