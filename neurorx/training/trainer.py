r"""The trainer: Adam, full BPTT, the reference loss, seeded batches, checkpoints and exact resumption.

Reference behaviour (``paper.md`` §2.3, §4): one fresh batch per "epoch", full backpropagation through the
``steps`` time steps, Adam (lr 1e-3, no weight decay, no clipping, no schedule), and the loss

.. math:: L = \frac{1}{B\,T\,n_{out}} \sum_{b,t,i} \big(y_{b,t,i} - f_i(s_{b,t})\big)^2

(``nn.MSELoss`` with mean reduction) on the raw linear outputs :math:`y_t = W_{out}h_{t+1}` against the target
cell codes. The training noise is drawn from the network's noise models at the training step ``dt`` (for the
reference, :math:`0.01\,U[0,1)` per step and unit for spatial navigation). A fixed test batch, drawn once
before training, is evaluated every ``eval_every`` batches (loss with the training noise on, as in the
reference, and the top-k decoding error: metres for positions, radians for angles).

Reproducibility: batch ``i`` (0-based) draws its trajectories from ``SeedSequence(seed, spawn_key=(0, i))``
and its noise from a torch generator seeded by ``SeedSequence(seed, spawn_key=(1, i))``, so it depends only
on ``(seed, i)`` and can be drawn ahead, in a background thread, while the previous batch trains. With the
weights and Adam moments restored from a checkpoint, a resumed run therefore ends with exactly the weights
of an uninterrupted one.
"""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from neurorx.errors import OutputPathError, SimulationError
from neurorx.io import CorruptFileError, atomic_write_bytes, check_output_dir
from neurorx.network import RateNetwork
from neurorx.progress import get_logger, progress
from neurorx.provenance import provenance
from neurorx.seeds import numpy_rng, torch_generator
from neurorx.training.checkpoint import load_checkpoint, restore_checkpoint, save_checkpoint
from neurorx.training.config import RESUME_FREE_KEYS, Config, ConfigError
from neurorx.training.fused import can_fuse, draw_increments, forward_time_major
from neurorx.training.linalg import onednn_available
from neurorx.training.memory import reuse_freed_memory

__all__ = [
    "OUTPUT_FILES",
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

#: Files a training run writes into its output folder.
OUTPUT_FILES = ("config.yaml", "metrics.jsonl", "checkpoint.npz", "network.npz", "learning_curve.png")
#: Folder inside the output folder where a ``--force`` replacement trains until it has finished.
STAGING_DIR = ".replacing"

_STREAM_DATA, _STREAM_NOISE, _STREAM_TEST_DATA, _STREAM_TEST_NOISE = 0, 1, 2, 3


def resumable_checkpoint(out: str | Path) -> Path | None:
    """The checkpoint that ``train(config, out, resume=True)`` continues from, or ``None``.

    An interrupted ``--force`` replacement's (``out/.replacing/checkpoint.npz``) comes first, then
    ``out/checkpoint.npz``.
    """
    out = Path(out)
    return next((p for p in (out / STAGING_DIR / "checkpoint.npz", out / "checkpoint.npz") if p.is_file()), None)


class CheckpointMismatch(ConfigError):
    """A checkpoint that this configuration or cell cannot continue (another config, other cell settings)."""


class TrainingDiverged(SimulationError):
    """The loss or the weights became NaN/inf; ``batch`` is where, ``checkpoint`` the last good one."""

    def __init__(self, message: str, batch: int, checkpoint: Path | None):
        super().__init__(message)
        self.batch = batch
        self.checkpoint = checkpoint


# ----------------------------------------------------------------------------------------------------------
# batches and seeds


def batch_rng(seed: int, index: int, stream: int = _STREAM_DATA) -> np.random.Generator:
    """The numpy generator of batch ``index`` (stream 0: training data; 2: the test batch)."""
    return numpy_rng(seed, stream, index)


def batch_generator(seed: int, index: int, stream: int = _STREAM_NOISE) -> torch.Generator:
    """The torch generator of batch ``index``'s noise (stream 1: training; 3: the test batch)."""
    return torch_generator(seed, stream, index)


@dataclass(frozen=True)
class Batch:
    """One batch as time-major tensors (``T, B, ...``) plus the true states (numpy, ``B, T, d``).

    ``increments`` optionally holds the batch's noise, drawn ahead (:func:`draw_increments`).
    """

    inputs: torch.Tensor
    init_code: torch.Tensor
    targets: torch.Tensor
    states: np.ndarray
    increments: dict | None = None


def make_batch(task, batch_size: int, steps: int, rng, dtype=torch.float32) -> Batch:
    """Sample ``task`` and convert to time-major tensors of ``dtype``."""
    b = task.sample(batch_size, steps, rng)
    return Batch(
        inputs=torch.from_numpy(b.inputs).to(dtype).transpose(0, 1).contiguous(),
        init_code=torch.from_numpy(b.init_code).to(dtype),
        targets=torch.from_numpy(b.targets).to(dtype).transpose(0, 1).contiguous(),
        states=b.states,
    )


def train_step(model, optimizer, batch: Batch, noise, dt: float, generator, fused: bool = True,
               onednn: bool = True, *, homeostatic_weight: float = 0.01, record: dict | None = None):
    r"""One optimisation step on ``batch``: forward, reference MSE loss, BPTT, Adam update.

    The noise is ``batch.increments`` if drawn ahead, else drawn from ``generator``. A non-finite loss skips
    the update (the caller stops training).

    For a cell with a local loss (:attr:`Cell.has_local_loss`: ``dale_norm``, ``dale_subnorm``) the
    gradient is that of :math:`L_{task} + \lambda L_I` with :math:`\lambda` = ``homeostatic_weight``: the
    cell's stop-gradients route the task loss to the excitatory weights and the homeostatic loss
    :math:`L_I` to the weights onto the inhibitory units (:class:`~neurorx.models.cells.DaleNormCell`), so one
    backward pass and one Adam step serve both; the unweighted :math:`L_I` goes into ``record["homeostatic_loss"]``.
    Entries the cell freezes (:meth:`Cell.frozen_masks`) are restored after the step.

    Returns
    -------
    loss : torch.Tensor
        The (detached) task loss before the update.
    y : torch.Tensor (T, B, n_out)
        The (detached) outputs.
    """
    optimizer.zero_grad(set_to_none=True)
    local = {} if model.cell.has_local_loss else None
    _, y, loss = forward_time_major(model, batch.inputs, batch.init_code, noise, dt, generator, fused=fused,
                                    targets=batch.targets, onednn=onednn, increments=batch.increments,
                                    local_losses=local)
    total = loss
    if local:
        homeostatic = local["homeostatic"]
        if record is not None:
            record["homeostatic_loss"] = float(homeostatic.detach())
        total = loss + homeostatic_weight * homeostatic
    if not torch.isfinite(total):
        return loss.detach(), y.detach()
    total.backward()
    frozen = {name: (mask, model.weights()[name].detach()[mask].clone())
              for name, mask in model.cell.frozen_masks(model.weights()).items()}
    optimizer.step()
    if frozen:
        weights = model.weights()
        with torch.no_grad():
            for name, (mask, values) in frozen.items():
                weights[name][mask] = values
    model.cell.project_(model.weights())   # constrained cells (dale: sign structure); a no-op for the others
    return loss.detach(), y.detach()


def decoding_error(task, y: torch.Tensor, states: np.ndarray) -> float:
    """Mean top-k decoding error of time-major outputs ``y (T, B, n)`` against ``states (B, T, d)``."""
    decoded = task.decode(y.transpose(0, 1).to(torch.float64))
    err = task.error(decoded, torch.from_numpy(states))
    return float(err.mean())


# ----------------------------------------------------------------------------------------------------------
# the trainer


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
        self.config = config
        self.out = None if out is None else Path(out)
        self.final_out = self.out
        self.force, self.resume, self.quiet = force, resume, quiet
        self.callback = callback
        self.task = config.build_task()
        check_training_resources(config, self.task)
        self.noise = config.build_noise()
        self.dtype = getattr(torch, config.trainer.dtype)
        self.model = config.build_model(self.task)
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
        """Check the output folder before any work; a forced or resumed replacement trains in a staging folder.

        ``--force`` onto finished outputs never deletes them up front: the new run writes into
        ``DIR/.replacing/`` and its files replace the old ones only once it has finished (:meth:`_finish`).
        Interrupted or diverged, it leaves the old outputs as they were; ``--resume`` continues it.
        """
        if self.out is None:
            return
        check_output_dir(self.out)
        self.final_out = self.out
        staging = self.out / STAGING_DIR
        existing = [n for n in OUTPUT_FILES if (self.out / n).exists()]
        if self.resume:
            found = resumable_checkpoint(self.out)
            if found is not None and found.parent == staging:
                self.out = staging          # continue an interrupted --force replacement
            elif found is None:
                raise FileNotFoundError(f"cannot resume: no checkpoint.npz in {self.out}; run without --resume "
                                        f"to start training there")
            return  # config.yaml is rewritten once the checkpoint has been checked (_restore)
        if existing and not self.force:
            raise FileExistsError(
                f"{self.out} already holds training outputs ({', '.join(existing)}); pass force=True (--force) "
                f"to replace them once the new run has finished, or resume=True (--resume) to continue from the "
                f"checkpoint"
            )
        if staging.exists():
            shutil.rmtree(staging)          # an earlier interrupted replacement: --force starts afresh
        if existing:
            self.out = staging
        self.out.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.out / "config.yaml", self.config.to_yaml().encode(), overwrite=True)

    def _swap_in(self) -> None:
        """Move a finished staging run's files over the old outputs (the network last), then drop the staging."""
        if self.out == self.final_out:
            return
        order = [n for n in OUTPUT_FILES if n != "network.npz"] + ["network.npz"]
        for name in order:
            new, old = self.out / name, self.final_out / name
            if new.exists():
                os.replace(new, old)
            elif old.exists():
                old.unlink()                # the old run's file has no counterpart in the new one
        shutil.rmtree(self.out, ignore_errors=True)
        self.out = self.final_out

    def _append_metrics(self, record: dict) -> None:
        if self.out is None:
            return
        try:
            with open(self.out / "metrics.jsonl", "a", encoding="utf-8") as fh:
                fh.write(json.dumps(record) + "\n")
        except OSError as err:
            raise OutputPathError(f"could not write {self.out / 'metrics.jsonl'}: {err.strerror or err}; free some "
                                  f"space or choose another folder, then continue with --resume (the last "
                                  f"checkpoint is kept)") from err

    def _checkpoint(self) -> None:
        if self.out is None:
            return
        save_checkpoint(self.out / "checkpoint.npz", self.params, self.optimizer, self.batch,
                        {"config": self.config.to_dict(), "cell_settings": self.model.cell.settings(),
                         "curve": self.curve, "elapsed_s": self.elapsed})

    def _restore(self) -> None:
        path = self.out / "checkpoint.npz"
        arrays, meta = load_checkpoint(path)
        saved = Config.from_dict(meta["config"])
        diff = _diff_keys(saved.to_dict(), self.config.to_dict())
        bad = [k for k in diff if k not in RESUME_FREE_KEYS]
        if bad:
            raise CheckpointMismatch(
                f"cannot resume from {path}: the configuration differs in {', '.join(bad)} (only "
                f"{', '.join(RESUME_FREE_KEYS)} may change when resuming); use --force to start afresh"
            )
        _check_cell_settings(path, meta, self.model.cell)
        batch = restore_checkpoint(arrays, meta, self.params, self.optimizer)
        if batch > self.config.trainer.n_epochs:
            raise CheckpointMismatch(f"the checkpoint is at batch {batch}, beyond trainer.n_epochs = "
                              f"{self.config.trainer.n_epochs}")
        self.batch = batch
        self.curve = {k: list(v) for k, v in meta["curve"].items()}
        self.elapsed = float(meta.get("elapsed_s", 0.0))
        # Drop metric lines written after the checkpoint: they will be recomputed identically.
        mpath = self.out / "metrics.jsonl"
        if mpath.exists():
            text = mpath.read_text(encoding="utf-8")
            lines = text.splitlines()
            if lines and not text.endswith("\n"):
                try:
                    _line_batch(lines[-1])
                except CorruptFileError:
                    lines.pop()     # a line cut short by a kill while it was appended (after the checkpoint)
            kept = [line for line in lines if line.strip() and _line_batch(line) <= batch]
            atomic_write_bytes(mpath, "".join(f"{line}\n" for line in kept).encode(), overwrite=True)
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
        return replace(b, increments=incs)

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
        """Log a hint when other processes keep the cores busy (torch's threads then wait on each other)."""
        threads = self.config.trainer.threads or torch.get_num_threads()
        busy = _busy_cores()
        if busy is None or threads < 2:
            return
        cores = len(os.sched_getaffinity(0))
        if busy > cores - threads + 0.5:
            self.log(f"note: other processes keep {busy:.1f} of {cores} cores busy. With {threads} torch threads "
                     f"each step waits for descheduled threads and training can be several times slower; run "
                     f"one training at a time, or set trainer.threads=1 for concurrent jobs.")

    def _run(self) -> RateNetwork:
        cfg, tc = self.config, self.config.trainer
        self._check_load()
        dt = cfg.rnn.dt_s
        test = self._batch(tc.test_batch, batch_rng(cfg.seed, 0, _STREAM_TEST_DATA),
                           batch_generator(cfg.seed, 0, _STREAM_TEST_NOISE))
        if self.batch == 0 and not self.curve["batch"]:
            rec = self._record_eval(test, None, None)
            self._checkpoint()
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
        }

    def _plot(self) -> None:
        if self.out is None or not self.curve["batch"]:
            return
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        from neurorx.plotting import learning_curve
        from neurorx.plotting._core import math_label
        from neurorx.plotting.training import config_title

        m = self.metrics()
        fig = Figure(figsize=(9, 3.4), layout="constrained")
        FigureCanvasAgg(fig)
        ax_loss, ax_err = fig.subplots(1, 2)
        learning_curve(m, ax=ax_loss, error_ax=ax_err, logy=True, error_scale=m["error_scale"],
                       chance=m["chance_error"], error_label=f"test decoding error ({m['error_unit']})")
        fig.suptitle(math_label(config_title(self.config)), fontsize=9)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        atomic_write_bytes(self.out / "learning_curve.png", buf.getvalue(), overwrite=True)

    def network(self) -> RateNetwork:
        """The current model as a :class:`RateNetwork` (float32 weights) with config, metrics, provenance."""
        weights = {k: v.detach().to(torch.float32).cpu() for k, v in self.params.items()}
        model = self.config.build_model(self.task).to(torch.float32)
        with torch.no_grad():
            for k, p in model.weights().items():
                p.copy_(weights[k])
        prov = provenance(seed=self.config.seed, torch_threads=self.config.trainer.threads,
                          fused_recurrence=self.fused and can_fuse(self.model), onednn=self.onednn,
                          train_dtype=self.config.trainer.dtype)
        return RateNetwork.from_torch(model, tau=self.config.rnn.tau_s, dt=self.config.rnn.dt_s, noise=self.noise,
                                      task=self.task, config=self.config.to_dict(), metrics=self.metrics(),
                                      provenance_info=prov)

    def _finish(self) -> RateNetwork:
        net = self.network()
        if self.out is not None:
            net.save(self.out / "network.npz", overwrite=True)
            self._plot()
            self._swap_in()
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


def _busy_cores(interval: float = 0.25) -> float | None:
    """Cores kept busy by any process over ``interval`` seconds, from ``/proc/stat`` (``None`` if unknown)."""

    def sample():
        with open("/proc/stat", encoding="ascii") as fh:
            values = [int(v) for v in fh.readline().split()[1:]]
        return sum(values), values[3] + (values[4] if len(values) > 4 else 0)   # total, idle + iowait

    try:
        total0, idle0 = sample()
        time.sleep(interval)
        total1, idle1 = sample()
        cores = len(os.sched_getaffinity(0))
    except (OSError, ValueError, IndexError, AttributeError):
        return None
    if total1 <= total0:
        return None
    return cores * (1.0 - (idle1 - idle0) / (total1 - total0))


def _line_batch(line: str) -> int:
    try:
        return int(json.loads(line).get("batch", 0))
    except (json.JSONDecodeError, AttributeError, TypeError, ValueError):
        raise CorruptFileError(f"metrics.jsonl holds a line that is not a JSON record: {line[:80]!r}") from None


def _check_cell_settings(path: Path, meta: dict, cell) -> None:
    """Refuse to resume a checkpoint made with other class-level cell settings (e.g. ``DaleCell.gamma_shape``).

    These settings are not config keys, so the config check cannot see them; a checkpoint written before they
    were recorded (no ``cell_settings``) is accepted as it is.
    """
    saved = meta.get("cell_settings")
    if saved is None:
        return
    now = cell.settings()
    changed = [f"{type(cell).__name__}.{k} = {saved.get(k)!r} in the checkpoint, {now.get(k)!r} now"
               for k in sorted(set(saved) | set(now)) if saved.get(k) != now.get(k)]
    if changed:
        raise CheckpointMismatch(f"cannot resume from {path}: the cell's settings differ ({'; '.join(changed)}); "
                                 f"restore the setting, or use --force to start afresh")


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
