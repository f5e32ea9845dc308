"""Fig. 3 and C.5: head-direction networks reactivate bearings; a CCW-biased net drifts CCW in quiescence.

Panels per backend and network (unbiased, CCW-biased): polar histograms of decoded bearings active vs
quiescent (Fig. 3), hidden states on the active PCs coloured by bearing (the ring), angular-velocity
histograms with the mean marked (C.5).

    python protocols/fig3_head_direction.py --out runs/fig3
"""

import matplotlib.pyplot as plt

import neurorx as nrx
import neurorx.plotting as nplt
from neurorx.examples import example_parser, load_example_network, output_folder, parse_example_args, run_backends

parser = example_parser(__doc__, "fig3", models=True, backends=True,
                        quiescent=(1000, 30, "steps of quiescence"))
args = parse_example_args(parser)
out = output_folder(args)

nets = {"unbiased": "head_direction/noisy_unbiased.npz", "CCW-biased": "head_direction/noisy_biased.npz"}
protocol = nrx.Protocol([nrx.Active(steps=100), nrx.Quiescent(steps=args.quiescent, start="reset")])
for name, rel in nets.items():
    recs = run_backends(protocol, load_example_network(args, rel), args, record=("h",), every=2)
    fig = plt.figure(figsize=(20, 4.6 * len(recs)))
    for i, (backend, rec) in enumerate(recs.items()):
        axs = [fig.add_subplot(len(recs), 5, 5 * i + j + 1, projection="polar" if j < 2 else None) for j in range(5)]
        nplt.polar_histogram_panel(rec, phase="active", ax=axs[0], title=f"{name} active ({backend})")
        nplt.polar_histogram_panel(rec, phase="quiescent", ax=axs[1], title=f"{name} quiescent ({backend})")
        nplt.pc_ring(rec, phase="quiescent", pca=nplt.reference_pca(rec), ax=axs[2],
                     title=f"quiescent on active PCs ({backend})")
        nplt.angular_velocity_histogram(rec, phase="active", ax=axs[3], title=f"active Δθ ({backend})")
        nplt.angular_velocity_histogram(rec, phase="quiescent", ax=axs[4], title=f"quiescent Δθ ({backend})")
        mean_q = nrx.analysis.mean_angular_velocity(rec.select("quiescent").decoded[..., 0])
        print(f"{name} {backend}: quiescent mean angular velocity {mean_q:.4f} rad/step")
    fig.tight_layout()
    print("saved", nplt.save_figure(fig, out / f"fig3_{name}.png", overwrite=args.force, dpi=110))
