"""Print the table of shipped networks (final test errors from their own metrics) as Markdown.

python models/summarize.py            # run from the repository root
"""

import math
import sys
from pathlib import Path

import neurorx as nrx

ROOT = Path(__file__).resolve().parent
rows = ["| network | paper label | cell | units | noise | batches | final test error | chance | train time |",
        "|---|---|---|---|---|---|---|---|---|"]
for path in sorted(ROOT.glob("*/*.npz")):
    name = f"{path.parent.name}/{path.stem}"
    try:
        net = nrx.load(path)
    except Exception as err:  # report, don't hide, a broken file
        print(f"{name}: cannot load ({err})", file=sys.stderr)
        continue
    m = net.metrics
    final, unit = m.get("final", {}), m.get("error_unit", "")
    scale = m.get("error_scale", 1.0)
    noise = net.recurrent_noise.to_dict()
    noise_txt = noise["name"] if noise["name"] == "none" else (
        f"{noise['name']} {noise.get('scale', noise.get('sigma', 0)):.3g}")
    err = final.get("test_error", math.nan) * scale
    chance = m.get("chance_error", math.nan) * scale
    rows.append(f"| `{name}` | {net.config.get('label', '')} | {net.cell} | {net.n_rec} | {noise_txt} | "
                f"{final.get('batch', '?')} | {err:.1f} {unit} | {chance:.0f} {unit} | "
                f"{m.get('train_time_s', math.nan) / 60:.0f} min |")
print("\n".join(rows))
