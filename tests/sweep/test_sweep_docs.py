"""``docs/sweeps.md`` lists exactly the variables, dimensions and units a gathered ``results.nc`` holds.

The table between the ``sweep-variables`` markers is generated here from the results of the tiny sweeps
(positions and head direction) with every registered statistic; when a statistic changes, the failure prints
the new table to paste.
"""

from pathlib import Path

import xarray as xr

from neurorx.analysis import STATISTICS

DOCS = Path(__file__).parents[2] / "docs" / "sweeps.md"
START, END = "<!-- sweep-variables:start -->", "<!-- sweep-variables:end -->"
GRID = ("condition", "seed", "backend", "run_seed", "phase")


def variables_table(datasets: dict[bool, xr.Dataset]) -> str:
    """The Markdown table of every registered statistic's variables in gathered results (``circular -> ds``)."""
    lines = ["| `statistic` | variable | own dimensions | units (positions) | units (angles) |",
             "|---|---|---|---|---|"]
    for name in STATISTICS.names():
        stat = STATISTICS.get(name)
        if not stat.function.__module__.startswith("neurorx."):
            continue                  # registered by a test module (collection imports them all): not neurorx's
        found: dict[str, dict] = {}
        for circular, ds in datasets.items():
            for var in ds.data_vars:
                if ds[var].attrs["statistic"] == stat.key:
                    entry = found.setdefault("NAME" + var[len(stat.key):], {})
                    entry["dims"] = [d for d in ds[var].dims if d not in GRID]
                    entry[circular] = ds[var].attrs["units"]
        for var, entry in found.items():
            dims = ", ".join(f"`{d}`" for d in entry["dims"]) or "—"
            lines.append(f"| `{stat.key}` | `{var}` | {dims} | {entry.get(False, '—')} | {entry.get(True, '—')} |")
    return "\n".join(lines)


def test_the_docs_table_of_result_variables_is_what_a_sweep_writes(swept, tmp_path):
    datasets = {}
    for circular, (result, _) in swept.items():
        with xr.open_dataset(result.results) as ds:              # the file, as a user reads it
            datasets[circular] = ds.load()
    table = variables_table(datasets)
    text = DOCS.read_text(encoding="utf-8")
    documented = text[text.index(START) + len(START):text.index(END)].strip()
    assert documented == table, f"docs/sweeps.md's table of variables is out of date; it should read:\n{table}"
    for name in STATISTICS.names():
        if STATISTICS.get(name).function.__module__.startswith("neurorx."):
            assert f"| `{STATISTICS.get(name).key}` |" in table, f"{name} is in no gathered result"
