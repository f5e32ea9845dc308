"""``neurorx train CARD [key=value ...] --out DIR``: train a network from a model card."""

from __future__ import annotations

import argparse
import sys

from neurorx.cli import command

EPILOG = """\
CARD is a path to a YAML card or the name of a shipped card, e.g. spatial_navigation/noisy_unbiased.
Overrides are dotted key=value pairs (an OmegaConf dot-list, values read as YAML), applied after the card, e.g.
  neurorx train spatial_navigation/noisy_unbiased rnn.n_rec=64 trainer.n_epochs=300 seed=1 --out runs/sp64
Keys: seed, task.<task argument> (task.biased=true), rnn.{cell,activation,n_rec,tau,dt,bias},
noise.<placement>.<field> (noise.recurrent.scale=0.02), trainer.{n_epochs,batch_size,steps,lr,
weight_decay,eval_every,test_batch,threads,dtype,fused,prefetch,snapshot_every}.
Outputs in DIR: config.yaml, metrics.jsonl, checkpoint.npz, network.npz, learning_curve.png (and
snapshots/batch_XXXXXX.npz with trainer.snapshot_every=N).
"""


@command("train", help="train a network from a model card", description=__doc__)
def configure(parser: argparse.ArgumentParser):
    """Declare the arguments of ``neurorx train``."""
    parser.epilog = EPILOG
    parser.add_argument("card", metavar="CARD", help="model card: a .yml path or a shipped card's name")
    parser.add_argument("overrides", metavar="key=value", nargs="*", help="configuration overrides")
    parser.add_argument("--out", metavar="DIR", help="output folder (required unless --show)")
    parser.add_argument("--force", action="store_true", help="overwrite the outputs of an earlier run in DIR")
    parser.add_argument("--resume", action="store_true", help="continue from DIR/checkpoint.npz")
    parser.add_argument("--quiet", action="store_true", help="no progress bar, no log lines")
    parser.add_argument("--show", action="store_true", help="print the resolved configuration and exit")
    return run


def config_summary(card: str, overrides, cfg) -> str:
    """Two lines saying what will be trained: the card and its overrides, then the settings that matter most."""
    rnn, tr = cfg.rnn, cfg.trainer
    noise = ", ".join(f"{place} {d.get('name', '?')}" + "".join(f" {k}={v}" for k, v in d.items() if k != "name")
                      for place, d in (cfg.noise or {}).items()) or "no noise"
    head = f"training {card}" + (f" with {' '.join(overrides)}" if overrides else "")
    return (f"{head} ({cfg.label or cfg.task.name})\n"
            f"  task {cfg.task.name}, {rnn.cell}/{rnn.activation} N={rnn.n_rec}, tau {rnn.tau}, dt {rnn.dt}, {noise}; "
            f"{tr.n_epochs} batches of {tr.batch_size} x {tr.steps} steps, seed {cfg.seed}")


def run(args: argparse.Namespace) -> int:
    """Resolve the card and overrides, print the configuration, train."""
    from neurorx.training import (
        ConfigError,
        TrainingDiverged,
        apply_overrides,
        list_cards,
        load_card,
        models_dir,
        train,
    )

    try:
        cfg = apply_overrides(load_card(args.card), args.overrides)
    except (ConfigError, FileNotFoundError) as err:
        print(f"neurorx train: error: {err}", file=sys.stderr)
        if isinstance(err, FileNotFoundError) and not list_cards():
            print(f"(no cards found under {models_dir()})", file=sys.stderr)
        return 2
    if args.show:
        print(cfg.to_yaml(), end="")
        return 0
    if not args.out:
        print("neurorx train: error: --out DIR is required", file=sys.stderr)
        return 2
    if getattr(args, "verbose", False) and not args.quiet:   # -v: every command's flag (cli/__init__.py)
        print(f"# resolved configuration ({args.card}{' + ' + ' '.join(args.overrides) if args.overrides else ''})",
              file=sys.stderr)
        print(cfg.to_yaml(), end="", file=sys.stderr, flush=True)
    elif not args.quiet:
        print(config_summary(args.card, args.overrides, cfg) + f"\n  full configuration: {args.out}/config.yaml "
              "(or -v)", file=sys.stderr, flush=True)
    try:
        net = train(cfg, args.out, force=args.force, resume=args.resume, quiet=args.quiet)
    except (FileExistsError, FileNotFoundError, ConfigError) as err:
        print(f"neurorx train: error: {err}", file=sys.stderr)
        return 2
    except TrainingDiverged as err:
        print(f"neurorx train: error: {err}", file=sys.stderr)
        return 3
    except KeyboardInterrupt as err:
        from neurorx.cli import Terminated

        what = "terminated" if isinstance(err, Terminated) else "interrupted"
        print(f"\nneurorx train: {what}; continue from the last checkpoint with\n  neurorx train {args.card} "
              f"{' '.join(args.overrides)} --out {args.out} --resume".replace("  --out", " --out"), file=sys.stderr)
        return 143 if isinstance(err, Terminated) else 130
    if not args.quiet:
        final = net.metrics["final"]
        scale, unit = net.metrics["error_scale"], net.metrics["error_unit"]
        print(f"final test loss {final['test_loss']:.4g}, test decoding error {final['test_error'] * scale:.3g} {unit} "
              f"(chance {net.metrics['chance_error'] * scale:.3g} {unit}); network: {args.out}/network.npz")
    return 0
