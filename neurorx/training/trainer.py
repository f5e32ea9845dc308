r"""The trainer: Adam, full BPTT over seeded batches, evaluation, checkpoints and exact resumption.

Reference behaviour (``paper.md`` §2.3, §4): one fresh batch per "epoch" (:mod:`neurorx.training.batches`),
full backpropagation through the ``steps`` time steps, Adam (lr 1e-3, no weight decay, no clipping, no
schedule) on the reference loss (:mod:`neurorx.training.step`). The training noise is drawn from the network's
noise models at the training step ``dt`` (for the reference, :math:`0.01\,U[0,1)` per step and unit for
spatial navigation). A fixed test batch, drawn once before training, is evaluated every ``eval_every`` batches
(loss with the training noise on, as in the reference, and the top-k decoding error: metres for positions,
radians for angles).

Each batch depends only on ``(seed, i)``, so with the weights and Adam moments restored from a checkpoint a
resumed run ends with exactly the weights of an uninterrupted one. The run's files are handled by
:mod:`neurorx.training.staging`, its figure by :mod:`neurorx.training.figure`.
"""

from __future__ import annotations

import json
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from neurorx.errors import SimulationError
from neurorx.io import atomic_write_bytes
from neurorx.linalg import onednn_available
from neurorx.network import RateNetwork
from neurorx.progress import get_logger, progress
from neurorx.provenance import provenance
from neurorx.training.batches import (
    STREAM_TEST_DATA,
    STREAM_TEST_NOISE,
    Batch,
    batch_generator,
    batch_rng,
    make_batch,
)
from neurorx.training.checkpoint import load_checkpoint, restore_checkpoint, save_checkpoint
from neurorx.training.config import RESUME_FREE_KEYS, Config, ConfigError
from neurorx.training.device import resolve_device
from neurorx.training.figure import save_learning_curve
from neurorx.training.fused import can_fuse, draw_increments, forward_time_major
from neurorx.training.machine import busy_machine_note
from neurorx.training.memory import reuse_freed_memory
from neurorx.training.staging import (
    OUTPUT_FILES,
    SNAPSHOT_DIR,
    STAGING_DIR,
    append_metrics,
    prepare_output,
    resumable_checkpoint,
    swap_in,
    trim_metrics,
)
from neurorx.training.step import decoding_error, train_step

__all__ = [
    "OUTPUT_FILES",
    "SNAPSHOT_DIR",
    "STAGING_DIR",
    "Batch",
    "CheckpointMismatch",
    "Trainer",
    "TrainingDiverged",
    "batch_generator",
    "batch_rng",
    "make_batch",
    "resumable_checkpoint",
    "train",
    "train_step",
]


class CheckpointMismatch(ConfigError):
    """A checkpoint that this configuration or cell cannot continue (another configuration, other cell parameters)."""


class TrainingDiverged(SimulationError):
    """The loss or the weights became NaN/inf; ``batch`` is where, ``checkpoint`` the last good one."""

    def __init__(self, message: str, batch: int, checkpoint: Path | None):
        super().__init__(message)
        self.batch = batch
        self.checkpoint = checkpoint


class Trainer:
    """Train a network from a :class:`~neurorx.training.config.Config`.

    Parameters
    ----------
    config : Config
    out : path or None
        Output folder for ``config.yaml``, ``metrics.jsonl``, ``checkpoint.npz``, ``network.npz`` and
        ``learning_curve.png``; ``None`` trains in memory (no files, no checkpoints).
    force : bool
        Replace the outputs of an earlier run in ``out`` (otherwise that is an error).
    resume : bool
        Continue from ``out/checkpoint.npz``; the final weights equal those of an uninterrupted run.
    quiet : bool
        No progress bar and no log lines. Log lines go to the ``neurorx.training`` logger (see
        :func:`neurorx.progress.get_logger`); silence them for every run with
        ``logging.getLogger("neurorx").setLevel(logging.WARNING)``.
    callback : callable, optional
        ``callback(trainer, batch_done, record)`` after every batch (``record`` holds the loss, and the
        evaluation metrics at evaluation points); for tests and custom logging.

    Notes
    -----
    Per batch :math:`i`: sample trajectories with :func:`batch_rng` ``(seed, i)``, draw the noise with
    :func:`batch_generator` ``(seed, i)``, run the model (:func:`neurorx.training.fused.forward_time_major`),
    take the MSE loss, backpropagate through all steps and apply one Adam step. A NaN/inf loss or weight
    raises :class:`TrainingDiverged`, leaving the last good checkpoint in place.
    """

    def __init__(self, config: Config, out: str | Path | None = None, *, force: bool = False,
                 resume: bool = False, quiet: bool = False, callback=None):
        if not isinstance(config, Config):
            raise TypeError(f"config must be a neurorx.training.Config (see load_card); got {type(config).__name__}")
        config.validate()
        if force and resume:
            raise ValueError("force and resume exclude each other: force starts afresh, resume continues")
        if resume and out is None:
            raise ValueError("resume needs an output folder holding checkpoint.npz")
        self.config = replace(config, rnn=config.rnn.resolved())   # the cell's parameters, defaults filled in
        self.out = None if out is None else Path(out)
        self.final_out = self.out
        self.force, self.resume, self.quiet = force, resume, quiet
        self.callback = callback
        self.task = config.build_task()
        check_training_resources(config, self.task)
        self.noise = config.build_noise()
        self.dtype = getattr(torch, config.trainer.dtype)
        self.device = resolve_device(config.trainer.device)
        self.model = config.build_model(self.task).to(self.device)
        self.params = dict(self.model.weights())
        self.optimizer = torch.optim.Adam(list(self.params.values()), lr=config.trainer.lr,
                                          weight_decay=config.trainer.weight_decay)
        self.fused = config.trainer.fused
        self.onednn = config.trainer.onednn and self.dtype == torch.float32 and onednn_available()
        self.chance_error = float(self.task.chance_error())
        circular = bool(getattr(self.task, "circular", False))
        self.error_unit, self.error_scale = ("deg", 180.0 / math.pi) if circular else ("cm", 100.0)
        self.batch = 0
        self.curve: dict[str, list] = {"batch": [], "train_loss": [], "test_loss": [], "test_error": [],
                                       "train_error": []}
        self.elapsed = 0.0
        self._window: list[float] = []
        self._homeostatic_window: list[float] = []

    # -- files ----------------------------------------------------------------------------------------
    def path(self, name: str) -> Path | None:
        """Path of an output file (``None`` when training in memory)."""
        return None if self.out is None else self.out / name

    def log(self, msg: str) -> None:
        """Write a log line to the ``neurorx.training`` logger (above the progress bar, if one is shown)."""
        if not self.quiet:
            get_logger("training").info(msg)

    def _prepare_out(self) -> None:
        """Check the output folder before any work (:func:`~neurorx.training.staging.prepare_output`).

        A forced replacement of finished outputs, or the resumption of an interrupted one, trains in the
        staging folder, whose files replace the old ones once it has finished (:meth:`_finish`).
        """
        if self.out is None:
            return
        self.final_out = self.out
        self.out = prepare_output(self.out, force=self.force, resume=self.resume)
        if not self.resume:     # a resumed run rewrites config.yaml once the checkpoint has been checked (_restore)
            atomic_write_bytes(self.out / "config.yaml", self.config.to_yaml().encode(), overwrite=True)

    def _append_metrics(self, record: dict) -> None:
        if self.out is not None:
            append_metrics(self.out, record)

    def _checkpoint(self) -> None:
        if self.out is None:
            return
        save_checkpoint(self.out / "checkpoint.npz", self.params, self.optimizer, self.batch,
                        {"config": self.config.to_dict(), "curve": self.curve, "elapsed_s": self.elapsed})

    def _snapshot(self) -> None:
        """Save the current network as ``snapshots/batch_XXXXXX.npz`` when ``trainer.snapshot_every`` asks for it."""
        every = self.config.trainer.snapshot_every
        if self.out is None or every is None or (self.batch % every and self.batch != self.config.trainer.n_epochs):
            return
        folder = self.out / SNAPSHOT_DIR
        folder.mkdir(exist_ok=True)
        self.network().save(folder / f"batch_{self.batch:06d}.npz", overwrite=True)

    def _restore(self) -> None:
        path = self.out / "checkpoint.npz"
        arrays, meta = load_checkpoint(path)
        saved = Config.from_dict(_with_cell_params(meta))
        diff = _diff_keys(saved.to_dict(), self.config.to_dict())
        bad = [k for k in diff if k not in RESUME_FREE_KEYS]
        if bad:
            raise CheckpointMismatch(
                f"cannot resume from {path}: the configuration differs in {', '.join(bad)} (only "
                f"{', '.join(RESUME_FREE_KEYS)} may change when resuming); use --force to start afresh"
            )
        batch = restore_checkpoint(arrays, meta, self.params, self.optimizer)
        if batch > self.config.trainer.n_epochs:
            raise CheckpointMismatch(f"the checkpoint is at batch {batch}, beyond trainer.n_epochs = "
                              f"{self.config.trainer.n_epochs}")
        self.batch = batch
        self.curve = {k: list(v) for k, v in meta["curve"].items()}
        self.elapsed = float(meta.get("elapsed_s", 0.0))
        trim_metrics(self.out, batch)       # lines after the checkpoint are recomputed identically
        atomic_write_bytes(self.out / "config.yaml", self.config.to_yaml().encode(), overwrite=True)
        self.log(f"resuming {path} at batch {batch}/{self.config.trainer.n_epochs}")

    # -- evaluation -------------------------------------------------------------------------------------
    def evaluate(self, test: Batch, record: dict | None = None) -> tuple[float, float]:
        """Loss (training noise on, fixed test noise) and mean decoding error on the test batch.

        For a cell with a homeostatic loss, its value on the test batch goes into ``record["homeostatic_loss"]``.
        """
        local = {} if self.model.cell.has_local_loss else None
        with torch.no_grad():
            _, y, loss = forward_time_major(self.model, test.inputs, test.init_code, self.noise, self.config.rnn.dt_s,
                                            None, fused=self.fused, targets=test.targets, onednn=self.onednn,
                                            increments=test.increments, local_losses=local)
            loss = float(loss)
        if local and record is not None:
            record["homeostatic_loss"] = float(local["homeostatic"])
        return loss, decoding_error(self.task, y, test.states)

    def _record_eval(self, test: Batch, train_batch: Batch | None, y_train) -> dict:
        local: dict = {}
        test_loss, test_error = self.evaluate(test, local)
        train_error = None if train_batch is None else decoding_error(self.task, y_train, train_batch.states)
        train_loss = float(np.mean(self._window)) if self._window else None
        self._window = []
        for k, v in (("batch", self.batch), ("train_loss", train_loss), ("test_loss", test_loss),
                     ("test_error", test_error), ("train_error", train_error)):
            self.curve[k].append(v)
        rec = {"kind": "eval", "batch": self.batch, "train_loss": train_loss, "test_loss": test_loss,
               "test_error": test_error, "train_error": train_error, "chance_error": self.chance_error,
               "elapsed_s": round(self.elapsed, 3)}
        if self.model.cell.has_local_loss:    # the homeostatic loss next to the task loss (dale_norm, dale_subnorm)
            train_h = float(np.mean(self._homeostatic_window)) if self._homeostatic_window else None
            self._homeostatic_window = []
            for k, v in (("train_homeostatic_loss", train_h), ("test_homeostatic_loss", local.get("homeostatic_loss"))):
                self.curve.setdefault(k, []).append(v)
                rec[k] = v
        self._append_metrics(rec)
        return rec

    def _batch(self, size: int, rng, generator) -> Batch:
        """Sample trajectories with ``rng`` and draw their noise with ``generator`` (time-major tensors)."""
        b = make_batch(self.task, size, self.config.trainer.steps, rng, self.dtype)
        incs = draw_increments(self.noise, self.config.trainer.steps, size, self.task.n_in, self.model.n_rec,
                               self.task.n_cells, self.config.rnn.dt_s, generator, self.dtype)
        b = replace(b, increments=incs)
        return b if self.device.type == "cpu" else b.to(self.device)

    # -- training -----------------------------------------------------------------------------------------
    def run(self) -> RateNetwork:
        """Train (or resume) to ``trainer.n_epochs`` batches; save and return the :class:`RateNetwork`."""
        tc = self.config.trainer
        prev_threads = torch.get_num_threads()
        if tc.threads is not None:
            torch.set_num_threads(tc.threads)
        try:
            self._prepare_out()
            if self.resume:
                self._restore()
            with reuse_freed_memory():
                return self._run()
        finally:
            torch.set_num_threads(prev_threads)

    def _check_load(self) -> None:
        """Log a hint when other processes keep the cores busy (:func:`~neurorx.training.machine.busy_machine_note`)."""
        note = busy_machine_note(self.config.trainer.threads or torch.get_num_threads())
        if note is not None:
            self.log(note)

    def _run(self) -> RateNetwork:
        cfg, tc = self.config, self.config.trainer
        self._check_load()
        dt = cfg.rnn.dt_s
        test = self._batch(tc.test_batch, batch_rng(cfg.seed, 0, STREAM_TEST_DATA),
                           batch_generator(cfg.seed, 0, STREAM_TEST_NOISE))
        if self.batch == 0 and not self.curve["batch"]:
            rec = self._record_eval(test, None, None)
            self._checkpoint()
            self._snapshot()
            self.log(self._format_eval(rec))
        pool = ThreadPoolExecutor(max_workers=1) if tc.prefetch else None

        def fetch(i):
            return self._batch(tc.batch_size, batch_rng(cfg.seed, i), batch_generator(cfg.seed, i))

        pending = pool.submit(fetch, self.batch) if pool and self.batch < tc.n_epochs else None
        bar = progress(tc.n_epochs, cfg.label or cfg.task.name, "batch", enabled=not self.quiet,
                       initial=self.batch, tty_only=True)
        try:
            while self.batch < tc.n_epochs:
                i = self.batch
                t0 = time.perf_counter()
                batch = pending.result() if pending is not None else fetch(i)
                pending = pool.submit(fetch, i + 1) if pool and i + 1 < tc.n_epochs else None
                local: dict[str, float] = {}
                loss_t, y = train_step(self.model, self.optimizer, batch, self.noise, dt, None, self.fused,
                                       self.onednn, homeostatic_weight=tc.homeostatic_weight, record=local)
                loss = float(loss_t)
                bad = None if math.isfinite(loss) else f"the loss is {loss}"
                if bad is None and not math.isfinite(local.get("homeostatic_loss", 0.0)):
                    bad = f"the homeostatic loss is {local['homeostatic_loss']}"
                if bad is None:
                    bad = next((f"weight {n} contains NaN/inf" for n, p in self.params.items()
                                if not bool(torch.isfinite(p).all())), None)
                if bad is not None:
                    self._diverged(i + 1, bad)
                self.batch = i + 1
                self.elapsed += time.perf_counter() - t0
                self._window.append(loss)
                rec: dict[str, Any] = {"kind": "train", "batch": self.batch, "loss": loss}
                if "homeostatic_loss" in local:
                    rec["homeostatic_loss"] = local["homeostatic_loss"]
                    self._homeostatic_window.append(local["homeostatic_loss"])
                self._append_metrics(rec)
                self._snapshot()
                if self.batch % tc.eval_every == 0 or self.batch == tc.n_epochs:
                    rec = self._record_eval(test, batch, y)
                    self._checkpoint()
                    self.log(self._format_eval(rec))
                bar.update(1)
                if self.batch % 10 == 0 or rec["kind"] == "eval":
                    bar.set_postfix_str(self._postfix(loss))
                if self.callback is not None:
                    self.callback(self, self.batch, rec)
        finally:
            bar.close()
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        return self._finish()

    def _diverged(self, batch: int, why: str):
        ckpt = self.path("checkpoint.npz")
        last = self.curve["batch"][-1] if self.curve["batch"] else None
        self._append_metrics({"kind": "diverged", "batch": batch, "reason": why})
        where = (f"The last good checkpoint (batch {last}) is kept at {ckpt}." if ckpt is not None and ckpt.exists()
                 else "No checkpoint was written.")
        self._plot()
        raise TrainingDiverged(
            f"training diverged at batch {batch} of {self.config.trainer.n_epochs}: {why} "
            f"(trainer.lr = {self.config.trainer.lr:g}). {where} Lower trainer.lr (or the noise) and train again "
            f"with --force.", batch, ckpt if ckpt is not None and ckpt.exists() else None)

    def _postfix(self, loss: float) -> str:
        s = f"loss {loss:.3g}"
        if self.curve["test_error"]:
            s += f", test err {self.curve['test_error'][-1] * self.error_scale:.3g} {self.error_unit}"
        return s

    def _format_eval(self, rec: dict) -> str:
        tl = "-" if rec["train_loss"] is None else f"{rec['train_loss']:.4g}"
        per = self.elapsed / self.batch if self.batch else 0.0
        return (f"batch {rec['batch']:>6}/{self.config.trainer.n_epochs}  train_loss {tl}  "
                f"test_loss {rec['test_loss']:.4g}  test_error {rec['test_error'] * self.error_scale:.3g} "
                f"{self.error_unit} (chance {self.chance_error * self.error_scale:.3g})  {per:.3f} s/batch")

    def metrics(self) -> dict:
        """Learning curve and final metrics (JSON-able)."""
        c = self.curve
        return {
            "curve": {k: list(v) for k, v in c.items()},
            "final": {
                "batch": self.batch,
                "test_loss": c["test_loss"][-1] if c["test_loss"] else None,
                "test_error": c["test_error"][-1] if c["test_error"] else None,
                "train_loss": c["train_loss"][-1] if c["train_loss"] else None,
            },
            "chance_error": self.chance_error,
            "error_metric": ("mean absolute circular difference of the top-k decoded angle (rad)"
                             if self.error_unit == "deg" else
                             "mean Euclidean distance of the top-k decoded position (m)"),
            "error_unit": self.error_unit,
            "error_scale": self.error_scale,
            "train_time_s": round(self.elapsed, 3),
            "seconds_per_batch": round(self.elapsed / self.batch, 4) if self.batch else None,
            "fused_recurrence": self.fused and can_fuse(self.model),
            "onednn": self.onednn,
            "device": str(self.device),
        }

    def _plot(self) -> None:
        if self.out is None or not self.curve["batch"]:
            return
        from neurorx.plotting._core import math_label
        from neurorx.plotting.training import config_title

        save_learning_curve(self.metrics(), math_label(config_title(self.config)), self.out / "learning_curve.png")

    def network(self) -> RateNetwork:
        """The current model as a :class:`RateNetwork` (float32 weights) with config, metrics, provenance."""
        weights = {k: v.detach().to(torch.float32).cpu() for k, v in self.params.items()}
        model = self.config.build_model(self.task).to(torch.float32)
        with torch.no_grad():
            for k, p in model.weights().items():
                p.copy_(weights[k])
        prov = provenance(seed=self.config.seed, torch_threads=self.config.trainer.threads,
                          fused_recurrence=self.fused and can_fuse(self.model), onednn=self.onednn,
                          train_dtype=self.config.trainer.dtype, train_device=str(self.device))
        return RateNetwork.from_torch(model, tau=self.config.rnn.tau_s, dt=self.config.rnn.dt_s, noise=self.noise,
                                      task=self.task, config=self.config.to_dict(), metrics=self.metrics(),
                                      provenance_info=prov)

    def _finish(self) -> RateNetwork:
        net = self.network()
        if self.out is not None:
            net.save(self.out / "network.npz", overwrite=True)
            self._plot()
            swap_in(self.out, self.final_out)
            self.out = self.final_out
            self.log(f"saved {self.out / 'network.npz'}")
        return net


def check_training_resources(config: Config, task) -> None:
    """Refuse, before anything is allocated or written, a run whose arrays would not fit in memory."""
    from neurorx.models.cells import get_cell
    from neurorx.resources import check_memory, training_memory

    tc = config.trainer
    need = training_memory(n_rec=config.rnn.n_rec, n_in=task.n_in, n_out=task.n_cells, n_init=task.n_cells,
                           gates=len(get_cell(config.rnn.cell).gates), batch=tc.batch_size, steps=tc.steps,
                           test_batch=tc.test_batch, bytes_per_number=4 if tc.dtype == "float32" else 8)
    check_memory(need, f"training {config.rnn.n_rec} units on batches of {tc.batch_size} x {tc.steps} steps",
                 "lower rnn.n_rec, trainer.batch_size, trainer.steps or trainer.test_batch")


def _with_cell_params(meta: dict) -> dict:
    """A checkpoint's configuration with its cell's parameters in the ``rnn`` section.

    Checkpoints written while the parameters were class attributes of the cells hold them apart, as
    ``cell_settings``; older ones not at all (they are read with the cell's defaults, as they were resumed).
    """
    config = json.loads(json.dumps(meta["config"]))
    rnn = config.get("rnn")
    if isinstance(rnn, dict) and "cell_settings" in meta:
        from neurorx.models.cells import CELLS

        names = CELLS.get(rnn["cell"]).parameter_names() if rnn.get("cell", "vanilla") in CELLS else ()
        config["rnn"] = {**{k: v for k, v in meta["cell_settings"].items() if k in names}, **rnn}
    if isinstance(rnn, dict):
        config["rnn"] = Config.from_dict(config, validate=False).rnn.resolved().to_dict()
    return config


def _diff_keys(a: dict, b: dict, prefix: str = "") -> list[str]:
    keys = []
    for k in sorted(set(a) | set(b)):
        name = f"{prefix}{k}"
        va, vb = a.get(k), b.get(k)
        if isinstance(va, dict) and isinstance(vb, dict) and not name.startswith("noise."):
            keys += _diff_keys(va, vb, name + ".")
        elif va != vb:
            keys.append(name)
    return keys


def train(config: Config, out: str | Path | None = None, *, force: bool = False, resume: bool = False,
          quiet: bool = False, callback=None) -> RateNetwork:
    """Train a network from ``config`` (see :class:`Trainer`) and return it; outputs go to ``out``."""
    return Trainer(config, out, force=force, resume=resume, quiet=quiet, callback=callback).run()
