"""Issue 14: do networks that obey Dale's law reactivate? Dale (E/I) networks beside unconstrained ones.

For every pair ``LABEL=DALE.npz,UNCONSTRAINED.npz`` (networks trained on the same task) and every backend:
an active phase (100 steps of inputs) then a quiescent phase (reset, no inputs, the training noise). Measured:
decoding error of the active phase (against chance), KL(quiescent ‖ active) of the decoded outputs for every
row/column pair plus the uniform distribution and an untrained network R^σ of the same cell, total variance and
stepwise distance of the quiescent decoded trajectories, the fraction of quiescent state variance on the first
``--pcs`` active principal components (PCA overlap), and per population of the Dale network: the same overlap for
E and I units separately and the correlation over time of the E and I population mean rates in quiescence
(does quiescent I activity track E?). Writes ``table.csv`` (one row per network, backend, pair), ``table.md``
(the same rows, the columns a reader compares, one table over every pair, noise family and backend) and one
figure per pair. The KL values use the corrected estimator (:func:`neurorx.analysis.kl_table`).

    S=models/spatial_navigation
    python protocols/dale_reactivation.py \\
        --pair U=$S/noisy_unbiased_dale.npz,$S/noisy_unbiased.npz \\
        --pair U_gauss=$S/noisy_unbiased_white_dale.npz,$S/noisy_unbiased_white.npz \\
        --out runs/dale_reactivation
"""

import csv
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

import neurorx as nrx
import neurorx.plotting as nplt
from neurorx.examples import example_parser, output_folder, parse_example_args, run_backends
from neurorx.models.cells import get_cell
from neurorx.models.rnn import RecurrentModel

parser = example_parser(__doc__, "dale_reactivation", models=True, backends=True,
                        quiescent=(1000, 30, "steps of quiescence"),
                        pcs=(10, 3, "active principal components for the overlap"))
parser.add_argument("--pair", action="append", metavar="LABEL=DALE,UNCONSTRAINED",
                    help="a Dale network and its unconstrained counterpart (paths to .npz files)")
args = parse_example_args(parser)
if not args.pair:                      # the shipped head-direction pair
    hd = Path(args.models) / "head_direction"
    args.pair = [f"HD={hd / 'noisy_unbiased_dale.npz'},{hd / 'noisy_unbiased.npz'}"]
out = output_folder(args)


def untrained_like(net, seed):
    """R^σ: an untrained network of ``net``'s cell (its own initialisation), shapes, task and noise."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = RecurrentModel(net.cell, net.n_in, net.n_rec, net.n_out, net.n_init, net.alpha, net.activation)
    return nrx.RateNetwork.from_torch(model, tau=net.tau_quantity, dt=net.dt_quantity, noise=dict(net.noise),
                                      task=net.task, config={"baseline": "random", "seed": seed})


def pca_overlap(active_h, quiet_h, k):
    """Fraction of the quiescent states' variance (about their mean) on the first ``k`` active PCs."""
    pca = nrx.analysis.fit_pca(active_h, n_components=min(k, active_h.shape[-1]))
    q = quiet_h.reshape(-1, quiet_h.shape[-1])
    q = q - q.mean(axis=0)
    total = float((q**2).sum())
    return float((q @ pca.components_.T).__pow__(2).sum() / total) if total > 0 else math.nan


def ei_tracking(quiet_h, pops):
    """Mean over trials of the correlation over time of the E and I population mean rates [h]+."""
    r = np.maximum(quiet_h, 0.0)
    e, i = r[..., pops["E"]].mean(axis=-1), r[..., pops["I"]].mean(axis=-1)
    cs = [np.corrcoef(a, b)[0, 1] for a, b in zip(e, i, strict=True) if a.std() > 0 and b.std() > 0]
    return float(np.mean(cs)) if cs else math.nan


def noise_family(net):
    """The recurrent noise the network was trained (and is run) with: its registered name."""
    rec = dict(net.noise).get("recurrent")
    return getattr(rec, "name", "none") if rec is not None else "none"


#: Columns of table.md: column of table.csv -> header.
SUMMARY = {"pair": "pair", "noise": "noise", "backend": "backend", "network": "network",
           "trained_batches": "batches", "active_error": "active error", "chance_error": "chance",
           "kl_q_vs_own_active": "KL(Q‖own A)", "kl_q_vs_unconstrained_active": "KL(Q‖A unconstr.)",
           "kl_uniform_vs_own_active": "KL(𝒰‖own A)", "total_variance": "total var.",
           "stepwise_distance": "step dist.", "pca_overlap": "PCA overlap",
           "ei_rate_correlation_quiescent": "E–I corr. (Q)"}


def markdown_table(rows):
    """``rows`` (dicts of table.csv) as one markdown table of the :data:`SUMMARY` columns, 3 significant digits."""
    def cell(v):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "–"
        return f"{v:.3g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(SUMMARY.values()) + " |", "|" + "---|" * len(SUMMARY)]
    lines += ["| " + " | ".join(cell(r.get(k)) for k in SUMMARY) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def kl_matrix(active, quiescent, circular):
    if circular:
        return np.array([[nrx.analysis.circular_kl(q.select("quiescent").decoded if hasattr(q, "select") else q,
                                                   a.select("active").decoded) for q in quiescent.values()]
                         for a in active.values()])
    return nplt.kl_table(active, quiescent, seed=args.seed)


protocol = nrx.Protocol([nrx.Active(steps=100), nrx.Quiescent(steps=args.quiescent, start="reset")])
rows = []
for spec in args.pair:
    label, paths = spec.split("=", 1)
    dale_path, free_path = paths.split(",")
    nets = {"Dale": nrx.load(dale_path), "unconstrained": nrx.load(free_path)}
    circular = bool(getattr(nets["Dale"].task, "circular", False))
    nets["R^σ Dale"] = untrained_like(nets["Dale"], args.seed)
    runs = {k: run_backends(protocol, net, args, record=("h",)) for k, net in nets.items()}
    rng = np.random.default_rng(args.seed)
    uniform = (rng.uniform(-np.pi, np.pi, size=(20_000, 1)) if circular
               else nrx.analysis.uniform_box_samples(20_000, seed=args.seed))
    fig, axes = plt.subplots(len(args.backends), 5, figsize=(26, 4.8 * len(args.backends)), squeeze=False,
                             subplot_kw=None)
    for row, backend in zip(axes, args.backends, strict=True):
        recs = {k: r[backend] for k, r in runs.items()}
        active = {k: recs[k] for k in ("Dale", "unconstrained")}
        quiescent = dict(active) | {"uniform": uniform, "R^σ Dale": recs["R^σ Dale"]}
        kl = kl_matrix(active, quiescent, circular)
        for name in ("Dale", "unconstrained", "R^σ Dale"):
            rec, net = recs[name], nets[name]
            act, quiet = rec.select("active"), rec.select("quiescent")
            err = net.task.error(act.decoded, act.states)
            q_dec = quiet.decoded
            rec_row = {
                "pair": label, "noise": noise_family(net), "backend": backend, "network": name, "cell": net.cell,
                "n_rec": net.n_rec,
                "trained_batches": (net.metrics.get("final") or {}).get("batch"),
                "active_error": float(np.mean(err)), "chance_error": float(net.task.chance_error()),
                "kl_q_vs_own_active": float(kl[list(active).index(name), list(quiescent).index(name)])
                if name in active else math.nan,
                "kl_q_vs_unconstrained_active": float(kl[1, list(quiescent).index(name)]),
                "kl_uniform_vs_own_active": float(kl[list(active).index(name), list(quiescent).index("uniform")])
                if name in active else math.nan,
                "total_variance": float(nrx.analysis.total_variance(q_dec, burn_in=args.quiescent // 2,
                                                                    circular=circular)),
                "stepwise_distance": float(nrx.analysis.stepwise_distance(q_dec, circular=circular).mean()),
                "pca_overlap": pca_overlap(act.h, quiet.h, args.pcs),
            }
            pops = get_cell(net.cell).populations(net.n_rec)
            if pops:
                rec_row["pca_overlap_E"] = pca_overlap(act.h[..., pops["E"]], quiet.h[..., pops["E"]], args.pcs)
                rec_row["pca_overlap_I"] = pca_overlap(act.h[..., pops["I"]], quiet.h[..., pops["I"]], args.pcs)
                rec_row["ei_rate_correlation_quiescent"] = ei_tracking(quiet.h, pops)
                rec_row["ei_rate_correlation_active"] = ei_tracking(act.h, pops)
            rows.append(rec_row)
            print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in rec_row.items()}, flush=True)
        # the figure: quiescent decoded outputs of both networks, the KL matrix, E and I mean rates in quiescence
        for j, name in enumerate(("Dale", "unconstrained")):
            if circular:
                ax = fig.add_subplot(len(args.backends), 5, 5 * list(args.backends).index(backend) + j + 1,
                                     projection="polar")
                row[j].remove()
                nplt.polar_histogram_panel(recs[name], phase="quiescent", ax=ax, title=f"{name} quiescent ({backend})")
            else:
                nplt.kde_panel(recs[name], phase="quiescent", ax=row[j], title=f"{name} quiescent KDE ({backend})")
        nplt.kl_matrix(kl, [f"A {k}" for k in active], [f"Q {k}" for k in quiescent], ax=row[2],
                       title=f"KL(Q‖A) nats ({backend})")
        quiet_h = recs["Dale"].select("quiescent").h
        pops = get_cell(nets["Dale"].cell).populations(nets["Dale"].n_rec)
        for pop, color in (("E", "tab:red"), ("I", "tab:blue")):
            rates = np.maximum(quiet_h[..., pops[pop]], 0).mean(axis=-1)
            row[3].plot(rates[:3].T, color=color, lw=0.8)
            row[3].plot([], [], color=color, label=f"{pop} mean rate")
        row[3].set(title=f"Dale quiescent population rates, 3 trials ({backend})", xlabel="step")
        row[3].legend()
        groups = {k: recs[k] for k in ("Dale", "unconstrained", "R^σ Dale")}
        nplt.statistic_boxplot(groups, "stepwise distance", ax=row[4],
                               title=f"quiescent stepwise distance ({backend})")
    fig.suptitle(f"{label}: Dale (E/I) vs unconstrained, {args.trials} trials, {args.quiescent} quiescent steps")
    fig.tight_layout()
    print("saved", nplt.save_figure(fig, out / f"dale_reactivation_{label}.png", overwrite=args.force, dpi=110))
    plt.close(fig)

keys = list(dict.fromkeys(k for r in rows for k in r))
with open(out / "table.csv", "w", newline="", encoding="utf-8") as fh:
    writer = csv.DictWriter(fh, fieldnames=keys)
    writer.writeheader()
    writer.writerows(rows)
print("saved", out / "table.csv")
(out / "table.md").write_text(markdown_table(rows), encoding="utf-8")
print("saved", out / "table.md")
