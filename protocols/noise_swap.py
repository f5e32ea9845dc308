"""Noise swaps: the quiescent phase under the training noise, a matched swap and the unmatched white swap.

A network is trained with one noise model and may rely on it. This script reads the training noise from the
network file and its per-step mean and variance at the training step D, then runs quiescence under

- the training noise itself;
- the matched swap, ``neurorx.noise.matched_noise``: Gaussian white noise with a drift, the same per-step mean
  and variance at D;
- the unmatched swap (the trap of the docs' *Noise swaps* page): white noise of the same per-step variance but
  mean 0 (``WhiteNoise.from_step_std``).

For each it prints KL(quiescent || active) of the decoded outputs next to its uniform null KL(U || active),
and the health of the quiescent activity (``neurorx.analysis.recording_health``: mean abs(h), the share of the
variance the noise alone gives, the decoded stepwise distance) with its flag. A flagged run's small KL is not
reactivation.

    python protocols/noise_swap.py --out runs/noise_swap
"""

import json
import math
from pathlib import Path

import numpy as np

import neurorx as nrx
from neurorx.analysis import recording_health, uniform_reference
from neurorx.examples import example_parser, parse_example_args
from neurorx.noise import matched_noise

parser = example_parser(__doc__, "noise_swap", network="head_direction/noisy_unbiased", backends=True, trials=50,
                        active=(100, 10, "steps of the active phase"), quiescent=(300, 30, "steps of quiescence"))
args = parse_example_args(parser)

net = nrx.load(args.network)
D = net.dt
trained = net.recurrent_noise
mean, var = trained.step_moments(D)
print(f"trained with {trained!r}: per step of D = {1000 * D:g} ms, mean {mean:.4g}, variance {var:.4g}")
white_sd = math.sqrt(var) or 0.01          # a network trained without noise: a small white noise as the swap
swaps = {
    "training noise": None,
    "matched (Gaussian, same mean and variance)": matched_noise(trained, D),
    "unmatched (white, same variance, mean 0)": nrx.WhiteNoise.from_step_std(white_sd, D),
}
for name, model in swaps.items():
    shown = trained if model is None else model
    m, v = shown.step_moments(D)
    print(f"  {name}: {shown!r}, per step mean {m:.4g}, variance {v:.4g}")


def kl(p, q, circular: bool) -> float:
    if circular:
        return float(nrx.analysis.circular_kl(p[..., 0].ravel(), q[..., 0].ravel()))
    return max(float(nrx.analysis.kl_divergence(p.reshape(-1, p.shape[-1]), q.reshape(-1, q.shape[-1]))), 0.0)


rows = []
for name, model in swaps.items():
    protocol = nrx.Protocol([nrx.Active(steps=args.active), nrx.Quiescent(steps=args.quiescent, noise=model)])
    runs = protocol.run_each(net, args.backends, options={"brian2": {"target": args.target}}, trials=args.trials,
                             seed=args.seed, record=("h",))
    for backend, rec in runs.items():
        circular = bool(rec.meta["circular"])
        q, a = rec.select("quiescent").decoded, rec.select("active").decoded
        null = kl(uniform_reference(a, q.shape[0] * q.shape[1], circular=circular, seed=args.seed)[None], a,
                  circular)
        health = recording_health(rec, seed=args.seed)
        unit = "rad" if circular else "m"
        row = {"noise": name, "model": None if model is None else model.to_dict(), "backend": backend,
               "kl_quiescent_active": kl(q, a, circular), "kl_uniform_active": null, "health": health.to_dict()}
        rows.append(row)
        verdict = "FLAGGED: " + "; ".join(health.flags) if health.flagged else "ok"
        print(f"{name} [{backend}]: KL(Q||A) {row['kl_quiescent_active']:.3f} nats (uniform null {null:.3f}); "
              f"mean abs(h) {health.mean_abs_h_active:.2f} active -> {health.mean_abs_h_quiescent:.2f} quiescent; "
              f"noise floor {health.noise_fraction_quiescent:.2f}; stepwise {health.stepwise_active:.3f} -> "
              f"{health.stepwise_quiescent:.3f} {unit}/step; {verdict}")

out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)
path = out / "noise_swap.json"
if path.exists() and not args.force:
    raise SystemExit(f"{path} exists; pass --force to overwrite")
path.write_text(json.dumps({"config": vars(args), "trained_noise": trained.to_dict(),
                            "trained_step_moments": [float(mean), float(var)], "rows": rows},
                           indent=2, default=lambda x: x.tolist() if isinstance(x, np.ndarray) else str(x)))
print(f"saved {path}")
