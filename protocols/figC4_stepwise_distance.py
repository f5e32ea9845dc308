"""Fig. C.4: quiescent trajectories of noise-trained (NT) nets are smooth; deterministic (DT) nets given noise are not.

Stepwise distance of decoded quiescent outputs for NT networks (U^σ, B^σ), DT networks (U, B) run without
noise, and DT networks run with noise of per-step variance 2e-4 ("noisy quiescent"), on each backend.

    python protocols/figC4_stepwise_distance.py --out runs/figC4
"""

import math
from pathlib import Path

import matplotlib.pyplot as plt

import neurorx as nrx
import neurorx.plotting as nplt
from neurorx.examples import example_parser, load_example_network, output_folder, parse_example_args, run_backends

parser = example_parser(__doc__, "figC4", models=True, backends=True,
                        quiescent=(100, 20, "steps of quiescence"))
args = parse_example_args(parser)
out = output_folder(args)

pairs = {"unbiased": ("noisy_unbiased", "no-noise_unbiased"), "biased": ("noisy_biased", "no-noise_biased")}
fig, axes = plt.subplots(len(args.backends), 2, figsize=(10, 4.2 * len(args.backends)), squeeze=False)
for col, (kind, (nt, dt)) in enumerate(pairs.items()):
    if not (Path(args.models) / f"spatial_navigation/{dt}.npz").exists():
        print(f"{dt} not shipped; skipping the {kind} panel")
        continue
    nt_net = load_example_network(args, f"spatial_navigation/{nt}.npz")
    dt_net = load_example_network(args, f"spatial_navigation/{dt}.npz")
    noisy = nrx.ReferenceUniformNoise(math.sqrt(2e-4), dt_train=dt_net.dt)  # the reference's "absolute" noise
    runs = {
        "NT": run_backends(nrx.Protocol([nrx.Active(steps=100), nrx.Quiescent(steps=args.quiescent)]), nt_net, args),
        "DT": run_backends(nrx.Protocol([nrx.Active(steps=100), nrx.Quiescent(steps=args.quiescent)]), dt_net, args),
        "DT noisy": run_backends(nrx.Protocol([nrx.Active(steps=100),
                                              nrx.Quiescent(steps=args.quiescent, noise=noisy, noise_scale=1)]),
                                dt_net, args),
    }
    for row, backend in zip(axes, args.backends, strict=True):
        groups = {k: r[backend] for k, r in runs.items()}
        nplt.statistic_boxplot(groups, "stepwise distance", phase="quiescent", color="0.6", ax=row[col],
                               title=f"{kind} ({backend})")
        med = {k: float(nrx.analysis.stepwise_distance(r[backend].select("quiescent").decoded).mean())
               for k, r in runs.items()}
        print(f"{kind} {backend}: mean stepwise distance " + ", ".join(f"{k} {v:.4f}" for k, v in med.items()))
fig.tight_layout()
print("saved", nplt.save_figure(fig, out / "figC4_stepwise_distance.png", overwrite=args.force, dpi=120))
