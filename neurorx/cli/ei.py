"""``neurorx ei experiment|check``: E/I networks with inhibitory normalization (Eyono et al.).

Examples::

    neurorx ei experiment --quick --out runs/ei_quick          # seconds
    neurorx ei experiment --full --out runs/ei --workers 2     # the documented run (144 trainings)
    neurorx ei check                                           # gradient alignment after homeostasis
"""

from __future__ import annotations

import argparse
import json
import sys

from neurorx.cli import command


@command("ei", help="E/I networks with inhibitory normalization: the luminosity experiment and checks",
         description=__doc__)
def configure(parser: argparse.ArgumentParser):
    """Declare the subcommands of ``neurorx ei``."""
    sub = parser.add_subparsers(dest="ei_command", metavar="SUBCOMMAND")
    exp = sub.add_parser("experiment", help="conditions x luminosity x random configurations x seeds, paired")
    mode = exp.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="a few seconds (1 configuration, 2 epochs)")
    mode.add_argument("--full", action="store_true", help="the documented run (default)")
    exp.add_argument("--out", required=True, metavar="DIR", help="results folder (resumes if it holds this design)")
    exp.add_argument("--seed", type=int, default=0)
    exp.add_argument("--data", default="digits", help="digits, idx:TRAIN_IMG,TRAIN_LBL[,TEST_IMG,TEST_LBL] or csv:PATH")
    exp.add_argument("--conditions", nargs="+", default=None, help="condition names (default: ei ln_plus inorm "
                     "inorm_full)")
    exp.add_argument("--epsilons", nargs="+", type=float, default=None, help="luminosity levels in [0, 1]")
    exp.add_argument("--configs", type=int, default=None, help="random configurations")
    exp.add_argument("--seeds", type=int, default=None, help="seeds per configuration")
    exp.add_argument("--epochs", type=int, default=None)
    exp.add_argument("--workers", type=int, default=1, help="Dask workers of a local cluster (default 1: the "
                     "jobs run in this process)")
    exp.add_argument("--threads", type=int, default=1, help="kept for existing scripts: every job runs with one "
                     "torch thread")
    exp.add_argument("--max-jobs", type=int, default=None, metavar="N",
                     help="raise the limit on the number of runs (default 100,000) on purpose")
    exp.add_argument("--figures", action="store_true", help="also draw the figures into DIR/figures")
    exp.add_argument("--force", action="store_true",
                     help="replace results of another design in DIR once the new experiment has finished")
    exp.add_argument("--quiet", action="store_true")
    chk = sub.add_parser("check", help="gradient alignment with exact LayerNorm after homeostasis (seconds)")
    chk.add_argument("--error-norms", nargs="+", default=None, help="variants (default: all registered)")
    chk.add_argument("--seed", type=int, default=0)
    return run


def _experiment(args) -> int:
    from neurorx.ei.experiment import ExperimentConfig, run_experiment

    overrides = {k: v for k, v in {"conditions": args.conditions, "epsilons": args.epsilons,
                                   "n_configs": args.configs, "seeds": args.seeds, "epochs": args.epochs,
                                   "data": args.data, "seed": args.seed}.items() if v is not None}
    from neurorx.resources import raised_limits

    with raised_limits(**({} if args.max_jobs is None else {"jobs": args.max_jobs})):
        cfg = ExperimentConfig.quick(**overrides) if args.quick else ExperimentConfig.full(**overrides)
        summary = run_experiment(cfg, args.out, workers=args.workers, threads=args.threads, force=args.force,
                                 progress=not args.quiet)
    if args.figures:
        from neurorx.ei.figures import draw_all

        draw_all(args.out, overwrite=True)
    if not args.quiet:
        from neurorx.ei.figures import format_summary

        print(format_summary(summary))
    return 0


def _check(args) -> int:
    from neurorx.checks import positive_int
    from neurorx.ei.diagnostics import alignment_check
    from neurorx.ei.error_norm import ERROR_NORMS

    positive_int(args.seed, "--seed", minimum=0)

    for name in args.error_norms or ERROR_NORMS.names():
        print(json.dumps(alignment_check(name, seed=args.seed).__dict__))
    return 0


def run(args: argparse.Namespace) -> int:
    """Dispatch to the subcommand; user errors print one line and exit with status 2."""
    from neurorx.errors import NeurorxError

    if args.ei_command is None:
        print("neurorx ei: give a subcommand: experiment or check (see neurorx ei --help)", file=sys.stderr)
        return 2
    try:
        return {"experiment": _experiment, "check": _check}[args.ei_command](args)
    except (NeurorxError, FileExistsError, FileNotFoundError) as err:
        print(f"neurorx ei: {err}", file=sys.stderr)
        return 2
