"""Gaussian draws for B*N units (N=512, B=200): Brian2's former ``xi`` source against the Generator the backend uses.

    python benchmarks/draw_speed.py

Interleaved rounds, the best of 15 kept, in ms per draw of 102 400 numbers, with the load average. The former
source (numpy's legacy ``RandomState.randn``) also paid one generated function call per neuron in Brian2's
cython code, which this does not time.
"""

import os
import time

import numpy as np

N = 200 * 512


def main():
    legacy, gen = np.random.RandomState(0), np.random.default_rng(0)
    z64, z32, buf = np.empty(N), np.empty(N, np.float32), np.empty(N)

    def round_into_float32():
        gen.standard_normal(out=buf)
        z32[:] = buf

    fns = {"legacy randn float64 (Brian2's xi source)": lambda: legacy.randn(N),
           "Generator float64 in place": lambda: gen.standard_normal(out=z64),
           "Generator float64 + round to float32": round_into_float32,
           "Generator float32 (the float32 floor)": lambda: gen.standard_normal(out=z32, dtype=np.float32)}
    best = dict.fromkeys(fns, float("inf"))
    print(f"load before {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for _ in range(15):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(20):
                fn()
            best[name] = min(best[name], (time.perf_counter() - t0) / 20)
    ref = best["Generator float64 in place"]
    for name, v in best.items():
        print(f"{name:45s} {v * 1e3:7.3f} ms  ({v / ref:.2f}x Generator float64)")
    print(f"load after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
