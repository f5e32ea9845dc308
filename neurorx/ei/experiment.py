"""The luminosity experiment: conditions x luminosity levels x random configurations x seeds, paired.

Every condition is trained with the same list of random configurations (widths and learning rates) and the
same seeds, so runs pair by ``(epsilon, config, seed)``. Each run is a sweep job (:mod:`neurorx.ei.jobs`): the
sweep's store keeps every finished run (an interrupted experiment resumes where it stopped), Dask runs them, and
the finished runs are gathered into ``results.nc``; :func:`analyse` turns them into the table of mean
accuracies, paired Wilcoxon signed-rank tests and the paper's Mann-Whitney tests against LN⁺.

>>> from neurorx.ei.experiment import ExperimentConfig, run_experiment     # doctest: +SKIP
>>> summary = run_experiment(ExperimentConfig.full(), "runs/ei")          # doctest: +SKIP
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from neurorx.checks import positive_int
from neurorx.ei.data import check_epsilon
from neurorx.errors import ConfigurationError, FileFormatError, OutputPathError, SimulationError
from neurorx.io import atomic_write_bytes, check_output_dir
from neurorx.moved import moved_names
from neurorx.registry import Registry
from neurorx.resources import check_duration, check_grid, check_workers
from neurorx.seeds import numpy_rng
from neurorx.staging import StagedFolder

__all__ = [
    "CONDITIONS",
    "EICondition",
    "ExperimentConfig",
    "analyse",
    "load_runs",
    "run_experiment",
    "sample_configs",
]


_CONFIGS = 40  # seed purpose of the shared configurations (a run's own seed: neurorx.ei.jobs)
#: The gathered sweep results of an experiment folder.
RESULTS = "results.nc"
#: Lower bound on the time of one training epoch of the smallest network (seconds).
_SECONDS_PER_EPOCH = 1e-3


@dataclass(frozen=True)
class EICondition:
    """A network condition of the E/I experiment: hidden-layer kind, divisive pathway and error normalization."""

    name: str
    layer: str
    error_norm: str = "none"
    divisive: str = "svd"
    label: str = ""

#: Experimental conditions by name.
CONDITIONS: Registry[EICondition] = Registry("experimental condition")
for _c in (
    EICondition("ei", "dann", label="EI, no normalization (DANN)"),
    EICondition("ln_plus", "ln_plus", label="LN⁺ (E-only + exact LayerNorm)"),
    EICondition("ln_minus", "ln_minus", label="LN⁻ (E-only, no LayerNorm)"),
    EICondition("inorm", "inorm", label="I-Norm (forward only)"),
    EICondition("inorm_sub", "inorm", divisive="none", label="I-Norm (sub), no divisive inhibition"),
    EICondition("inorm_dann", "inorm", "full", divisive="dann", label="I-Norm, Dale shunting + full"),
    *(EICondition(f"inorm_{v}", "inorm", v, label=f"I-Norm + {v}")
      for v in ("full", "center", "scale", "decorrelate", "lateral")),
):
    CONDITIONS.add(_c.name, _c)


@dataclass(frozen=True)
class ExperimentConfig:
    """The design of an experiment.

    Attributes
    ----------
    conditions : tuple of str
        Names in :data:`CONDITIONS`.
    epsilons : tuple of float
        Luminosity levels in [0, 1].
    n_configs : int
        Random configurations shared by all conditions.
    seeds : int
        Seeds per configuration.
    epochs, batch_size : int
        Training length and batch size.
    lam : float
        Weight of the homeostatic loss.
    width : tuple of int
        Hidden widths are drawn uniformly from ``[width[0], width[1]]``.
    log_lr_e, log_lr_i : tuple of float
        ``log10`` ranges of the excitatory and inhibitory learning rates.
    data : str
        Image source (see :func:`neurorx.ei.data.load_images`).
    seed : int
        Master seed of the configurations and the runs.
    """

    conditions: tuple[str, ...] = ("ei", "ln_plus", "inorm", "inorm_full")
    epsilons: tuple[float, ...] = (0.0, 0.5, 0.75)
    n_configs: int = 6
    seeds: int = 2
    epochs: int = 40
    batch_size: int = 32
    lam: float = 0.01
    width: tuple[int, int] = (64, 160)
    log_lr_e: tuple[float, float] = (-2.0, -1.0)
    log_lr_i: tuple[float, float] = (-2.0, 0.0)
    data: str = "digits"
    seed: int = 0
    diagnostics: bool = True

    def __post_init__(self):
        for name in ("conditions", "epsilons", "width", "log_lr_e", "log_lr_i"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        for c in self.conditions:
            if c not in CONDITIONS:
                try:
                    CONDITIONS.get(c)
                except ValueError as err:
                    raise ConfigurationError(f"{err} Pass conditions= names from this list.") from None
        for e in self.epsilons:
            check_epsilon(e)
        positive_int(self.n_configs, "n_configs (--configs)")
        positive_int(self.seeds, "seeds (--seeds)")
        positive_int(self.epochs, "epochs (--epochs)", minimum=0)
        positive_int(self.seed, "seed (--seed)", minimum=0)
        runs = check_grid({"conditions": len(self.conditions), "levels": len(self.epsilons), "configurations":
                           self.n_configs, "seeds": self.seeds}, "this E/I experiment's run count",
                          fix="use fewer conditions, levels (--epsilons), configurations (--configs) or seeds "
                              "(--seeds)")
        check_duration(runs * self.epochs * _SECONDS_PER_EPOCH, f"this E/I experiment ({runs:,} runs x "
                       f"{self.epochs:,} epochs)", "use fewer epochs (--epochs) or runs")

    @classmethod
    def quick(cls, **overrides) -> ExperimentConfig:
        """A few seconds: 4 conditions x 2 levels, 1 configuration, 1 seed, 2 epochs, narrow layers."""
        base = dict(epsilons=(0.0, 0.75), n_configs=1, seeds=1, epochs=2, width=(32, 48))
        return cls(**{**base, **overrides})

    @classmethod
    def full(cls, **overrides) -> ExperimentConfig:
        """The documented run: 4 conditions x 3 levels x 6 configurations x 2 seeds, 40 epochs (144 runs)."""
        return cls(**overrides)

    def to_dict(self) -> dict:
        """JSON-able dict."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def sample_configs(cfg: ExperimentConfig) -> list[dict]:
    """The shared random configurations: width ~ U(width), log10 learning rates ~ U(ranges)."""
    rng = numpy_rng(cfg.seed, _CONFIGS)
    out = []
    for _ in range(cfg.n_configs):
        out.append({"width": int(rng.integers(cfg.width[0], cfg.width[1] + 1)),
                    "lr_e": float(10 ** rng.uniform(*cfg.log_lr_e)),
                    "lr_i": float(10 ** rng.uniform(*cfg.log_lr_i))})
    return out


_MOVED = {
    "Condition": "neurorx.ei.experiment.Condition is named EICondition (neurorx.sweep.spec.Condition is a sweep's "
                 "trained card): import EICondition from neurorx.ei.experiment",
    "RunSpec": "neurorx.ei.experiment.RunSpec is gone: one run of the grid is a sweep job config; use "
               "neurorx.ei.jobs.grid_configs(cfg) and neurorx.ei.jobs.run_ei_config(config)",
    "run_one": "neurorx.ei.experiment.run_one is gone: one run of the grid is a sweep job config; use "
               "neurorx.ei.jobs.grid_configs(cfg) and neurorx.ei.jobs.run_ei_config(config)",
}


__getattr__ = moved_names(__name__, renamed={"Condition": (EICondition, _MOVED["Condition"])},
                          gone={k: _MOVED[k] for k in ("RunSpec", "run_one")})


def load_runs(out_dir: str | Path) -> list[dict]:
    """The finished runs of the experiment in ``out_dir``: its sweep results ``results.nc``, or the
    ``runs.jsonl`` of a folder written before the experiment ran as a sweep.
    """
    out_dir = Path(out_dir)
    if (out_dir / RESULTS).exists():
        import xarray as xr

        from neurorx.ei.jobs import runs_from_dataset

        with xr.open_dataset(out_dir / RESULTS) as ds:
            return runs_from_dataset(ds.load())
    path = out_dir / "runs.jsonl"
    if not path.exists():
        return []
    runs = []
    for line in path.read_text().splitlines():
        if line.strip():
            try:
                runs.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line cut by an interruption
    return runs


#: Everything an experiment writes into its results folder (``runs.jsonl``: folders written before the
#: experiment ran as a sweep). A replacement by another design removes the old ones it does not produce.
OUTPUTS = ("config.json", "store.json", "jobs", RESULTS, "runs.jsonl", "summary.json", "figures")


def _design(folder: Path) -> dict | None:
    """The design recorded in ``folder/config.json`` (``None`` if there is none)."""
    path = folder / "config.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("experiment")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        raise FileFormatError(f"{path} is not a readable experiment configuration (truncated or corrupt); give a "
                              "new --out folder, or --force to replace the experiment there") from None


def _prepare(out_dir: Path, cfg: ExperimentConfig, force: bool) -> tuple[Path, StagedFolder | None]:
    """The folder to run the experiment in and, for a ``force`` replacement of another design, its staging.

    An experiment of the same design resumes in place (its sweep store keeps the finished runs;
    ``summary.json``, written last, marks it complete). One of another design (or an unreadable
    ``config.json``) is replaced only with ``force``, and only once the new experiment has finished: the new
    one runs in ``out_dir/.replacing/`` (:attr:`StagedFolder.resume_name`, resumed there by the same command
    after an interruption) while the old results stay whole and readable, and its outputs are moved in with
    ``summary.json`` last (:class:`neurorx.staging.StagedFolder`).
    """
    from neurorx.provenance import provenance

    if out_dir.exists() and not out_dir.is_dir():
        raise OutputPathError(f"{out_dir} is a file; give a folder for the experiment's results")
    try:
        old = _design(out_dir)
    except FileFormatError:
        if not force:
            raise
        old = {}                                 # unreadable: replaced like another design
    staged, folder = None, out_dir
    if old is not None and old != cfg.to_dict():
        if not force:
            raise FileExistsError(f"{out_dir} holds an experiment with another configuration; give a new --out "
                                  "folder, or --force to replace it once the new one has finished")
        staged = StagedFolder(out_dir, complete="summary.json", outputs=OUTPUTS, force=True,
                              what="E/I experiment", keep_on_error=True)
        folder = staged.__enter__()
        try:
            stale = _design(folder) not in (None, cfg.to_dict())
        except FileFormatError:
            stale = True
        if stale:                                # an interrupted replacement by a third design
            for name in OUTPUTS:
                StagedFolder._remove(folder / name)
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "config.json").exists():
        meta = {"experiment": cfg.to_dict(), "configs": sample_configs(cfg), "provenance": provenance(cfg.seed)}
        atomic_write_bytes(folder / "config.json", json.dumps(meta, indent=1).encode())
    return folder, staged


def run_experiment(cfg: ExperimentConfig, out_dir: str | Path, *, workers: int = 1, threads: int = 1,
                   force: bool = False, progress: bool = True, scheduler=None) -> dict:
    """Run (or resume) the experiment as a sweep into ``out_dir`` and return :func:`analyse`'s summary.

    Every run is a sweep job (:mod:`neurorx.ei.jobs`) in the store ``out_dir/jobs``; Dask runs those not done
    (:func:`neurorx.sweep.runner.run_jobs`), and the finished ones are gathered into ``out_dir/results.nc``,
    which the summary reads.

    Parameters
    ----------
    cfg : ExperimentConfig
        The design.
    out_dir : str or Path
        Results folder: ``config.json`` (design, configurations, versions), ``jobs/`` (one folder per finished
        run), ``results.nc`` (the gathered runs), ``summary.json`` (table and tests).
    workers : int
        Worker processes of a local Dask cluster; 1 runs the jobs in this process (``scheduler="sync"``).
    threads : int
        Kept for existing callers: every job runs with one torch thread (the sweep's worker environment), so
        its numbers do not depend on the machine.
    force : bool
        Replace the results of a different design in ``out_dir``, once the new experiment has finished: until
        then it runs in ``out_dir/.replacing/`` and the old results stay whole; interrupted, the same call
        resumes it there.
    progress : bool
        Show a progress bar.
    scheduler : None, "sync", str or distributed.Client, optional
        As for :func:`neurorx.sweep.sweep` (default: ``"sync"`` for one worker, else a local cluster).
    """
    from neurorx.ei.data import load_images
    from neurorx.ei.jobs import gather, grid_jobs
    from neurorx.sweep.gather import save_netcdf
    from neurorx.sweep.runner import run_jobs
    from neurorx.sweep.store import Store

    workers = check_workers(workers, "workers (--workers)", threads=threads)
    if cfg.epochs < 1:
        raise ConfigurationError("epochs=0 trains nothing, so the summary would report untrained networks as "
                                 "results; give epochs >= 1 (--epochs)")
    out_dir = check_output_dir(out_dir)
    load_images(cfg.data, seed=cfg.seed)     # a bad data source fails before anything is written
    folder, staged = _prepare(out_dir, cfg, force)
    if scheduler is None and workers <= 1:
        scheduler, workers = "sync", None
    t0 = time.perf_counter()
    result = run_jobs(grid_jobs(cfg), folder, name="ei", scheduler=scheduler, workers=workers,
                      show_progress=progress)
    if result.failed:
        first = next(iter(result.failed.values()))
        raise SimulationError(f"{len(result.failed)} run(s) of the experiment failed (first: {first}); the others "
                              f"are kept in {folder}: run the same command again to retry")
    ds = gather(cfg, Store(folder))
    save_netcdf(ds, folder / RESULTS)
    summary = analyse(load_runs(folder), cfg)
    summary["wall_seconds_last_call"] = time.perf_counter() - t0
    atomic_write_bytes(folder / "summary.json", json.dumps(summary, indent=1).encode(), overwrite=True)
    if staged is not None:
        staged.__exit__(None, None, None)      # the new experiment replaces the old one, summary.json last
    return summary


def _paired(runs: list[dict], a: str, b: str) -> dict:
    """Paired comparison a - b over matching (epsilon, config, seed): Wilcoxon signed-rank."""
    from scipy.stats import wilcoxon

    by = {(r["condition"], r["epsilon"], r["config"], r["seed"]): r["test_acc"] for r in runs}
    keys = sorted({k[1:] for k in by if k[0] == a} & {k[1:] for k in by if k[0] == b})
    diff = np.array([by[(a, *k)] - by[(b, *k)] for k in keys])
    out = {"a": a, "b": b, "n_pairs": len(keys), "mean_gain": float(diff.mean()) if len(keys) else None,
           "median_gain": float(np.median(diff)) if len(keys) else None,
           "n_better": int((diff > 0).sum()), "n_worse": int((diff < 0).sum()), "n_tied": int((diff == 0).sum())}
    if len(keys) >= 2 and np.any(diff != 0):
        res = wilcoxon(diff, zero_method="wilcox", alternative="two-sided")
        out.update(wilcoxon_statistic=float(res.statistic), wilcoxon_p=float(res.pvalue))
    else:
        out.update(wilcoxon_statistic=None, wilcoxon_p=None)
    return out


def analyse(runs: list[dict], cfg: ExperimentConfig | None = None) -> dict:
    """Table of mean accuracies, paired tests and Mann-Whitney tests against LN⁺.

    Returns
    -------
    dict
        ``table[condition][epsilon] = {mean, sd, n}``; ``paired`` (pooled over epsilon): ``inorm_full`` vs
        ``inorm`` and every condition vs ``ln_plus`` (Wilcoxon signed-rank, two-sided); ``mann_whitney``: per
        epsilon, every condition vs ``ln_plus`` (two-sided, as the paper reports); ``diagnostics``: mean
        gradient and output cosines and layer moments per condition and epsilon.
    """
    from scipy.stats import mannwhitneyu

    conditions = list(dict.fromkeys(r["condition"] for r in runs))
    epsilons = sorted({r["epsilon"] for r in runs})
    table, diag, mw = {}, {}, {}
    for c in conditions:
        table[c], diag[c] = {}, {}
        for e in epsilons:
            acc = np.array([r["test_acc"] for r in runs if r["condition"] == c and r["epsilon"] == e])
            if acc.size:
                table[c][f"{e:g}"] = {"mean": float(acc.mean()), "sd": float(acc.std(ddof=1)) if acc.size > 1 else 0.0,
                                      "n": int(acc.size)}
            rs = [r for r in runs if r["condition"] == c and r["epsilon"] == e and "grad_cosine" in r]
            if rs:
                diag[c][f"{e:g}"] = {
                    "grad_cosine": float(np.mean([np.mean(r["grad_cosine"]) for r in rs])),
                    "output_cosine": float(np.mean([np.mean(r["output_cosine"]) for r in rs])),
                    "mean": float(np.mean([np.mean([m[0] for m in r["moments"]]) for r in rs])),
                    "var": float(np.mean([np.mean([m[1] for m in r["moments"]]) for r in rs])),
                }
    if "ln_plus" in conditions:
        for c in conditions:
            if c == "ln_plus":
                continue
            mw[c] = {}
            for e in epsilons:
                a = [r["test_acc"] for r in runs if r["condition"] == c and r["epsilon"] == e]
                b = [r["test_acc"] for r in runs if r["condition"] == "ln_plus" and r["epsilon"] == e]
                if len(a) >= 2 and len(b) >= 2:
                    res = mannwhitneyu(a, b, alternative="two-sided")
                    mw[c][f"{e:g}"] = {"U": float(res.statistic), "p": float(res.pvalue)}
    paired = {}
    if {"inorm_full", "inorm"} <= set(conditions):
        paired["inorm_full-inorm"] = _paired(runs, "inorm_full", "inorm")
    if "ln_plus" in conditions:
        for c in conditions:
            if c != "ln_plus":
                paired[f"{c}-ln_plus"] = _paired(runs, c, "ln_plus")
    return {"n_runs": len(runs), "conditions": conditions, "epsilons": epsilons, "table": table,
            "paired": paired, "mann_whitney_vs_ln_plus": mw, "diagnostics": diag,
            "diverged": sum(bool(r.get("diverged")) for r in runs),
            "run_seconds_total": float(sum(r.get("seconds", 0.0) for r in runs)),
            "experiment": cfg.to_dict() if cfg is not None else None}
