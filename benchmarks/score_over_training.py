"""Score alignment over training: the drift-score measures at every snapshot of a training, with controls.

For each training folder ``ROOT/NAME/SEED`` (written by ``benchmarks/score_over_training.sh``, with
``trainer.snapshot_every``) and each of its ``snapshots/batch_XXXXXX.npz``: active states of that network
(``--trials`` trials of ``--steps`` steps, every ``--every``-th step after ``--burn-in`` steps), the KDE score of
their law in the leading PCs (:func:`neurorx.analysis.score.score_alignment`), and four measures of the
network's quiescent drift against it -- mean cosine, mean non-linear cosine (affine fits removed), explained
drift :math:`R^2` in the densest half and its non-linear version (:func:`neurorx.analysis.score.explained_drift`)
-- with 95 % bootstrap intervals over trials. Controls at each snapshot:

- ``permuted``: the same drift against the score of *another* sample (scores shuffled across samples);
- ``random``: the drift of an untrained network (``analysis.random_network``, same shapes and noise) at the
  same states against the same score;
- the noiseless-trained network at the same batch: the run ``none`` (its own states and score).

    python benchmarks/score_over_training.py ROOT --out docs/figures/score/over_training

Results are cached per snapshot in ``ROOT/NAME/SEED/score_over_training.json`` (rerun to add new snapshots);
the figure and the gathered JSON go to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import neurorx as nrx
from neurorx.analysis import score as sc
from neurorx.analysis.score.controls import MEASURES


def measure_snapshot(path: Path, args) -> dict:
    """Every measure and control at one snapshot network (:func:`neurorx.analysis.score.network_score_measures`)."""
    t0 = time.process_time()
    out = sc.network_score_measures(nrx.load(path), trials=args.trials, steps=args.steps, every=args.every,
                                    burn_in_steps=args.burn_in, n_resamples=args.n_boot, seed=args.seed)
    out["cpu_s"] = round(time.process_time() - t0, 2)
    return out


def test_error(run: Path) -> dict[int, float]:
    """Test decoding error (degrees) at each evaluation of a run."""
    errs = {}
    for line in (run / "metrics.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if rec.get("kind") == "eval":
            errs[int(rec["batch"])] = float(np.degrees(rec["test_error"]))
    return errs


def measure_run(run: Path, args) -> dict:
    cache = run / "score_over_training.json"
    done = json.loads(cache.read_text()) if cache.exists() else {}
    for snap in sorted((run / "snapshots").glob("batch_*.npz")):
        batch = str(int(snap.stem.split("_")[1]))
        if batch not in done and not args.gather_only:
            done[batch] = measure_snapshot(snap, args)
            cache.write_text(json.dumps(done, indent=1))
            print(f"{run.parent.name}/{run.name} batch {batch}: "
                  f"R2 {done[batch]['network']['explained_drift'][0]:.3f} "
                  f"cos {done[batch]['network']['mean_cosine'][0]:.3f} ({done[batch]['cpu_s']} CPU s)", flush=True)
    errs = test_error(run)
    for batch, rec in done.items():
        rec["test_error_deg"] = errs.get(int(batch))
    return done


def draw(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted(results)
    colours = dict(zip(names, plt.cm.viridis(np.linspace(0, 0.9, len(names))), strict=True))
    fig, axes = plt.subplots(1, len(MEASURES), figsize=(4.2 * len(MEASURES), 3.6), sharex=True)
    for ax, m in zip(axes, MEASURES, strict=True):
        for name in names:
            for seed, runs in results[name].items():
                batches = sorted(runs, key=int)
                x = [int(b) for b in batches]
                label = name if seed == min(results[name]) else None
                ax.plot(x, [runs[b]["network"][m][0] for b in batches], "-o", ms=3, color=colours[name], label=label)
                for control, style in (("permuted", ":"), ("random", "--")):
                    ax.plot(x, [runs[b][control][m][0] for b in batches], style, color=colours[name], lw=0.8,
                            label=f"{control} (dotted)" if control == "permuted" and name == names[0]
                            and label else (f"{control} (dashed)" if name == names[0] and label else None))
        ax.axhline(0, color="k", lw=0.5)
        ax.set_title(m.replace("_", " ") + (" R² (densest half)" if m.startswith("explained") else ""), fontsize=9)
        if m == "explained_drift":
            ax.set_ylim(-1, 1)          # the untrained networks' R^2 reach -30 (a drift much larger than c s)
        elif m == "explained_drift_nonlinear":
            ax.set_ylim(-0.25, 0.5)
        ax.set_xlabel("training batch")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def tables(results: dict) -> str:
    """Markdown: every run at its last snapshot, and the explained drift of every snapshot."""
    def ci(v):
        return f"{v[0]:.3f} [{v[1]:.2f}, {v[2]:.2f}]"

    def short(rec, control):
        return " / ".join(f"{rec[control][m][0]:.2f}" for m in ("mean_cosine", "explained_drift",
                                                                 "explained_drift_nonlinear"))

    lines = ["| run | seed | batch | test error (deg) | mean cosine | explained drift R² | non-linear R² | "
             "permuted: cos / R² / nl R² | random: cos / R² / nl R² |", "|---|---|---|---|---|---|---|---|---|"]
    for name in sorted(results):
        for seed, runs in sorted(results[name].items()):
            b = max(runs, key=int)
            r = runs[b]
            err = "—" if r.get("test_error_deg") is None else f"{r['test_error_deg']:.0f}"
            lines.append(f"| {name} | {seed} | {b} | {err} | {ci(r['network']['mean_cosine'])} | "
                         f"{ci(r['network']['explained_drift'])} | {ci(r['network']['explained_drift_nonlinear'])} | "
                         f"{short(r, 'permuted')} | {short(r, 'random')} |")
    lines += ["", "| run | seed | R² by batch | non-linear R² by batch | mean cosine by batch | test error (deg) |",
              "|---|---|---|---|---|---|"]
    for name in sorted(results):
        for seed, runs in sorted(results[name].items()):
            bs = sorted(runs, key=int)

            def row(m, runs=runs, bs=bs):
                return ", ".join(f"{runs[b]['network'][m][0]:.2f}" for b in bs)
            errs = ", ".join("—" if runs[b].get("test_error_deg") is None else f"{runs[b]['test_error_deg']:.0f}"
                             for b in bs)
            lines.append(f"| {name} | {seed} | {row('explained_drift')} | {row('explained_drift_nonlinear')} | "
                         f"{row('mean_cosine')} | {errs} |")
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("root", type=Path)
    p.add_argument("--out", type=Path, default=Path("docs/figures/score/over_training"))
    p.add_argument("--trials", type=int, default=30)
    p.add_argument("--steps", type=int, default=150)
    p.add_argument("--every", type=int, default=2)
    p.add_argument("--burn-in", type=int, default=20)
    p.add_argument("--n-boot", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--gather-only", action="store_true", help="draw and tabulate the cached results only")
    args = p.parse_args()
    results: dict = {}
    for run in sorted(args.root.glob("*/*/snapshots")):
        run = run.parent
        if args.gather_only and not (run / "score_over_training.json").exists():
            continue
        results.setdefault(run.parent.name, {})[run.name] = measure_run(run, args)
    args.out.mkdir(parents=True, exist_ok=True)
    settings = {k: v for k, v in vars(args).items() if k not in ("root", "out")}
    (args.out / "score_over_training.json").write_text(json.dumps({"settings": settings, "runs": results}, indent=1))
    draw(results, args.out / "score_over_training.png")
    (args.out / "score_over_training.md").write_text(tables(results))


if __name__ == "__main__":
    main()
