"""Fig. 1: a noisy spatial network reactivates its active states during quiescence (torch and Brian2).

Panels: learning curve (b), cumulative explained variance of hidden states, active vs quiescent (c),
decoded trajectories (d), hidden states on the active PCs coloured by decoded distance from the centre
(f-g), KDEs of decoded outputs (h-k). One row per backend.

    python protocols/fig1_spatial_reactivation.py --out runs/fig1
"""

import _common
import matplotlib.pyplot as plt

import neurorx as nrx
import neurorx.plotting as nplt

parser = _common.parser(__doc__, "runs/fig1")
parser.add_argument("--network", default="spatial_navigation/noisy_unbiased.npz")
parser.add_argument("--quiescent", type=int, default=1000)
args = parser.parse_args()
out = _common.setup(args)
net = _common.load(args, args.network)

if net.metrics:
    ax = nplt.learning_curve(net)
    nplt.save_figure(ax, out / "fig1b_learning_curve.png", overwrite=args.force)
else:
    print("the network carries no training metrics; skipping the learning curve")

protocol = nrx.Protocol([nrx.Active(steps=100), nrx.Quiescent(steps=args.quiescent, start="reset")])
recs = _common.run(protocol, net, args, record=("h",), every=4)

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
