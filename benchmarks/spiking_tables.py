"""Markdown tables of a ``spiking_convergence`` results.json (what docs/spiking.md shows).

Usage::

    python -m benchmarks.spiking_tables DIR/results.json
"""

from __future__ import annotations

import json
import sys


def _f(x, fmt=".3g") -> str:
    return "–" if x is None else format(x, fmt)


def tables(results: dict) -> str:
    """The convergence table and the spike-statistics table."""
    lines = ["| run | M | active error | KL(Q‖A) | quiescent total variance | wall (s) |", "|---|---|---|---|---|---|"]
    for backend, r in results["rate"].items():
        lines.append(f"| rate, {backend} | – | {_f(r['active_error'])} | {_f(r.get('kl_q_a'))} | "
                     f"{_f(r['quiescent_total_variance'])} | {r['wall_s']:.0f} |")
    for r in results["spiking"]:
        lines.append(f"| {r['neuron']}, noise={r['noise']} | {r['per_unit']} | {_f(r['active_error'])} | "
                     f"{_f(r.get('kl_q_a'))} | {_f(r['quiescent_total_variance'])} | {r['wall_s']:.0f} |")
    lines += ["", "| run | M | phase | rate mean / p99 (Hz) | Fano (0.1 s) | ISI CV | burst fraction |",
              "|---|---|---|---|---|---|---|"]
    for r in results["spiking"]:
        for phase, s in r["spikes"].items():
            if s:
                lines.append(f"| {r['neuron']}, noise={r['noise']} | {r['per_unit']} | {phase} | "
                             f"{_f(s['rate_mean_hz'])} / {_f(s['rate_p99_hz'])} | {_f(s['fano_mean'])} | "
                             f"{_f(s['isi_cv_mean'])} | {_f(s['burst_fraction'])} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(tables(json.loads(open(sys.argv[1]).read())))
