"""Tabulate the shipped networks from their own metrics, and state each one's training in its model card.

    python models/summarize.py            # print the Markdown table (run from the repository root)
    python models/summarize.py --cards    # also rewrite the "Shipped network" paragraph of every model card

Rewriting a card's text changes the ids of the sweep jobs that train from it (a sweep hashes the resolved card,
description included; docs/sweeps.md), so a sweep run afterwards trains those networks again.

Convergence is judged from the test-error curve stored in each network file: the median of the last five
evaluations against the median of the five before (500 batches earlier at ``eval_every = 100``). Within
±10% the curve "has flattened"; below, it is "still falling"; above, "rising".
"""

import argparse
import math
import re
import sys
from pathlib import Path

import numpy as np

import neurorx as nrx

ROOT = Path(__file__).resolve().parent
PAPER_BATCHES = {"spatial_navigation": 2500, "head_direction": 20000}
WINDOW = 5
FLAT = 0.10


def convergence(curve: dict) -> tuple[float, str, int]:
    """(relative change of the median test error, verdict, batches spanned) from a metrics curve."""
    err = np.asarray([e for e in curve.get("test_error", []) if e is not None], dtype=float)
    batches = np.asarray(curve.get("batch", []), dtype=int)[-len(err):] if len(err) else np.zeros(0, int)
    if len(err) < 2 * WINDOW:
        return math.nan, "too short to judge", 0
    change = float(np.median(err[-WINDOW:]) / np.median(err[-2 * WINDOW : -WINDOW]) - 1.0)
    verdict = "has flattened" if abs(change) <= FLAT else ("still falling" if change < 0 else "rising")
    return change, verdict, int(batches[-1] - batches[-1 - WINDOW])


def card_paragraph(name: str, net) -> str:
    """The card's one-line "Shipped network" paragraph: batches, final error, convergence."""
    m = net.metrics
    final, unit, scale = m.get("final", {}), m.get("error_unit", ""), m.get("error_scale", 1.0)
    batches = final.get("batch")
    paper = PAPER_BATCHES[name.split("/")[0]]
    change, verdict, span = convergence(m.get("curve", {}))
    trend = ("" if math.isnan(change) else
             f"; the median of the last {WINDOW} evaluations differs from that of the {WINDOW} before "
             f"({span} batches earlier) by {100 * change:+.0f}%: the curve {verdict}")
    return (f"  Shipped network (models/{name}.npz): trained with `bash models/train_shipped.sh {name}` (seed 0) "
            f"for {batches} batches (the paper: {paper}); final test decoding error "
            f"{final.get('test_error', math.nan) * scale:.1f} {unit} (chance "
            f"{m.get('chance_error', math.nan) * scale:.0f} {unit}){trend}. Learning curve: "
            f"{Path(name).name}.learning_curve.png.\n")


def rewrite_card(card: Path, paragraph: str) -> None:
    """Replace (or add, at the end of the description) the card's "Shipped network" paragraph."""
    text = card.read_text(encoding="utf-8")
    # the paragraph with its continuation lines (a hand-wrapped one too): up to a blank line or a YAML key
    new, n = re.subn(r"  Shipped network \(.*\n(?:  +\S.*\n)*", lambda _: paragraph, text, count=1)
    if n == 0:   # first time: append the paragraph to the end of the description block
        new = re.sub(r"(description: \|\n(?:  .*\n|\n)*?)(?=\S)", lambda mt: mt.group(1).rstrip("\n") + "\n\n"
                     + paragraph, text, count=1)
    if new != text:
        card.write_text(new, encoding="utf-8")


def main(argv=None):
    """Print the table; with ``--cards`` also rewrite the cards."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", action="store_true", help="rewrite the 'Shipped network' paragraph of each card")
    args = parser.parse_args(argv)
    rows = ["| network | paper label | cell | units | noise | batches | final test error | chance | curve |",
            "|---|---|---|---|---|---|---|---|---|"]
    for path in sorted(ROOT.glob("*/*.npz")):
        name = f"{path.parent.name}/{path.stem}"
        try:
            net = nrx.load(path)
        except Exception as err:  # report, don't hide, a broken file
            print(f"{name}: cannot load ({err})", file=sys.stderr)
            continue
        m = net.metrics
        final, unit, scale = m.get("final", {}), m.get("error_unit", ""), m.get("error_scale", 1.0)
        noise = net.recurrent_noise.to_dict()
        noise_txt = noise["name"] if noise["name"] == "none" else (
            f"{noise['name']} {noise.get('scale', noise.get('sigma', 0)):.3g}")
        change, verdict, _ = convergence(m.get("curve", {}))
        rows.append(f"| `{name}` | {net.config.get('label', '')} | {net.cell} | {net.n_rec} | {noise_txt} | "
                    f"{final.get('batch', '?')} | {final.get('test_error', math.nan) * scale:.1f} {unit} | "
                    f"{m.get('chance_error', math.nan) * scale:.0f} {unit} | {verdict} ({100 * change:+.0f}%) |")
        if args.cards:
            card = path.with_suffix(".yml")
            if card.exists():
                rewrite_card(card, card_paragraph(name, net))
    print("\n".join(rows))


if __name__ == "__main__":
    main()
