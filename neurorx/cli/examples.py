"""``neurorx examples list`` and ``neurorx examples copy DIR``: the example scripts and sweep specs.

The scripts of the docs' example gallery and the sweep specs are installed with the package; copy them into a
folder of your own to run and change them (``python DIR/fig1_spatial_reactivation.py --out runs/fig1``).
"""

from __future__ import annotations

import argparse
import sys

from neurorx.cli import command


@command("examples", help="list the example scripts and sweep specs, or copy them into a folder",
         description=__doc__)
def configure(parser: argparse.ArgumentParser):
    """Declare the arguments of ``neurorx examples``."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("list", help="list the examples")
    copy = sub.add_parser("copy", help="copy every example into DIR")
    copy.add_argument("dir", metavar="DIR", help="folder to copy into (created if missing)")
    copy.add_argument("--force", action="store_true", help="replace examples already in DIR")
    return run


def run(args: argparse.Namespace) -> int:
    """List or copy the examples."""
    from neurorx.examples import copy_examples, examples_dir, list_examples

    if args.action == "list":
        print(f"# in {examples_dir()}")
        print("\n".join(list_examples()))
        return 0
    try:
        copied = copy_examples(args.dir, force=args.force)
    except OSError as err:
        print(f"neurorx examples: {err}", file=sys.stderr)
        return 2
    print(f"copied {len(copied)} examples into {args.dir}")
    return 0
