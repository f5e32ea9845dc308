"""Fig. 2: biased vs unbiased networks, the KL matrix KL(quiescent || active) and quiescent variance.

Uses the shipped spatial networks U^σ, U, B^σ, B (those present), the random network R^σ and the uniform
distribution on the box. Panels per backend: biased decoded trajectories and KDEs (a-d), the KL matrix (e), total
variance box plots over trajectories (f; the paper's box is over 5 seeds, one seed is shipped here).

    python protocols/fig2_biased_kl_variance.py --out runs/fig2
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import neurorx as nrx
import neurorx.plotting as nplt
from neurorx.analysis import random_network
from neurorx.examples import example_parser, load_example_network, output_folder, parse_example_args, run_backends

parser = example_parser(__doc__, "fig2", models=True, backends=True,
                        quiescent=(1000, 30, "steps of quiescence"),
                        variance_steps=(2000, 30, "quiescent steps for Fig. 2f (half burn-in)"),
                        uniform=(20_000, 2000, "samples of the uniform baseline of the KL matrix"),
                        mc_samples=(2500, 500, "Monte Carlo samples of each KL estimate (2500: the paper's)"))
args = parse_example_args(parser)
out = output_folder(args)

names = {"U^σ": "noisy_unbiased", "U": "no-noise_unbiased", "B^σ": "noisy_biased", "B": "no-noise_biased"}
nets = {k: load_example_network(args, f"spatial_navigation/{v}.npz") for k, v in names.items()
        if (Path(args.models) / f"spatial_navigation/{v}.npz").exists()}
nets["R^σ"] = random_network(nets["U^σ"], seed=args.seed)
protocol = nrx.Protocol([nrx.Active(steps=100), nrx.Quiescent(steps=args.quiescent, start="reset")])
runs = {k: run_backends(protocol, net, args) for k, net in nets.items()}
uniform = nrx.analysis.uniform_box_samples(args.uniform, seed=args.seed)

backends = args.backends
fig, axes = plt.subplots(len(backends), 4, figsize=(22, 4.6 * len(backends)), squeeze=False)
for row, backend in zip(axes, backends, strict=True):
    rec_b = runs["B^σ"][backend]
    nplt.decoded_trajectories(rec_b, phase="active", n=5, ax=row[0], title=f"B^σ active ({backend})")
    nplt.kde_panel(rec_b, phase="quiescent", ax=row[1], title=f"B^σ quiescent KDE ({backend})")
    active = {k: runs[k][backend] for k in nets if k != "R^σ"}
    quiescent = {k: runs[k][backend] for k in nets if k != "R^σ"} | {"Uniform": uniform, "R^σ": runs["R^σ"][backend]}
    table = nrx.analysis.kl_table(active, quiescent, n_mc=args.mc_samples, seed=args.seed)
    np.savetxt(out / f"kl_matrix_{backend}.csv", table, delimiter=",", header=",".join(quiescent), comments="")
    nplt.kl_matrix(table, [f"A {k}" for k in active], [f"Q {k}" for k in quiescent], ax=row[2],
                   title=f"KL(Q‖A) nats ({backend})")
    print(f"{backend}: KL(Q‖A) rows {list(active)} cols {list(quiescent)}\n{np.round(table, 2)}")

long = nrx.Protocol([nrx.Quiescent(steps=args.variance_steps)])
long_runs = {k: run_backends(long, net, args) for k, net in nets.items() if k != "R^σ"}
for row, backend in zip(axes, backends, strict=True):
    groups = {k: r[backend] for k, r in long_runs.items()}
    nplt.statistic_boxplot(groups, "total variance", burn_in=0.5, ax=row[3],
                           title=f"quiescent total variance ({backend})")
fig.tight_layout()
print("saved", nplt.save_figure(fig, out / "fig2_biased_kl_variance.png", overwrite=args.force, dpi=120))
