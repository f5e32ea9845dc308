"""Continuous vs discrete time: the same network at Brian2 dt = step/k for k = 1, 4, 16.

At k = 1 Brian2's Euler-Maruyama step is the trained discrete map; larger k approaches the continuous-time
SDE the discrete network approximates. With the diffusion fixed, refining dt lowers the stationary variance
of a leaky unit by about (1 - a/2) (a = dt/tau): the script prints the measured change beside that
prediction, and the divergence of each run's decoded distribution from the discrete (torch) run.

    python protocols/continuous_vs_discrete.py --out runs/cvd
"""

import json
from pathlib import Path

import neurorx as nrx
from neurorx.examples import example_parser, parse_example_args

parser = example_parser(__doc__, "continuous_vs_discrete", network="spatial_navigation/noisy_unbiased",
                        active=(100, 10, "steps of the active phase"), quiescent=(500, 20, "steps of quiescence"))
parser.add_argument("--factors", type=int, nargs="+", default=[1, 4, 16], help="dt_factor values k")
parser.small_defaults["factors"] = [1, 4]
args = parse_example_args(parser)

out = Path(args.out)
path = out / "continuous_vs_discrete.json"
if path.exists() and not args.force:
    raise SystemExit(f"{path} exists; pass --force to overwrite")
net = nrx.load(args.network)
protocol = nrx.Protocol([nrx.Active(steps=args.active), nrx.Quiescent(steps=args.quiescent)])
discrete = protocol.run(net, backend="torch", trials=args.trials, seed=args.seed, record=("h",), every=10)
var_discrete = discrete.select("quiescent").h.var(axis=(0, 1)).mean()
print(f"network: {net}\npredicted variance ratio for a leaky unit, continuous/discrete: 1 - a/2 = "
      f"{1 - net.alpha / 2:.3f}")
rows = []
for k in args.factors:
    rec = protocol.run(net, backend="brian2", trials=args.trials, seed=args.seed, dt_factor=k, record=("h",),
                       every=10, target=args.target)
    cmp = nrx.compare(discrete, rec, names=("torch", f"brian2 k={k}"))
    div = cmp.divergence("quiescent", "energy distance (decoded)")
    var_ratio = rec.select("quiescent").h.var(axis=(0, 1)).mean() / var_discrete
    rows.append({"dt_factor": k, "energy_distance": div.estimate, "ci": [div.low, div.high], "p_value": div.p_value,
                 "kl": cmp.divergence("quiescent", "KL(a‖b) decoded").estimate, "h_variance_ratio": float(var_ratio)})
    print(f"k={k:>3}  dt={net.dt / k * 1e3:6.3f} ms  energy distance to discrete = {div.estimate:.4g} "
          f"[{div.low:.3g}, {div.high:.3g}] (p={div.p_value:.2g})   h variance ratio = {var_ratio:.3f}")

out.mkdir(parents=True, exist_ok=True)
path.write_text(json.dumps({"config": vars(args), "alpha": net.alpha, "rows": rows}, indent=2))
print(f"saved {path}")
