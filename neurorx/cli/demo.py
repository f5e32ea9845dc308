"""``neurorx demo --out DIR``: the main job on the shipped networks (both backends, report with figures)."""

from __future__ import annotations

import argparse
import sys

from neurorx.cli import command


@command("demo", help="run the paper's active/quiescent protocols on the shipped networks, on both backends",
         description=__doc__)
def configure(parser: argparse.ArgumentParser):
    """Declare the arguments of ``neurorx demo``."""
    parser.add_argument("--out", metavar="DIR", default="demo_out", help="report folder (default: demo_out)")
    parser.add_argument("--models", metavar="DIR", default=None,
                        help="folder with the shipped networks (default: models/ of this checkout)")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--quiescent", type=int, default=1000, help="quiescent steps (paper: 1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backends", nargs="+", default=["torch", "brian2"],
                        help="registered backends to run; the first two are compared")
    parser.add_argument("--target", default="auto", choices=["auto", "cython", "numpy"],
                        help="Brian2 code-generation target (default: auto)")
    parser.add_argument("--no-head-direction", action="store_true", help="skip the head-direction networks")
    parser.add_argument("--force", action="store_true", help="overwrite an existing report in DIR")
    parser.add_argument("--quiet", action="store_true")
    return run


def run(args: argparse.Namespace) -> int:
    """Run :func:`neurorx.experiments.demo.run_demo`."""
    from neurorx.experiments.demo import DemoConfig, run_demo
    from neurorx.zoo import models_dir

    models = args.models or str(models_dir())
    cfg = DemoConfig(models_dir=models, trials=args.trials, quiescent_steps=args.quiescent, seed=args.seed,
                     backends=tuple(args.backends), backend_options={"brian2": {"target": args.target}},
                     head_direction=not args.no_head_direction)
    try:
        results = run_demo(args.out, cfg, force=args.force, quiet=args.quiet)
    except (FileExistsError, FileNotFoundError, ValueError) as err:
        print(f"neurorx demo: {err}", file=sys.stderr)
        return 2
    from pathlib import Path

    from neurorx.experiments.demo import summary_table

    print(summary_table(results))                       # the result on stdout; progress and logs on stderr
    print(f"\nreport: {Path(args.out) / 'report.md'}")
    return 0
