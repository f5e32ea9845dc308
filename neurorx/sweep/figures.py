"""Figures and a table from a sweep's results (the paper's Figs. 1b, 1c, 2e, 2f over several networks).

Reads the variables that ``protocols/sweeps/paper_five_seeds.yaml`` collects — ``learning_curve_*``,
``explained_variance``, ``kl``, ``total_variance`` — from the Dataset (or ``results.nc``), and draws each
panel with :mod:`neurorx.plotting`: mean ± SD over the ``seed`` dimension (the networks of a condition),
one row per backend. Variables a sweep did not collect are skipped. A network whose jobs have not finished
(its values are NaN: a sweep still running, see ``neurorx sweep --gather``) is left out, and every panel and
row states how many networks it shows.

A run flagged by the sweep's ``reactivation_health`` statistic (:mod:`neurorx.sweep.health`: its activity
collapsed to the noise floor, or its decoded path moves like noise) is marked in the table (⚠ on its KL(Q‖A)
and its reasons) and hatched in the KL figure: its KL is not evidence of reactivation, however small.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

import neurorx.plotting as nplt
from neurorx.plotting import save_figure
from neurorx.sweep.health import flagged_conditions, flagged_runs, health_variables
from neurorx.sweep.units import common_unit, unit_of

__all__ = ["kl_panels", "paper_figures", "summary_table"]


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
    panels = kl_panels(ds)
    if panels:
        backends = list(dict.fromkeys(p["backend"] for p in panels))
        ests = list(dict.fromkeys(p["estimator"] for p in panels))
        with _figure(out / "fig2e_kl.png", len(backends), len(ests), 5.2, 4.2, overwrite, paths) as axes:
            for p in panels:
                ax = axes[backends.index(p["backend"]), ests.index(p["estimator"])]
                what = f"KL(Q‖A){', ' + p['estimator'] if p['estimator'] else ''} ({p['backend']}"
                if len(p["matrix"]):
                    nplt.kl_matrix(p["matrix"], p["rows"], p["cols"], show_sd=True, flagged_cols=p["flagged_cols"],
                                   ax=ax, title=f"{what}, mean of {len(p['matrix'])})")
                else:
                    ax.set_title(f"{what}): no network finished")
    if "total_variance" in ds:
        tv = ds["total_variance"].isel(run_seed=0)
        unit = common_unit(tv)                    # None: the conditions are in different units
        backends = tv.backend.values.tolist()
        labels = _labels(ds, tv.condition.values)
        with _figure(out / "fig2f_total_variance.png", 1, len(backends), 4.5, 3.6, overwrite, paths) as axes:
            for ax, b in zip(axes[0], backends, strict=True):
                finished = {(lab, unit_of(tv, c)): _finished(tv.sel(backend=b, condition=c)).values
                            for c, lab in zip(tv.condition.values.tolist(), labels, strict=True)}
                groups = {f"{lab} (n={len(v)}{'' if unit is not None or not u else ', ' + u})": v
                          for (lab, u), v in finished.items() if len(v)}
                if groups:
                    nplt.statistic_boxplot(groups, "total variance", ax=ax, show_points=True,
                                           ylabel=f"total variance ({unit})" if unit else "total variance",
                                           title=f"quiescent total variance ({b}, one point per network)")
                else:
                    ax.set_title(f"quiescent total variance ({b}): no network finished")
    return paths


def _kl_var(ds) -> str | None:
    """The sweep's KL matrix variable: ``kl`` (the paper's spec), else the first of a KL-matrix statistic."""
    if "kl" in ds:
        return "kl"
    return next((v for v in ds.data_vars if ds[v].attrs.get("statistic") in ("kl_matrix", "circular_kl_matrix")),
                None)


def kl_panels(ds) -> list[dict]:
    """The data of the KL figure (Fig. 2e), one panel per backend and estimator.

    Returns
    -------
    list of dict
        ``backend``, ``estimator`` (None for ``circular_kl_matrix``), ``matrix`` (finished seeds x active x
        quiescent, nats), ``rows`` and ``cols`` (tick labels), ``flagged_cols`` (the columns whose quiescent
        condition has a run flagged by the sweep's health statistic on that backend) and ``reasons``
        (condition -> reasons).
    """
    ds = _open(ds)
    var = _kl_var(ds)
    if var is None:
        return []
    kl = ds[var].isel(run_seed=0)
    rows = _labels(ds, kl.active.values.tolist())
    quiescent = kl.quiescent.values.tolist()
    cols = [f"Q {'uniform' if q == 'uniform' else lab}" for q, lab in
            zip(quiescent, _labels(ds, quiescent), strict=True)]
    ests = kl.estimator.values.tolist() if "estimator" in kl.dims else [None]
    panels = []
    for b in kl.backend.values.tolist():
        reasons = flagged_conditions(ds, b, of=ds[var].attrs.get("of"))
        flagged = [col for q, col in zip(quiescent, cols, strict=True) if q in reasons]
        for e in ests:
            sel = kl.sel(backend=b) if e is None else kl.sel(backend=b, estimator=e)
            m = _finished(sel).transpose("seed", "active", "quiescent").values
            panels.append({"backend": b, "estimator": e, "matrix": m, "rows": [f"A {x}" for x in rows],
                           "cols": cols, "flagged_cols": flagged, "reasons": reasons})
    return panels


def _msd(values) -> str:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        return "–"
    return f"{v.mean():.3g} ± {v.std():.2g}" if len(v) > 1 else f"{v[0]:.3g}"


def _with_unit(what: str, unit: str | None) -> str:
    """A column head: ``what (unit)``, or ``what`` when the conditions are in different units (``None``)."""
    return what if unit is None else f"{what} ({unit})"


def _cell(values, common: str | None, unit: str) -> str:
    """:func:`_msd` of ``values``, followed by their ``unit`` where the column has no ``common`` one."""
    text = _msd(values)
    return text if common is not None or text == "–" or not unit else f"{text} {unit}"


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
    and the reference estimator (one KL pair for ``circular_kl_matrix``), and the health of the KL's run when
    the sweep collected ``reactivation_health``: ``ok``, or ``⚠ k of n flagged`` with the reasons
    (:mod:`neurorx.sweep.health`), and ⚠ on that condition's KL(Q‖A). Networks whose jobs have not finished are
    left out of the means. A column's unit is in its head, or, where the conditions are in different units (a
    head-direction and a spatial task: :mod:`neurorx.sweep.units`), after each cell's numbers.
    """
    ds = _open(ds)
    conds = ds.condition.values.tolist()
    var = _kl_var(ds)
    backends = [None]
    for name in ("total_variance", var):
        if name in ds:
            backends = ds[name].backend.values.tolist()
            break
    head = ["condition", "backend", "networks"]
    unit = {name: common_unit(ds[name]) for name in ("learning_curve_final_test_error", "total_variance")
            if name in ds}
    if "learning_curve_final_test_error" in ds:
        head.append(_with_unit("final test error", unit["learning_curve_final_test_error"]))
    if "total_variance" in ds:
        head.append(_with_unit("total variance", unit["total_variance"]))
    ests = [] if var is None else (ds[var].estimator.values.tolist() if "estimator" in ds[var].dims else [None])
    for e in ests:
        tag = f" {e}" if e else ""
        head += [f"KL(Q‖A){tag} (nat)", f"KL(𝒰‖A){tag} (nat)"]
    of = ds[var].attrs.get("of") if var else None
    checked = bool(health_variables(ds, of))
    if checked:
        head.append("health")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c, label in zip(conds, _labels(ds, conds), strict=True):
        for b in backends:
            reasons = flagged_conditions(ds, b, of=of).get(c) if checked and b is not None else None
            row = [label, b or "–", str(_n_finished(ds, c, b))]
            if "learning_curve_final_test_error" in ds:
                da = ds["learning_curve_final_test_error"]
                row.append(_cell(da.sel(condition=c).values, unit[da.name], unit_of(da, c)))
            if "total_variance" in ds:
                da = ds["total_variance"]
                row.append(_cell(da.sel(condition=c, backend=b).isel(run_seed=0).values, unit[da.name],
                                 unit_of(da, c)))
            for e in ests:
                kl = ds[var].sel(backend=b, active=c).isel(run_seed=0)
                kl = kl if e is None else kl.sel(estimator=e)
                row += [_msd(kl.sel(quiescent=c).values) + (" ⚠" if reasons else ""),
                        _msd(kl.sel(quiescent="uniform").values)]
            if checked:
                row.append(_health_cell(ds, c, b, of, reasons))
            lines.append("| " + " | ".join(row) + " |")
    if checked and any("⚠" in line for line in lines[2:]):
        lines += ["", "⚠: a run of this condition was flagged by its health check (collapsed to the noise floor, or a "
                  "decoded path that moves like noise): its KL(Q‖A) is not evidence of reactivation, however small."]
    elif not checked and ests:
        lines += ["", "Health not checked: add `health: {statistic: reactivation_health, of: RUN}` to the spec to flag "
                  "runs whose activity collapsed (their KL(Q‖A) can look like the best reactivation)."]
    return "\n".join(lines)


def _health_cell(ds, condition, backend, of, reasons) -> str:
    """``ok``, or ``⚠ k of n flagged: reasons`` (n: the networks whose health was computed)."""
    flags = flagged_runs(ds, of).sel(condition=condition, backend=backend).isel(run_seed=0)
    computed = np.zeros(flags.sizes["seed"], dtype=bool)
    for v in health_variables(ds, of):
        computed |= np.isfinite(ds[v].sel(condition=condition, backend=backend).isel(run_seed=0)).values
    if not computed.any():
        return "–"
    if not reasons:
        return "ok"
    return f"⚠ {int(flags.values.sum())} of {int(computed.sum())} flagged: {'; '.join(reasons)}"
