"""Figures and a text table of an E/I experiment (matplotlib, the house style of :mod:`neurorx.plotting`).

Panels: accuracy against luminosity level per condition (:func:`accuracy_panel`), paired scatter of every
condition against LN⁺ (:func:`paired_scatter`), gradient and output cosines with exact LayerNorm
(:func:`alignment_panel`) and layer moments (:func:`moments_panel`); :func:`draw_all` writes them all.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurorx.ei.experiment import CONDITIONS, load_runs

__all__ = ["accuracy_panel", "alignment_panel", "draw_all", "format_summary", "moments_panel", "paired_scatter"]

_COLORS = {"ei": "#7f7f7f", "ln_plus": "#d62728", "ln_minus": "#ff9896", "inorm": "#1f77b4", "inorm_full": "#2ca02c",
           "inorm_center": "#9467bd", "inorm_scale": "#8c564b", "inorm_decorrelate": "#e377c2",
           "inorm_lateral": "#17becf", "inorm_sub": "#aec7e8", "inorm_dann": "#98df8a"}


def _label(c: str) -> str:
    return CONDITIONS.get(c).label if c in CONDITIONS else c


def _ax(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(4.5, 3.5))
    return ax


def accuracy_panel(runs: list[dict], ax=None):
    """Test accuracy (%) against luminosity level: per condition mean ± SD and the single runs."""
    ax = _ax(ax)
    conditions = list(dict.fromkeys(r["condition"] for r in runs))
    eps = sorted({r["epsilon"] for r in runs})
    for k, c in enumerate(conditions):
        means, sds = [], []
        for e in eps:
            a = 100 * np.array([r["test_acc"] for r in runs if r["condition"] == c and r["epsilon"] == e])
            means.append(a.mean())
            sds.append(a.std())
            ax.plot(np.full(a.size, e) + 0.012 * (k - len(conditions) / 2), a, ".", color=_COLORS.get(c),
                    alpha=0.3, ms=3)
        ax.errorbar(eps, means, yerr=sds, color=_COLORS.get(c), marker="o", capsize=2, label=_label(c))
    ax.set_xlabel("luminosity level ε")
    ax.set_ylabel("test accuracy (%)")
    ax.legend(fontsize=7)
    return ax


def paired_scatter(runs: list[dict], reference: str = "ln_plus", ax=None):
    """Each run's accuracy against the paired reference run (same ε, configuration and seed)."""
    ax = _ax(ax)
    ref = {(r["epsilon"], r["config"], r["seed"]): r["test_acc"] for r in runs if r["condition"] == reference}
    lo = 100
    for c in dict.fromkeys(r["condition"] for r in runs):
        if c == reference:
            continue
        pts = np.array([(100 * ref[k], 100 * r["test_acc"]) for r in runs if r["condition"] == c
                        for k in [(r["epsilon"], r["config"], r["seed"])] if k in ref])
        if pts.size:
            ax.plot(pts[:, 0], pts[:, 1], "o", color=_COLORS.get(c), ms=3, alpha=0.7, label=_label(c))
            lo = min(lo, pts.min())
    ax.plot([lo, 100], [lo, 100], "k--", lw=0.8)
    ax.set_xlabel(f"{_label(reference)} accuracy (%)")
    ax.set_ylabel("paired accuracy (%)")
    ax.legend(fontsize=7)
    return ax


def alignment_panel(runs: list[dict], ax=None):
    """Cosine of the W_EE gradient (filled) and of the output (open) with exact LayerNorm, per condition and ε."""
    ax = _ax(ax)
    conditions = [c for c in dict.fromkeys(r["condition"] for r in runs)
                  if any("grad_cosine" in r for r in runs if r["condition"] == c)]
    eps = sorted({r["epsilon"] for r in runs})
    for k, c in enumerate(conditions):
        for what, marker in (("grad_cosine", "o"), ("output_cosine", "s")):
            for j, e in enumerate(eps):
                v = [np.mean(r[what]) for r in runs if r["condition"] == c and r["epsilon"] == e and what in r]
                x = j + 0.15 * (k - (len(conditions) - 1) / 2)
                ax.plot(np.full(len(v), x), v, marker, color=_COLORS.get(c), ms=4,
                        mfc=_COLORS.get(c) if marker == "o" else "none",
                        label=f"{_label(c)} ({'gradient' if what == 'grad_cosine' else 'output'})" if j == 0 else None)
    ax.set_xticks(range(len(eps)), [f"{e:g}" for e in eps])
    ax.set_xlabel("luminosity level ε")
    ax.set_ylabel("cosine with exact LayerNorm")
    ax.legend(fontsize=6)
    return ax


def moments_panel(runs: list[dict], ax=None):
    """Per-sample mean (x) and variance (y) of the normalized drive of every hidden layer, per condition."""
    ax = _ax(ax)
    for c in dict.fromkeys(r["condition"] for r in runs):
        m = np.array([mv for r in runs if r["condition"] == c and "moments" in r for mv in r["moments"]])
        if m.size:
            ax.plot(m[:, 0], m[:, 1], "o", color=_COLORS.get(c), ms=3, alpha=0.7, label=_label(c))
    ax.axvline(0, color="k", lw=0.5)
    ax.axhline(1, color="k", lw=0.5)
    ax.set_xlabel("mean of z over units")
    ax.set_ylabel("variance of z over units")
    ax.legend(fontsize=7)
    return ax


def draw_all(out_dir: str | Path, *, overwrite: bool = False, dpi: int = 120) -> list[Path]:
    """Draw the four panels of the experiment in ``out_dir`` into ``out_dir/figures/*.png``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from neurorx.plotting import save_figure, style

    runs = load_runs(out_dir)
    if not runs:
        raise FileNotFoundError(f"{out_dir} holds no finished runs (results.nc); run the experiment first "
                                "(neurorx ei experiment --out DIR)")
    from neurorx.staging import StagedFolder

    panels = (("accuracy_vs_epsilon", accuracy_panel), ("paired_vs_ln_plus", paired_scatter),
              ("alignment_cosines", alignment_panel), ("layer_moments", moments_panel))
    target = Path(out_dir) / "figures"
    names = tuple(f"{name}.png" for name, _ in panels)
    existing = [n for n in names if (target / n).exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{target} already holds {', '.join(existing)}; pass overwrite=True to redraw them")
    with style(), StagedFolder(target, complete=None, outputs=names, force=True, what="figures") as stage:
        for (_, fn), file in zip(panels, names, strict=True):   # all four appear together, or none
            ax = fn(runs)
            save_figure(ax, stage / file, dpi=dpi)
            plt.close(ax.figure)
    return [target / n for n in names]


def format_summary(summary: dict) -> str:
    """The table of mean accuracies (%) and the paired tests as Markdown."""
    eps = [f"{e:g}" for e in summary["epsilons"]]
    lines = ["| condition | " + " | ".join(f"ε={e}" for e in eps) + " |", "|---" * (len(eps) + 1) + "|"]
    for c, row in summary["table"].items():
        cells = [f"{100 * row[e]['mean']:.1f} ± {100 * row[e]['sd']:.1f} (n={row[e]['n']})" if e in row else "-"
                 for e in eps]
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    lines.append("")
    for name, p in summary["paired"].items():
        if p["n_pairs"]:
            pv = "n/a" if p["wilcoxon_p"] is None else f"{p['wilcoxon_p']:.3g}"
            lines.append(f"- paired {name}: mean gain {100 * p['mean_gain']:+.2f} pt, "
                         f"median {100 * p['median_gain']:+.2f} pt, {p['n_better']} better / {p['n_worse']} worse / "
                         f"{p['n_tied']} tied of {p['n_pairs']};"
                         f" Wilcoxon W={p['wilcoxon_statistic']}, p={pv}")
    for c, per in summary.get("mann_whitney_vs_ln_plus", {}).items():
        if not per:
            continue
        cells = ", ".join(f"ε={e}: U={v['U']:g}, p={v['p']:.3g}" for e, v in per.items())
        lines.append(f"- Mann-Whitney {c} vs ln_plus: {cells}")
    return "\n".join(lines)
