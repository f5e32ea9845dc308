"""The E/I luminosity experiment as sweep jobs: one training per job, results gathered into NetCDF.

Each run of the experiment's grid (condition x luminosity x configuration x seed) is a job of the sweep kind
``"ei"`` (:data:`neurorx.sweep.jobs.JOB_KINDS`): a plain function of a resolved, JSON-able config
(:func:`grid_configs`) that trains one network and writes ``result.json`` (:func:`run_ei_config`). The sweep's
store names each job by a hash of its config, runs it on Dask (a local cluster, any scheduler, or in process)
and keeps what finished, so an interrupted experiment resumes where it stopped. :func:`gather` turns the finished
jobs into an :class:`xarray.Dataset` with dimensions ``(condition, epsilon, config, seed)`` (saved as
``results.nc``), and :func:`runs_from_dataset` back into the run records that
:func:`neurorx.ei.experiment.analyse` pairs.

>>> from neurorx.ei.experiment import ExperimentConfig
>>> configs = grid_configs(ExperimentConfig.quick())
>>> sorted(configs[0])[:4]
['batch_size', 'condition', 'config', 'data']
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from neurorx.io import atomic_write_bytes
from neurorx.seeds import derive_seed

__all__ = ["KIND", "RESULT", "gather", "grid_configs", "grid_jobs", "run_ei_config", "runs_from_dataset"]

#: The sweep job kind of one E/I training.
KIND = "ei"
#: The file a job writes.
RESULT = "result.json"
#: Grid dimensions of the gathered results, in order.
DIMS = ("condition", "epsilon", "config", "seed")

_RUN = 41  # seed purpose of a run's weights, batches and jitter (shared with neurorx.ei.experiment)


def grid_configs(cfg) -> list[dict]:
    """The resolved config of every run of an :class:`~neurorx.ei.experiment.ExperimentConfig`.

    Every condition gets the same configurations (widths, learning rates) and the same run seed for a given
    ``(config, seed)``, so runs pair by ``(epsilon, config, seed)``. Order: epsilon, configuration, seed,
    condition.
    """
    from neurorx.ei.experiment import CONDITIONS, sample_configs

    configs = sample_configs(cfg)
    out = []
    for e in cfg.epsilons:
        for k in range(cfg.n_configs):
            for s in range(cfg.seeds):
                for name in cfg.conditions:
                    cond = CONDITIONS.get(name)
                    out.append({"condition": name, "layer": cond.layer, "divisive": cond.divisive,
                                "error_norm": cond.error_norm, "epsilon": float(e), "config": k, "seed": s,
                                **configs[k], "run_seed": derive_seed(cfg.seed, _RUN, k, s),
                                "epochs": cfg.epochs, "batch_size": cfg.batch_size, "lam": cfg.lam,
                                "data": cfg.data, "data_seed": cfg.seed, "diagnostics": cfg.diagnostics})
    return out


def grid_jobs(cfg) -> list:
    """The sweep jobs (:class:`neurorx.sweep.jobs.Job`, kind :data:`KIND`) of an experiment's grid."""
    from neurorx.sweep.jobs import make_job

    return [make_job(KIND, c, (), {k: c[k] for k in DIMS}) for c in grid_configs(cfg)]


_DATA: dict = {}


def _images(source: str, seed: int):
    """The image set (loaded once per process and source)."""
    from neurorx.ei.data import load_images

    key = (source, seed)
    if key not in _DATA:
        _DATA.clear()
        _DATA[key] = load_images(source, seed=seed)
    return _DATA[key]


def run_ei_config(config: dict, out_dir: str | Path | None = None, data=None) -> dict:
    """Train the network of one resolved run config; return its result and write it to ``out_dir/result.json``.

    Parameters
    ----------
    config : dict
        One entry of :func:`grid_configs`.
    out_dir : path, optional
        Where to write :data:`RESULT` (nothing is written if omitted).
    data : ImageSet, optional
        The images (default: ``config["data"]`` loaded with ``config["data_seed"]``).

    Returns
    -------
    dict
        The config's grid labels, widths and learning rates, ``test_acc``, ``train_loss`` (last epoch),
        ``diverged`` (a diverged run scores chance), ``seconds``, and for I-Norm layers the diagnostics
        ``grad_cosine``, ``output_cosine`` (per hidden layer) and ``moments`` (mean, variance per hidden layer).
    """
    import torch

    from neurorx.ei.diagnostics import gradient_cosine, layer_moments, output_cosine
    from neurorx.ei.network import EINetwork, EINetworkConfig
    from neurorx.ei.training import TrainConfig, jittered_test_images, train
    from neurorx.errors import SimulationError

    data = _images(config["data"], config["data_seed"]) if data is None else data
    width, seed = int(config["width"]), int(config["run_seed"])
    net = EINetwork(EINetworkConfig(n_in=data.n_pixels, hidden=(width, width), n_out=data.n_classes,
                                    layer=config["layer"], divisive=config["divisive"],
                                    error_norm=config["error_norm"], seed=seed))
    tcfg = TrainConfig(epochs=config["epochs"], batch_size=config["batch_size"], lr_e=config["lr_e"],
                       lr_i=config["lr_i"], lam=config["lam"], epsilon=config["epsilon"], seed=seed)
    t0 = time.perf_counter()
    try:
        res = train(net, data, tcfg)
        out = {"test_acc": res.test_acc, "train_loss": res.train_loss[-1:], "diverged": False}
    except SimulationError:          # a diverged run is a result (chance accuracy), not a failed job
        out = {"test_acc": 1.0 / data.n_classes, "train_loss": [], "diverged": True}
    out.update({k: config[k] for k in (*DIMS, "width", "lr_e", "lr_i")},
               key=f"{config['condition']}|{config['epsilon']:g}|{config['config']}|{config['seed']}",
               seconds=time.perf_counter() - t0)
    if config["diagnostics"] and config["layer"] == "inorm" and not out["diverged"]:
        x = jittered_test_images(data, config["epsilon"], seed)[:256]
        y = torch.from_numpy(data.y_test[:256])
        out["grad_cosine"] = gradient_cosine(net, x, y)
        out["output_cosine"] = output_cosine(net, x)
        out["moments"] = layer_moments(net, x)
    out = json.loads(json.dumps(out))           # plain JSON: what the result file holds
    if out_dir is not None:
        atomic_write_bytes(Path(out_dir) / RESULT, json.dumps(out, indent=1).encode(), overwrite=True)
    return out


def ei_job(config: dict, inputs: list[Path], out: Path, work: Path) -> None:
    """The sweep job function of kind :data:`KIND` (:class:`neurorx.sweep.jobs.JobKind`)."""
    run_ei_config(config, out)


def _read(path: Path) -> dict:
    return json.loads((path / RESULT).read_text(encoding="utf-8"))


def gather(cfg, store):
    """The finished runs of ``cfg``'s grid in ``store`` as an :class:`xarray.Dataset`.

    Dimensions ``condition, epsilon, config, seed`` (and ``layer``, ``moment`` for the diagnostics); variables
    ``test_acc`` (fraction correct), ``diverged``, ``seconds``, ``train_loss`` and, for I-Norm conditions,
    ``grad_cosine``, ``output_cosine``, ``moments``; NaN where a run is not done (or has no diagnostics). The
    configurations' ``width``, ``lr_e``, ``lr_i`` are coordinates along ``config``; the design is the
    attribute ``experiment`` (JSON).
    """
    import xarray as xr

    from neurorx.ei.experiment import sample_configs

    jobs = grid_jobs(cfg)
    shape = (len(cfg.conditions), len(cfg.epsilons), cfg.n_configs, cfg.seeds)
    n_layers = 2
    values = {name: np.full(shape, np.nan) for name in ("test_acc", "diverged", "seconds", "train_loss")}
    diag = {"grad_cosine": np.full((*shape, n_layers), np.nan), "output_cosine": np.full((*shape, n_layers), np.nan),
            "moments": np.full((*shape, n_layers, 2), np.nan)}
    index = {"condition": list(cfg.conditions), "epsilon": [float(e) for e in cfg.epsilons]}
    done = 0
    for job in jobs:
        if not store.is_done(job.id):
            continue
        r = _read(store.path(job.id))
        at = (index["condition"].index(r["condition"]), index["epsilon"].index(float(r["epsilon"])), r["config"],
              r["seed"])
        values["test_acc"][at] = r["test_acc"]
        values["diverged"][at] = float(r["diverged"])
        values["seconds"][at] = r["seconds"]
        values["train_loss"][at] = r["train_loss"][-1] if r["train_loss"] else np.nan
        for name in diag:
            if name in r:
                diag[name][at] = np.asarray(r[name], dtype=np.float64)
        done += 1
    configs = sample_configs(cfg)
    dims = list(DIMS)
    units = {"test_acc": "1", "diverged": "1", "seconds": "s", "train_loss": "1", "grad_cosine": "1",
             "output_cosine": "1", "moments": "1"}
    data_vars = {k: (dims, v, {"units": units[k]}) for k, v in values.items()}
    data_vars["grad_cosine"] = ([*dims, "layer"], diag["grad_cosine"], {"units": "1"})
    data_vars["output_cosine"] = ([*dims, "layer"], diag["output_cosine"], {"units": "1"})
    data_vars["moments"] = ([*dims, "layer", "moment"], diag["moments"], {"units": "1"})
    coords = {**index, "config": np.arange(cfg.n_configs), "seed": np.arange(cfg.seeds),
              "layer": np.arange(n_layers), "moment": ["mean", "var"],
              "width": ("config", [c["width"] for c in configs]), "lr_e": ("config", [c["lr_e"] for c in configs]),
              "lr_i": ("config", [c["lr_i"] for c in configs])}
    return xr.Dataset(data_vars, coords=coords,
                      attrs={"experiment": json.dumps(cfg.to_dict()), "runs_done": done, "runs": len(jobs)})


def runs_from_dataset(ds) -> list[dict]:
    """The run records (as :func:`run_ei_config` returns them) of the finished runs in a gathered dataset."""
    runs = []
    acc = ds["test_acc"].values
    for idx in zip(*np.nonzero(np.isfinite(acc)), strict=True):
        c, e, k, s = (int(i) for i in idx)
        r = {"condition": str(ds.condition.values[c]), "epsilon": float(ds.epsilon.values[e]), "config": k,
             "seed": s, "width": int(ds.width.values[k]), "lr_e": float(ds.lr_e.values[k]),
             "lr_i": float(ds.lr_i.values[k]), "test_acc": float(acc[idx]),
             "diverged": bool(ds["diverged"].values[idx]), "seconds": float(ds["seconds"].values[idx])}
        grad = ds["grad_cosine"].values[idx]
        if np.all(np.isfinite(grad)):
            r["grad_cosine"] = grad.tolist()
            r["output_cosine"] = ds["output_cosine"].values[idx].tolist()
            r["moments"] = ds["moments"].values[idx].tolist()
        runs.append(r)
    return runs
