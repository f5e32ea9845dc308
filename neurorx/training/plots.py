"""Learning-curve figure (matplotlib, drawn off-screen with the Agg canvas; no global backend change)."""

from __future__ import annotations

import io
from pathlib import Path

from neurorx.io import atomic_write_bytes

__all__ = ["plot_learning_curve"]


def plot_learning_curve(metrics: dict, path: str | Path, title: str = "") -> Path:
    """Save a two-panel PNG: train/test loss (log scale) and test decoding error against chance.

    Parameters
    ----------
    metrics : dict
        The trainer's metrics: ``metrics["curve"]`` with lists ``batch``, ``train_loss``, ``test_loss``,
        ``test_error``; ``metrics["error_unit"]``, ``metrics["error_scale"]`` (display unit and factor) and
        ``metrics["chance_error"]``.
    path : path
        Output file (PNG), written atomically (replacing an older one).
    title : str
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    curve = metrics["curve"]
    scale = metrics.get("error_scale", 1.0)
    unit = metrics.get("error_unit", "")
    fig = Figure(figsize=(9, 3.4), layout="constrained")
    FigureCanvasAgg(fig)
    ax_loss, ax_err = fig.subplots(1, 2)
    b = curve["batch"]
    train = [(x, y) for x, y in zip(b, curve["train_loss"], strict=True) if y is not None]
    if train:
        ax_loss.plot(*zip(*train, strict=True), label="train (mean since last eval)", color="0.5")
    ax_loss.plot(b, curve["test_loss"], "o-", ms=3, label="test", color="C0")
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("batch")
    ax_loss.set_ylabel("MSE loss")
    ax_loss.legend(frameon=False)
    ax_err.plot(b, [e * scale for e in curve["test_error"]], "o-", ms=3, color="C1", label="test")
    chance = metrics.get("chance_error")
    if chance is not None:
        ax_err.axhline(chance * scale, ls="--", color="0.4", label="chance")
    ax_err.set_xlabel("batch")
    ax_err.set_ylabel(f"decoding error ({unit})" if unit else "decoding error")
    ax_err.set_ylim(bottom=0)
    ax_err.legend(frameon=False)
    if title:
        fig.suptitle(title)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return atomic_write_bytes(path, buf.getvalue(), overwrite=True)
