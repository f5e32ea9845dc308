"""``neurorx sweep SPEC.yaml [--dry-run | --gather | --migrate | --verify | --report [A:B,...]]
[--scheduler ADDR] [--workers N] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import sys

from neurorx.cli import command

EPILOG = """\
SPEC is a sweep spec (YAML): the networks to train (cards x overrides x seeds), the protocol runs
(networks x protocols x backends x seeds) and the statistics to collect; see docs/sweeps.md, e.g.
  neurorx sweep protocols/sweeps/paper_five_seeds.yaml --dry-run
  neurorx sweep protocols/sweeps/paper_five_seeds.yaml --workers 8
  neurorx sweep protocols/sweeps/paper_five_seeds.yaml --scheduler tcp://10.0.0.5:8786
Jobs already done are not run again: after an interruption run the same command. Results: DIR/results.nc;
--gather writes it from the jobs finished so far, while the sweep runs; --report does the same and writes the
paired report (Dale vs unconstrained per seed) to DIR/report/. --migrate renames the job folders of
a store written by an earlier neurorx (job-id scheme 1) so that nothing is recomputed. --verify checks every
finished job's outputs against the sizes and hashes its completion record holds.
Exit status: 0 all jobs done (--verify: none damaged), 1 some jobs failed or damaged (the others are kept),
2 invalid spec or options.
"""


@command("sweep", help="run a grid of train/run/statistics jobs on Dask", description=__doc__)
def configure(parser: argparse.ArgumentParser):
    """Declare the arguments of ``neurorx sweep``."""
    parser.epilog = EPILOG
    parser.add_argument("spec", metavar="SPEC.yaml", help="sweep spec")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--dry-run", action="store_true", help="list the jobs and which are done; run nothing")
    what.add_argument("--gather", action="store_true",
                        help="run nothing: gather the statistics of the jobs finished so far into DIR/results.nc "
                             "(e.g. while the sweep runs)")
    what.add_argument("--migrate", action="store_true",
                        help="run nothing: rename the job folders of DIR from the job-id scheme of earlier neurorx "
                             "versions to this one's (stop the sweep first)")
    what.add_argument("--verify", action="store_true",
                        help="run nothing: check every finished job's outputs against the sizes and sha256 hashes "
                             "of its completion record, and name the damaged ones")
    what.add_argument("--report", nargs="?", const="", metavar="A:B,...",
                        help="run nothing: gather the jobs finished so far into DIR/results.nc and write DIR/report/"
                             "report.md, report.json and paired.png: mean ± SD over seeds per condition and backend, "
                             "and B − A per seed for each pair A:B (default: every C with a C_dale)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="a running Dask scheduler (tcp://host:8786); 'sync' runs one job at a time here; "
                             "default: a local cluster")
    parser.add_argument("--workers", type=int, metavar="N", help="workers of the local cluster (default: one per core)")
    parser.add_argument("--out", metavar="DIR", help="output folder (default: the spec's out, else runs/sweeps/NAME)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--max-jobs", type=int, metavar="N", default=None,
                        help="raise the limit on the number of jobs (default 100,000) on purpose")
    return run


def run(args: argparse.Namespace) -> int:
    """Validate, run, report."""
    from neurorx.errors import NeurorxError
    from neurorx.sweep import sweep

    if args.workers is not None and args.workers < 1:
        print(f"neurorx sweep: error: --workers must be a positive integer; got {args.workers}", file=sys.stderr)
        return 2
    if args.workers is not None and not args.dry_run:
        from neurorx.resources import check_workers

        check_workers(args.workers, "--workers")
    if args.verify:
        from neurorx.sweep.verify import verify

        try:
            report = verify(args.spec, args.out)
        except (NeurorxError, FileNotFoundError) as err:
            print(f"neurorx sweep: error: {err}", file=sys.stderr)
            return 2
        print(report.summary())
        return 0 if report.ok else 1
    if args.migrate:
        from neurorx.sweep.migrate import migrate

        try:
            print(migrate(args.spec, args.out).summary())
        except (NeurorxError, FileNotFoundError) as err:
            print(f"neurorx sweep: error: {err}", file=sys.stderr)
            return 2
        return 0
    from neurorx.resources import raised_limits

    report = args.report is not None
    try:
        if args.report:
            from neurorx.sweep.paired import parse_pairs

            parse_pairs(args.report)          # a malformed list is refused before anything is gathered
        with raised_limits(**({} if args.max_jobs is None else {"jobs": args.max_jobs})):
            result = sweep(args.spec, out=args.out, scheduler=args.scheduler, workers=args.workers,
                           dry_run=args.dry_run, show_progress=not args.quiet, gather_only=args.gather or report)
        if report:
            from neurorx.sweep.paired import write_report

            paths = write_report(result.results, result.out / "report", args.report or None)
    except (NeurorxError, FileNotFoundError) as err:
        print(f"neurorx sweep: error: {err}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(f"output folder: {result.out}")
        return 0
    if args.gather or report:
        stats = [j.id for j in result.jobs if j.kind == "statistic"]
        done = sum(i in result.done_before for i in stats)
        print(f"gathered {done} of {len(stats)} statistic jobs into {result.results} (the others are NaN; "
              f"{len(result.done_before)} of {len(result.jobs)} jobs done)")
        from neurorx.sweep import Store
        from neurorx.sweep.runner import unsound

        for job_id, why in unsound(result.jobs, Store(result.out)).items():
            if not why.startswith("reads"):       # damaged itself (a job reading one is sound and gathered)
                print(f"not gathered: job {job_id}: {why} (the next run recomputes it)")
        if report:
            print("report: " + ", ".join(str(p) for p in paths.values()))
        return 0
    print(result.summary())
    return 0 if result.ok else 1
