"""Does quiescent reactivation reproduce the rat's own occupancy? The numbers and figure of docs/data.md.

Usage (repository root, needs neurorx[data])::

    python scripts/sargolini_occupancy.py SARGOLINI_NET.npz WALK_NET.npz OUT_DIR [--trials 50] [--quiescent 400]

``SARGOLINI_NET`` is a network trained on ``spatial_navigation/noisy_sargolini`` (the rat's path, first four
fifths), ``WALK_NET`` one trained on the synthetic walk in the same 1 m box (``spatial_navigation/noisy_unbiased
task.box_width=1.0``) at the same scale. For each network and rate backend (torch, brian2) it runs
``Active(100)`` then ``Quiescent(Q)`` and compares the decoded quiescent positions (after a burn-in of 100
steps, 2 s) with the rat's occupancy of the training part:

- KL(Q || occupancy), the paper's estimator (:func:`neurorx.analysis.kl_divergence`, corrected, 5000
  Monte-Carlo points, each cloud subsampled to 5000 points) with the rat's resampled positions as the
  reference cloud, against KL(uniform || occupancy) (:func:`neurorx.analysis.kl_uniform_vs`, the 1 m box);
- the same on a 20 x 20 grid, histograms with a pseudocount of 0.5 per cell (the rat never visits some cells).

Also the held-out decoding error (median over 100 windows of the final fifth) of both networks on the rat's path.
Writes ``sargolini_occupancy.json`` and ``sargolini_occupancy.png`` into OUT_DIR.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import neurorx as nrx
from neurorx.analysis import kl_divergence, kl_uniform_vs
from neurorx.analysis.density import subsample_points
from neurorx.tasks import MeasuredSpatial

BINS = 20
BURN_IN = 100          # quiescent steps dropped (2 s at 20 ms)
N_MC = 5_000
MAX_POINTS = 5_000    # each cloud subsampled to this many points for the KDEs (the cost is n_mc x points)
PSEUDOCOUNT = 0.5


def grid_density(points: np.ndarray, half: float) -> np.ndarray:
    """Fraction of ``points`` in each of BINS x BINS cells of the box ``[-half, half]^2`` (rows: x)."""
    hist, _, _ = np.histogram2d(points[:, 0], points[:, 1], bins=BINS, range=[[-half, half]] * 2)
    return hist / hist.sum()


def grid_kl(p_points: np.ndarray, r_points: np.ndarray, half: float) -> float:
    r"""KL(P || R) of two 20 x 20 histograms, :math:`\sum p \log(p / r)` with PSEUDOCOUNT added to every count."""
    p = np.histogram2d(p_points[:, 0], p_points[:, 1], bins=BINS, range=[[-half, half]] * 2)[0] + PSEUDOCOUNT
    r = np.histogram2d(r_points[:, 0], r_points[:, 1], bins=BINS, range=[[-half, half]] * 2)[0] + PSEUDOCOUNT
    p, r = p / p.sum(), r / r.sum()
    return float(np.sum(p * np.log(p / r)))


def held_out_error(net, trials: int) -> float:
    """Median decoding error (m) of ``net`` on windows of the rat's held-out final fifth (its own place cells)."""
    task = MeasuredSpatial(source="ratinabox:sargolini", gaps="split", part="test", centres=net.task.centres)
    params, arrays = task.to_card()
    tested = net.with_changes(task_card={"name": params.pop("name"), "params": params}, task_arrays=arrays)
    rec = nrx.Protocol([nrx.Active(steps=100)]).run(tested, trials=trials, seed=0)
    return float(np.median(task.error(rec.decoded, rec.states)))


def main() -> None:
    """Run both networks on both backends, write the JSON and the figure."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sargolini", type=Path)
    ap.add_argument("walk", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--quiescent", type=int, default=400)
    ap.add_argument("--backends", nargs="+", default=["torch", "brian2"])
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    nets = {"sargolini": nrx.load(args.sargolini), "walk": nrx.load(args.walk)}
    rat = nets["sargolini"].task                         # the training part: what the network experienced
    half = rat.box_width / 2
    occupancy_points = rat.samples
    reference = subsample_points(occupancy_points, MAX_POINTS, np.random.default_rng(0))
    occupancy = grid_density(occupancy_points, half)
    results = {"settings": {"trials": args.trials, "active_steps": 100, "quiescent_steps": args.quiescent,
                            "burn_in_steps": BURN_IN, "bins": BINS, "n_mc": N_MC, "max_points": MAX_POINTS,
                            "pseudocount": PSEUDOCOUNT,
                            "networks": {k: str(v) for k, v in (("sargolini", args.sargolini), ("walk", args.walk))},
                            "n_rec": {k: int(n.n_rec) for k, n in nets.items()}},
               "occupancy": {"samples": len(occupancy_points), "unvisited_cells": int((occupancy == 0).sum()),
                             "kl_uniform_occupancy_kde": kl_uniform_vs(reference, box=(-half, half),
                                                                       n_mc=N_MC, seed=0),
                             "kl_uniform_occupancy_grid": grid_kl(
                                 np.random.default_rng(0).uniform(-half, half, (len(occupancy_points), 2)),
                                 occupancy_points, half)},
               "held_out_error_m": {k: held_out_error(n, 100) for k, n in nets.items()},
               "runs": {}}
    print(json.dumps({k: results[k] for k in ("occupancy", "held_out_error_m")}), flush=True)
    densities = {}
    protocol = nrx.Protocol([nrx.Active(steps=100), nrx.Quiescent(steps=args.quiescent)])
    for backend in args.backends:
        options = {"target": "numpy"} if backend == "brian2" else {}
        for name, net in nets.items():
            start = time.perf_counter()
            rec = protocol.run(net, backend=backend, trials=args.trials, seed=0, **options)
            q = rec.select("quiescent").decoded[:, BURN_IN:].reshape(-1, 2)
            a = rec.select("active").decoded.reshape(-1, 2)
            rng = np.random.default_rng(0)
            q_sub, a_sub = subsample_points(q, MAX_POINTS, rng), subsample_points(a, MAX_POINTS, rng)
            res = {"kl_q_occupancy_kde": kl_divergence(q_sub, reference, n_mc=N_MC, seed=0),
                   "kl_q_occupancy_grid": grid_kl(q, occupancy_points, half),
                   "kl_active_occupancy_kde": kl_divergence(a_sub, reference, n_mc=N_MC, seed=0),
                   "q_outside_box": float(np.mean(np.any(np.abs(q) > half, axis=1))),
                   "seconds": time.perf_counter() - start}
            results["runs"][f"{name}/{backend}"] = res
            densities[name, backend] = grid_density(np.clip(q, -half, half - 1e-9), half)
            print(name, backend, json.dumps(res), flush=True)
    (args.out / "sargolini_occupancy.json").write_text(json.dumps(results, indent=1))

    panels = [("rat's occupancy\n(training part)", occupancy)] + [
        (f"quiescent decoded density\n{'rat-path' if n == 'sargolini' else 'synthetic-walk'} net, {b}", d)
        for (n, b), d in densities.items()]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.4), constrained_layout=True)
    vmax = max(d.max() for _, d in panels)
    for ax, (title, dens) in zip(axes, panels, strict=True):
        im = ax.imshow(dens.T, origin="lower", extent=(-half, half, -half, half), cmap="viridis", vmin=0, vmax=vmax)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("x (m)")
    axes[0].set_ylabel("y (m)")
    fig.colorbar(im, ax=axes, shrink=0.8, label="fraction per 5 cm cell")
    fig.savefig(args.out / "sargolini_occupancy.png", dpi=110)
    print("wrote", args.out / "sargolini_occupancy.json", args.out / "sargolini_occupancy.png")


if __name__ == "__main__":
    main()
