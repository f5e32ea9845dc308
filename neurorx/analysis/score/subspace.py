"""The principal subspace of the active states, where score alignment estimates densities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import as_array, check_int
from ..pca import fit_pca

__all__ = ["Subspace", "fit_subspace"]


@dataclass(frozen=True)
class Subspace:
    """Leading principal components of a point cloud: ``z = (h - mean) @ components.T``.

    Attributes
    ----------
    mean : ndarray (N,)
    components : ndarray (k, N)
        Orthonormal rows.
    explained : ndarray (k,)
        Fraction of variance explained by each component.
    """

    mean: np.ndarray
    components: np.ndarray
    explained: np.ndarray

    @property
    def n_components(self) -> int:
        """Number of components k."""
        return self.components.shape[0]

    def project(self, h) -> np.ndarray:
        """Coordinates of states ``(..., N)`` -> ``(..., k)``."""
        return (np.asarray(h, dtype=np.float64) - self.mean) @ self.components.T

    def project_vectors(self, v) -> np.ndarray:
        """Coordinates of displacement vectors (no centring) ``(..., N)`` -> ``(..., k)``."""
        return np.asarray(v, dtype=np.float64) @ self.components.T


def fit_subspace(states, *, variance: float = 0.9, n_components: int | None = None,
                 max_components: int = 8) -> Subspace:
    """Principal subspace of ``states (..., N)``.

    The fewest components explaining ``variance`` (at most ``max_components``), or exactly ``n_components``.
    """
    x = as_array(states, "states")
    x = x.reshape(-1, x.shape[-1])
    if not 0 < variance <= 1:
        raise ValueError(f"variance is a fraction of explained variance in (0, 1]; got {variance!r}")
    pca = fit_pca(x)
    ratio = pca.explained_variance_ratio_
    if n_components is None:
        k = int(np.searchsorted(np.cumsum(ratio), variance - 1e-12) + 1)
        k = min(k, check_int(max_components, "max_components", minimum=1), len(ratio))
    else:
        k = check_int(n_components, "n_components", minimum=1)
        if k > len(ratio):
            raise ValueError(f"n_components={k} exceeds the {len(ratio)} available components")
    return Subspace(mean=pca.mean_.copy(), components=pca.components_[:k].copy(), explained=ratio[:k].copy())
