"""Does a rate-matched LIF population follow the rate network? Trace error against M for several membranes.

Usage::

    python -m benchmarks.spiking_lif_membrane

The small network of ``tests/netfactory.py`` (8 units, ``scale=1``), 4 trials x 30 active steps with the noise
off and ``max_rate=40``: RMS and mean of the spiking run's traces minus the torch rate run's, at M = 16 and 256,
for LIF membranes of 20 ms (also at a 0.05 ms spike step), 200 ms, 1 s and 10 s (the default), and Poisson.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from brian2 import ms, second

import neurorx as nrx

CASES = [("poisson", {"neuron": "poisson"}), ("lif 20 ms", {"neuron": "lif", "tau_m": 20 * ms}),
         ("lif 20 ms, spike_dt 0.05 ms", {"neuron": "lif", "tau_m": 20 * ms, "spike_dt": 0.05 * ms}),
         ("lif 200 ms", {"neuron": "lif", "tau_m": 200 * ms}), ("lif 1 s", {"neuron": "lif", "tau_m": 1 * second}),
         ("lif 10 s (default)", {"neuron": "lif"})]


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from netfactory import make_network

    net = make_network(n_rec=8, scale=1.0)
    proto = nrx.Protocol([nrx.Active(steps=30, noise_scale=0.0)])
    ref = proto.run(net, backend="torch", trials=4, seed=1, record=("h",)).h
    for label, options in CASES:
        for m in (16, 256):
            h = proto.run(net, backend="brian2-spiking", trials=4, seed=1, per_unit=m, max_rate=40, noise="off",
                          record=("h",), target="numpy", **options).h
            print(json.dumps({"case": label, "M": m, "rms": float(np.sqrt(np.mean((h - ref) ** 2))),
                              "mean": float(np.mean(h - ref))}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
