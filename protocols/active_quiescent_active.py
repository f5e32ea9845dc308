"""Active -> quiescent -> active: does the network stay on its task manifold during quiescence?

Runs the protocol on the torch backend (discrete steps) and on the Brian2 backend (continuous-time SDE),
prints the reactivation statistics side by side and saves the recordings, the comparison and a figure.

    python protocols/active_quiescent_active.py --out runs/aqa
    python protocols/active_quiescent_active.py --network head_direction/noisy_unbiased --trials 100
"""

import json
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import neurorx as nrx
from neurorx.examples import example_parser, parse_example_args

parser = example_parser(__doc__, "active_quiescent_active", network="spatial_navigation/noisy_unbiased",
                        active=(100, 10, "steps of each active phase"), quiescent=(500, 20, "steps of quiescence"))
args = parse_example_args(parser)

net = nrx.load(args.network)
print(net)
protocol = nrx.Protocol([
    nrx.Active(steps=args.active),
    nrx.Quiescent(steps=args.quiescent),                 # zero input, sqrt(2) x noise
    nrx.Active(steps=args.active, start="continue"),     # wake up where the animal fell asleep
])
runs = {
    "torch": protocol.run(net, backend="torch", trials=args.trials, seed=args.seed, progress=True),
    "brian2": protocol.run(net, backend="brian2", trials=args.trials, seed=args.seed, progress=True,
                           target=args.target),
}
comparison = nrx.compare(runs["torch"], runs["brian2"])
print(comparison)

out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)
for name, rec in runs.items():
    rec.save(out / f"{name}.npz", overwrite=args.force)
comparison.to_json(out / "comparison.json", overwrite=args.force)
nrx.io.atomic_write_bytes(out / "config.json", json.dumps(vars(args), indent=2).encode(), overwrite=args.force)

fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharex=True, sharey=True, layout="constrained")
colours = {"active": "tab:blue", "quiescent": "tab:orange"}
for ax, (name, rec) in zip(axes, runs.items(), strict=True):
    for phase in rec.phases:                     # phase by phase, so the two active phases are not joined
        d = rec.decoded[:5, phase["start"] : phase["stop"]]
        colour = colours.get(phase["kind"], "0.4")
        if rec.meta["circular"]:                 # bearing against time, broken where it wraps at +-pi
            steps = np.arange(phase["start"], phase["stop"]) + 1.0
            for bearing in d[..., 0]:
                cut = np.flatnonzero(np.abs(np.diff(bearing)) > np.pi) + 1
                ax.plot(np.insert(steps, cut, np.nan), np.insert(bearing, cut, np.nan), color=colour, lw=0.6)
        else:
            ax.plot(d[..., 0].T, d[..., 1].T, color=colour, lw=0.6, alpha=0.7)
    if rec.meta["circular"]:
        ax.set(xlabel="time step", ylabel="decoded bearing (rad)", ylim=(-np.pi, np.pi))
    else:
        ax.set(xlabel="x (m)", ylabel="y (m)", aspect="equal")
    ax.set_title(f"{name}: active (blue), quiescent (orange)")
fig.savefig(out / "trajectories.png", dpi=120)
print(f"saved recordings, comparison.json and trajectories.png in {out}")
