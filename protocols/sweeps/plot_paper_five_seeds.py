"""Figures 1b, 1c, 2e, 2f and the summary table from the results of paper_five_seeds.yaml (or any sweep
collecting the same statistics).

    neurorx sweep protocols/sweeps/paper_five_seeds.yaml
    python protocols/sweeps/plot_paper_five_seeds.py runs/sweeps/paper_five_seeds/results.nc --out runs/fig_five_seeds
"""

import argparse
from pathlib import Path

from neurorx.io import atomic_write_bytes
from neurorx.sweep.figures import paper_figures, summary_table

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("results", nargs="?", default="runs/sweeps/paper_five_seeds/results.nc")
parser.add_argument("--out", default="runs/fig_five_seeds")
parser.add_argument("--force", action="store_true", help="overwrite existing figures and table")
args = parser.parse_args()
if not Path(args.results).is_file():
    parser.error(f"no results file {args.results}; run `neurorx sweep protocols/sweeps/paper_five_seeds.yaml` first")
for path in paper_figures(args.results, args.out, overwrite=args.force):
    print("saved", path)
table = summary_table(args.results)
print(table)
print("saved", atomic_write_bytes(Path(args.out) / "table.md", (table + "\n").encode(), overwrite=args.force))
