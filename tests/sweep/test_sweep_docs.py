"""``docs/sweeps.md`` lists exactly the variables, dimensions and units a gathered ``results.nc`` holds.

The table between the ``sweep-variables`` markers is generated here from the results of the tiny sweeps
(positions and head direction) with every registered statistic; when a statistic changes, the failure prints
the new table to paste.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import xarray as xr
import yaml

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


def docs_hd_spec() -> dict:
    """The head-direction sweep spec of ``docs/sweeps.md`` (the YAML block after ``<!-- hd-sweep-example -->``)."""
    text = DOCS.read_text(encoding="utf-8")
    block = text[text.index("<!-- hd-sweep-example -->"):]
    block = block[block.index("```yaml") + len("```yaml"):]
    return yaml.safe_load(block[:block.index("```")])


def test_the_docs_head_direction_sweep_with_a_circular_kl_matrix_runs_at_a_tiny_size(hd_reference, tiny_hd_spec,
                                                                                    tmp_path):
    import neurorx as nrx
    from neurorx.sweep.figures import kl_panels, summary_table

    spec = docs_hd_spec()
    tiny = yaml.safe_load(tiny_hd_spec.read_text())
    # the docs' spec exactly, at the tiny sweep's size: its seeds, sizes and phase lengths (the same trainings)
    spec["train"] = {**spec["train"], "seeds": tiny["train"]["seeds"], "overrides": tiny["train"]["overrides"]}
    run = spec["runs"]["reactivation"]
    run.update(trials=tiny["runs"]["reactivation"]["trials"], protocol=tiny["runs"]["reactivation"]["protocol"])
    assert list(spec["train"]["conditions"]) == list(tiny["train"]["conditions"])
    store = tmp_path / "store"
    shutil.copytree(hd_reference[0].out, store)
    result = nrx.sweep(spec, out=store, scheduler="sync", show_progress=False)
    assert result.ok, result.summary()
    assert not [j for j in result.jobs if j.kind == "train" and j.id in result.executed]    # trainings reused
    ds = result.dataset()
    assert ds["kl"].attrs["statistic"] == "circular_kl_matrix" and ds["kl"].attrs["units"] == "nat"
    assert ds["kl"].quiescent.values.tolist() == ["Hs", "H", "uniform"]
    assert np.isfinite(ds["kl"].values).all()
    assert set(np.unique(ds["health_flagged"].values)) <= {0.0, 1.0}
    assert ds["velocity"].attrs["units"] == "rad/step" and ds["total_variance"].attrs["units"] == "rad^2"
    assert "| health |" in summary_table(ds).splitlines()[0] and len(kl_panels(ds)) == 1


def _docs_block(after: str, fence: str) -> str:
    text = DOCS.read_text(encoding="utf-8")
    block = text[text.index(after):]
    block = block[block.index(fence) + len(fence):]
    return block[:block.index("```")]


def test_the_docs_custom_statistic_of_a_whole_run_reaches_worker_processes_through_pythonpath(reference, tiny_spec,
                                                                                              tmp_path):
    """The docs' ``mylab/stats.py`` (a statistic of two phases of a run), on a local cluster's worker process
    that imports it because ``PYTHONPATH`` names its folder, as "Where workers find your module" says."""
    lab = tmp_path / "lab" / "mylab"
    lab.mkdir(parents=True)
    (lab / "__init__.py").write_text("")
    (lab / "stats.py").write_text(_docs_block("# mylab/stats.py", "\n"))
    entries = yaml.safe_load(_docs_block("**Your own statistics.**", "```yaml"))["statistics"]
    spec = yaml.safe_load(tiny_spec.read_text())
    spec["statistics"] = {"q_vs_a": entries["q_vs_a"]}
    assert spec["statistics"]["q_vs_a"]["scope"] == "run"
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    store = tmp_path / "store"
    shutil.copytree(reference[0].out, store)
    root = Path(__file__).parents[2]
    cmd = [sys.executable, "-m", "neurorx.cli", "sweep", str(tmp_path / "spec.yaml"), "--workers", "1", "--out",
           str(store), "--quiet"]
    without = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path,
                             env={**os.environ, "PYTHONPATH": str(root)})
    assert without.returncode == 2 and "cannot import 'mylab.stats:quiescent_vs_active'" in without.stderr
    assert len(without.stderr.strip().splitlines()) == 1
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "lab"), str(root)])})
    assert done.returncode == 0, done.stderr[-3000:]
    with xr.open_dataset(store / "results.nc") as ds:
        kl = ds["q_vs_a_kl"].load()
    assert np.isfinite(kl.values).all() and kl.sizes["condition"] == 2
