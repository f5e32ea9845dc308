"""Spiking populations against the rate network: convergence in M, noise replaced by spikes, spike statistics.

Usage (the documented full run, then what docs/spiking.md reports)::

    python -m benchmarks.spiking_convergence --network models/head_direction/noisy_unbiased.npz \\
        --trials 200 --active 100 --quiescent 1000 --per-unit 1 4 16 64 256 --neuron poisson lif --out DIR

For each neuron model and M it runs Active -> Quiescent on the ``brian2-spiking`` backend (injected noise kept,
and reduced to its mean), next to the rate network on ``torch`` and ``brian2`` (noise kept, and mean-only on
brian2-spiking's side), and writes ``results.json`` plus ``convergence.png`` in ``--out``: active decoding error,
quiescent KL(Q||A) and total variance, and the spike statistics (rates, Fano factor, ISI CV per phase, burst
fraction) of the spiking runs.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import neurorx as nrx
from neurorx.analysis import STATISTICS
from neurorx.analysis.spikes import spike_statistics


def _kl_q_a(rec) -> float:
    cmp = nrx.compare(rec, rec, n_boot=2, n_perm=2)
    d = cmp.divergence("quiescent", "KL(quiescent‖active) decoded")
    return float(d.estimate)


def _summary(net, rec) -> dict:
    act, qui = rec.select("active"), rec.select("quiescent")
    out = {"active_error": float(np.mean(net.task.error(act.decoded, act.states))),
           "quiescent_total_variance": float(STATISTICS.get("total variance").value(
               qui.decoded, circular=bool(rec.meta.get("circular")), burn_in=0.5))}
    try:
        out["kl_q_a"] = _kl_q_a(rec)
    except Exception as err:
        out["kl_q_a_error"] = f"{type(err).__name__}: {err}"
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", default="models/head_direction/noisy_unbiased.npz")
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--active", type=int, default=100)
    parser.add_argument("--quiescent", type=int, default=1000)
    parser.add_argument("--per-unit", type=int, nargs="+", default=[1, 4, 16, 64, 256])
    parser.add_argument("--neuron", nargs="+", default=["poisson", "lif"])
    parser.add_argument("--noise", nargs="+", default=["keep", "mean"])
    parser.add_argument("--spike-trials", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rate-noise-scales", type=float, nargs="*", default=[],
                        help="also run the rate network (torch) with the quiescent noise scaled by these factors")
    parser.add_argument("--raster-m", type=int, default=16, help="save a raster figure of the runs with this M")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    net = nrx.load(args.network)
    proto = nrx.Protocol([nrx.Active(steps=args.active), nrx.Quiescent(steps=args.quiescent, noise_scale=2 ** 0.5)])
    results = {"command": vars(args), "rate": {}, "spiking": []}
    for backend in ("torch", "brian2"):
        t = time.perf_counter()
        rec = proto.run(net, backend=backend, trials=args.trials, seed=args.seed)
        results["rate"][backend] = {**_summary(net, rec), "wall_s": time.perf_counter() - t}
        print(backend, results["rate"][backend], flush=True)
    for k in args.rate_noise_scales:   # the rate network's curve over the quiescent noise scale
        scaled = nrx.Protocol([nrx.Active(steps=args.active), nrx.Quiescent(steps=args.quiescent, noise_scale=k)])
        rec = scaled.run(net, backend="torch", trials=args.trials, seed=args.seed)
        results["rate"][f"torch, quiescent noise x{k:g}"] = {**_summary(net, rec), "wall_s": 0.0}
        print(k, results["rate"][f"torch, quiescent noise x{k:g}"], flush=True)
    for neuron in args.neuron:
        for noise in args.noise:
            for m in args.per_unit:
                t = time.perf_counter()
                rec = proto.run(net, backend="brian2-spiking", trials=args.trials, seed=args.seed, neuron=neuron,
                                per_unit=m, noise=noise, record=("spikes",), spike_trials=min(args.spike_trials,
                                                                                              args.trials))
                row = {"neuron": neuron, "noise": noise, "per_unit": m, **_summary(net, rec),
                       "wall_s": time.perf_counter() - t, "spikes": spike_statistics(rec),
                       "stats": rec.spikes.stats}
                results["spiking"].append(row)
                if m == args.raster_m:
                    _raster(rec, out / f"raster_{neuron}_{noise}_M{m}.png")
                print(json.dumps({k: v for k, v in row.items() if k != "spikes"}), flush=True)
                (out / "results.json").write_text(json.dumps(results, indent=1))
    _figure(results, out / "convergence.png")
    return 0


def _raster(rec, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import neurorx.plotting as nplt

    axes = nplt.spike_raster(rec)
    axes[0].figure.savefig(path, dpi=110)
    plt.close(axes[0].figure)


def _figure(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [("active_error", "active decoding error"), ("kl_q_a", "KL(Q‖A)"),
            ("quiescent_total_variance", "quiescent total variance")]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    for ax, (key, label) in zip(axes, keys, strict=True):
        for (neuron, noise), style in zip(sorted({(r["neuron"], r["noise"]) for r in results["spiking"]}),
                                          ["o-", "s--", "^-", "v--"], strict=False):
            rows = [r for r in results["spiking"] if r["neuron"] == neuron and r["noise"] == noise and key in r]
            if rows:
                ax.plot([r["per_unit"] for r in rows], [r[key] for r in rows], style, label=f"{neuron}, noise={noise}")
        for backend, ls in (("torch", ":"), ("brian2", "-.")):
            if key in results["rate"].get(backend, {}):
                ax.axhline(results["rate"][backend][key], color="k", ls=ls, lw=1, label=f"rate ({backend})")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("neurons per unit M")
        ax.set_title(label)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    raise SystemExit(main())
