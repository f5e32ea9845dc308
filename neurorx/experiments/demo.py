"""The main job: the paper's active and quiescent protocols on the shipped networks, on both backends.

:func:`run_demo` loads the shipped spatial networks U^σ (noisy, unbiased) and B^σ (noisy, biased) and builds
the random-network baseline R^σ, runs ``Active(100) -> Quiescent(T_q)`` (zero input, √2 noise, starting from
the same encoded positions as the active phase) on the torch and the Brian2 backends, and reports:

- the KL matrix of Fig. 2e, KL(quiescent_X ‖ active_Y), with the uniform baseline 𝒰 (per backend);
- total variance and stepwise distance of quiescent activity (Fig. 2f, C.4);
- explained variance of hidden states (Fig. 1c);
- the torch-vs-Brian2 comparison for U^σ (:func:`neurorx.compare`);
- head direction (if shipped): quiescent mean angular velocity of the unbiased and the CCW-biased nets (C.5);
- the health of every quiescent run (:func:`neurorx.compare.recording_health`): a run whose activity collapsed
  to the noise floor or whose decoded path moves like noise is flagged in the tables and the KL figure and is
  never counted as the best reactivation; every KL(Q‖A) comes with its uniform null KL(𝒰‖A).

It writes ``report.md`` with PNG figures, ``results.json``, the configuration and versions. Progress and log
lines go to the ``neurorx`` logger (stderr); :func:`summary_table` is the result a command line prints.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from neurorx import analysis
from neurorx.analysis import STATISTICS, applicable_statistics, random_network
from neurorx.checks import positive_int
from neurorx.compare import compare, recording_health
from neurorx.errors import ConfigurationError
from neurorx.io import atomic_write_bytes
from neurorx.network import load
from neurorx.progress import get_logger
from neurorx.protocols import Active, Protocol, Quiescent
from neurorx.provenance import provenance
from neurorx.staging import StagedFolder
from neurorx.zoo import models_dir

__all__ = ["OUTPUTS", "DemoConfig", "phase_statistics", "run_demo", "summary_table"]

#: Hidden states are recorded every this many steps (for the PCA of Fig. 1c).
RECORD_EVERY = 10
#: Files the demo writes into its folder (``report.md``, written last, marks the folder complete).
OUTPUTS = ("results.json", "comparison_U_sigma.json", "trajectories.png", "kl_matrix.png", "explained_variance.png",
           "occupancy.png", "report.md")


@dataclass
class DemoConfig:
    """Settings of the demo (defaults finish in about two minutes on 2 cores).

    Attributes
    ----------
    models_dir : str
        Folder holding ``spatial_navigation/noisy_unbiased.npz`` etc. (default: the shipped networks, from
        the installed package or the checkout).
    trials, active_steps, quiescent_steps : int
        The paper uses 200 trials, 100 active steps and 1000 quiescent steps for Fig. 2e.
    seed : int
    backends : tuple of str
        Registered backends to run; the first is compared with the second (:func:`neurorx.compare`).
    backend_options : dict
        Per-backend options of :meth:`neurorx.Protocol.run_each`, e.g. ``{"brian2": {"target": "numpy"}}``.
    max_kde_points : int
        Points per cloud used to fit each KDE (a random subsample; the reference uses all B*T points).
    n_mc : int
        Monte-Carlo samples of the KL estimator (2500 in the reference).
    burn_in : float
        Fraction of a phase dropped by the statistics that use a burn-in (the total variance).
    n_boot, n_perm : int
        Bootstrap resamples and permutations of the backend comparison (smallest p: 1/(n_perm+1)).
    """

    models_dir: str = field(default_factory=lambda: str(models_dir()))
    trials: int = 100
    active_steps: int = 100
    quiescent_steps: int = 1000
    seed: int = 0
    backends: tuple[str, ...] = ("torch", "brian2")
    backend_options: dict = field(default_factory=lambda: {"brian2": {"target": "auto"}})
    max_kde_points: int = 10_000
    n_mc: int = 2500
    head_direction: bool = True
    burn_in: float = 0.5
    n_boot: int = 1999
    n_perm: int = 999
    networks: dict = field(default_factory=lambda: {
        "U^σ": "spatial_navigation/noisy_unbiased.npz",
        "B^σ": "spatial_navigation/noisy_biased.npz",
    })

    def __post_init__(self):
        for name in ("trials", "active_steps", "quiescent_steps", "max_kde_points", "n_mc"):
            positive_int(getattr(self, name), f"demo {name}")
        for name, flag in (("active_steps", "active_steps"), ("quiescent_steps", "--quiescent")):
            if getattr(self, name) < RECORD_EVERY:
                raise ConfigurationError(
                    f"demo {name}={getattr(self, name)}: the demo records hidden states every {RECORD_EVERY} "
                    f"steps, so each phase needs at least {RECORD_EVERY} steps; use {flag} {RECORD_EVERY} or more "
                    f"(the paper: 100 active, 1000 quiescent)")
        if self.seed is None or isinstance(self.seed, bool) or not isinstance(self.seed, int) or not (
                0 <= self.seed <= 2**32 - 1):
            raise ConfigurationError(f"demo seed must be an integer in [0, 2**32 - 1]; got {self.seed!r}")


def _n_pcs(h: np.ndarray, most: int = 10) -> int:
    """Principal components to report: ``most`` (the paper's 10), fewer when a small run has fewer samples."""
    return max(1, min(most, h.shape[0] * h.shape[1], h.shape[2]))


def _say(msg: str, quiet: bool) -> None:
    if not quiet:
        get_logger("demo").info(msg)


def phase_statistics(rec, circular: bool, burn_in: float) -> dict[str, dict[str, float]]:
    """``{phase: {statistic: value}}`` for every registered statistic defined for the data."""
    has_h = rec.h is not None
    return {phase: {st.name: st.value(rec.select(phase), circular, burn_in)
                    for st in applicable_statistics(circular, has_h=has_h)} for phase in rec.labels}


def run_demo(out: str | Path, config: DemoConfig | None = None, *, force: bool = False,
             quiet: bool = False) -> dict:
    """Run the demo and write its report into ``out``; returns the results dictionary.

    Raises
    ------
    FileExistsError
        If ``out`` already holds a report and ``force`` is false.
    FileNotFoundError
        If a shipped network is missing (train it with ``neurorx train``).
    """
    import matplotlib

    matplotlib.use("Agg")
    cfg = config or DemoConfig()
    folder = StagedFolder(out, complete="report.md", outputs=OUTPUTS, force=force, what="demo report")
    t_start = time.perf_counter()
    models = Path(cfg.models_dir)
    nets = {}
    for label, rel in cfg.networks.items():
        path = models / rel
        if not path.exists():
            raise FileNotFoundError(f"shipped network {path} not found; train it with `neurorx train "
                                    f"{rel.removesuffix('.npz')} --out ...` or pass --models DIR")
        nets[label] = load(path)
    with folder as stage:      # nothing appears in `out` until the report is complete
        results = _run(stage, cfg, nets, models, quiet, t_start)
    _say(f"\nreport: {folder.out / 'report.md'} ({results['seconds']:.0f} s)", quiet)
    return results


def _run(out: Path, cfg: DemoConfig, nets: dict, models: Path, quiet: bool, t_start: float) -> dict:
    """Run the protocols, compute the statistics and write the report into ``out`` (the staging folder)."""
    nets["R^σ"] = random_network(nets["U^σ"], seed=cfg.seed)
    for label, net in nets.items():
        _say(f"{label}: {net.summary()}", quiet)

    protocol = Protocol([Active(steps=cfg.active_steps), Quiescent(steps=cfg.quiescent_steps, start="reset")])
    recs: dict[str, dict[str, object]] = {b: {} for b in cfg.backends}
    for label, net in nets.items():
        t0 = time.perf_counter()
        runs = protocol.run_each(net, cfg.backends, options=cfg.backend_options, trials=cfg.trials, seed=cfg.seed,
                                 record=("h",), every=RECORD_EVERY, progress=not quiet)
        for backend, rec in runs.items():
            recs[backend][label] = rec
        _say(f"  ran {label} on {', '.join(cfg.backends)} in {time.perf_counter() - t0:.1f} s", quiet)

    rng = np.random.default_rng(cfg.seed)
    box = nets["U^σ"].task.box_width / 2 if hasattr(nets["U^σ"].task, "box_width") else 1.1
    results: dict = {"config": asdict(cfg), "versions": provenance(cfg.seed), "backends": {}}
    rows = ["U^σ", "B^σ"]
    cols = ["U^σ", "B^σ", "𝒰", "R^σ"]
    for backend in cfg.backends:
        r = recs[backend]
        act = {k: analysis.subsample_points(r[k].select("active").decoded, cfg.max_kde_points, rng) for k in rows}
        qui = {k: analysis.subsample_points(r[k].select("quiescent").decoded, cfg.max_kde_points, rng) for k in nets}
        qui["𝒰"] = analysis.uniform_box_samples(cfg.max_kde_points, box=(-box, box), seed=cfg.seed)
        kl = np.array([[analysis.kl_divergence(qui[c], act[a], n_mc=cfg.n_mc, seed=cfg.seed) for c in cols]
                       for a in rows])
        stats = {}
        for label in nets:
            q, a = r[label].select("quiescent"), r[label].select("active")
            stats[label] = {
                **phase_statistics(r[label], False, cfg.burn_in),
                "active_decoding_error_cm": float(100 * np.mean(nets[label].task.error(a.decoded, a.states))),
                "explained_variance_active": analysis.explained_variance(a.h, _n_pcs(a.h)).tolist(),
                "explained_variance_quiescent": analysis.explained_variance(q.h, _n_pcs(q.h)).tolist(),
            }
        health = {}
        for label in nets:
            h = recording_health(r[label], burn_in=cfg.burn_in, seed=cfg.seed)
            health[label] = h.to_dict()
            if h.flagged:
                _say(f"{backend}: {label} quiescent activity flagged: {'; '.join(h.flags)}", quiet)
        results["backends"][backend] = {"kl_rows_active": rows, "kl_cols_quiescent": cols, "kl": kl.tolist(),
                                        "stats": stats, "health": health}
        _say(f"{backend}: KL(Q‖A_U^σ): U^σ {kl[0, 0]:.2f}, B^σ {kl[0, 1]:.2f}, 𝒰 {kl[0, 2]:.2f}, "
             f"R^σ {kl[0, 3]:.2f} nats", quiet)
    if len(cfg.backends) >= 2:
        cmp = compare(recs[cfg.backends[0]]["U^σ"], recs[cfg.backends[1]]["U^σ"], seed=cfg.seed, n_boot=cfg.n_boot,
                      n_perm=cfg.n_perm, burn_in=cfg.burn_in, max_points=1000, n_mc=cfg.n_mc)
        results["comparison_U^σ"] = cmp.to_dict()
        cmp.to_json(out / "comparison_U_sigma.json", overwrite=True)
    else:
        cmp = None
    if cfg.head_direction:
        results["head_direction"] = _head_direction(models, cfg, quiet)
    results["seconds"] = time.perf_counter() - t_start
    figures = _figures(out, nets, recs, results, cfg)
    report = _report(results, figures, cmp, cfg)
    atomic_write_bytes(out / "report.md", report.encode(), overwrite=True)
    atomic_write_bytes(out / "results.json", json.dumps(results, indent=2, default=float).encode(), overwrite=True)
    _say(f"wrote {out / 'report.md'} ({results['seconds']:.0f} s)", quiet)
    return results


def _head_direction(models: Path, cfg: DemoConfig, quiet: bool) -> dict:
    out = {}
    paths = {"unbiased": models / "head_direction/noisy_unbiased.npz",
             "ccw_biased": models / "head_direction/noisy_biased.npz"}
    if not all(p.exists() for p in paths.values()):
        _say("head-direction networks not shipped; skipping the head-direction part", quiet)
        return out
    protocol = Protocol([Active(steps=cfg.active_steps), Quiescent(steps=cfg.quiescent_steps, start="reset")])
    velocity = STATISTICS.get("mean angular velocity")
    for name, path in paths.items():
        net = load(path)
        out[name] = {}
        runs = protocol.run_each(net, cfg.backends, options=cfg.backend_options, trials=cfg.trials, seed=cfg.seed,
                                 record=("h",), every=10, progress=not quiet)
        for backend, rec in runs.items():
            q, a = rec.select("quiescent").decoded[..., 0], rec.select("active").decoded[..., 0]
            health = recording_health(rec, burn_in=cfg.burn_in, seed=cfg.seed)
            uniform = analysis.uniform_reference(a[..., None], q.size, circular=True, seed=cfg.seed)[:, 0]
            out[name][backend] = {
                "quiescent_mean_angular_velocity": velocity.value(rec.select("quiescent"), True),
                "active_mean_angular_velocity": velocity.value(rec.select("active"), True),
                "kl_quiescent_active": float(analysis.circular_kl(q, a)),
                "kl_uniform_active": float(analysis.circular_kl(uniform, a)),
                "health": health.to_dict(),
                "active_error_deg": float(np.degrees(np.mean(net.task.error(rec.select("active").decoded,
                                                                               rec.select("active").states)))),
            }
        _say(f"head direction {name}: quiescent mean angular velocity "
             + ", ".join(f"{b} {v['quiescent_mean_angular_velocity']:.4f}" for b, v in out[name].items())
             + " rad/step", quiet)
    return out


def _figures(out: Path, nets, recs, results, cfg) -> dict[str, str]:
    """The report's four figures, each panel drawn by :mod:`neurorx.plotting`."""
    import matplotlib.pyplot as plt

    import neurorx.plotting as nplt

    figs = {}
    backends = list(recs)

    def save(fig, key):
        fig.tight_layout()
        figs[key] = f"{key}.png"
        fig.savefig(out / figs[key], dpi=110)
        plt.close(fig)

    fig, axes = plt.subplots(len(backends), 3, figsize=(12, 4 * len(backends)), squeeze=False)
    for i, backend in enumerate(backends):
        for j, label in enumerate(["U^σ", "B^σ", "R^σ"]):
            rec = recs[backend][label]
            nplt.decoded_trajectories(rec, n=3, phase="quiescent", linewidth=0.5, markers=False, ax=axes[i, j])
            nplt.decoded_trajectories(rec, n=3, phase="active", linewidth=0.8, ax=axes[i, j],
                                      title=f"{label} ({backend})")
    fig.suptitle("Decoded trajectories: active (blue), quiescent (red)")
    save(fig, "trajectories")

    fig, axes = plt.subplots(1, len(backends), figsize=(6 * len(backends), 3.6), squeeze=False)
    for ax, backend in zip(axes[0], backends, strict=True):
        res = results["backends"][backend]
        flagged = [c for c in res["kl_cols_quiescent"] if res["health"].get(c, {}).get("flagged")]
        nplt.kl_matrix(res["kl"], [f"A {r}" for r in res["kl_rows_active"]],
                       [f"Q {c}" for c in res["kl_cols_quiescent"]], ax=ax,
                       flagged_cols=[f"Q {c}" for c in flagged],
                       title=f"KL(quiescent ‖ active) ({backend})")
    save(fig, "kl_matrix")

    fig, axes = plt.subplots(1, len(backends), figsize=(5 * len(backends), 3.6), squeeze=False)
    for ax, backend in zip(axes[0], backends, strict=True):
        st = results["backends"][backend]["stats"]
        for label, colour in (("U^σ", "tab:blue"), ("B^σ", "tab:green"), ("R^σ", "tab:gray")):
            ev_a, ev_q = st[label]["explained_variance_active"], st[label]["explained_variance_quiescent"]
            nplt.explained_variance_curve(ev_a, ev_q, n_components=min(len(ev_a), len(ev_q)),
                                          legend_labels=(f"{label} active", f"{label} quiescent"),
                                          colors=(colour, colour), ax=ax, title=f"Hidden-state PCA ({backend})")
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=7, loc="best", ncols=2)
    save(fig, "explained_variance")

    fig, axes = plt.subplots(len(backends), 2, figsize=(9, 4 * len(backends)), squeeze=False)
    for i, backend in enumerate(backends):
        for j, phase in enumerate(("active", "quiescent")):
            nplt.kde_panel(recs[backend]["U^σ"], phase=phase, ax=axes[i, j], title=f"U^σ {phase} ({backend})")
    save(fig, "occupancy")
    return figs


def summary_table(results: dict) -> str:
    """The demo's result as a Markdown table: Fig. 2e's KL row of U^σ per backend, with flags and nulls.

    A quiescent run flagged by its health check (collapsed to the noise floor, or moving like noise) is marked
    ⚠; the Fig. 2e ordering (U^σ's own quiescent activity closest to its active distribution) is only
    assessed when U^σ itself is not flagged.
    """
    lines = ["| backend | KL(Q_U^σ‖A_U^σ) | KL(Q_B^σ‖A_U^σ) | KL(𝒰‖A_U^σ) (null) | KL(Q_R^σ‖A_U^σ) | "
             "Fig. 2e ordering | quiescent total variance U^σ (m²) | active decoding error U^σ (cm) | "
             "flagged quiescent runs |",
             "|---|---|---|---|---|---|---|---|---|"]
    for backend, res in results["backends"].items():
        kl = np.array(res["kl"])[0]
        health = res.get("health", {})
        flagged = [label for label, h in health.items() if h.get("flagged")]
        cols = res["kl_cols_quiescent"]
        cell = [f"{max(v, 0.0):.2f}" + (" ⚠" if c in flagged else "") for v, c in zip(kl, cols, strict=True)]
        if "U^σ" in flagged:
            verdict = "not assessed (U^σ flagged)"
        else:
            verdict = "holds" if kl[0] < kl[1] and kl[0] < kl[3] else "VIOLATED"
        st = res["stats"]["U^σ"]
        lines.append(f"| {backend} | {' | '.join(cell)} | {verdict} | {st['quiescent']['total variance']:.4f} | "
                     f"{st['active_decoding_error_cm']:.1f} | {', '.join(flagged) or 'none'} |")
    return "\n".join(lines)


def _health_table(results: dict) -> list[str]:
    """One row per backend and network: the health of its quiescent activity."""
    lines = ["| backend | network | mean abs(h) active → quiescent | noise-floor fraction | stepwise active → "
             "quiescent | stepwise / shuffled | verdict |", "|---|---|---|---|---|---|---|"]
    rows = [(b, label, h) for b, res in results["backends"].items() for label, h in res.get("health", {}).items()]
    rows += [(b, f"HD {name}", v["health"]) for name, per in (results.get("head_direction") or {}).items()
             for b, v in per.items() if "health" in v]
    for backend, label, h in rows:
        act = ("–" if h["mean_abs_h_active"] is None
               else f"{h['mean_abs_h_active']:.3g} → {h['mean_abs_h_quiescent']:.3g}")
        nf = "–" if h["noise_fraction_quiescent"] is None else f"{h['noise_fraction_quiescent']:.2f}"
        verdict = "⚠ " + "; ".join(h["flags"]) if h["flagged"] else "ok"
        lines.append(f"| {backend} | {label} | {act} | {nf} | {h['stepwise_active']:.3g} → "
                     f"{h['stepwise_quiescent']:.3g} | {h['path_noise_quiescent']:.2f} | {verdict} |")
    return lines


def _statistics_table(results: dict) -> list[str]:
    """One row per backend, network and phase; one column per registered statistic."""
    names = [st.name for st in applicable_statistics(circular=False)]
    units = {st.name: st.unit_for(False) for st in applicable_statistics(circular=False)}
    lines = ["| backend | network | phase | " + " | ".join(f"{n} ({units[n]})" for n in names) + " |",
             "|---|---|---|" + "---|" * len(names)]
    for backend, res in results["backends"].items():
        for label, st in res["stats"].items():
            for phase in ("active", "quiescent"):
                cells = [f"{st[phase][n]:.4g}" if n in st[phase] else "–" for n in names]
                lines.append(f"| {backend} | {label} | {phase} | " + " | ".join(cells) + " |")
    return lines


def _report(results: dict, figures: dict, cmp, cfg: DemoConfig) -> str:
    parts = [
        "# neurorx demo: offline reactivation on both backends",
        "",
        f"Protocol: `Active({cfg.active_steps})` then `Quiescent({cfg.quiescent_steps}, start='reset')` "
        f"(zero input, noise ×√2), {cfg.trials} trials, seed {cfg.seed}. KL estimates use the corrected "
        f"estimator on KDEs of up to {cfg.max_kde_points} decoded points, {cfg.n_mc} Monte-Carlo samples.",
        "",
        "## Fig. 2e: is quiescent activity closest to its own active distribution?",
        "",
        summary_table(results),
        "",
        "𝒰: points uniform on the arena, the null a reactivation KL must beat. ⚠: the quiescent run was flagged "
        "by its health check (below); its KL is not evidence of reactivation and it is never ranked best.",
        "",
        f"![KL matrix]({figures['kl_matrix']})",
        "",
        "## Health of the quiescent activity",
        "",
        "Mean abs(h) against the active phase, the fraction of the quiescent hidden-state variance that the noise "
        "alone would give (noise floor), and the decoded stepwise distance against the active phase and against "
        "the same points in random order (`neurorx.analysis.reactivation_health`). R^σ is the random-weight "
        "baseline: its activity is noise by design.",
        "",
        *_health_table(results),
        "",
        "## Decoded trajectories and occupancy",
        "",
        f"![trajectories]({figures['trajectories']})",
        "",
        f"![occupancy]({figures['occupancy']})",
        "",
        "## Hidden-state PCA (Fig. 1c)",
        "",
        f"![explained variance]({figures['explained_variance']})",
        "",
        "## Statistics per phase",
        "",
        f"Every statistic of `neurorx.analysis.STATISTICS` defined for positions (burn-in {cfg.burn_in:g} of the "
        "phase where a statistic uses one).",
        "",
    ]
    parts += _statistics_table(results)
    if cmp is not None:
        parts += ["", f"## {cmp.names[0]} vs {cmp.names[1]} (U^σ)", "",
                  "`neurorx.compare` fits its KDEs to every decoded point of a phase (trials × steps), the table "
                  f"above to at most {cfg.max_kde_points} per cloud. A KDE's bandwidth shrinks with the number of "
                  "points, so the same KL comes out differently at the two sample sizes; compare KL values "
                  "only at equal sample sizes.", "", cmp.table()]
    hd = results.get("head_direction") or {}
    if hd:
        parts += ["", "## Head direction (Fig. C.5)", "",
                  "| network | backend | quiescent mean angular velocity (rad/step) | active (rad/step) | "
                  "circular KL(Q‖A) | circular KL(𝒰‖A) (null) | active error (deg) |",
                  "|---|---|---|---|---|---|---|"]
        for name, per in hd.items():
            for backend, v in per.items():
                flag = " ⚠" if v.get("health", {}).get("flagged") else ""
                parts.append(f"| {name} | {backend} | {v['quiescent_mean_angular_velocity']:.4f} | "
                             f"{v['active_mean_angular_velocity']:.4f} | {v['kl_quiescent_active']:.3f}{flag} | "
                             f"{v['kl_uniform_active']:.3f} | {v['active_error_deg']:.1f} |")
        parts += ["", "The active head-direction distribution is close to uniform, so KL(Q‖A) is small for any "
                      "quiescent activity that spreads over the circle, noise included: read it against the null "
                      "and the health table above."]
    v = results["versions"]
    parts += ["", "## Provenance", "",
              f"neurorx {v['neurorx']} (commit {v['git_commit']}), torch {v['torch']}, brian2 {v['brian2']}, "
              f"numpy {v['numpy']}, python {v['python']}; {results['seconds']:.0f} s.", ""]
    return "\n".join(parts)
