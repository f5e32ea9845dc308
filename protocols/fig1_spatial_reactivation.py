"""Fig. 1: a noisy spatial network reactivates its active states during quiescence (torch and Brian2).

Panels: learning curve (b), cumulative explained variance of hidden states, active vs quiescent (c),
decoded trajectories (d), hidden states on the active PCs coloured by decoded distance from the centre
(f-g), KDEs of decoded outputs (h-k). One row per backend.

    python protocols/fig1_spatial_reactivation.py --out runs/fig1
"""

import matplotlib.pyplot as plt

import neurorx as nrx
import neurorx.plotting as nplt
from neurorx.examples import example_parser, load_example_network, output_folder, parse_example_args, run_backends

parser = example_parser(__doc__, "fig1", models=True, backends=True,
                        quiescent=(1000, 30, "steps of quiescence"))
parser.add_argument("--network", default="spatial_navigation/noisy_unbiased.npz")
args = parse_example_args(parser)
out = output_folder(args)
net = load_example_network(args, args.network)

if net.metrics:
    ax = nplt.learning_curve(net)
    nplt.save_figure(ax, out / "fig1b_learning_curve.png", overwrite=args.force)
else:
    print("the network carries no training metrics; skipping the learning curve")

protocol = nrx.Protocol([nrx.Active(steps=100), nrx.Quiescent(steps=args.quiescent, start="reset")])
recs = run_backends(protocol, net, args, record=("h",), every=4)

fig, axes = plt.subplots(len(recs), 6, figsize=(26, 4.6 * len(recs)), squeeze=False, layout="constrained")
for row, (backend, rec) in zip(axes, recs.items(), strict=True):
    ratios = nplt.explained_variance_ratios([rec])
    nplt.explained_variance_curve(ratios["active"], ratios["quiescent"], ax=row[0], title=f"PCA ({backend})")
    nplt.decoded_trajectories(rec, phase="active", n=5, ax=row[1], title=f"active ({backend})")
    pca = nplt.reference_pca(rec)
    nplt.pc_projection(rec, phase="active", pca=pca, ax=row[2], title=f"active on active PCs ({backend})")
    nplt.pc_projection(rec, phase="quiescent", pca=pca, ax=row[3], title=f"quiescent on active PCs ({backend})")
    nplt.kde_panel(rec, phase="active", ax=row[4], title=f"active KDE ({backend})")
    nplt.kde_panel(rec, phase="quiescent", ax=row[5], title=f"quiescent KDE ({backend})")
print("saved", nplt.save_figure(fig, out / "fig1_reactivation.png", overwrite=args.force, dpi=120))
