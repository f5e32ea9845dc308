"""Peak resident memory of one phase of a shipped network, in this process (run each configuration fresh).

    python benchmarks/phase_peak_rss.py BACKEND KIND STEPS TRIALS [NETWORK]
    python benchmarks/phase_peak_rss.py brian2 active 1000 100     # the spatial card, N = 512

Prints VmHWM (peak resident memory, MB = 2**20 bytes) before and after ``Protocol([phase]).run`` with
``record=()`` (decoded outputs only), and the run's CPU seconds. Run a 5-step configuration of the same backend
and B first, so that Brian2's code is compiled (and cached) before anything is measured.
"""

import sys
import time

import neurorx as nrx
from neurorx.phases import PHASES


def peak_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def main():
    backend, kind, steps, trials = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    path = sys.argv[5] if len(sys.argv) > 5 else "models/spatial_navigation/noisy_unbiased.npz"
    net = nrx.load(path)
    phase = PHASES.get(kind).example(net, steps)
    before = peak_mb()
    t0 = time.process_time()
    nrx.Protocol([phase]).run(net, backend=backend, trials=trials, seed=0, progress=False)
    print(f"{backend} {kind} steps={steps} B={trials}: peak {peak_mb():.0f} MB, before {before:.0f} MB, "
          f"cpu {time.process_time() - t0:.1f} s")


if __name__ == "__main__":
    main()
