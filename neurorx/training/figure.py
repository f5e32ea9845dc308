"""The learning-curve figure a training run saves next to its network (``learning_curve.png``)."""

from __future__ import annotations

import io
from pathlib import Path

from neurorx.io import atomic_write_bytes

__all__ = ["save_learning_curve"]


def save_learning_curve(metrics: dict, title: str, path: Path) -> None:
    """Draw the loss and the test decoding error of ``metrics`` (:meth:`Trainer.metrics`) into a PNG at ``path``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from neurorx.plotting import learning_curve

    # fixed margins, not layout="constrained": its tight-bbox passes were most of a short training job's time
    fig = Figure(figsize=(9, 3.4))
    FigureCanvasAgg(fig)
    ax_loss, ax_err = fig.subplots(1, 2, gridspec_kw={"left": 0.08, "right": 0.98, "bottom": 0.14, "top": 0.86,
                                                      "wspace": 0.25})
    learning_curve(metrics, ax=ax_loss, error_ax=ax_err, logy=True, error_scale=metrics["error_scale"],
                   chance=metrics["chance_error"], error_label=f"test decoding error ({metrics['error_unit']})")
    fig.suptitle(title, fontsize=9)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    atomic_write_bytes(path, buf.getvalue(), overwrite=True)
