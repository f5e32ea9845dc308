r"""The paired report of a sweep: conditions over seeds, and pairs of conditions compared network by network.

Reads a sweep's results (the ``xarray.Dataset`` of :func:`neurorx.sweep.gather.gather`, or ``results.nc``) and
gives

- :meth:`PairedReport.summary_markdown` -- mean ± SD over seeds of each reported statistic, one row per
  condition and backend, with the number of networks behind every cell;
- :meth:`PairedReport.pairs_markdown` -- for each pair ``A:B`` of conditions trained with the same seeds (an
  unconstrained condition and its Dale twin), the per-seed difference ``B − A``: its mean, a bootstrap interval
  of the mean (:func:`neurorx.analysis.bootstrap_interval`, i.e. :func:`scipy.stats.bootstrap`), and two paired
  tests, :func:`scipy.stats.ttest_rel` and :func:`scipy.stats.wilcoxon`;
- :func:`paired_figure` -- one panel per pair and statistic, each network's two values joined by a line, one
  group per backend.

``neurorx sweep SPEC --report [A:B,...]`` gathers the finished jobs and writes all three
(:func:`write_report`). A store still running is reported as far as it goes: a network whose jobs have not
finished (NaN) is left out of its cells and pairs, and every cell says how many networks it holds.

Notes
-----
Statistics with a ``run_seed`` dimension are averaged over it first (a network counts once every run seed of it
is done); a statistic of the training (no ``backend`` dimension, e.g. the final test error) is the same on every
backend. SD with ddof 0, as :func:`neurorx.sweep.figures.summary_table`. Pairs are seeds where both conditions
have a value: :math:`d_s = x_{B,s} - x_{A,s}`, reported as :math:`\bar d` with its BCa interval (percentile
where BCa is undefined), the paired t-test's two-sided :math:`p` and the exact Wilcoxon signed-rank test's
two-sided :math:`p` (at 5 pairs it cannot go below :math:`2/2^5 = 0.0625`). An interval needs 2 pairs, a test 2
pairs with differences that are not all equal (t) or not all zero (Wilcoxon); otherwise the cell is NaN.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from neurorx.analysis import bootstrap_interval
from neurorx.errors import ConfigurationError
from neurorx.plotting import save_figure
from neurorx.sweep.figures import _labels, _msd, _open
from neurorx.sweep.units import common_unit
from neurorx.sweep.units import unit_of as unit_of_condition

__all__ = ["DALE_SUFFIX", "DEFAULT_COLUMNS", "PairComparison", "PairedReport", "auto_pairs", "paired_figure",
           "paired_report", "parse_pairs", "report_columns", "write_report"]

#: The statistics a report shows when none are named: (statistic key, variable-name suffix, label, paired).
#: The first variable of the Dataset whose ``statistic`` attribute is the key, whose name ends with the suffix
#: and that has no dimensions of its own is taken; ``paired``: whether the pairs compare it (the I–E correlation
#: is not: an unconstrained network has no E/I split).
DEFAULT_COLUMNS = (("learning_curve", "final_test_error", "test error", True),
                   ("kl_quiescent_active", "", "KL(Q‖A)", True),
                   ("total_variance", "", "total variance", True),
                   ("ie_correlation", "", "I–E corr.", False))

#: The dimensions of one statistic's value per network.
_GRID = {"condition", "seed", "backend", "run_seed"}
#: The suffix of a Dale condition's name (``Us_dale`` is the Dale twin of ``Us``).
DALE_SUFFIX = "_dale"


@dataclass(frozen=True)
class PairComparison:
    """One pair of conditions, one statistic, one backend: the per-seed differences ``b − a``.

    Attributes
    ----------
    a, b : str
        The conditions (``b − a``: Dale minus unconstrained).
    backend : str
        ``"–"`` for a statistic of the training.
    column : str
        The report's label of the statistic; ``unit`` its unit.
    seeds : list of int
        The seeds where both conditions have a value.
    values_a, values_b : ndarray
        Their values at ``seeds``.
    mean_a, mean_b, mean_diff : float
        Means over ``seeds``.
    ci_low, ci_high : float
        Bootstrap interval of ``mean_diff`` (``ci``, ``ci_method``); NaN below 2 pairs.
    p_t, p_wilcoxon : float
        Two-sided p of the paired t-test and of the exact Wilcoxon signed-rank test; NaN where undefined.
    """

    a: str
    b: str
    backend: str
    column: str
    unit: str
    seeds: list
    values_a: np.ndarray
    values_b: np.ndarray
    mean_a: float
    mean_b: float
    mean_diff: float
    ci_low: float
    ci_high: float
    ci: float
    ci_method: str
    p_t: float
    p_wilcoxon: float

    @property
    def n(self) -> int:
        """Pairs (networks of each condition) compared."""
        return len(self.seeds)


@dataclass
class PairedReport:
    """What :func:`paired_report` computes; see the module docstring.

    Attributes
    ----------
    columns : dict of str -> str
        Label -> variable of the Dataset, in the report's order.
    paired : list of str
        The labels the pairs compare.
    units : dict of str -> str
        Label -> unit; ``""`` where the conditions are in different units (each cell then names its own, from the
        results' per-condition units: :mod:`neurorx.sweep.units`).
    rows : list of dict
        One per condition and backend: ``condition``, ``label``, ``backend``, and for each column label a dict
        with ``mean``, ``sd`` (ddof 0), ``n`` and ``text``.
    comparisons : list of PairComparison
    pairs : list of (str, str)
    """

    columns: dict
    units: dict
    paired: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    comparisons: list = field(default_factory=list)
    pairs: list = field(default_factory=list)

    def summary_markdown(self) -> str:
        """Mean ± SD over seeds (n networks) per condition and backend."""
        head = ["condition", "backend", *(f"{c} ({self.units[c]})" if self.units[c] else c for c in self.columns)]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for row in self.rows:
            lines.append("| " + " | ".join([row["label"], row["backend"], *(row[c]["text"] for c in self.columns)])
                         + " |")
        return "\n".join(lines)

    def pairs_markdown(self) -> str:
        """The paired comparisons, one row per pair, backend and statistic."""
        head = ["pair (B − A)", "backend", "statistic", "n", "mean A", "mean B", "mean B − A", "95 % CI (bootstrap)",
                "p (paired t)", "p (Wilcoxon)"]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for c in self.comparisons:
            ci = "–" if math.isnan(c.ci_low) else f"[{c.ci_low:.3g}, {c.ci_high:.3g}]"
            lines.append("| " + " | ".join([f"{c.b} − {c.a}", c.backend, f"{c.column} ({c.unit})", str(c.n),
                                             _num(c.mean_a), _num(c.mean_b), _num(c.mean_diff), ci, _num(c.p_t),
                                             _num(c.p_wilcoxon)]) + " |")
        return "\n".join(lines)

    def markdown(self) -> str:
        """Both tables with a line on how they were computed."""
        return "\n".join([
            "## Conditions: mean ± SD over networks (n = networks with a result)", "", self.summary_markdown(), "",
            "SD with ddof 0; networks whose jobs have not finished are left out. The I–E correlation is NaN (–) for "
            "a network without an E/I split.", "",
            "## Paired: B − A per seed", "", self.pairs_markdown(), "",
            "Mean of the per-seed differences; its 95 % BCa bootstrap interval (scipy.stats.bootstrap; percentile "
            "where BCa is undefined); two-sided p of the paired t-test (scipy.stats.ttest_rel) and of the exact "
            "Wilcoxon signed-rank test (scipy.stats.wilcoxon; with 5 pairs p >= 0.0625). n: seeds where both "
            "conditions have a value.", ""])

    def to_json(self) -> dict:
        """JSON-able form (NaN as null)."""
        def clean(v):
            if isinstance(v, float | np.floating):
                return None if not math.isfinite(v) else float(v)
            if isinstance(v, np.ndarray):
                return [clean(x) for x in v.tolist()]
            if isinstance(v, list | tuple):
                return [clean(x) for x in v]
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            return v.item() if isinstance(v, np.generic) else v

        comps = [{k: clean(getattr(c, k)) for k in PairComparison.__dataclass_fields__} | {"n": c.n}
                 for c in self.comparisons]
        return {"columns": self.columns, "units": self.units, "paired": self.paired,
                "pairs": [list(p) for p in self.pairs], "rows": clean(self.rows), "comparisons": comps}


def _num(v: float) -> str:
    return "–" if not math.isfinite(v) else f"{v:.3g}"


def parse_pairs(text: str) -> list[tuple[str, str]]:
    """``"Us:Us_dale,Bs:Bs_dale"`` -> ``[("Us", "Us_dale"), ("Bs", "Bs_dale")]``."""
    pairs = []
    for item in (t.strip() for t in text.split(",")):
        a, sep, b = item.partition(":")
        if not sep or not a or not b or ":" in b:
            raise ConfigurationError(f"pairs are A:B separated by commas, e.g. Us:Us_dale,Bs:Bs_dale; got {item!r}")
        pairs.append((a.strip(), b.strip()))
    return pairs


def auto_pairs(conditions) -> list[tuple[str, str]]:
    """Every condition ``C`` with a Dale twin ``C_dale`` among ``conditions``, in their order."""
    names = list(conditions)
    return [(c, c + DALE_SUFFIX) for c in names if c + DALE_SUFFIX in names]


def report_columns(ds, columns=None) -> dict[str, str]:
    """Label -> variable of the statistics a report shows.

    ``columns``: a mapping label -> variable, a list of variables (labelled by their names), or None for
    :data:`DEFAULT_COLUMNS` (those the Dataset holds).
    """
    if columns is None:
        out = {}
        for key, suffix, label, _ in DEFAULT_COLUMNS:
            var = next((v for v in ds.data_vars if ds[v].attrs.get("statistic") == key and str(v).endswith(suffix)
                        and set(ds[v].dims) <= _GRID), None)
            if var is not None:
                out[label] = var
        return out
    if not isinstance(columns, dict):
        columns = {str(v): str(v) for v in columns}
    for label, var in columns.items():
        if var not in ds.data_vars:
            raise ConfigurationError(f"report column {label!r}: the results have no variable {var!r}; they have "
                                     f"{sorted(map(str, ds.data_vars))}")
        own = set(ds[var].dims) - _GRID
        if own:
            raise ConfigurationError(f"report column {label!r}: {var} has dimensions {sorted(own)} of its own; a "
                                     "report takes one number per network (pick a phase or an output with none)")
    return dict(columns)


def _per_network(da):
    """``da`` with one value per network: averaged over ``run_seed`` (NaN unless every run seed is done)."""
    return da.mean("run_seed", skipna=False) if "run_seed" in da.dims else da


def _backends(ds, columns) -> list[str]:
    out = []
    for var in columns.values():
        if "backend" in ds[var].dims:
            out += [b for b in ds[var].backend.values.tolist() if b not in out]
    return out or ["–"]


def _values(ds, var, condition, backend):
    """Per-seed values of ``var`` for one condition and backend, a DataArray over ``seed``."""
    da = _per_network(ds[var]).sel(condition=condition)
    return da.sel(backend=backend) if "backend" in da.dims else da


def _compare(a, b, *, n_boot: int, ci: float, seed: int):
    """Mean difference, bootstrap interval and paired p-values of ``b - a`` (arrays over the same seeds)."""
    d = b - a
    nan = float("nan")
    if len(d) == 0:
        return nan, nan, nan, "–", nan, nan
    low = high = p_t = p_w = nan
    method = "–"
    if len(d) >= 2:
        boot = bootstrap_interval(np.mean, d, n_boot=n_boot, seed=seed, ci=ci)
        low, high, method = boot.low, boot.high, boot.method
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            p_t = float(stats.ttest_rel(b, a).pvalue)
            if np.any(d != 0):
                p_w = float(stats.wilcoxon(b, a, method="exact").pvalue)
    return float(d.mean()), low, high, method, p_t, p_w


def paired_report(ds, pairs=None, *, columns=None, n_boot: int = 2000, ci: float = 0.95,
                  seed: int = 0) -> PairedReport:
    """The report of a sweep's results (module docstring).

    Parameters
    ----------
    ds : xarray.Dataset or path
        The gathered results (``results.nc``).
    pairs : list of (str, str) or str, optional
        ``(A, B)`` pairs of conditions (``"Us:Us_dale,..."`` as text); default :func:`auto_pairs`.
    columns : dict or list, optional
        The statistics (:func:`report_columns`).
    n_boot : int, default 2000
        Bootstrap resamples of each interval.
    ci : float, default 0.95
    seed : int, default 0
        Seed of every bootstrap.

    Returns
    -------
    PairedReport
    """
    ds = _open(ds)
    conds = ds.condition.values.tolist()
    pairs = auto_pairs(conds) if pairs is None else (parse_pairs(pairs) if isinstance(pairs, str) else list(pairs))
    for a, b in pairs:
        for c in (a, b):
            if c not in conds:
                raise ConfigurationError(f"pair {a}:{b}: the results have no condition {c!r}; they have {conds}")
    cols = report_columns(ds, columns)
    if not cols:
        raise ConfigurationError("the results hold none of the report's statistics (final test error, "
                                 "kl_quiescent_active, total_variance, ie_correlation); name them with columns=")
    unit_of = {(label, c): unit_of_condition(ds[var], c) for label, var in cols.items() for c in conds}
    units = {label: common_unit(ds[var]) or "" for label, var in cols.items()}   # "": units differ by condition
    unpaired = {label for *_, label, paired in DEFAULT_COLUMNS if not paired} if columns is None else set()
    report = PairedReport(cols, units, [c for c in cols if c not in unpaired], pairs=pairs)
    backends = _backends(ds, cols)
    for c, label in zip(conds, _labels(ds, conds), strict=True):
        for b in backends:
            row = {"condition": c, "label": label if label == c else f"{label} ({c})", "backend": b}
            for col, var in cols.items():
                v = _values(ds, var, c, b).values
                v = v[np.isfinite(v)]
                unit = "" if units[col] or not len(v) else f" {unit_of[col, c]}"
                row[col] = {"mean": float(v.mean()) if len(v) else float("nan"),
                            "sd": float(v.std()) if len(v) else float("nan"), "n": len(v), "unit": unit_of[col, c],
                            "text": f"{_msd(v)}{unit} (n={len(v)})" if len(v) else "– (n=0)"}
            report.rows.append(row)
    for a, b in pairs:
        for col in report.paired:
            var = cols[col]
            for be in (backends if "backend" in ds[var].dims else ["–"]):
                va, vb = _values(ds, var, a, be), _values(ds, var, b, be)
                both = np.isfinite(va.values) & np.isfinite(vb.values)
                xa, xb = va.values[both], vb.values[both]
                mean_d, low, high, method, p_t, p_w = _compare(xa, xb, n_boot=n_boot, ci=ci, seed=seed)
                report.comparisons.append(PairComparison(
                    a, b, be, col, unit_of[col, a], va.seed.values[both].tolist(), xa, xb,
                    float(xa.mean()) if len(xa) else float("nan"), float(xb.mean()) if len(xb) else float("nan"),
                    mean_d, low, high, ci, method, p_t, p_w))
    return report


def paired_figure(ds, report: PairedReport, path, *, overwrite: bool = True) -> Path | None:
    """One panel per compared statistic (rows, :attr:`PairedReport.paired`) and pair (columns): each network's A
    and B values joined by a line, one group per backend. Returns the path written, or None without pairs.
    """
    ds = _open(ds)
    if not report.pairs or not report.paired:
        return None
    rows, cols = list(report.paired), report.pairs
    fig, axes = plt.subplots(len(rows), len(cols), figsize=(3.4 * len(cols), 2.8 * len(rows)), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    try:
        for i, col in enumerate(rows):
            var = report.columns[col]
            backends = (_backends(ds, {col: var}) if "backend" in ds[var].dims else ["–"])
            for j, (a, b) in enumerate(cols):
                ax = axes[i, j]
                ticks, labels = [], []
                for k, be in enumerate(backends):
                    va, vb = _values(ds, var, a, be), _values(ds, var, b, be)
                    both = np.isfinite(va.values) & np.isfinite(vb.values)
                    x0 = 3 * k
                    for ya, yb in zip(va.values[both], vb.values[both], strict=True):
                        ax.plot([x0, x0 + 1], [ya, yb], "-o", color=colors[k % len(colors)], ms=3, lw=0.8)
                    ticks += [x0, x0 + 1]
                    suffix = f"\n{be}" if be != "–" else ""
                    labels += [f"{a}{suffix}", f"{b}{suffix}"]
                    if not both.any():
                        ax.text(x0 + 0.5, 0.5, "no pair\nfinished", ha="center", va="center", fontsize=7,
                                transform=ax.get_xaxis_transform())
                ax.set_xticks(ticks, labels, fontsize=7)
                ax.set_xlim(-0.5, 3 * len(backends) - 1.5)
                n = [c.n for c in report.comparisons if (c.a, c.b, c.column) == (a, b, col)]
                ax.set_title(f"{b} vs {a} (n={'/'.join(map(str, n))})", fontsize=8)
                unit = next((c.unit for c in report.comparisons if (c.a, c.b, c.column) == (a, b, col)), "")
                if j == 0 or not report.units[col]:
                    ax.set_ylabel(f"{col} ({unit})", fontsize=8)
        fig.tight_layout()
        return save_figure(fig, path, overwrite=overwrite, dpi=120)
    finally:
        plt.close(fig)


def write_report(ds, out, pairs=None, *, columns=None, n_boot: int = 2000, seed: int = 0) -> dict[str, Path]:
    """Write ``report.md`` (both tables), ``report.json`` and ``paired.png`` into ``out``; returns their paths.

    The files are derived from the results: writing them again (after more jobs finished) replaces them.
    """
    ds = _open(ds)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report = paired_report(ds, pairs, columns=columns, n_boot=n_boot, seed=seed)
    md = out / "report.md"
    title = ds.attrs.get("title", "neurorx sweep")
    md.write_text(f"# {title}: paired report\n\n" + report.markdown(), encoding="utf-8")
    js = out / "report.json"
    js.write_text(json.dumps(report.to_json(), indent=1, ensure_ascii=False), encoding="utf-8")
    paths = {"markdown": md, "json": js}
    fig = paired_figure(ds, report, out / "paired.png")
    if fig is not None:
        paths["figure"] = fig
    return paths

