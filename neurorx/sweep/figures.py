"""Figures and a table from a sweep's results (the paper's Figs. 1b, 1c, 2e, 2f over several networks).

Reads the variables that ``protocols/sweeps/paper_five_seeds.yaml`` collects — ``learning_curve_*``,
``explained_variance``, ``kl``, ``total_variance`` — from the Dataset (or ``results.nc``), and draws each
panel with :mod:`neurorx.plotting`: mean ± SD over the ``seed`` dimension (the networks of a condition),
one row per backend. Variables a sweep did not collect are skipped. A network whose jobs have not finished
(its values are NaN: a sweep still running, see ``neurorx sweep --gather``) is left out, and every panel and
row states how many networks it shows.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

import neurorx.plotting as nplt
from neurorx.plotting import save_figure

__all__ = ["paper_figures", "summary_table"]


def _open(ds):
    if isinstance(ds, str | Path):
        with xr.open_dataset(ds) as opened:
            return opened.load()
    return ds


def _has_value(da, dim: str = "seed") -> np.ndarray:
    """Boolean mask over ``dim``: the entries of ``da`` with any finite value (networks whose jobs are done)."""
    other = [d for d in da.dims if d != dim]
    return (np.isfinite(da).any(other) if other else np.isfinite(da)).values


def _finished(da, dim: str = "seed"):
    """``da`` without the entries of ``dim`` that hold no finite value (networks whose jobs are not done)."""
    return da.isel({dim: np.flatnonzero(_has_value(da, dim))})


def _labels(ds, names) -> list[str]:
    if "condition_label" not in ds.coords:
        return [str(n) for n in names]
    lab = dict(zip(ds.condition.values.tolist(), ds.condition_label.values.tolist(), strict=True))
    return [str(lab.get(n, n)) for n in names]


@contextlib.contextmanager
def _figure(path: Path, rows: int, cols: int, width: float, height: float, overwrite: bool, paths: list):
    """Axes ``(rows, cols)`` of a new figure, saved to ``path`` (appended to ``paths``) and closed on exit."""
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    try:
        yield axes
        fig.tight_layout()
        paths.append(save_figure(fig, path, overwrite=overwrite, dpi=120))
    finally:
        plt.close(fig)


def paper_figures(ds, out: str | Path, *, overwrite: bool = False, condition: str = "Us") -> list[Path]:
    """Draw Figs. 1b, 1c, 2e (both estimators) and 2f from a sweep's results; returns the PNG paths.

    Parameters
    ----------
    ds : xarray.Dataset or path
        The gathered results (``results.nc``).
    out : path
        Folder for ``fig1b_learning_curves.png``, ``fig1c_explained_variance.png``, ``fig2e_kl.png``,
        ``fig2f_total_variance.png``.
    overwrite : bool
        Replace existing figures (otherwise an existing file is an error).
    condition : str
        The condition of Fig. 1c (the paper shows U^σ); the first one if absent.
    """
    ds = _open(ds)
    out = Path(out)
    paths = []
    if "learning_curve_test_loss" in ds:
        conds = ds.condition.values.tolist()
        with _figure(out / "fig1b_learning_curves.png", 1, len(conds), 4.5, 3.6, overwrite, paths) as axes:
            for ax, c, label in zip(axes[0], conds, _labels(ds, conds), strict=True):
                seeds = _finished(ds["learning_curve_test_loss"].sel(condition=c)).seed.values
                runs = [{"batch": ds.eval_batch.values.tolist(),
                         "test_loss": ds["learning_curve_test_loss"].sel(condition=c, seed=s).values.tolist(),
                         "test_error": ds["learning_curve_test_error"].sel(condition=c, seed=s).values.tolist()}
                        for s in seeds]
                if runs:
                    nplt.learning_curve(runs, ax=ax, title=f"{label} (n={len(runs)})", logy=True)
                else:
                    ax.set_title(f"{label}: no network finished")
    if "explained_variance" in ds:
        ev = ds["explained_variance"]
        conds = ev.condition.values.tolist()
        c = condition if condition in conds else conds[0]
        backends = ev.backend.values.tolist()
        with _figure(out / "fig1c_explained_variance.png", 1, len(backends), 4.5, 3.6, overwrite, paths) as axes:
            for ax, b in zip(axes[0], backends, strict=True):
                sel = _finished(ev.sel(condition=c, backend=b).isel(run_seed=0))
                if sel.sizes["seed"]:
                    nplt.explained_variance_curve(sel.sel(phase="active").values, sel.sel(phase="quiescent").values,
                                                  n_components=sel.sizes["component"], ax=ax,
                                                  title=f"{_labels(ds, [c])[0]} ({b}, n={sel.sizes['seed']})")
                else:
                    ax.set_title(f"{_labels(ds, [c])[0]} ({b}): no network finished")
    if "kl" in ds:
        kl = ds["kl"].isel(run_seed=0)
        backends, ests = kl.backend.values.tolist(), kl.estimator.values.tolist()
        rows = _labels(ds, kl.active.values.tolist())
        cols = [("uniform" if q == "uniform" else lab) for q, lab in
                zip(kl.quiescent.values.tolist(), _labels(ds, kl.quiescent.values.tolist()), strict=True)]
        with _figure(out / "fig2e_kl.png", len(backends), len(ests), 5.2, 4.2, overwrite, paths) as axes:
            for r, b in enumerate(backends):
                for k, e in enumerate(ests):
                    m = _finished(kl.sel(backend=b, estimator=e)).transpose("seed", "active", "quiescent").values
                    if len(m):
                        nplt.kl_matrix(m, [f"A {x}" for x in rows], [f"Q {x}" for x in cols], show_sd=True,
                                       ax=axes[r, k], title=f"KL(Q‖A), {e} ({b}, mean of {len(m)})")
                    else:
                        axes[r, k].set_title(f"KL(Q‖A), {e} ({b}): no network finished")
    if "total_variance" in ds:
        tv = ds["total_variance"].isel(run_seed=0)
        backends = tv.backend.values.tolist()
        labels = _labels(ds, tv.condition.values)
        with _figure(out / "fig2f_total_variance.png", 1, len(backends), 4.5, 3.6, overwrite, paths) as axes:
            for ax, b in zip(axes[0], backends, strict=True):
                finished = {lab: _finished(tv.sel(backend=b, condition=c)).values
                            for c, lab in zip(tv.condition.values.tolist(), labels, strict=True)}
                groups = {f"{lab} (n={len(v)})": v for lab, v in finished.items() if len(v)}
                if groups:
                    nplt.statistic_boxplot(groups, "total variance", ax=ax, show_points=True,
                                           ylabel=f"total variance ({tv.attrs['units']})",
                                           title=f"quiescent total variance ({b}, one point per network)")
                else:
                    ax.set_title(f"quiescent total variance ({b}): no network finished")
    return paths


def _msd(values) -> str:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        return "–"
    return f"{v.mean():.3g} ± {v.std():.2g}" if len(v) > 1 else f"{v[0]:.3g}"


def _n_finished(ds, condition, backend) -> int:
    """Networks of ``condition`` with any result (on ``backend`` for the statistics of recordings)."""
    done = np.zeros(ds.sizes["seed"], dtype=bool)
    for da in ds.data_vars.values():
        if "seed" not in da.dims or "condition" not in da.dims or (backend is not None) != ("backend" in da.dims):
            continue
        da = da.sel(condition=condition)
        if backend is not None:
            da = da.sel(backend=backend)
        done |= _has_value(da)
    return int(done.sum())


def summary_table(ds) -> str:
    """A Markdown table, one row per condition and backend: mean ± SD over seeds (SD with ddof 0).

    Columns (when collected): the number of networks with results, final test decoding error, quiescent total
    variance, KL(Q‖A) of the network itself and KL(𝒰‖A) against the uniform box, each KL with the corrected
    and the reference estimator. Networks whose jobs have not finished are left out of the means.
    """
    ds = _open(ds)
    conds = ds.condition.values.tolist()
    backends = [None]
    for var in ("total_variance", "kl"):
        if var in ds:
            backends = ds[var].backend.values.tolist()
            break
    head = ["condition", "backend", "networks"]
    if "learning_curve_final_test_error" in ds:
        head.append(f"final test error ({ds['learning_curve_final_test_error'].attrs['units']})")
    if "total_variance" in ds:
        head.append(f"total variance ({ds['total_variance'].attrs['units']})")
    ests = ds["kl"].estimator.values.tolist() if "kl" in ds else []
    for e in ests:
        head += [f"KL(Q‖A) {e} (nat)", f"KL(𝒰‖A) {e} (nat)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c, label in zip(conds, _labels(ds, conds), strict=True):
        for b in backends:
            row = [label, b or "–", str(_n_finished(ds, c, b))]
            if "learning_curve_final_test_error" in ds:
                row.append(_msd(ds["learning_curve_final_test_error"].sel(condition=c).values))
            if "total_variance" in ds:
                row.append(_msd(ds["total_variance"].sel(condition=c, backend=b).isel(run_seed=0).values))
            for e in ests:
                kl = ds["kl"].sel(backend=b, estimator=e, active=c).isel(run_seed=0)
                row += [_msd(kl.sel(quiescent=c).values), _msd(kl.sel(quiescent="uniform").values)]
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)
