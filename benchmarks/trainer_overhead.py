"""What ``neurorx train`` does per epoch besides the fused training step, in CPU seconds of one process.

One epoch of :class:`neurorx.training.trainer.Trainer` is: sample a batch (the task's trajectories and their
targets, :func:`~neurorx.training.batches.make_batch`; the training noise, :func:`~neurorx.training.fused.
draw_increments`), one fused training step (:func:`~neurorx.training.trainer.train_step`, what
``benchmarks/train_speed.py`` times), the finiteness checks, one line of ``metrics.jsonl``, and every
``eval_every`` batches the test-batch evaluation and a checkpoint. This benchmark times each part alone, in
CPU seconds (``time.process_time``) with one torch thread, so that other processes on the machine inflate the
numbers less than wall time and the shares stay readable on a loaded machine. Reported: the minimum and
median over ``--repeats`` of each part, and its share of the training step (the per-``eval_every`` parts
divided by ``eval_every``).

The trainer samples the next batch in a background thread (``trainer.prefetch``) while the step runs, so
with a free core the sampling is hidden; with torch using every core it is not, and it adds its CPU time to
the epoch.

Usage::

    python benchmarks/trainer_overhead.py [--card spatial_navigation/noisy_unbiased] [--repeats 7] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch

from neurorx.training.batches import make_batch
from neurorx.training.cards import apply_overrides, load_card
from neurorx.training.fused import draw_increments
from neurorx.training.trainer import Trainer, batch_generator, batch_rng, train_step


def cpu_seconds(fn, repeats: int) -> list[float]:
    """CPU seconds of ``fn(i)`` for ``i`` in ``range(repeats)``, after one untimed call."""
    fn(-1)
    out = []
    for i in range(repeats):
        t0 = time.process_time()
        fn(i)
        out.append(time.process_time() - t0)
    return out


def measure(card: str, repeats: int) -> dict:
    """CPU seconds of each part of a training epoch of ``card`` (one torch thread)."""
    torch.set_num_threads(1)
    cfg = apply_overrides(load_card(card), ["trainer.threads=1"])
    tc = cfg.trainer
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(cfg, Path(tmp) / "run", quiet=True)
        trainer._prepare_out()
        dt = cfg.rnn.dt_s
        batch = trainer._batch(tc.batch_size, batch_rng(cfg.seed, 1), batch_generator(cfg.seed, 1))
        test = trainer._batch(tc.test_batch, batch_rng(cfg.seed, 0, 7), batch_generator(cfg.seed, 0, 7))
        task_rng = lambda i: batch_rng(cfg.seed, i + 10)              # noqa: E731
        parts = {
            "train_step": lambda i: float(train_step(trainer.model, trainer.optimizer, batch, trainer.noise, dt, None,
                                                     trainer.fused, trainer.onednn)[0]),
            "sample trajectories + targets": lambda i: make_batch(trainer.task, tc.batch_size, tc.steps, task_rng(i),
                                                                  trainer.dtype),
            "draw training noise": lambda i: draw_increments(trainer.noise, tc.steps, tc.batch_size, trainer.task.n_in,
                                                             trainer.model.n_rec, trainer.task.n_cells, dt,
                                                             batch_generator(cfg.seed, i + 10), trainer.dtype),
            "finiteness checks": lambda i: [bool(torch.isfinite(p).all()) for p in trainer.params.values()],
            "metrics line": lambda i: trainer._append_metrics({"kind": "train", "batch": i, "loss": 0.1}),
            "evaluation (per eval)": lambda i: trainer.evaluate(test),
            "checkpoint (per eval)": lambda i: trainer._checkpoint(),
        }
        times = {name: cpu_seconds(fn, repeats) for name, fn in parts.items()}
    step = min(times["train_step"])
    rows = {}
    for name, t in times.items():
        per_epoch = min(t) / (tc.eval_every if "per eval" in name else 1)
        rows[name] = {"min_s": min(t), "median_s": statistics.median(t), "share_of_step": per_epoch / step}
    return {"card": card, "batch_size": tc.batch_size, "steps": tc.steps, "eval_every": tc.eval_every,
            "n_rec": cfg.rnn.n_rec, "repeats": repeats, "load_average": os.getloadavg(), "parts": rows}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--card", default="spatial_navigation/noisy_unbiased")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    res = measure(args.card, args.repeats)
    print(f"{res['card']}: N={res['n_rec']}, B={res['batch_size']}, T={res['steps']}, eval every "
          f"{res['eval_every']} batches; one torch thread; load average {res['load_average'][0]:.1f}")
    print(f"{'part':<32} {'min CPU s':>10} {'median':>10} {'per epoch / step':>17}")
    for name, r in res["parts"].items():
        print(f"{name:<32} {r['min_s']:>10.4f} {r['median_s']:>10.4f} {r['share_of_step']:>16.1%}")
    extra = sum(r["share_of_step"] for n, r in res["parts"].items() if n != "train_step")
    print(f"the trainer adds {extra:.1%} of the step's CPU per epoch")
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
