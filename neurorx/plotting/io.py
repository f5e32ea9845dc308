"""Saving figures: atomic writes that never replace an existing file by accident."""

from __future__ import annotations

import io
from pathlib import Path

from neurorx.io import atomic_write_bytes

from ._core import figure_of

__all__ = ["save_figure"]


def save_figure(fig, path: str | Path, *, overwrite: bool = False, dpi: int = 300, **savefig_kwargs) -> Path:
    """Save a figure to ``path`` (PNG by default) atomically, refusing to overwrite unless asked.

    Parameters
    ----------
    fig : Figure, Axes, or array of Axes
        What the panel functions return (the figure is taken from an Axes).
    path : str or Path
        Output file. Without a suffix ``.png`` is appended; other suffixes matplotlib knows (``.pdf``,
        ``.svg``) select that format. Missing parent folders are created.
    overwrite : bool, default False
        Replace an existing file. Otherwise an existing file raises :class:`FileExistsError`.
    dpi : int, default 300
        Resolution of raster formats.
    **savefig_kwargs
        Passed to :meth:`matplotlib.figure.Figure.savefig` (default ``bbox_inches="tight"``).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is false.

    Notes
    -----
    The image is rendered in memory and written to a temporary file in the target folder, then renamed
    over ``path`` (:func:`neurorx.io.atomic_write_bytes`): a crash never leaves a half-written image.
    """
    figure = figure_of(fig)
    path = Path(path)
    if path.suffix == "":
        path = path.with_suffix(".png")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    fmt = path.suffix.lstrip(".").lower()
    supported = figure.canvas.get_supported_filetypes()
    if fmt not in supported:
        raise ValueError(f"cannot save {path.name}: unknown image format {fmt!r}; use one of {sorted(supported)}")
    buf = io.BytesIO()
    savefig_kwargs.setdefault("bbox_inches", "tight")
    figure.savefig(buf, format=fmt, dpi=dpi, **savefig_kwargs)
    return atomic_write_bytes(path, buf.getvalue(), overwrite=overwrite)
