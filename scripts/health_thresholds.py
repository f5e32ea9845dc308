"""Health of quiescent activity on the shipped networks, under their training noise and a matched white swap.

Measures what :class:`neurorx.analysis.HealthThresholds` is set from: for every shipped noisy network (and the
random-weight baseline R^σ), ``Active(100) -> Quiescent(T)`` under the training noise and, for networks trained
with the reference's uniform noise, under white noise of the same per-step variance (mean 0); prints the
quiescent/active mean abs(h), the noise-floor fraction, the stepwise distances, the stepwise distance over the
shuffled path's, KL(Q‖A) with its uniform null, and the flags.

    python scripts/health_thresholds.py --backends torch brian2 --quiescent 300
"""

import argparse
import time

import numpy as np

import neurorx as nrx
from neurorx.analysis import circular_kl, kl_divergence, random_network, uniform_reference
from neurorx.compare import recording_health
from neurorx.zoo import models_dir

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--backends", nargs="+", default=["torch"])
parser.add_argument("--quiescent", type=int, default=300)
parser.add_argument("--trials", type=int, default=50)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

cases = [(f"{task}/{name}", nrx.load(models_dir() / task / f"{name}.npz"))
         for task in ("head_direction", "spatial_navigation")
         for name in ("noisy_unbiased", "noisy_biased", "noisy_unbiased_white")]
cases += [(f"R^σ {task}", random_network(nrx.load(models_dir() / task / "noisy_unbiased.npz"), seed=0))
          for task in ("head_direction", "spatial_navigation")]
for label, net in cases:
    swaps = [("training", None)]
    if net.recurrent_noise.name == "reference_uniform":
        std = np.sqrt(net.recurrent_noise.step_moments(net.dt)[1])
        swaps.append(("white, matched variance", nrx.WhiteNoise.from_step_std(std, net.dt)))
    for swap, noise in swaps:
        for backend in args.backends:
            t0 = time.perf_counter()
            rec = nrx.Protocol([nrx.Active(steps=100), nrx.Quiescent(steps=args.quiescent, noise=noise)]).run(
                net, backend=backend, trials=args.trials, seed=args.seed, record=("h",), progress=False)
            a, q = rec.select("active").decoded, rec.select("quiescent").decoded
            h = recording_health(rec, seed=args.seed)
            if rec.meta["circular"]:
                kl, null = circular_kl(q, a), circular_kl(uniform_reference(a, q.size, True, args.seed), a)
            else:
                pa, pq = a.reshape(-1, 2), q.reshape(-1, 2)
                kl, null = kl_divergence(pq, pa, n_mc=1000), kl_divergence(uniform_reference(pa, 5000), pa, n_mc=1000)
            print(f"{label:38s} {swap:24s} {backend:6s} abs(h) Q/A {h.mean_abs_h_quiescent / h.mean_abs_h_active:.2f} "
                  f"noise floor {h.noise_fraction_quiescent:.2f} stepwise Q/A "
                  f"{h.stepwise_quiescent / h.stepwise_active:.2f} stepwise/shuffled {h.path_noise_quiescent:.2f} "
                  f"KL {kl:.3f} null {null:.3f} flagged {h.flagged} ({time.perf_counter() - t0:.0f} s)", flush=True)
