"""Where a protocol step's time goes: cProfile of one quiescent run on one backend and dtype.

    python benchmarks/protocol_profile.py brian2 float32 --steps 200      # N=512, B=200
    python benchmarks/protocol_profile.py torch float64 --steps 200 --top 25

The network and protocol are those of ``backend_dtype_speed.py``. One warm-up run (Brian2: compiles), then
one profiled run; printed: ms per step of the profiled run, the load average, and the functions with the most
time of their own.
"""

import argparse
import cProfile
import os
import pstats
import time

from backend_dtype_speed import random_network

import neurorx as nrx


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("backend")
    parser.add_argument("dtype", choices=["float64", "float32"])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--n", type=int, default=512)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--top", type=int, default=18)
    args = parser.parse_args()
    net = random_network(args.n)
    proto = nrx.Protocol([nrx.Quiescent(steps=args.steps)])

    def run():
        proto.run(net, backend=args.backend, trials=args.trials, seed=0, dtype=args.dtype, progress=False)

    run()
    profile = cProfile.Profile()
    t0 = time.perf_counter()
    profile.runcall(run)
    took = time.perf_counter() - t0
    print(f"{args.backend} {args.dtype}, N={args.n}, B={args.trials}: {took / args.steps * 1e3:.3f} ms per step "
          f"(profiled); load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
