"""Markdown tables and figures of the result files ``spiking_convergence`` and ``spiking_speed`` wrote.

Usage::

    python -m benchmarks.spiking_tables DIR [--figures FIGDIR] [--speed SPEEDDIR]

For each network in ``DIR``: the convergence table (rate network on each backend, spiking runs by neuron model,
noise mode and M, with CPU seconds per trial-step), the M at which the active decoding error comes within 10 %
of the rate network's, the rate network's curve over the quiescent noise scale, and the spike statistics per
phase. With ``--figures``: ``<network>_convergence.png`` (active error, KL(Q||A), total variance against M)
and ``<network>_noise_replacement.png`` (noise reduced to its mean, against the rate network's noise curve).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path


def _f(x, fmt=".3g") -> str:
    return "–" if x is None else format(x, fmt)


def load(folder: Path) -> dict[str, list[dict]]:
    """Result files by network path."""
    out = defaultdict(list)
    for path in sorted(folder.glob("*.json")):
        r = json.loads(path.read_text())
        out[r["network"]].append(r)
    return out


def _size(r: dict) -> str:
    return f"{r['trials']} × ({r['active']}+{r['quiescent']})"


def rate_label(r: dict) -> str:
    """``"torch"``, ``"brian2"``, or ``"torch, noise=mean"`` (the injected noise reduced to its mean: the
    M -> infinity limit of the ``noise=mean`` spiking runs)."""
    return r["backend"] + (", noise=mean" if r.get("rate_noise") == "mean" else "")


def references(rows: list[dict]) -> list[dict]:
    """The rate runs the spiking runs are compared with (every rate run but the quiescent noise-scale curve)."""
    return [r for r in rows if r["kind"] == "rate" and "qnoise" not in r["name"]]


def within_10_percent(rows: list[dict]) -> list[str]:
    """Per neuron model and noise mode: the smallest M whose active error is within 10 % of each rate reference's
    (at most 10 % above it: a spiking run at or below the reference's error counts)."""
    rate = {(rate_label(r), r["trials"]): r["active_error"] for r in references(rows)}
    lines = []
    for key in sorted({(r["neuron"], r["noise"]) for r in rows if r["kind"] == "spiking"}):
        spk = sorted((r for r in rows if r["kind"] == "spiking" and (r["neuron"], r["noise"]) == key),
                     key=lambda r: r["per_unit"])
        parts = []
        for (backend, trials), err in sorted(rate.items()):   # spiking runs against rate runs of as many trials
            same = [r for r in spk if r["trials"] == trials]
            hit = next((r["per_unit"] for r in same if r["active_error"] <= 1.1 * err), None)
            if same:
                parts.append(f"{backend}, {trials} trials ({err:.3g}): " + (
                    f"M = {hit}" if hit else f"none of M = {[r['per_unit'] for r in same]}"))
        lines.append(f"- {key[0]}, noise={key[1]}: " + "; ".join(parts))
    return lines


def noise_curve(rows: list[dict]) -> list[dict]:
    """The torch rate runs over the quiescent noise scale (the scaled runs and the sqrt 2 run of as many trials)."""
    scaled = [r for r in rows if r["kind"] == "rate" and "qnoise" in r["name"]]
    trials = {r["trials"] for r in scaled}
    base = [r for r in references(rows) if rate_label(r) == "torch" and r["trials"] in trials]
    return sorted(scaled + base, key=lambda r: r["noise_scale"])


def tables(rows: list[dict]) -> str:
    """The convergence, noise-curve and spike-statistics tables of one network's results."""
    main = references(rows)
    curve = noise_curve(rows)
    spk = sorted((r for r in rows if r["kind"] == "spiking"), key=lambda r: (r["neuron"], r["noise"], r["per_unit"]))
    lines = ["| run | M | trials × (active+quiescent) | active error | KL(Q‖A) | quiescent total variance | "
             "CPU ms per trial-step | wall (s) |", "|---|---|---|---|---|---|---|---|"]
    for r in sorted(main, key=lambda r: (r["trials"], rate_label(r))) + spk:
        label = f"rate, {rate_label(r)}" if r["kind"] == "rate" else f"{r['neuron']}, noise={r['noise']}"
        lines.append(f"| {label} | {r.get('per_unit', '–')} | {_size(r)} | {_f(r['active_error'])} | "
                     f"{_f(r.get('kl_q_a'))} | {_f(r['quiescent_total_variance'])} | "
                     f"{1e3 * r['cpu_s_per_trial_step']:.3g} | {r['wall_s']:.0f} |")
    lines += ["", "M within 10 % of the rate network's active error:", "", *within_10_percent(rows)]
    if curve:
        head = " | ".join(f"{r['noise_scale']:g}" for r in curve)
        lines += ["", f"| rate network (torch), quiescent noise × | {head} |", "|---|" + "---|" * len(curve),
                  "| KL(Q‖A) | " + " | ".join(_f(r.get("kl_q_a")) for r in curve) + " |",
                  "| total variance | " + " | ".join(_f(r["quiescent_total_variance"]) for r in curve) + " |"]
    lines += ["", "| run | M | phase | rate mean / p99 (Hz) | Fano (0.1 s) | ISI CV | burst fraction |",
              "|---|---|---|---|---|---|---|"]
    for r in spk:
        for phase, s in r["spikes"].items():
            if s:
                lines.append(f"| {r['neuron']}, noise={r['noise']} | {r['per_unit']} | {phase} | "
                             f"{_f(s['rate_mean_hz'])} / {_f(s['rate_p99_hz'])} | {_f(s['fano_mean'])} | "
                             f"{_f(s['isi_cv_mean'])} | {_f(s['burst_fraction'])} |")
    return "\n".join(lines)


def speed_table(folder: Path) -> str:
    """The speed benchmark's rows: CPU and wall ratios to the rate brian2 run, peak memory."""
    rows = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    rate = next((r for r in rows if r["backend"] == "brian2"), None)
    lines = ["| backend | M | trials × steps | wall (s) | CPU (s) | CPU ms per trial-step | CPU ratio to rate brian2 | "
             "wall ratio | peak RSS (GB) | spikes kept |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["backend"] != "brian2", r["per_unit"])):
        ratio = (r["cpu_s"] / rate["cpu_s"], r["wall_s"] / rate["wall_s"]) if rate else (None, None)
        lines.append(f"| {r['backend']} | {r['per_unit'] or '–'} | {r['trials']} × {r['steps']} | {r['wall_s']:.0f} | "
                     f"{r['cpu_s']:.1f} | {r['cpu_ms_per_trial_step']:.3g} | {_f(ratio[0], '.2f')} | "
                     f"{_f(ratio[1], '.2f')} | {r['peak_rss_gb']:.2f} | {r.get('spikes_kept', '–')} |")
    return "\n".join(lines)


def figures(rows: list[dict], stem: str, folder: Path) -> None:
    """``<stem>_convergence.png`` and ``<stem>_noise_replacement.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [("active_error", "active decoding error"), ("kl_q_a", "quiescent KL(Q‖A)"),
            ("quiescent_total_variance", "quiescent total variance")]
    rate = {}   # the rate runs with the most trials
    for r in sorted(references(rows), key=lambda r: r["trials"]):
        rate[rate_label(r)] = r
    groups = sorted({(r["neuron"], r["noise"]) for r in rows if r["kind"] == "spiking"})
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    for ax, (key, label) in zip(axes, keys, strict=True):
        for (neuron, noise), style in zip(groups, ["o-", "s--", "^-", "v--"], strict=False):
            pts = sorted((r["per_unit"], r[key]) for r in rows if r["kind"] == "spiking" and r["neuron"] == neuron
                         and r["noise"] == noise and r.get(key) is not None)
            if pts:
                ax.plot(*zip(*pts, strict=True), style, label=f"{neuron}, noise={noise}")
        for ref, ls, c in (("torch", ":", "k"), ("brian2", "-.", "k"), ("torch, noise=mean", "--", "tab:gray")):
            if rate.get(ref, {}).get(key) is not None:
                ax.axhline(rate[ref][key], color=c, ls=ls, lw=1, label=f"rate ({ref})")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("neurons per unit M")
        ax.set_title(label)
    axes[0].legend(fontsize=7)
    fig.suptitle(stem, fontsize=9)
    fig.tight_layout()
    fig.savefig(folder / f"{stem}_convergence.png", dpi=110)
    plt.close(fig)

    curve = noise_curve(rows)
    mean = [r for r in rows if r["kind"] == "spiking" and r["noise"] == "mean"]
    if not (curve and mean):
        return
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, (key, label) in zip(axes, keys[1:], strict=True):
        for neuron, style in zip(sorted({r["neuron"] for r in mean}), ["o-", "s--"], strict=False):
            pts = sorted((r["per_unit"], r[key]) for r in mean if r["neuron"] == neuron and r.get(key) is not None)
            if pts:
                ax.plot(*zip(*pts, strict=True), style, label=f"{neuron}, injected noise → its mean")
        for r, c in zip(curve, plt.cm.viridis([i / max(1, len(curve) - 1) for i in range(len(curve))]),
                        strict=True):
            if r.get(key) is not None:
                ax.axhline(r[key], color=c, lw=1, ls=":", label=f"rate, quiescent noise × {r['noise_scale']:g}")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("neurons per unit M")
        ax.set_title(label)
    axes[0].legend(fontsize=6)
    fig.suptitle(f"{stem}: spiking variability alone (spikes on, noise reduced to its mean)", fontsize=9)
    fig.tight_layout()
    fig.savefig(folder / f"{stem}_noise_replacement.png", dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--figures", default=None)
    parser.add_argument("--speed", default=None)
    args = parser.parse_args(argv)
    for network, rows in load(Path(args.folder)).items():
        stem = f"{Path(network).parent.name}-{Path(network).stem}"
        print(f"\n### {network}\n\n{tables(rows)}")
        if args.figures:
            Path(args.figures).mkdir(parents=True, exist_ok=True)
            figures(rows, stem, Path(args.figures))
    if args.speed:
        print(f"\n### speed\n\n{speed_table(Path(args.speed))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
