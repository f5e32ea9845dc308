"""Why does the I-Norm deficit not grow with the brightness shift ε here? One factor at a time (issue 28).

The paper (Fashion-MNIST, 28×28) finds forward-only I-Norm falling further behind LN⁺ as ε grows; on 8×8
digits the deficit does not grow (docs/ei_normalization.md). This script runs the luminosity experiment for a
baseline and for designs that each change one factor towards the paper, and for the paper's settings together:

======== ====================================================================================
factor   change from the baseline (8×8 digits, widths 64–160, lr_E 10^U(−2,−1), 40 epochs)
======== ====================================================================================
base     none; ε also at 0.9 (the range of ε)
wide     widths U(100, 500) (the paper's)
lr_paper lr_E 10^U(−3,−2) (the paper's Table 1)
long     100 epochs
digits28 the digits upsampled to 28×28 (input dimension 784; how brightness enters: the share of
         background pixels a shift lifts)
fashion  999 real Fashion-MNIST test images (28×28; 75 % train / 25 % test)
paper    fashion + wide + lr_paper + 50 epochs
======== ====================================================================================

Per factor and ε: the paired difference d = acc(I-Norm) − acc(LN⁺) over (configuration, seed) pairs with a
bootstrap 95 % CI; the trend is each pair's least-squares slope of d against ε, averaged, with a bootstrap CI and
a Wilcoxon signed-rank p (a negative slope = the deficit grows with ε, as in the paper).

Usage::

    python scripts/ei_epsilon_factors.py --out /work/runs/ei_factors [--factors base wide ...] [--configs 8]
    python scripts/ei_epsilon_factors.py --out /work/runs/ei_factors --report docs/figures/ei_factors

Runs resume (each factor's folder is an experiment folder); ``--report`` only analyses what is there and writes
``factors.json`` and ``epsilon_trend.png``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy import ndimage, stats
from sklearn.datasets import load_digits

from neurorx.ei.experiment import ExperimentConfig, load_runs, run_experiment

EPSILONS = (0.0, 0.25, 0.5, 0.75)
FASHION_CSV = "fashion-mnist_test.csv"


def digits28_csv(out: Path) -> Path:
    """The scikit-learn digits, bilinearly upsampled from 8×8 to 28×28, as a CSV (label, 784 pixels 0–255)."""
    path = out / "digits28.csv"
    if path.exists():
        return path
    digits = load_digits()
    x, y = digits.images / 16.0, digits.target
    big = np.clip(ndimage.zoom(x, (1, 3.5, 3.5), order=1), 0, 1)
    rows = np.column_stack([y, np.round(big.reshape(len(big), -1) * 255)]).astype(int)
    tmp = path.with_suffix(".tmp")
    np.savetxt(tmp, rows, fmt="%d", delimiter=",")
    tmp.rename(path)
    return path


def designs(out: Path, configs: int, seeds: int) -> dict[str, ExperimentConfig]:
    """The factor designs: ``{name: ExperimentConfig}`` (I-Norm and LN⁺ only; see the module docstring)."""
    base = ExperimentConfig(conditions=("ln_plus", "inorm"), epsilons=EPSILONS, n_configs=configs, seeds=seeds,
                            diagnostics=False)
    fashion = f"csv:{out / FASHION_CSV}"
    return {
        "base": replace(base, epsilons=(*EPSILONS, 0.9)),
        "wide": replace(base, width=(100, 500)),
        "lr_paper": replace(base, log_lr_e=(-3.0, -2.0)),
        "long": replace(base, epochs=100),
        "digits28": replace(base, data=f"csv:{digits28_csv(out)}"),
        "fashion": replace(base, data=fashion),
        "paper": replace(base, data=fashion, width=(100, 500), log_lr_e=(-3.0, -2.0), epochs=50),
    }


def paired_differences(runs: list[dict]) -> dict[float, dict[tuple, float]]:
    """``{ε: {(config, seed): acc(inorm) − acc(ln_plus)}}`` in percentage points."""
    acc = {(r["condition"], r["epsilon"], r["config"], r["seed"]): r["test_acc"] for r in runs}
    out: dict[float, dict[tuple, float]] = {}
    for (cond, eps, cfg, seed), a in acc.items():
        if cond == "inorm" and ("ln_plus", eps, cfg, seed) in acc:
            out.setdefault(eps, {})[(cfg, seed)] = 100 * (a - acc[("ln_plus", eps, cfg, seed)])
    return dict(sorted(out.items()))


def _ci(values: np.ndarray, seed: int = 0) -> list[float]:
    if len(values) < 3 or np.ptp(values) == 0:
        return [float("nan"), float("nan")]
    res = stats.bootstrap((values,), np.mean, n_resamples=9999, random_state=seed, method="BCa")
    return [float(res.confidence_interval.low), float(res.confidence_interval.high)]


def analyse_factor(runs: list[dict]) -> dict:
    """Per-ε paired differences with CIs, and the per-pair slope of the difference against ε."""
    diffs = paired_differences(runs)
    per_eps = {}
    for eps, d in diffs.items():
        v = np.array(list(d.values()))
        per_eps[str(eps)] = {"n": len(v), "mean": float(v.mean()), "ci95": _ci(v),
                             "ln_plus": None, "inorm": None}
    for cond in ("ln_plus", "inorm"):
        for eps in diffs:
            accs = [100 * r["test_acc"] for r in runs if r["condition"] == cond and r["epsilon"] == eps]
            per_eps[str(eps)][cond] = float(np.mean(accs))
    pairs = set.intersection(*(set(d) for d in diffs.values())) if diffs else set()
    eps_axis = np.array(list(diffs))
    slopes = np.array([np.polyfit(eps_axis, [diffs[e][p] for e in diffs], 1)[0] for p in sorted(pairs)]) \
        if len(eps_axis) >= 2 else np.array([])
    trend = {"n_pairs": len(slopes)}
    if len(slopes) >= 3:
        trend.update(slope_mean=float(slopes.mean()), slope_ci95=_ci(slopes),
                     wilcoxon_p=float(stats.wilcoxon(slopes).pvalue))
    return {"per_epsilon": per_eps, "trend_points_per_unit_epsilon": trend}


def report(out: Path, dest: Path, names: list[str]) -> dict:
    """Analyse every factor folder under ``out``; write ``factors.json`` and ``epsilon_trend.png`` to ``dest``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = {}
    for name in names:
        folder = out / name
        if (folder / "runs.jsonl").exists():
            runs = load_runs(folder)
            if runs:
                results[name] = analyse_factor(runs) | {"runs": len(runs)}
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "factors.json").write_text(json.dumps(results, indent=1))
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for name, res in results.items():
        eps = np.array([float(e) for e in res["per_epsilon"]])
        mean = np.array([v["mean"] for v in res["per_epsilon"].values()])
        lo, hi = np.array([v["ci95"] for v in res["per_epsilon"].values()]).T
        ax.errorbar(eps, mean, yerr=[mean - lo, hi - mean], marker="o", capsize=3, label=name)
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set_xlabel("brightness shift ε (pixel units, images in [0, 1])")
    ax.set_ylabel("acc(I-Norm) − acc(LN⁺) (percentage points)")
    ax.set_title("I-Norm deficit against ε, one factor changed at a time\n(mean over pairs, bootstrap 95 % CI)")
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(dest / "epsilon_trend.png", dpi=130)
    return results


def main(argv=None) -> int:
    """Command line: run the factors (resuming), or ``--report`` on what has run."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--factors", nargs="+", default=None)
    p.add_argument("--configs", type=int, default=8)
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--report", type=Path, default=None, help="only analyse; write factors.json and the figure here")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if not (args.out / FASHION_CSV).exists():
        print(f"put Fashion-MNIST's {FASHION_CSV} (Kaggle layout: label, pixel1..pixel784) into {args.out}",
              file=sys.stderr)
        return 2
    all_designs = designs(args.out, args.configs, args.seeds)
    names = args.factors or list(all_designs)
    if args.report is not None:
        res = report(args.out, args.report, names)
        for name, r in res.items():
            t = r["trend_points_per_unit_epsilon"]
            print(name, r["runs"], "runs;", {e: round(v["mean"], 2) for e, v in r["per_epsilon"].items()},
                  "slope", round(t.get("slope_mean", float("nan")), 2), t.get("slope_ci95"),
                  "p", t.get("wilcoxon_p"))
        return 0
    for name in names:
        print(f"== {name}", file=sys.stderr, flush=True)
        run_experiment(all_designs[name], args.out / name, workers=1, threads=1, progress=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
