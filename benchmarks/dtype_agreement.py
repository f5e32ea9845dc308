"""float32 against float64 on every backend, on the shipped default network (measured, not assumed).

    python benchmarks/dtype_agreement.py                 # U^σ (512 units), 100 trials, 1000 steps
    python benchmarks/dtype_agreement.py --quick         # a small smoke run (16 trials, 100 steps)

For each backend (every one in ``neurorx.backends.all_backends()``) the same protocol runs in float64 and in
float32 with the same seed, and the script prints:

- noise off (``Active``, the velocity inputs only, noise switched off): max |h32 - h64| over every unit,
  trial and step, and the max and mean distance between the decoded positions;
- with the reference noise (the demo's protocol: ``Active`` with the network's noise, then ``Quiescent``
  from a reset with the noise scaled by sqrt(2)): the same differences (the hidden state compared on every
  ``--every``-th step, the decoded position on every step), and the reactivation statistics the demo
  reports (KL(Q‖A) of the quiescent against the active decoded cloud, corrected estimator; the registered
  phase statistics, total variance among them) in each dtype; then the same statistics over ``--other-seeds``
  further seeds in each dtype: their mean and standard deviation per dtype (the seed-to-seed spread the
  dtype difference should be compared with) and the difference of the two means in standard errors.

The Brian2 backend draws its Gaussian numbers in float64 in both dtypes, so its float32 run follows the
float64 run's noise path; the torch backend draws its noise in the run's dtype, so its float32 and float64
runs see different noise and differ as two seeds do.
"""

import argparse
import json
import sys
import time

import numpy as np

import neurorx as nrx
from neurorx import analysis
from neurorx.backends import all_backends
from neurorx.experiments.demo import phase_statistics
from neurorx.provenance import provenance

DTYPES = ("float64", "float32")


def differences(r64, r32) -> dict:
    """max |h32 - h64| and the decoded-position distance (m) between two recordings of the same run."""
    dh = np.abs(r32.h.astype(np.float64) - r64.h)
    dist = np.linalg.norm(r32.decoded.astype(np.float64) - r64.decoded, axis=-1)
    return {"max_abs_h": float(dh.max()), "mean_abs_h": float(dh.mean()), "max_decoded_m": float(dist.max()),
            "mean_decoded_m": float(dist.mean())}


def statistics(rec, args) -> dict:
    """The demo's reactivation statistics of one run: KL(Q‖A) (corrected, nats) and the quiescent phase's
    registered statistics."""
    rng = np.random.default_rng(args.seed)
    act = analysis.subsample_points(rec.select("active").decoded, args.max_points, rng)
    qui = analysis.subsample_points(rec.select("quiescent").decoded, args.max_points, rng)
    out = {"KL(Q||A) nats": float(analysis.kl_divergence(qui, act, n_mc=args.n_mc, seed=args.seed))}
    out.update(phase_statistics(rec, False, args.burn_in)["quiescent"])
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", default="spatial_navigation/noisy_unbiased")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--steps", type=int, default=1000, help="steps of the noise-off run and of quiescence")
    parser.add_argument("--active-steps", type=int, default=100)
    parser.add_argument("--every", type=int, default=10, help="record h every k-th step of the noisy runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-points", type=int, default=10_000)
    parser.add_argument("--n-mc", type=int, default=2500)
    parser.add_argument("--burn-in", type=float, default=0.5)
    parser.add_argument("--other-seeds", type=int, default=4, help="float64 runs with other seeds (the spread)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    if args.quick:
        args.trials, args.steps, args.active_steps, args.max_points, args.n_mc = 16, 100, 50, 2000, 500
        args.other_seeds = 2
    t_start = time.perf_counter()
    net = nrx.load(args.network)
    quiet = nrx.Protocol([nrx.Active(steps=args.steps, noise={})])
    demo = nrx.Protocol([nrx.Active(steps=args.active_steps), nrx.Quiescent(steps=args.steps, start="reset")])
    results = {"args": vars(args), "network": net.summary(), "versions": provenance(args.seed),
               "backends": {}}
    print(f"{args.network}: {net.summary()}\n{args.trials} trials, seed {args.seed}", flush=True)
    for backend in all_backends():
        res = results["backends"][backend] = {}
        runs = {}
        for dtype in DTYPES:
            runs["off", dtype] = quiet.run(net, backend=backend, trials=args.trials, seed=args.seed, record=("h",),
                                           dtype=dtype)
            runs["noise", dtype] = demo.run(net, backend=backend, trials=args.trials, seed=args.seed,
                                            record=("h",), every=args.every, dtype=dtype)
        others = {dtype: [statistics(demo.run(net, backend=backend, trials=args.trials, seed=args.seed + k,
                                              record=("h",), every=args.every, dtype=dtype), args)
                          for k in range(1, args.other_seeds + 1)] for dtype in DTYPES}
        res["noise off"] = differences(runs["off", "float64"], runs["off", "float32"])
        res["reference noise"] = differences(runs["noise", "float64"], runs["noise", "float32"])
        res["statistics"] = {"float64": statistics(runs["noise", "float64"], args),
                             "float32": statistics(runs["noise", "float32"], args),
                             **{f"{dtype}, other seeds": {name: [o[name] for o in runs_] for name in runs_[0]}
                                for dtype, runs_ in others.items()}}
        print(f"\n{backend}: float32 against float64, same seed")
        for case in ("noise off", "reference noise"):
            d = res[case]
            print(f"  {case:>15}: max |h32-h64| {d['max_abs_h']:.3g} (mean {d['mean_abs_h']:.3g}); decoded position "
                  f"max {100 * d['max_decoded_m']:.3g} cm, mean {100 * d['mean_decoded_m']:.3g} cm")
        s64, s32, o64, o32 = res["statistics"].values()
        k = args.other_seeds
        print(f"  seed {args.seed}: float64, float32, difference | seeds {args.seed + 1}..{args.seed + k}: mean ± SD "
              f"float64, float32, difference of means / its standard error")
        for name in s64:
            m64, m32 = np.mean(o64[name]), np.mean(o32[name])
            sd64, sd32 = (float(np.std(o[name], ddof=1)) if k > 1 else float("nan") for o in (o64, o32))
            se = np.sqrt((sd64 ** 2 + sd32 ** 2) / k)
            print(f"  {name:>30} | {s64[name]:9.4g} {s32[name]:9.4g} {s32[name] - s64[name]:10.3g} | "
                  f"{m64:9.4g} ± {sd64:8.2g}  {m32:9.4g} ± {sd32:8.2g}  {(m32 - m64) / se:6.2f}")
        sys.stdout.flush()
    results["seconds"] = time.perf_counter() - t_start
    print(f"\n{results['seconds']:.0f} s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2, default=float)


if __name__ == "__main__":
    main()
