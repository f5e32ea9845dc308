"""Figures and the summary table drawn from a sweep's results file."""

import subprocess
import sys
from pathlib import Path

import pytest

from neurorx.sweep.figures import paper_figures, summary_table

ROOT = Path(__file__).resolve().parents[2]


def test_the_paper_panels_and_table_come_from_the_results_file(reference, tmp_path):
    result, ds = reference
    paths = paper_figures(result.results, tmp_path)
    assert [p.name for p in paths] == ["fig1b_learning_curves.png", "fig1c_explained_variance.png", "fig2e_kl.png",
                                       "fig2f_total_variance.png"]
    assert all(p.stat().st_size > 10_000 for p in paths)
    with pytest.raises(FileExistsError):
        paper_figures(ds, tmp_path)
    table = summary_table(ds).splitlines()
    assert len(table) == 2 + 2 + 2 and table[2].startswith("| U^σ | torch |")
    assert table[-1].startswith("Health not checked")          # the tiny spec collects no reactivation_health
    mean = ds["total_variance"].sel(condition="Us", backend="torch").mean().item()
    assert f"{mean:.3g} ± " in table[2]


def test_the_plot_script_writes_figures_and_table(reference, tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "protocols" / "sweeps" / "plot_paper_five_seeds.py"),
                           str(reference[0].results), "--out", str(tmp_path)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "table.md").read_text().startswith("| condition | backend |")
    assert len(list(tmp_path.glob("*.png"))) == 4


def test_panels_without_any_finished_network_say_so(reference, tmp_path):
    import numpy as np

    ds = reference[1].copy(deep=True)
    for name in ds.data_vars:    # a sweep gathered before any of its jobs finished
        if np.issubdtype(ds[name].dtype, np.floating):
            ds[name][:] = np.nan
    assert len(paper_figures(ds, tmp_path)) == 4
    rows = [row for row in summary_table(ds).splitlines()[2:] if row.startswith("|")]
    assert rows and all(row.split(" | ")[2] == "0" for row in rows)
