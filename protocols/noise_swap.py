"""The quiescent phase under three noise models: white, Ornstein-Uhlenbeck, and the reference's uniform noise.

The network is trained with one noise model; quiescence is run with each of three on both backends. The
white and uniform noise have the training noise's variance per training step; the OU noise has the same
strength sigma as the white noise, so it matches it on time scales much longer than its correlation time
tau_noise (its variance within one training step D is smaller: for D = 20 ms, tau_noise = 50 ms about a
quarter). Reactivation is measured as
KL(quiescent || active) of the decoded positions (lower = quiescent activity revisits active states).

    python protocols/noise_swap.py --out runs/noise_swap
"""

import json
import math
from pathlib import Path

import neurorx as nrx
from neurorx.examples import example_parser, parse_example_args

parser = example_parser(__doc__, "noise_swap", network="spatial_navigation/noisy_unbiased",
                        active=(100, 10, "steps of the active phase"), quiescent=(500, 20, "steps of quiescence"))
parser.add_argument("--tau-noise", type=float, default=0.05, help="OU correlation time in seconds")
args = parse_example_args(parser)

net = nrx.load(args.network)
D = net.dt
trained = net.recurrent_noise
# per-step SD of the training noise at the training step (uniform: s/sqrt(12); white: sigma*sqrt(D))
step_sd = math.sqrt(trained.step_moments(D)[1]) or 0.01
sigma = step_sd / math.sqrt(D)
models = {
    "white": nrx.WhiteNoise(sigma),
    "ou": nrx.OUNoise(sigma, tau_noise=args.tau_noise),
    "reference_uniform": nrx.ReferenceUniformNoise(step_sd * math.sqrt(12), dt_train=D),
}
rows = []
for name, model in models.items():
    protocol = nrx.Protocol([nrx.Active(steps=args.active), nrx.Quiescent(steps=args.quiescent, noise=model)])
    runs = protocol.run_each(net, options={"brian2": {"target": args.target}}, trials=args.trials, seed=args.seed)
    for backend, rec in runs.items():
        q, a = rec.select("quiescent").decoded, rec.select("active").decoded
        if rec.meta["circular"]:   # head direction: angles
            kl = nrx.analysis.circular_kl(q.ravel(), a.ravel())
        else:
            kl = nrx.analysis.kl_divergence(q.reshape(-1, q.shape[-1]), a.reshape(-1, a.shape[-1]))
        tv = nrx.analysis.total_variance(q, burn_in=q.shape[1] // 2, circular=rec.meta["circular"])
        rows.append({"noise": name, "backend": backend, "kl_quiescent_active": float(kl), "total_variance": float(tv)})
        print(f"{name:>18} {backend:>7}  KL(Q||A) = {kl:7.3f} nats   quiescent total variance = {tv:.4g}")

out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)
path = out / "noise_swap.json"
if path.exists() and not args.force:
    raise SystemExit(f"{path} exists; pass --force to overwrite")
path.write_text(json.dumps({"config": vars(args), "rows": rows}, indent=2))
print(f"saved {path}")
