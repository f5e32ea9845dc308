"""Peak memory of a one-phase protocol against its length, for every phase kind and backend.

    python benchmarks/protocol_memory.py            # N=512, 512 place cells; B=500 at 1k and 10k steps, B=50 at 100k
    python benchmarks/protocol_memory.py --quick    # N=64, B=20, 200 and 2000 steps: a smoke run

Each configuration runs in a fresh subprocess, so its peak resident memory (VmHWM) is its own (a short run
per backend and B first fills Brian2's code cache, so no row pays for compilation). A row gives
that peak, the resident memory before the run (Python, torch, Brian2 and the network), the run's share (the
difference), and the part of it that is the Recording's own arrays: decoded outputs, inputs and true states
of every step, ``8 x B x T x (n_in + 2 d)`` bytes (``record=()``: no hidden states). The remainder is what
the run needs besides its recording; with phase inputs made a chunk at a time it does not grow with T on the
torch backend. The brian2 backend holds its inputs in a window of ``input_steps`` steps (``8 x B x n_in x
input_steps`` bytes, at most 8 MB by default); the brian2-spiking backend holds every step's inputs in one
``TimedArray`` (``8 x B x T x n_in`` bytes), which grows with T.
"""

import argparse
import json
import subprocess
import sys
import time

from protocol_speed import peak_rss_mb, random_network

from neurorx.phases import PHASES


def child(backend, kind, steps, trials, n):
    """Run one configuration in this process and print its numbers as JSON."""
    import neurorx as nrx

    net = random_network(n, 512)
    phase = PHASES.get(kind).example(net, steps)
    before = peak_rss_mb()
    t0 = time.perf_counter()
    rec = nrx.Protocol([phase]).run(net, backend=backend, trials=trials, seed=0, progress=False)
    seconds = time.perf_counter() - t0
    recording = rec.decoded.nbytes + rec.inputs.nbytes + rec.states.nbytes
    print(json.dumps({"peak_mb": peak_rss_mb(), "before_mb": before, "recording_mb": recording / 2**20,
                      "seconds": seconds}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["torch", "brian2"])
    parser.add_argument("--kinds", nargs="+", default=sorted(k for k in PHASES
                                                             if PHASES.get(k).__module__.startswith("neurorx.")))
    parser.add_argument("--lengths", nargs="+", type=int, default=[1000, 10_000, 100_000])
    parser.add_argument("--trials", type=int, default=500, help="B for lengths up to --long")
    parser.add_argument("--long", type=int, default=10_000, help="lengths above this run with --long-trials")
    parser.add_argument("--long-trials", type=int, default=50)
    parser.add_argument("--n", type=int, default=512)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per configuration")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        backend, kind, steps, trials, n = args.child
        child(backend, kind, int(steps), int(trials), int(n))
        return
    if args.quick:
        args.lengths, args.trials, args.long_trials, args.n, args.long = [200, 2000], 20, 20, 64, 10_000
    print(f"N = {args.n}, 512 place cells, record=() (decoded outputs only); MB = 2**20 bytes", flush=True)
    print(f"{'backend':8s} {'kind':10s} {'steps':>7s} {'B':>4s} {'peak MB':>8s} {'before':>7s} {'run':>7s} "
          f"{'record':>7s} {'other':>7s} {'s':>7s}", flush=True)
    for backend in args.backends:
        for trials in sorted({args.trials if steps <= args.long else args.long_trials for steps in args.lengths}):
            # a short run first, so that Brian2's code is compiled (and cached) before anything is measured
            subprocess.run([sys.executable, __file__, "--child", backend, args.kinds[0], "5", str(trials),
                            str(args.n)], capture_output=True, check=False, timeout=args.timeout)
        for kind in args.kinds:
            for steps in args.lengths:
                trials = args.trials if steps <= args.long else args.long_trials
                cmd = [sys.executable, __file__, "--child", backend, kind, str(steps), str(trials), str(args.n)]
                try:
                    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=args.timeout)
                except subprocess.TimeoutExpired:
                    print(f"{backend:8s} {kind:10s} {steps:7d} {trials:4d} timed out after {args.timeout:g} s",
                          flush=True)
                    continue
                except subprocess.CalledProcessError as err:
                    print(f"{backend:8s} {kind:10s} {steps:7d} {trials:4d} failed: "
                          f"{err.stderr.strip().splitlines()[-1]}", flush=True)
                    continue
                r = json.loads(out.stdout.strip().splitlines()[-1])
                run = r["peak_mb"] - r["before_mb"]
                print(f"{backend:8s} {kind:10s} {steps:7d} {trials:4d} {r['peak_mb']:8.0f} {r['before_mb']:7.0f} "
                      f"{run:7.0f} {r['recording_mb']:7.0f} {run - r['recording_mb']:7.0f} {r['seconds']:7.1f}",
                      flush=True)


if __name__ == "__main__":
    main()
