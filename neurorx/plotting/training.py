"""Fig. 1b (learning curves) and Fig. 1c (cumulative explained variance of the hidden states)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from neurorx.analysis import explained_variance
from neurorx.recording import Recording

from ._core import backend_of, finish_axes, new_axes, panel
from ._style import ACTIVE_COLOR, QUIESCENT_COLOR, phase_color

__all__ = [
    "config_title", "explained_variance_curve", "explained_variance_ratios", "learning_curve"]

X_KEYS = ("batch", "batches", "step", "steps", "iteration", "epoch")
LOSS_KEYS = ("test_loss", "loss", "test_mse", "mse")
ERROR_KEYS = ("test_error", "pos_mse", "hd_mse", "decoding_error", "test_pos_mse", "test_hd_mse", "error")
_ERROR_LABELS = {
    "pos_mse": "position decoding error (m²)",
    "test_pos_mse": "position decoding error (m²)",
    "hd_mse": "bearing decoding error (rad²)",
    "test_hd_mse": "bearing decoding error (rad²)",
}


# -- learning curves ---------------------------------------------------------------------------------------
def _first_key(table: Mapping, keys: Sequence[str], given: str | None, what: str, required: bool):
    if given is not None:
        if given not in table:
            raise KeyError(f"metrics have no {what} column {given!r}; they have {sorted(table)}")
        return given
    for key in keys:
        if key in table:
            return key
    if required:
        raise KeyError(f"metrics have no {what} column (looked for {list(keys)}); they have {sorted(table)}. "
                       f"Name it with {what.split()[0]}_key=...")
    return None


def _is_scalar(v) -> bool:
    return np.ndim(v) == 0


def _as_table(metrics) -> dict:
    """Normalise one run's metrics to a dict of equal-length columns."""
    if hasattr(metrics, "metrics") and not isinstance(metrics, Mapping):
        metrics = metrics.metrics
    if isinstance(metrics, Mapping):
        if any(k in metrics for k in X_KEYS):
            return {k: np.asarray(v, dtype=float) for k, v in metrics.items()
                    if not isinstance(v, Mapping | str) and np.ndim(v) == 1}
        if isinstance(metrics.get("test"), Mapping | list | tuple):
            return _as_table(metrics["test"])
        if isinstance(metrics.get("curve"), Mapping):  # neurorx's trainer: RateNetwork.metrics["curve"]
            return _as_table(metrics["curve"])
        # reference test_metrics.json: {"100": {"loss": ..., "pos_mse": ...}, "200": {...}}
        try:
            rows = sorted(((float(k), v) for k, v in metrics.items()), key=lambda kv: kv[0])
        except (TypeError, ValueError):
            rows = None
        if rows and all(isinstance(v, Mapping) for _, v in rows):
            cols = sorted({c for _, v in rows for c in v if _is_scalar(v[c])})
            table = {"batch": np.array([b for b, _ in rows])}
            table.update({c: np.array([v.get(c, np.nan) for _, v in rows], dtype=float) for c in cols})
            return table
        raise ValueError(
            "cannot read these metrics: expected columns such as {'batch': [...], 'test_loss': [...], "
            "'test_error': [...]}, the reference {batch: {'loss': ..., 'pos_mse': ...}} layout, or a list of "
            f"per-evaluation records; got keys {sorted(map(str, metrics))[:10]}"
        )
    if isinstance(metrics, list | tuple) and metrics and all(isinstance(r, Mapping) for r in metrics):
        cols = sorted({c for r in metrics for c in r if _is_scalar(r[c])})
        return {c: np.array([r.get(c, np.nan) for r in metrics], dtype=float) for c in cols}
    raise TypeError(f"metrics must be a mapping, a list of records, or an object with .metrics (a RateNetwork); "
                    f"got {type(metrics).__name__}")


def _runs(metrics) -> list[dict]:
    """One table per run: a list/tuple of runs (mappings with array columns, or networks) or one run."""
    if isinstance(metrics, list | tuple) and metrics:
        first = metrics[0]
        is_record = isinstance(first, Mapping) and any(k in first and _is_scalar(first[k]) for k in X_KEYS)
        if not is_record:
            return [_as_table(m) for m in metrics]
    return [_as_table(metrics)]


def _stack(tables: list[dict], x_key, key) -> tuple[np.ndarray, np.ndarray]:
    xs = [t[x_key] for t in tables]
    for i, x in enumerate(xs[1:], 1):
        if x.shape != xs[0].shape or not np.allclose(x, xs[0]):
            raise ValueError(f"run {i} was evaluated at other {x_key}es than run 0; mean ± SD needs the same "
                             f"evaluation grid in every run")
    return xs[0], np.stack([t[key] for t in tables])


def _band(ax, x, ys, color, label, ddof, linestyle="-"):
    mean = ys.mean(axis=0)
    (line,) = ax.plot(x, mean, color=color, label=label, linestyle=linestyle)
    if ys.shape[0] > 1:
        sd = ys.std(axis=0, ddof=ddof)
        ax.fill_between(x, mean - sd, mean + sd, color=color, alpha=0.25, linewidth=0)
    return line


@panel(compare=False)
def learning_curve(metrics, *, x_key: str | None = None, loss_key: str | None = None,
                   error_key: str | None = None, error: bool = True, ddof: int = 0, logy: bool = False,
                   loss_color: str = "0.5", error_color: str = "black", error_label: str | None = None,
                   error_scale: float = 1.0, chance: float | None = None, ax=None, error_ax=None,
                   title: str | None = None):
    """Test loss and decoding error against training batches (Fig. 1b), mean ± SD over runs.

    Parameters
    ----------
    metrics : mapping, RateNetwork, or list of them
        One run's metrics, or several runs (e.g. 5 seeds) evaluated at the same batches. Accepted layouts:
        columns ``{"batch": [...], "test_loss": [...], "test_error": [...]}`` (also ``loss``, ``pos_mse``,
        ``hd_mse``; ``step``/``epoch`` for the x axis), a mapping with such columns under ``"test"``,
        the reference's ``{"100": {"loss": ..., "pos_mse": ...}, ...}``, a list of per-evaluation records,
        or any object with a ``.metrics`` attribute (a :class:`~neurorx.RateNetwork`).
    x_key, loss_key, error_key : str, optional
        Column names, when the defaults do not find them.
    error : bool, default True
        Also draw the decoding error (on a twin y axis, or on ``error_ax``); skipped if there is no
        error column.
    ddof : int, default 0
        Delta degrees of freedom of the SD band (0, as the reference's ``np.std``).
    logy : bool, default False
        Logarithmic loss axis.
    loss_color, error_color : color
        Grey and black, as in the paper.
    error_label : str, optional
        Label of the error axis (default from the column name, e.g. "position decoding error (m²)").
    error_scale : float, default 1.0
        Factor applied to the error before drawing (e.g. 100 for metres -> cm).
    chance : float, optional
        Chance-level error (same unit as the metrics), drawn as a dashed line on the error axis.
    ax : Axes, optional
        Axes for the loss; a new figure if omitted.
    error_ax : Axes, optional
        Axes for the error; default ``ax.twinx()``.
    title : str, optional
        Panel title.

    Returns
    -------
    matplotlib.axes.Axes
        The loss axes (the error is on ``error_ax`` / the twin, the figure's last Axes).

    Notes
    -----
    The band is mean ± SD across runs at each evaluation; a single run is drawn as a line.
    """
    tables = _runs(metrics)
    x_key = _first_key(tables[0], X_KEYS, x_key, "x (batch)", True)
    loss_key = _first_key(tables[0], LOSS_KEYS, loss_key, "loss", True)
    ax = new_axes(ax)
    x, losses = _stack(tables, x_key, loss_key)
    _band(ax, x, losses, loss_color, "test loss", ddof)
    xlabel = "training batches" if x_key.startswith("batch") else x_key
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test loss (MSE)", color=loss_color)
    if logy:
        ax.set_yscale("log")
    else:
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    err_key = _first_key(tables[0], ERROR_KEYS, error_key, "error", error_key is not None) if error else None
    if err_key is not None:
        eax = error_ax if error_ax is not None else ax.twinx()
        if error_ax is None:
            eax.spines["right"].set_visible(True)
            eax.spines["top"].set_visible(False)
        _, errs = _stack(tables, x_key, err_key)
        _band(eax, x, errs * error_scale, error_color, "decoding error", ddof)
        if error_ax is not None:
            eax.set_xlabel(xlabel)
        if chance is not None:
            eax.axhline(chance * error_scale, ls="--", color="0.4", label="chance")
            eax.annotate(f"chance ({chance * error_scale:.3g})", xy=(1.0, chance * error_scale),
                         xycoords=("axes fraction", "data"), xytext=(-2, 2), textcoords="offset points",
                         ha="right", va="bottom", fontsize=7, color="0.3")
        eax.set_ylabel(error_label or _ERROR_LABELS.get(err_key, "decoding error"), color=error_color)
        finish_axes(eax)
    default = "test loss and decoding error" + (f", mean ± SD of {len(tables)} runs" if len(tables) > 1 else "")
    finish_axes(ax, title if title is not None else default)
    return ax


def config_title(config) -> str:
    """A learning curve's title from a training configuration: label, task, cell, size, noise and seed.

    It is built from the resolved configuration, so ``key=value`` overrides show (``N=64`` after
    ``rnn.n_rec=64``), and two runs of one card differ in their titles where their settings differ.
    """
    rnn = config.rnn
    noise = ", ".join(f"{place} {d.get('name', '?')} " + " ".join(f"{k}={v}" for k, v in d.items() if k != "name")
                      for place, d in (config.noise or {}).items()) or "no noise"
    head = " — ".join(x for x in (config.label, config.task.name) if x)
    return (f"{head}: {rnn.cell}/{rnn.activation} N={rnn.n_rec}, τ={rnn.tau}, {noise}, seed {config.seed}, "
            f"{config.trainer.n_epochs} batches")


# -- explained variance ------------------------------------------------------------------------------------
def _curves(values, n_components: int, cumulative: bool, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (k,) or (seeds, k); got {arr.shape}")
    if not cumulative:
        arr = np.cumsum(arr, axis=1)
    if arr.shape[1] < n_components:
        raise ValueError(f"{name} has {arr.shape[1]} components; n_components={n_components} asked for")
    return arr[:, :n_components]


def explained_variance_ratios(recordings, phases: Sequence[str] = ("active", "quiescent"),
                              n_components: int = 10) -> dict[str, np.ndarray]:
    """Cumulative explained-variance ratios of the hidden states, per phase, one row per recording.

    Parameters
    ----------
    recordings : Recording or sequence of Recording
        E.g. one recording per seed (each with ``h`` recorded).
    phases : sequence of str, default ("active", "quiescent")
        Phases to analyse; each gets its own PCA, as in the paper.
    n_components : int, default 10
        Leading components kept.

    Returns
    -------
    dict of str -> numpy.ndarray, shape (n_recordings, n_components)
        Ready for :func:`explained_variance_curve` (``**ratios`` or by position).
    """
    recs = [recordings] if isinstance(recordings, Recording) else list(recordings)
    return {ph: np.stack([explained_variance(r.select(ph).require("h"), n_components) for r in recs])
            for ph in phases}


@panel(compare=True)
def explained_variance_curve(active, quiescent=None, *, n_components: int = 10, cumulative: bool = True,
                             ddof: int = 0, legend_labels: Sequence[str] = ("active", "quiescent"),
                             colors: Sequence[str] = (ACTIVE_COLOR, QUIESCENT_COLOR),
                             curves: Sequence[str] = ("active", "quiescent"), label: str | None = None,
                             linestyles: Sequence[str] = ("-", "--"), markers: Sequence[str] = ("o", "s"), ax=None,
                             title: str | None = None):
    """Cumulative explained-variance ratio of PCs 1..n (Fig. 1c), mean ± SD over seeds.

    Parameters
    ----------
    active : array_like (k,) or (seeds, k), or Recording
        Cumulative ratios of the active states (e.g. from :func:`neurorx.analysis.explained_variance`,
        one row per seed). A Recording: both phases of ``phases`` are computed from its ``h`` (each phase
        with its own PCA). A list or mapping of Recordings: one panel per recording (see
        :func:`compare_panels`); for mean ± SD over seeds use :func:`explained_variance_ratios`.
    quiescent : array_like (k,) or (seeds, k), optional
        The same for the quiescent states.
    n_components : int, default 10
        PCs on the x axis.
    cumulative : bool, default True
        Whether the ratios are already cumulative; ``False`` takes per-component ratios
        (``pca.explained_variance_ratio_``) and sums them.
    ddof : int, default 0
        Delta degrees of freedom of the SD (0 as the reference).
    legend_labels, colors : sequence
        Legend labels and colours of the array curves.
    linestyles, markers : sequence
        Line styles and markers, cycled over the curves (active solid with circles, quiescent dashed with
        squares), so curves of one colour stay apart.
    curves : sequence of str, default ("active", "quiescent")
        With a Recording: the phases drawn, one curve each (labelled and coloured by phase).
    label : str, optional
        With a Recording: its name in the title (default its backend).
    ax : Axes, optional
        Axes to draw on.
    title : str, optional
        Panel title.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if isinstance(active, Recording):
        rec = active
        phases = [curves] if isinstance(curves, str) else list(curves)
        ratios = explained_variance_ratios(rec, phases, n_components)
        data = [ratios[p] for p in phases]
        legend_labels = phases
        colors = [phase_color(p) for p in phases]
        name = label if label is not None else backend_of(rec)
        title = title if title is not None else f"{' vs '.join(phases)} ({name})"
    else:
        data = [_curves(active, n_components, cumulative, "active")]
        if quiescent is not None:
            data.append(_curves(quiescent, n_components, cumulative, "quiescent"))
    ax = new_axes(ax)
    k = np.arange(1, n_components + 1)
    for i, ys in enumerate(data):
        ys = ys[:, :n_components]
        mean = ys.mean(axis=0)
        sd = ys.std(axis=0, ddof=ddof) if ys.shape[0] > 1 else None
        ax.errorbar(k, mean, yerr=sd, color=colors[i % len(colors)], label=legend_labels[i % len(legend_labels)],
                    linestyle=linestyles[i % len(linestyles)], marker=markers[i % len(markers)], markersize=3,
                    capsize=2 if sd is not None else 0)
    ax.set_xlabel("number of PCs")
    ax.set_ylabel("cumulative explained variance")
    ax.set_xticks(k)
    ax.legend(loc="lower right")
    n_seeds = max(c.shape[0] for c in data)
    if title is None and n_seeds > 1:
        title = f"mean ± SD, n = {n_seeds}"
    finish_axes(ax, title)
    return ax
