r"""Cell codes: place cells (spatial navigation) and head-direction cells, with top-k decoding.

Each population maps a state (position in metres, or angle in radians) to a vector of ``n_cells``
activations (:meth:`encode`) and maps any activation vector back to a state by averaging the preferred
states of its ``k`` most active cells (:meth:`decode`; a circular mean for angles). Both work on numpy
arrays and torch tensors of any leading shape and return the type they were given.

The tuning functions are held in two registries, so that the reference code's choice and the paper's
equation are both available by name:

==========================  ==================================================================
``PLACE_CODES``             ``"softmax"`` (reference code, default), ``"gaussian"`` (paper Eq. 20)
``HD_CODES``                ``"von_mises"`` (reference code, peak 1, default),
                            ``"von_mises_density"`` (paper Eq. 21)
==========================  ==================================================================
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import i0e

from neurorx.registry import Registry
from neurorx.tasks._checks import check_float, check_int, is_torch

__all__ = [
    "HD_CODES",
    "PLACE_CODES",
    "HeadDirectionCells",
    "PlaceCells",
    "top_k_indices",
]

#: Place-cell tuning functions ``f(sq_dist, sigma) -> activations``; ``sq_dist`` has shape (..., n_cells).
PLACE_CODES: Registry[Callable] = Registry("place-cell code")
#: Head-direction tuning functions ``f(cos_diff, sigma) -> activations``; ``cos_diff = cos(theta - mu_i)``.
HD_CODES: Registry[Callable] = Registry("head-direction code")


# ----------------------------------------------------------------------------------------------------------
# numpy / torch helpers


def _exp(x):
    """``exp(x)``, in place for numpy arrays: callers pass a temporary they own (batches are 10^7 values)."""
    if is_torch(x):
        import torch

        return torch.exp(x)
    return np.exp(x, out=x) if isinstance(x, np.ndarray) and x.dtype.kind == "f" else np.exp(x)


def _softmax(x):
    if is_torch(x):
        import torch

        return torch.softmax(x, dim=-1)
    x = x - x.max(axis=-1, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(axis=-1, keepdims=True)
    return x


def _as_float_tensor(x):
    """A torch tensor with a floating dtype (integers go to the default float dtype)."""
    import torch

    return x if torch.is_floating_point(x) else x.to(torch.get_default_dtype())


def _check_last_dim(x, size: int, name: str) -> None:
    shape = tuple(x.shape)
    if len(shape) < 1 or shape[-1] != size:
        raise ValueError(f"{name} must have shape (..., {size}), got shape {shape}")


def _numpy_input(x, size: int, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name} must be a numpy array or torch tensor of numbers, got {type(x).__name__}: {err}"
        ) from None
    _check_last_dim(arr, size, name)
    return arr


def top_k_indices(outputs, k: int):
    """Indices of the ``k`` largest entries along the last axis (``torch.topk`` for either input type).

    Numpy input is viewed as a tensor without a copy (``torch.topk`` is about 4x faster than
    ``np.argpartition`` on ``(7800, 512)`` outputs), so numpy and torch input select the same cells.

    Parameters
    ----------
    outputs : numpy.ndarray or torch.Tensor
        Activations of shape (..., n_cells).
    k : int
        Number of cells, ``1 <= k <= n_cells``.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Integer indices of shape (..., k).
    """
    n = outputs.shape[-1]
    if not 1 <= k <= n:
        raise ValueError(f"k must lie in [1, n_cells={n}], got {k}")
    import torch

    if is_torch(outputs):
        return torch.topk(outputs, k, dim=-1).indices
    return torch.topk(torch.from_numpy(np.ascontiguousarray(outputs)), k, dim=-1).indices.numpy()


# ----------------------------------------------------------------------------------------------------------
# tuning functions


@PLACE_CODES.register("softmax")
def _softmax_code(sq_dist, sigma):
    """Reference code: softmax over cells of ``-|s - c_i|^2 / (2 sigma^2)`` (sums to 1)."""
    return _softmax(sq_dist * (-0.5 / sigma**2))


@PLACE_CODES.register("gaussian")
def _gaussian_code(sq_dist, sigma):
    """Paper Eq. 20: unnormalised Gaussian ``exp(-|s - c_i|^2 / (2 sigma^2))`` (peak 1)."""
    return _exp(sq_dist * (-0.5 / sigma**2))


@HD_CODES.register("von_mises")
def _von_mises_peak1(cos_diff, sigma):
    """Reference code (``norm=1``): ``exp(kappa (cos(theta - mu_i) - 1))`` (peak 1), ``kappa = 1/sigma^2``."""
    kappa = 1.0 / sigma**2
    z = cos_diff - 1.0
    z *= kappa
    return _exp(z)


@HD_CODES.register("von_mises_density")
def _von_mises_density(cos_diff, sigma):
    """Paper Eq. 21: the von Mises density ``exp(kappa cos(theta - mu_i)) / (2 pi I0(kappa))``."""
    kappa = 1.0 / sigma**2
    # exp(k cos) / I0(k) = exp(k (cos - 1)) / i0e(k): no overflow for large kappa.
    z = cos_diff - 1.0
    z *= kappa
    z = _exp(z)
    z *= float(1.0 / (2.0 * np.pi * i0e(kappa)))
    return z


# ----------------------------------------------------------------------------------------------------------
# populations


class PlaceCells:
    r"""A population of 2-D place cells with fixed centres.

    Parameters
    ----------
    centres : array_like, shape (n_cells, 2)
        Centre of each cell in metres.
    sigma : float
        Tuning width :math:`\sigma_{SP}` in metres (reference: 0.2).
    code : str
        Name in :data:`PLACE_CODES`: ``"softmax"`` (reference code) or ``"gaussian"`` (paper Eq. 20).

    Notes
    -----
    With :math:`d_i(s) = \lVert s - c_i \rVert^2`, the reference code's target is a softmax over cells

    .. math:: f_i(s) = \frac{\exp(-d_i(s) / 2\sigma^2)}{\sum_j \exp(-d_j(s) / 2\sigma^2)},

    which sums to 1 (with 512 cells in the 2.2 m box its largest entry is about 0.03–0.06). Paper Eq. 20
    writes the unnormalised Gaussian :math:`f_i(s) = \exp(-d_i(s)/2\sigma^2)` (``code="gaussian"``).

    Decoding takes the mean centre of the :math:`k` most active cells,
    :math:`\hat s = \frac1k \sum_{i \in \mathrm{top}_k(o)} c_i` (reference: :math:`k = 3`).
    """

    def __init__(self, centres, sigma: float = 0.2, code: str = "softmax"):
        centres = np.array(centres, dtype=np.float64)
        if centres.ndim != 2 or centres.shape[0] < 1 or centres.shape[1] != 2:
            raise ValueError(f"centres must have shape (n_cells, 2), got shape {centres.shape}")
        if not np.all(np.isfinite(centres)):
            raise ValueError("centres contain non-finite values")
        centres.setflags(write=False)
        self.centres = centres
        self.sigma = check_float(sigma, "sigma", positive=True)
        self._fn = PLACE_CODES.get(code)
        self.code = code

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return self.centres.shape[0]

    def encode(self, positions):
        """Cell activations for positions of shape (..., 2) -> (..., n_cells), same type as the input."""
        if is_torch(positions):
            import torch

            _check_last_dim(positions, 2, "positions")
            x = _as_float_tensor(positions)
            c = torch.tensor(self.centres, dtype=x.dtype, device=x.device)
            sq = (x[..., None, 0] - c[:, 0]) ** 2 + (x[..., None, 1] - c[:, 1]) ** 2
            return self._fn(sq, self.sigma)
        x = _numpy_input(positions, 2, "positions")
        sq = np.subtract.outer(x[..., 0], self.centres[:, 0])
        sq *= sq
        dy = np.subtract.outer(x[..., 1], self.centres[:, 1])
        dy *= dy
        sq += dy
        del dy
        return self._fn(sq, self.sigma)

    def decode(self, outputs, k: int = 3):
        """Mean centre of the ``k`` most active cells: (..., n_cells) -> (..., 2), same type as the input."""
        k = check_int(k, "k")
        if is_torch(outputs):
            return _top_k_torch(outputs, self.centres, self.n_cells, k).mean(dim=-2)
        out = _numpy_input(outputs, self.n_cells, "outputs")
        return self.centres[top_k_indices(out, k)].mean(axis=-2)


def _top_k_torch(outputs, values: np.ndarray, n_cells: int, k: int):
    """``values`` of the ``k`` most active cells of torch ``outputs`` (..., n_cells): (..., k, *values.shape[1:])."""
    import torch

    _check_last_dim(outputs, n_cells, "outputs")
    idx = top_k_indices(outputs.detach(), k)
    dtype = outputs.dtype if torch.is_floating_point(outputs) else torch.get_default_dtype()
    return torch.tensor(values, dtype=dtype, device=outputs.device)[idx]


class HeadDirectionCells:
    r"""A ring of head-direction cells with evenly spaced preferred angles.

    Parameters
    ----------
    n_cells : int
        Number of cells (reference: 512).
    sigma : float
        Angular spread :math:`\sigma_{HD}` in radians (reference: :math:`\pi/6`); :math:`\kappa = 1/\sigma^2`.
    code : str
        Name in :data:`HD_CODES`: ``"von_mises"`` (reference code, peak 1) or ``"von_mises_density"``
        (paper Eq. 21).

    Notes
    -----
    Preferred angles are ``linspace(-pi, pi, n_cells)`` as in the reference code, so the first and last
    cells (at :math:`-\pi` and :math:`\pi`) are the same direction. The reference code's target is

    .. math:: f_i(\theta) = \exp\big(\kappa(\cos(\theta - \mu_i) - 1)\big),

    peak 1 (FWHM about 1.25 rad and a sum of about 111.5 over 512 cells for :math:`\sigma = \pi/6`). Paper
    Eq. 21 writes the von Mises density
    :math:`f_i(\theta) = \exp(\kappa\cos(\theta-\mu_i)) / (2\pi I_0(\kappa))`.

    Decoding is the circular mean of the :math:`k` most active preferred angles,
    :math:`\hat\theta = \operatorname{atan2}(\frac1k\sum \sin\mu_i, \frac1k\sum\cos\mu_i)`, so it is
    correct across the :math:`\pm\pi` seam.
    """

    def __init__(self, n_cells: int = 512, sigma: float = np.pi / 6, code: str = "von_mises"):
        n_cells = check_int(n_cells, "n_cells")
        self.sigma = check_float(sigma, "sigma", positive=True)
        self._fn = HD_CODES.get(code)
        self.code = code
        preferred = np.linspace(-np.pi, np.pi, n_cells)
        preferred.setflags(write=False)
        self.preferred = preferred
        self._cos = np.cos(preferred)
        self._sin = np.sin(preferred)

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return self.preferred.shape[0]

    @property
    def kappa(self) -> float:
        r"""Concentration :math:`\kappa = 1/\sigma^2`."""
        return 1.0 / self.sigma**2

    def encode(self, angles):
        """Cell activations for angles of shape (..., 1) -> (..., n_cells), same type as the input."""
        if is_torch(angles):
            import torch

            _check_last_dim(angles, 1, "angles")
            x = _as_float_tensor(angles)
            mu = torch.tensor(self.preferred, dtype=x.dtype, device=x.device)
            return self._fn(torch.cos(x - mu), self.sigma)
        x = _numpy_input(angles, 1, "angles")[..., 0]
        # cos(x - mu) = cos x cos mu + sin x sin mu: two products in place of one cosine per (angle, cell)
        # (within 2e-15 of the direct form; float32 targets identical), the cost of every training batch
        cos_diff = np.multiply.outer(np.cos(x), self._cos)
        cos_diff += np.multiply.outer(np.sin(x), self._sin)
        return self._fn(cos_diff, self.sigma)

    def decode(self, outputs, k: int = 3):
        """Circular mean of the top-``k`` preferred angles: (..., n_cells) -> (..., 1) in [-pi, pi]."""
        k = check_int(k, "k")
        if is_torch(outputs):
            import torch

            mu = _top_k_torch(outputs, self.preferred, self.n_cells, k)
            return torch.atan2(torch.sin(mu).mean(dim=-1), torch.cos(mu).mean(dim=-1))[..., None]
        out = _numpy_input(outputs, self.n_cells, "outputs")
        idx = top_k_indices(out, k)
        return np.arctan2(self._sin[idx].mean(axis=-1), self._cos[idx].mean(axis=-1))[..., None]
