"""Images with jittered luminosity, offline: scikit-learn's digits, or IDX / CSV files on disk.

Sources (registry :data:`SOURCES`): ``"digits"`` (scikit-learn's bundled 8x8 digits, no download), ``"idx"``
(MNIST-style IDX files, gzipped or not: ``--data idx:TRAIN_IMAGES,TRAIN_LABELS[,TEST_IMAGES,TEST_LABELS]``)
and ``"csv"`` (one image per row, label first, then the pixels; an optional header row; e.g. Kaggle's
``fashion-mnist_test.csv``). Pixels are scaled to [0, 1].

Notes
-----
Luminosity jitter: per image :math:`\\Delta \\sim U(-\\epsilon, \\epsilon)` and
:math:`x \\leftarrow \\mathrm{clip}(x + \\Delta, 0, 1)`; redrawn for every training batch, drawn once with a
fixed seed for the test set (or redrawn at every evaluation, as in the paper, with ``redraw_test``).
"""

from __future__ import annotations

import gzip
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from neurorx.errors import ConfigurationError, FileFormatError
from neurorx.registry import Registry
from neurorx.seeds import numpy_rng

__all__ = ["SOURCES", "ImageSet", "check_epsilon", "jitter", "load_images", "read_csv_images", "read_idx"]

#: Image sources by name: ``loader(spec: str, seed: int, test_fraction: float) -> ImageSet``.
SOURCES: Registry = Registry("image source")

_SPLIT = 10  # seed purpose: train/test split


@dataclass(frozen=True)
class ImageSet:
    """Flattened images in [0, 1] and integer labels, split into train and test.

    Attributes
    ----------
    x_train, x_test : numpy.ndarray
        (n, pixels) float32.
    y_train, y_test : numpy.ndarray
        (n,) int64 in ``[0, n_classes)``.
    n_classes : int
        Number of classes.
    name : str
        Where the images came from.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    name: str

    @property
    def n_pixels(self) -> int:
        """Pixels per image."""
        return int(self.x_train.shape[1])


def check_epsilon(epsilon: float) -> float:
    """Return ``epsilon`` as a float, or raise if it is not a luminosity level in [0, 1]."""
    eps = float(epsilon)
    if not (0.0 <= eps <= 1.0) or math.isnan(eps):
        raise ConfigurationError(f"luminosity level epsilon={epsilon} is outside [0, 1]; pixel values are in "
                                 "[0, 1], so pass a level between 0 (no jitter) and 1 (e.g. 0.25, 0.5, 0.75)")
    return eps


def jitter(x: torch.Tensor, epsilon: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Shift each image's luminosity by ``U(-epsilon, epsilon)`` and clip to [0, 1].

    Parameters
    ----------
    x : torch.Tensor
        (batch, pixels) images in [0, 1].
    epsilon : float
        Luminosity level in [0, 1].
    generator : torch.Generator, optional
        Source of the shifts.
    """
    eps = check_epsilon(epsilon)
    if eps == 0.0:
        return x
    delta = (torch.rand(x.shape[0], 1, generator=generator, dtype=x.dtype) * 2 - 1) * eps
    return (x + delta).clamp_(0.0, 1.0)


def _validate(x: np.ndarray, y: np.ndarray, where: str, n_pixels: int | None = None) -> None:
    if x.ndim != 2 or x.shape[0] == 0:
        raise FileFormatError(f"{where}: expected a non-empty (images, pixels) array, got shape {x.shape}")
    if x.shape[0] != y.shape[0]:
        raise FileFormatError(f"{where}: {x.shape[0]} images but {y.shape[0]} labels; give matching image and "
                              "label files")
    if n_pixels is not None and x.shape[1] != n_pixels:
        raise FileFormatError(f"{where}: images have {x.shape[1]} pixels but the training images have "
                              f"{n_pixels}; train and test images must have the same size")
    if not np.all(np.isfinite(x)):
        raise FileFormatError(f"{where}: the images contain NaN or infinite values; fix or re-export the file")
    if x.min() < 0 or x.max() > 1:
        raise FileFormatError(f"{where}: pixels must be in [0, 1] after scaling, got [{x.min()}, {x.max()}]; "
                              "pixel files must hold 0..255 (or 0..1) intensities")
    if np.any(y < 0) or not np.issubdtype(y.dtype, np.integer):
        raise FileFormatError(f"{where}: labels must be non-negative integers (class indices); got "
                              f"{y.dtype} with minimum {y.min()}")


def _split(x, y, seed: int, test_fraction: float):
    rng = numpy_rng(seed, _SPLIT)
    order = rng.permutation(len(y))
    n_test = round(test_fraction * len(y))
    if not 0 < n_test < len(y):
        raise ConfigurationError(f"test_fraction={test_fraction} leaves no train or no test images of {len(y)}")
    te, tr = order[:n_test], order[n_test:]
    return x[tr], y[tr], x[te], y[te]


def _finish(x_tr, y_tr, x_te, y_te, name: str, n_classes: int | None = None) -> ImageSet:
    _validate(x_tr, y_tr, f"{name} (train)")
    _validate(x_te, y_te, f"{name} (test)", n_pixels=x_tr.shape[1])
    k = int(max(y_tr.max(), y_te.max())) + 1 if n_classes is None else n_classes
    if max(y_tr.max(), y_te.max()) >= k:
        raise FileFormatError(f"{name}: label {max(y_tr.max(), y_te.max())} is out of range for {k} classes")
    return ImageSet(x_tr.astype(np.float32), y_tr.astype(np.int64), x_te.astype(np.float32),
                    y_te.astype(np.int64), k, name)


def _digits(spec: str, seed: int, test_fraction: float) -> ImageSet:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = d.data.astype(np.float32) / 16.0
    return _finish(*_split(x, d.target.astype(np.int64), seed, test_fraction), "sklearn digits (8x8)", 10)


SOURCES.add("digits", _digits)


def _open(path: Path) -> bytes:
    if not path.exists():
        raise FileNotFoundError(f"no such image file: {path}")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise FileFormatError(f"{path}: gzip file is truncated or corrupt ({err}); download it again") from None
    return raw


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (gzipped or not) of unsigned bytes: images (n, rows, cols) or labels (n,).

    Raises
    ------
    FileFormatError
        Wrong magic number, a data type other than unsigned byte, or a size that does not match the header.
    """
    path = Path(path)
    raw = _open(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise FileFormatError(f"{path} is not an IDX file (wrong magic number {raw[:4].hex()}); give MNIST-style "
                              "idx files such as train-images-idx3-ubyte.gz")
    if raw[2] != 0x08:
        raise FileFormatError(f"{path}: IDX data type 0x{raw[2]:02x} is not unsigned byte (0x08); only uint8 "
                              "images and labels are supported")
    ndim = raw[3]
    if ndim not in (1, 3) or len(raw) < 4 + 4 * ndim:
        raise FileFormatError(f"{path}: IDX files of {ndim} dimensions are not images (3) or labels (1)")
    dims = [int.from_bytes(raw[4 + 4 * k: 8 + 4 * k], "big") for k in range(ndim)]
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise FileFormatError(f"{path}: header says {'x'.join(map(str, dims))} = {int(np.prod(dims))} values but "
                              f"the file holds {body.size}; the file is truncated or the header is wrong")
    return body.reshape(dims)


def _idx(spec: str, seed: int, test_fraction: float) -> ImageSet:
    paths = [Path(p) for p in spec.split(",") if p]
    if len(paths) not in (2, 4):
        raise ConfigurationError("idx data takes 2 or 4 comma-separated paths: TRAIN_IMAGES,TRAIN_LABELS"
                                 "[,TEST_IMAGES,TEST_LABELS] (2: a random test split is made)")
    arrays = [read_idx(p) for p in paths]
    for p, a, want in zip(paths, arrays, (3, 1, 3, 1), strict=False):
        if a.ndim != want:
            raise FileFormatError(f"{p}: expected an IDX {'image' if want == 3 else 'label'} file "
                                  f"({want} dimensions), got {a.ndim}; check the order of the paths")
    xs = [a.reshape(a.shape[0], -1).astype(np.float32) / 255.0 for a in arrays[0::2]]
    ys = [a.astype(np.int64) for a in arrays[1::2]]
    if len(paths) == 4:
        if arrays[0].shape[1:] != arrays[2].shape[1:]:
            raise FileFormatError(f"train images are {arrays[0].shape[1:]} but test images are "
                                  f"{arrays[2].shape[1:]}; give images of one size")
        return _finish(xs[0], ys[0], xs[1], ys[1], f"idx {paths[0].name}")
    _validate(xs[0], ys[0], str(paths[0]))
    return _finish(*_split(xs[0], ys[0], seed, test_fraction), f"idx {paths[0].name}")


SOURCES.add("idx", _idx)


def read_csv_images(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a CSV of images: label first, then the pixels (0..255 or 0..1); an optional header row.

    Returns
    -------
    x : numpy.ndarray
        (n, pixels) float32 in [0, 1].
    y : numpy.ndarray
        (n,) int64 labels.
    """
    path = Path(path)
    text = _open(path).decode("utf-8", errors="replace").splitlines()
    rows = [r for r in text if r.strip()]
    if rows and any(c.isalpha() for c in rows[0].replace("e", "").replace("E", "").replace("nan", "")):
        rows = rows[1:]  # header
    if not rows:
        raise FileFormatError(f"{path}: no image rows; the CSV must hold one image per row (label, pixels...)")
    widths = {len(r.split(",")) for r in rows}
    if len(widths) != 1:
        raise FileFormatError(f"{path}: rows have different numbers of values {sorted(widths)}; every row must be "
                              "a label followed by the same number of pixels")
    try:
        data = np.array([[float(v) for v in r.split(",")] for r in rows])
    except ValueError as err:
        raise FileFormatError(f"{path}: a value is not a number ({err}); expected label,pixel,pixel,...") from None
    if data.shape[1] < 2:
        raise FileFormatError(f"{path}: rows need a label and at least one pixel")
    labels, pixels = data[:, 0], data[:, 1:]
    if not np.all(np.isfinite(data)):
        raise FileFormatError(f"{path}: the file contains NaN or infinite values; fix or re-export it")
    if np.any(labels != np.round(labels)) or np.any(labels < 0):
        raise FileFormatError(f"{path}: labels (first column) must be non-negative integers")
    scale = 255.0 if pixels.max() > 1.0 else 1.0
    if pixels.min() < 0 or pixels.max() > 255:
        raise FileFormatError(f"{path}: pixels must be in 0..255 (or 0..1); got [{pixels.min()}, {pixels.max()}]")
    return (pixels / scale).astype(np.float32), labels.astype(np.int64)


def _csv(spec: str, seed: int, test_fraction: float) -> ImageSet:
    paths = [p for p in spec.split(",") if p]
    if len(paths) not in (1, 2):
        raise ConfigurationError("csv data takes 1 or 2 comma-separated paths: ALL (a random test split is made) "
                                 "or TRAIN,TEST")
    if len(paths) == 2:
        (x_tr, y_tr), (x_te, y_te) = read_csv_images(paths[0]), read_csv_images(paths[1])
        return _finish(x_tr, y_tr, x_te, y_te, f"csv {Path(paths[0]).name}")
    x, y = read_csv_images(paths[0])
    return _finish(*_split(x, y, seed, test_fraction), f"csv {Path(paths[0]).name}")


SOURCES.add("csv", _csv)


def load_images(source: str = "digits", *, seed: int = 0, test_fraction: float = 0.25) -> ImageSet:
    """Load an image set.

    Parameters
    ----------
    source : str
        ``"digits"``, ``"idx:TRAIN_IMAGES,TRAIN_LABELS[,TEST_IMAGES,TEST_LABELS]"`` or
        ``"csv:ALL"`` / ``"csv:TRAIN,TEST"``.
    seed : int
        Seed of the random train/test split (when one file holds both).
    test_fraction : float
        Share of the images held out when a random split is made (digits: 450 of 1797).

    Returns
    -------
    ImageSet
    """
    kind, _, spec = str(source).partition(":")
    if kind not in SOURCES:
        try:
            SOURCES.get(kind)
        except ValueError as err:
            raise ConfigurationError(f"{err} Give the data as 'digits', 'idx:PATHS' or 'csv:PATHS'.") from None
    return SOURCES.get(kind)(spec, seed, test_fraction)
