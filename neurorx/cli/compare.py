"""``neurorx compare A.npz B.npz [--json OUT]``: reactivation statistics of two recordings side by side."""

from __future__ import annotations

import argparse
import sys

from neurorx.cli import command


@command("compare", help="compare two recordings (e.g. torch vs brian2)", description=__doc__)
def configure(parser: argparse.ArgumentParser):
    """Declare the arguments of ``neurorx compare``."""
    parser.add_argument("a", help="first recording .npz")
    parser.add_argument("b", help="second recording .npz")
    parser.add_argument("--json", default=None, help="also write the comparison as JSON")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-boot", type=int, default=199, help="bootstrap resamples of the BCa intervals")
    parser.add_argument("--n-perm", type=int, default=99,
                        help="permutations; the smallest reportable p is 1/(n+1): 999 resolves p to 0.001")
    parser.add_argument("--max-resamples", type=int, default=None, metavar="N",
                        help="raise the limit on --n-boot/--n-perm (default 1,000,000) on purpose")
    parser.add_argument("--force", action="store_true")
    return run


def run(args: argparse.Namespace) -> int:
    """Print the comparison table (and save it)."""
    import neurorx as nrx
    from neurorx.resources import raised_limits

    limits = {} if args.max_resamples is None else {"resamples": args.max_resamples}
    try:
        with raised_limits(**limits):
            cmp = nrx.compare(nrx.Recording.load(args.a), nrx.Recording.load(args.b), seed=args.seed,
                              n_boot=args.n_boot, n_perm=args.n_perm)
        if args.json:
            cmp.to_json(args.json, overwrite=args.force)
    except (ValueError, OSError) as err:   # OSError: missing or existing file, a directory for a file
        print(f"neurorx compare: {err}", file=sys.stderr)
        return 2
    print(cmp.table(style="cli"))
    return 0
