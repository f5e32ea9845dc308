"""Spiking populations against the rate network: convergence in M, noise replaced by spikes, spike statistics.

Usage (the issue's full size; docs/spiking.md says what was run)::

    python -m benchmarks.spiking_convergence --network models/head_direction/noisy_unbiased.npz \\
        --trials 200 --active 100 --quiescent 1000 --per-unit 1 4 16 64 256 --neuron poisson lif \\
        --noise keep mean --rate-noise-scales 0 0.1 0.25 0.5 1 1.414 --out DIR
    python -m benchmarks.spiking_tables DIR          # tables and figures of every result in DIR

Every configuration (the rate network on each rate backend, the rate network at each quiescent noise scale,
and each spiking neuron model x noise mode x M) is one run of Active -> Quiescent (quiescent noise x sqrt 2)
and writes one JSON file in ``--out``, named by the network, the configuration and the size; a configuration
whose file exists is skipped, so an interrupted invocation resumes where it stopped. Each file holds the
active decoding error, the quiescent KL(Q||A) and total variance, wall and CPU time (and CPU seconds per
trial-step), the spike statistics of the recorded trials (rates, Fano factor, ISI CV per phase, burst
fraction) and the backend's counters.
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
from neurorx.noise import DriftWhiteNoise, matched_noise


def _kl_q_a(rec) -> float:
    cmp = nrx.compare(rec, rec, n_boot=2, n_perm=2)
    return float(cmp.divergence("quiescent", "KL(quiescent‖active) decoded").estimate)


def summary(net, rec) -> dict:
    """Active decoding error, quiescent total variance (50 % burn-in) and KL(Q||A) of a recording."""
    act, qui = rec.select("active"), rec.select("quiescent")
    out = {"active_error": float(np.mean(net.task.error(act.decoded, act.states))),
           "quiescent_total_variance": float(STATISTICS.get("total variance").value(
               qui.decoded, circular=bool(rec.meta.get("circular")), burn_in=0.5))}
    try:
        out["kl_q_a"] = _kl_q_a(rec)
    except Exception as err:   # recorded, not fatal: the other numbers of the run still stand
        out["kl_q_a_error"] = f"{type(err).__name__}: {err}"
    return out


def configurations(args) -> list[dict]:
    """Every run of one invocation, each a dict with its ``name`` (the result file's stem)."""
    net = Path(args.network).stem
    parent = Path(args.network).parent.name
    size = f"T{args.trials}_A{args.active}_Q{args.quiescent}_s{args.seed}"
    base = {"network": args.network, "trials": args.trials, "active": args.active, "quiescent": args.quiescent,
            "seed": args.seed}
    out = []
    for backend in args.rate_backends:
        out.append({**base, "kind": "rate", "backend": backend, "noise_scale": 2 ** 0.5,
                    "name": f"{parent}-{net}__rate-{backend}__{size}"})
    for k in args.rate_noise_scales:
        out.append({**base, "kind": "rate", "backend": "torch", "noise_scale": k,
                    "name": f"{parent}-{net}__rate-torch-qnoise{k:g}__{size}"})
    if args.rate_mean_noise:
        out.append({**base, "kind": "rate", "backend": "torch", "noise_scale": 2 ** 0.5, "rate_noise": "mean",
                    "name": f"{parent}-{net}__rate-torch-meannoise__{size}"})
    for neuron in args.neuron:
        for noise in args.noise:
            for m in args.per_unit:
                out.append({**base, "kind": "spiking", "neuron": neuron, "noise": noise, "per_unit": m,
                            "spike_trials": min(args.spike_trials, args.trials),
                            "name": f"{parent}-{net}__{neuron}-{noise}-M{m}__{size}"})
    return out


def mean_noise(net):
    """``net`` with each injected noise reduced to its mean: the limit M -> infinity of ``noise="mean"`` spiking.

    Each noise becomes :class:`~neurorx.noise.DriftWhiteNoise` with the drift of :func:`~neurorx.noise.matched_noise`
    (the same per-step mean at the training step) and no fluctuation; a zero-mean noise is removed.
    """
    noise = {}
    for placement, model in net.noise.items():
        matched = matched_noise(model, net.dt)
        if isinstance(matched, DriftWhiteNoise):
            noise[placement] = matched.with_changes(sigma=0.0)
    return net.with_changes(noise=noise)


def run_one(cfg: dict, target: str = "auto") -> dict:
    """Run one configuration (Brian2 code-generation ``target``); return its result (the configuration plus its
    measurements)."""
    net = nrx.load(cfg["network"])
    if cfg.get("rate_noise") == "mean":
        net = mean_noise(net)
    proto = nrx.Protocol([nrx.Active(steps=cfg["active"]),
                          nrx.Quiescent(steps=cfg["quiescent"], noise_scale=cfg.get("noise_scale", 2 ** 0.5))])
    t, cpu = time.perf_counter(), time.process_time()
    if cfg["kind"] == "rate":
        brian2 = {"target": target} if cfg["backend"] == "brian2" else {}
        rec = proto.run(net, backend=cfg["backend"], trials=cfg["trials"], seed=cfg["seed"], **brian2)
    else:
        rec = proto.run(net, backend="brian2-spiking", trials=cfg["trials"], seed=cfg["seed"], neuron=cfg["neuron"],
                        per_unit=cfg["per_unit"], noise=cfg["noise"], record=("spikes",),
                        spike_trials=cfg["spike_trials"], target=target)
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    trial_steps = cfg["trials"] * (cfg["active"] + cfg["quiescent"])
    out = {**cfg, **summary(net, rec), "wall_s": wall, "cpu_s": cpu, "cpu_s_per_trial_step": cpu / trial_steps}
    if cfg["kind"] == "spiking":
        out["spikes"] = spike_statistics(rec)
        out["counters"] = {k: int(v) if isinstance(v, int | np.integer) else v for k, v in rec.spikes.stats.items()}
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", default="models/head_direction/noisy_unbiased.npz")
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--active", type=int, default=100)
    parser.add_argument("--quiescent", type=int, default=1000)
    parser.add_argument("--per-unit", type=int, nargs="*", default=[1, 4, 16, 64, 256])
    parser.add_argument("--neuron", nargs="*", default=["poisson", "lif"])
    parser.add_argument("--noise", nargs="*", default=["keep", "mean"])
    parser.add_argument("--rate-backends", nargs="*", default=["torch", "brian2"])
    parser.add_argument("--rate-mean-noise", action="store_true",
                        help="also run the rate network (torch) with each injected noise reduced to its mean, the "
                             "M -> infinity limit of the spiking runs with --noise mean")
    parser.add_argument("--rate-noise-scales", type=float, nargs="*", default=[],
                        help="also run the rate network (torch) with the quiescent noise scaled by these factors")
    parser.add_argument("--spike-trials", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    parser.add_argument("--target", default="auto", choices=["auto", "cython", "numpy"],
                        help="Brian2's code-generation target (auto: cython, numpy without a compiler)")
    parser.add_argument("--list", action="store_true", help="print the configurations and whether each is done")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for cfg in configurations(args):
        path = out / f"{cfg['name']}.json"
        if args.list or path.exists():
            print(("done  " if path.exists() else "to do ") + cfg["name"], flush=True)
            continue
        print(f"start {cfg['name']} at {time.strftime('%H:%M:%S')}", flush=True)
        result = run_one(cfg, args.target)
        tmp = path.with_suffix(".part")
        tmp.write_text(json.dumps(result, indent=1))
        tmp.replace(path)   # a result file is either whole or absent
        print(json.dumps({k: v for k, v in result.items() if k not in ("spikes",)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
