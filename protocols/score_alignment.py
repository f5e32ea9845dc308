"""Score alignment: is the quiescent drift of a trained network the score of its active states?

Measures the mechanism of the paper's theory (Eqs. 16-19) on the shipped spatial-navigation networks:
the cosine and best-fit scale of the deterministic zero-input drift against the score of the active hidden-state
distribution (KDE gradient and denoising score matching, in the leading-PC subspace), with bootstrap intervals
over trials, for the noisy networks (both noise families, torch and Brian2 active recordings) and the controls
(noiseless-trained, random, biased network on unbiased trajectories, permuted units); the Brian2 noise-off flow
at dt_factor 1 and 16; and the quiescent stationary law against the temperature prediction p^(2/k^2).

    python protocols/score_alignment.py --trials 100 --out docs/figures/score

Stages are cached under --cache (resumable: rerun the same command); --force overwrites the figure and JSON.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np

import neurorx as nrx
from neurorx.analysis import random_weights
from neurorx.analysis import score as sc
from neurorx.examples import example_parser, load_example_network, parse_example_args

SP = "spatial_navigation"
NOISY = {"uniform": "noisy_unbiased", "white": "noisy_unbiased_white"}
BIASED = {"uniform": "noisy_biased", "white": "noisy_biased_white"}
K_VALUES = (0.5, 0.75, 1.0, math.sqrt(2), 2.0, 2 * math.sqrt(2))


def cached(cache: Path, name: str, fn, *fn_args, **fn_kwargs):
    """Return the JSON-able result of ``fn(*fn_args, **fn_kwargs)``, computed once and kept in ``cache/name.json``."""
    path = cache / f"{name}.json"
    if path.exists():
        return json.loads(path.read_text())
    t0 = time.time()
    out = fn(*fn_args, **fn_kwargs)
    out["wall_s"] = round(time.time() - t0, 1)
    nrx.io.atomic_write_bytes(path, json.dumps(out, indent=1).encode(), overwrite=True)
    print(f"[{name}] {out.get('summary', {}).get('mean_cosine', '')} ({out['wall_s']} s)", flush=True)
    return out


def active_states(net, args, cache: Path, name: str, backend: str = "torch", task=None) -> np.ndarray:
    """Active hidden states (B, samples, N), burn-in dropped; cached as .npy."""
    path = cache / f"states_{name}_{backend}.npy"
    if path.exists():
        return np.load(path, allow_pickle=False)
    opts = {"target": args.target} if backend == "brian2" else {}
    rec = nrx.Protocol([nrx.Active(steps=args.steps)]).run(net, backend=backend, trials=args.trials, seed=args.seed,
                                                          record=("h",), every=args.every, task=task, progress=True,
                                                          **opts)
    h = rec.h[:, args.burn_in // args.every:].astype(np.float64)
    np.save(path, h)
    return h


def align(net, states, args, estimator="kde", **kw) -> dict:
    r = sc.score_alignment(net, states, estimator=estimator, variance=args.variance, max_components=args.max_pcs,
                           seed=args.seed, **kw)
    ci = sc.alignment_intervals(r, n_resamples=args.n_boot, seed=args.seed)
    out = {"summary": r.summary(), "intervals": ci}
    if estimator == "kde" and kw.get("noise_mean", 1.0) == 1.0:
        # arrows for the figure: 300 samples in PC1-PC2
        n = r.points.shape[0] * r.points.shape[1]
        idx = np.random.default_rng(args.seed).choice(n, min(n, 300), replace=False)
        out["arrows"] = {k: getattr(r, k).reshape(-1, r.subspace.n_components)[idx, :2].tolist()
                         for k in ("points", "drift", "score")}
        out["points_2d"] = r.points.reshape(-1, r.subspace.n_components)[::3, :2].tolist()
    return out


def noisy_networks(args):
    """The noisy spatial-navigation networks of both noise families: ``(family, network)`` pairs."""
    for family in ("uniform", "white"):
        yield family, load_example_network(args, f"{SP}/{NOISY[family]}.npz")


def agreement(vectors: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """Mean row-wise cosine of ``vectors`` with ``reference``, and the least-squares scale of one onto the other."""
    return (float(sc.cosine_similarity(vectors, reference).mean()),
            float(np.sum(vectors * reference) / np.sum(reference * reference)))


def random_network(template, seed: int):
    w = random_weights(template.n_rec, template.n_in, template.n_out, template.n_init, seed=seed)
    return nrx.RateNetwork.from_arrays(**w, tau=template.tau_quantity, dt=template.dt_quantity,
                                       noise=dict(template.noise), task=template.task)


def alignment_stage(args, cache: Path) -> dict:
    results = {}
    for family, net in noisy_networks(args):
        sigma = math.sqrt(sc.noise_step_moments(net)[1])
        for backend in args.backends:
            h = active_states(net, args, cache, NOISY[family], backend)
            results[f"{family}/noisy/{backend}/kde"] = cached(cache, f"{family}_noisy_{backend}_kde",
                                                               align, net, h, args)
            if family == "uniform":
                for nm in (0.0, math.sqrt(2)):
                    results[f"{family}/noisy/{backend}/kde/noise_mean={nm:.3g}"] = cached(
                        cache, f"{family}_noisy_{backend}_kde_nm{nm:.3g}", align, net, h, args, noise_mean=nm)
        h = active_states(net, args, cache, NOISY[family], "torch")
        results[f"{family}/noisy/torch/dsm"] = cached(cache, f"{family}_noisy_torch_dsm",
                                                       align, net, h, args, "dsm", steps=args.dsm_steps)
        perm = np.random.default_rng(args.seed).permutation(net.n_rec)
        results[f"{family}/permuted/torch/kde"] = cached(cache, f"{family}_permuted_kde",
                                                          align, net, h[..., perm], args)
        biased = load_example_network(args, f"{SP}/{BIASED[family]}.npz")
        hb = active_states(biased, args, cache, BIASED[family] + "_on_unbiased", "torch", task=net.task)
        results[f"{family}/biased_on_unbiased/torch/kde"] = cached(cache, f"{family}_biased_on_unbiased_kde",
                                                                    align, biased, hb, args)
        hbb = active_states(biased, args, cache, BIASED[family], "torch")
        results[f"{family}/biased_own/torch/kde"] = cached(cache, f"{family}_biased_own_kde",
                                                            align, biased, hbb, args)
        rnd = random_network(net, args.seed)
        hr = active_states(rnd, args, cache, f"random_{family}", "torch")
        results[f"{family}/random/torch/kde"] = cached(cache, f"{family}_random_kde", align, rnd, hr, args)
        if family == "uniform":
            quiet = load_example_network(args, f"{SP}/no-noise_unbiased.npz")
            hq = active_states(quiet, args, cache, "no-noise_unbiased", "torch")
            results["none/noiseless/torch/kde"] = cached(cache, "noiseless_kde", align, quiet, hq, args)
            results["none/noiseless/torch/dsm"] = cached(
                cache, "noiseless_dsm", align, quiet, hq, args, "dsm", sigma=sigma, steps=args.dsm_steps)
    return results


def head_direction_stage(args, cache: Path) -> dict:
    """The head-direction networks (reference uniform noise only): noisy vs permuted, random, biased."""
    results = {}
    net = load_example_network(args, "head_direction/noisy_unbiased.npz")
    h = active_states(net, args, cache, "hd_noisy_unbiased", "torch")
    results["hd/noisy/torch/kde"] = cached(cache, "hd_noisy_kde", align, net, h, args)
    perm = np.random.default_rng(args.seed).permutation(net.n_rec)
    results["hd/permuted/torch/kde"] = cached(cache, "hd_permuted_kde", align, net, h[..., perm], args)
    biased = load_example_network(args, "head_direction/noisy_biased.npz")
    hb = active_states(biased, args, cache, "hd_noisy_biased_on_unbiased", "torch", task=net.task)
    results["hd/biased_on_unbiased/torch/kde"] = cached(cache, "hd_biased_on_unbiased_kde", align, biased, hb, args)
    rnd = random_network(net, args.seed)
    hr = active_states(rnd, args, cache, "hd_random", "torch")
    results["hd/random/torch/kde"] = cached(cache, "hd_random_kde", align, rnd, hr, args)
    for r in results.values():
        r.pop("arrows", None)
        r.pop("points_2d", None)
    return results


def noise_mean_stage(args, cache: Path) -> dict:
    """How the bare cell drift compares with the reference uniform noise's mean s/2 per step."""
    def measure(net, h):
        d0, d1 = sc.quiescent_drift(net, h, noise_mean=0), sc.quiescent_drift(net, h)
        return {"noise_mean_per_step": sc.noise_step_moments(net)[0],
                "bare_drift_mean": float(d0.mean()), "bare_drift_rms": float(np.sqrt((d0**2).mean())),
                "drift_with_noise_mean_mean": float(d1.mean()),
                "drift_with_noise_mean_rms": float(np.sqrt((d1**2).mean()))}

    out = {}
    for name in (NOISY["uniform"], NOISY["white"], "no-noise_unbiased"):
        net = load_example_network(args, f"{SP}/{name}.npz")
        h = active_states(net, args, cache, name, "torch")[:, ::5]
        out[name] = cached(cache, f"noise_mean_{name}", measure, net, h)
    return out


def flow_stage(args, cache: Path) -> dict:
    out = {}
    for family, net in noisy_networks(args):
        h = active_states(net, args, cache, NOISY[family], "torch")

        def measure(net, h):
            n = h.shape[0] * h.shape[1]
            idx = np.random.default_rng(args.seed).choice(n, min(n, args.flow_samples), replace=False)
            pts = h.reshape(-1, net.n_rec)[idx]
            mean = sc.noise_step_moments(net)[0]
            euler = sc.quiescent_drift(net, pts)
            res = {"samples": len(pts)}
            sub = sc.fit_subspace(h, variance=args.variance, max_components=args.max_pcs)
            score = sc.kde_score(sub.project(h.reshape(-1, net.n_rec)), sub.project(pts), seed=args.seed)
            for f in args.dt_factors:
                flow = sc.continuous_flow(net, pts, backend="brian2", dt_factor=f, target=args.target) + mean
                cosine, scale = agreement(sub.project_vectors(flow), score)
                res[f"brian2_dt_factor_{f}"] = {
                    "cosine_vs_euler_full": float(sc.cosine_similarity(flow, euler).mean()),
                    "relative_difference_vs_euler": float(np.linalg.norm(flow - euler) / np.linalg.norm(euler)),
                    "mean_cosine_vs_score": cosine, "scale_vs_score": scale,
                }
            cosine, scale = agreement(sub.project_vectors(euler), score)
            res["euler"] = {"mean_cosine_vs_score": cosine, "scale_vs_score": scale}
            return res

        out[family] = cached(cache, f"{family}_flow", measure, net, h)
    return out


def temperature_stage(args, cache: Path) -> dict:
    out = {}
    for family, net in noisy_networks(args):
        rows = []
        for k in K_VALUES:
            def measure(net, k):
                proto = nrx.Protocol([nrx.Active(steps=args.steps),
                                      nrx.Quiescent(steps=args.q_steps, noise_scale=k)])
                rec = proto.run(net, trials=args.q_trials, seed=args.seed, record=("h",), every=args.every,
                                progress=True)
                act_mask = rec.phase[rec.record_index] == "active"
                ha = rec.h[:, act_mask][:, args.burn_in // args.every:]
                hq = rec.h[:, ~act_mask][:, args.q_burn_in // args.every:]
                sub = sc.fit_subspace(ha, n_components=2)
                za, zq = sub.project(ha).reshape(-1, 2), sub.project(hq).reshape(-1, 2)
                res = sc.tempered_comparison(za, zq, k)
                res["quiescent_mean_pc"] = zq.mean(0).tolist()
                res["active_mean_pc"] = za.mean(0).tolist()
                res["quiescent_points"] = zq[::7].tolist()
                return res
            rows.append(cached(cache, f"{family}_temperature_k{k:.3f}", measure, net, k))
        out[family] = rows
    return out


def synthetic_stage(args, cache: Path) -> dict:
    """The known answer: a linear network (identity activation, symmetric W_rec, white noise), an Euler-OU map
    with a Gaussian stationary law N(0, Sigma), Sigma = A Sigma A^T + s^2 I; score -Sigma^{-1} h."""
    from brian2 import ms
    from scipy.linalg import solve_discrete_lyapunov

    from neurorx.noise import WhiteNoise
    from neurorx.tasks import SpatialNavigation

    def measure():
        rng = np.random.default_rng(0)
        q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
        w_rec = q @ np.diag([0.5, 0.8, 0.9]) @ q.T
        net = nrx.RateNetwork.from_arrays(
            encoder=rng.normal(size=(3, 16)) * 0.05, w_in=np.zeros((3, 2)), w_rec=w_rec,
            w_out=rng.normal(size=(16, 3)), tau=100 * ms, dt=20 * ms, activation="identity",
            noise={"recurrent": WhiteNoise.from_step_std(0.1, 20 * ms)}, task=SpatialNavigation(n_cells=16, seed=0))
        rec = nrx.Protocol([nrx.Active(steps=300)]).run(net, trials=100, seed=0, record=("h",), every=3)
        h = rec.h[:, 50:]
        euler = np.eye(3) + net.alpha * (w_rec - np.eye(3))
        sigma = solve_discrete_lyapunov(euler, 0.1**2 * np.eye(3))
        out = {"network": "3 units, identity, eigenvalues (0.5, 0.8, 0.9), a = 0.2, per-step noise SD 0.1",
               "samples": int(h.shape[0] * h.shape[1])}
        for name in ("kde", "dsm"):
            r = sc.score_alignment(net, h, estimator=name, n_components=3, noise_mean=0, steps=800)
            sub = r.subspace
            z = r.points.reshape(-1, 3)
            zc = z + sub.mean @ sub.components.T
            exact = -zc @ np.linalg.inv(sub.components @ sigma @ sub.components.T).T
            est, d = r.score.reshape(-1, 3), r.drift.reshape(-1, 3)
            cosine, scale = agreement(est, exact)
            out[name] = {"cosine_estimate_vs_exact": cosine, "scale_estimate_vs_exact": scale,
                         "mean_cosine_drift_vs_estimate": r.mean_cosine, "scale_drift_vs_estimate": r.scale,
                         "scale_drift_vs_exact": agreement(d, exact)[1],
                         "langevin_prediction_v_over_2": 0.1**2 / 2, "theory_scale_v": r.theory_scale}
        return out

    return cached(cache, "synthetic", measure)


def draw(results: dict, path: Path, force: bool) -> None:
    import matplotlib.pyplot as plt

    from neurorx.analysis import kde_grid

    fig, axes = plt.subplots(2, 3, figsize=(16, 9.5))
    for ax, family in zip(axes[0, :2], ("uniform", "white"), strict=True):
        main = results["alignment"][f"{family}/noisy/torch/kde"]
        pts = np.asarray(main["points_2d"])
        lo, hi = pts.min(0), pts.max(0)
        gx, gy, dens = kde_grid(pts, (lo[0], hi[0], lo[1], hi[1]), n=80)
        ax.contourf(gx, gy, dens, levels=12, cmap="Greys")
        a = {k: np.asarray(v) for k, v in main["arrows"].items()}
        dn = a["drift"] / np.linalg.norm(a["drift"], axis=1, keepdims=True)
        sn = a["score"] / np.linalg.norm(a["score"], axis=1, keepdims=True)
        span = float(np.max(hi - lo)) * 0.04
        ax.quiver(a["points"][:, 0], a["points"][:, 1], dn[:, 0] * span, dn[:, 1] * span, color="tab:red",
                  angles="xy", scale_units="xy", scale=1, width=0.003, label="drift (direction)")
        ax.quiver(a["points"][:, 0], a["points"][:, 1], sn[:, 0] * span, sn[:, 1] * span, color="tab:blue",
                  angles="xy", scale_units="xy", scale=1, width=0.003, label="KDE score (direction)")
        s = main["summary"]
        ax.set_title(f"{NOISY[family]}: drift vs score on PC1-PC2\nmean cos {s['mean_cosine']:.2f} "
                     f"({s['n_components']} PCs, {100 * s['explained_variance']:.0f}% var)")
        ax.set_xlabel("PC1")
        ax.set_ylabel("PC2")
        ax.legend(loc="lower right", fontsize=8)
    ax = axes[0, 2]
    for family, color in (("uniform", "tab:orange"), ("white", "tab:green")):
        s = results["alignment"][f"{family}/noisy/torch/kde"]["summary"]
        ax.plot(range(1, 6), s["cosine_by_density_quintile"], "o-", color=color, label=f"{family} (KDE)")
    ax.set_xlabel("active log-density quintile (1 = rarest states)")
    ax.set_ylabel("mean cosine(drift, score)")
    ax.set_title("where drift and score disagree")
    ax.legend()
    ax = axes[1, 0]
    keys = [k for k in results["alignment"] if "noise_mean" not in k]
    for i, key in enumerate(keys):
        r = results["alignment"][key]
        m, (lo_, hi_) = r["summary"]["mean_cosine"], r["intervals"]["mean_cosine"]
        color = {"uniform": "tab:orange", "white": "tab:green", "none": "tab:gray"}[key.split("/")[0]]
        ax.errorbar(m, i, xerr=[[m - lo_], [hi_ - m]], fmt="o", color=color, label="cosine" if i == 0 else None)
        m, (lo_, hi_) = r["summary"]["mean_nonlinear_cosine"], r["intervals"]["mean_nonlinear_cosine"]
        ax.errorbar(m, i + 0.3, xerr=[[m - lo_], [hi_ - m]], fmt="x", color=color, alpha=0.7,
                    label="non-linear cosine (affine parts removed)" if i == 0 else None)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_yticks(range(len(keys)))
    ax.set_yticklabels(keys, fontsize=7)
    ax.axvline(0, color="k", lw=0.5)
    ax.set_xlabel("mean cosine (o) and non-linear cosine (x), 95% bootstrap over trials")
    ax.set_title("alignment per condition")
    for ax, what in zip(axes[1, 1:], ("kl", "var"), strict=True):
        for family, color in (("uniform", "tab:orange"), ("white", "tab:green")):
            rows = results["temperature"][family]
            ks = [r["k"] for r in rows]
            if what == "kl":
                ax.plot(ks, [r["kl_quiescent_active"] for r in rows], "o-", color=color,
                        label=f"{family}: measured KL(quiescent || active)")
                ax.plot(ks, [r["kl_tempered_active"] for r in rows], "s--", color=color, alpha=0.6,
                        label=f"{family}: predicted KL(p^(2/k^2) || active)")
            else:
                ax.plot(ks, [r["sample_variance_ratio"] for r in rows], "o-", color=color,
                        label=f"{family}: measured var(quiescent)/var(active)")
                ax.plot(ks, [r["predicted_variance_ratio"] for r in rows], "s--", color=color, alpha=0.6,
                        label=f"{family}: tempered KDE")
        if what == "var":
            kk = np.linspace(0.5, 2.9, 50)
            ax.plot(kk, kk**2 / 2, "k:", label="k^2/2 (Gaussian)")
            ax.set_yscale("log")
            ax.set_ylabel("PC1-PC2 total variance ratio")
        else:
            ax.set_ylabel("KL on PC1-PC2 (nats)")
        ax.axvline(math.sqrt(2), color="k", lw=0.5)
        ax.set_xlabel("quiescent noise scale k (sqrt 2: the paper's doubled variance)")
        ax.legend(fontsize=7)
    axes[1, 1].set_title("quiescent vs active as the noise scale varies")
    axes[1, 2].set_title("spread: temperature k^2/2 prediction")
    fig.tight_layout()
    if path.exists() and not force:
        raise SystemExit(f"{path} exists; pass --force to overwrite it")
    fig.savefig(path, dpi=100)


def main():
    p = example_parser(__doc__, "score_alignment", models=True, backends=True,
                       steps=(200, 40, "active steps per trial"),
                       every=(4, 4, "record every k-th step"),
                       burn_in=(20, 8, "active steps dropped at the start"),
                       q_steps=(1000, 60, "quiescent steps (temperature sweep)"),
                       q_burn_in=(200, 20, "quiescent steps dropped at the start"),
                       q_trials=(50, 6, "trials of the temperature sweep"),
                       n_boot=(2000, 100, "bootstrap resamples"),
                       dsm_steps=(1500, 50, "denoising score matching steps"),
                       flow_samples=(300, 20, "start states of the Brian2 flow"))
    p.add_argument("--variance", type=float, default=0.9, help="explained variance choosing the PCs")
    p.add_argument("--max-pcs", type=int, default=8, help="at most this many PCs")
    p.add_argument("--dt-factors", type=int, nargs="+", default=[1, 16])
    p.add_argument("--cache", default="/tmp/score_cache", help="stage cache (resumable)")
    p.small_defaults["cache"] = None          # small runs: a cache of their own, in their output folder
    p.add_argument("--stages", nargs="+",
                   default=["synthetic", "alignment", "noise_mean", "flow", "temperature", "head_direction",
                            "figure"])
    p.set_defaults(target="numpy", out="docs/figures/score")
    args = parse_example_args(p)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    args.cache = args.cache or str(out / "cache")
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    results = {"args": vars(args), "versions": nrx.provenance.provenance(args.seed)}
    t0 = time.time()
    stages = {"synthetic": synthetic_stage, "alignment": alignment_stage, "noise_mean": noise_mean_stage,
              "flow": flow_stage, "temperature": temperature_stage, "head_direction": head_direction_stage}
    for name in stages:
        if name in args.stages:
            results[name] = stages[name](args, cache)
    results["wall_s"] = round(time.time() - t0, 1)
    slim = json.loads(json.dumps(results))
    for r in slim.get("alignment", {}).values():
        r.pop("arrows", None)
        r.pop("points_2d", None)
    for rows in slim.get("temperature", {}).values():
        for r in rows:
            r.pop("quiescent_points", None)
    nrx.io.atomic_write_bytes(out / "score_alignment.json", json.dumps(slim, indent=1).encode(),
                              overwrite=args.force)
    if "figure" in args.stages and {"alignment", "temperature"} <= set(results):
        draw(results, out / "score_alignment.png", args.force)
    print(f"done in {results['wall_s']} s -> {out}")


if __name__ == "__main__":
    main()
