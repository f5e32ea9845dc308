"""The statistics registry: every per-phase statistic that ``compare``, the demo report, hooks and plots show.

A statistic is a function of a phase's decoded trajectories ``(B, T, d)`` (or hidden states ``(B, T, N)``)
returning one value per trial, with its unit. Register one and it appears in :func:`neurorx.compare`'s
table, the demo report, the :class:`~neurorx.hooks.PhaseStatistics` hook and
:func:`neurorx.plotting.statistic_boxplot` without further edits:

>>> import numpy as np                                                           # doctest: +SKIP
>>> STATISTICS.add("max excursion", Statistic(                                   # doctest: +SKIP
...     "max excursion", lambda x, circular: np.abs(x).max(axis=(1, 2)), unit="{u}", circular=False))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from neurorx.registry import Registry

from .circular import angular_velocity
from .health import activity_level, path_noise_ratio
from .pca import explained_variance
from .variance import stepwise_distance, total_variance

__all__ = ["STATISTICS", "Statistic", "applicable_statistics", "register_statistic"]


@dataclass(frozen=True)
class Statistic:
    """A per-trial statistic of one phase, with its unit.

    Attributes
    ----------
    name : str
        Name in tables and plots.
    function : callable
        ``function(x, circular) -> values``: ``x`` is ``(B, T, d)`` decoded outputs (``of="decoded"``) or
        ``(B, T, N)`` hidden states (``of="h"``); returns one value per trial ``(B,)`` (or one value for the
        whole sample).
    unit : str
        Unit; ``{u}`` stands for the decoded unit (``m`` for positions, ``rad`` for angles).
    circular : bool
        Whether it is defined for angles (head direction).
    linear : bool
        Whether it is defined for positions.
    of : {"decoded", "h"}
        What it is computed on.
    burn_in : bool
        Whether the first ``burn_in`` fraction of the phase is dropped first (stationary statistics).
    description : str
        One line for reports and docs.
    """

    name: str
    function: Callable
    unit: str = "1"
    circular: bool = True
    linear: bool = True
    of: str = "decoded"
    burn_in: bool = False
    description: str = ""

    def __post_init__(self):
        if self.of not in ("decoded", "h"):
            raise ValueError(f"Statistic {self.name!r}: of must be 'decoded' or 'h'; got {self.of!r}")
        if not callable(self.function):
            raise TypeError(f"Statistic {self.name!r}: function must be callable, e.g. lambda x, circular: ...")

    def applies_to(self, circular: bool) -> bool:
        """Whether the statistic is defined for angles (``circular``) or positions."""
        return self.circular if circular else self.linear

    def unit_for(self, circular: bool) -> str:
        """The unit with ``{u}`` filled in."""
        return self.unit.replace("{u}", "rad" if circular else "m")

    def values(self, x, circular: bool = False, burn_in: float = 0.0) -> np.ndarray:
        """Per-trial values on ``x (B, T, ·)`` (1-D array), after dropping ``burn_in`` of the steps if it uses one.

        ``x`` may be a :class:`~neurorx.Recording` (of one phase): its ``decoded`` or ``h`` is used.
        """
        if hasattr(x, "decoded"):
            x = x.require("h") if self.of == "h" else x.decoded
        x = np.asarray(x, dtype=np.float64)
        if self.burn_in and burn_in:
            x = x[:, int(x.shape[1] * burn_in):]
        return np.atleast_1d(np.asarray(self.function(x, circular), dtype=np.float64))

    def value(self, x, circular: bool = False, burn_in: float = 0.0) -> float:
        """The statistic: the mean of :meth:`values`."""
        return float(np.mean(self.values(x, circular, burn_in)))


#: Every statistic, ``name -> Statistic``.
STATISTICS: Registry[Statistic] = Registry("statistic")


def register_statistic(stat: Statistic) -> Statistic:
    """Add ``stat`` to :data:`STATISTICS` under its name and return it."""
    return STATISTICS.add(stat.name, stat)


def applicable_statistics(circular: bool, has_h: bool = True) -> list[Statistic]:
    """The registered statistics defined for this kind of data, in registration order."""
    return [s for _, s in STATISTICS.items() if s.applies_to(circular) and (has_h or s.of != "h")]


def _h_pca(h: np.ndarray, circular: bool) -> float:
    """Fraction of hidden-state variance in the first 3 PCs (pooled over trials and steps)."""
    k = min(3, h.shape[-1], h.shape[0] * h.shape[1] - 1)
    return float(explained_variance(h, n_components=k)[-1])


register_statistic(Statistic(
    "stepwise distance", lambda x, circular: stepwise_distance(x, circular=circular), "{u}/step",
    description="mean distance between consecutive decoded points (Fig. C.4)"))
register_statistic(Statistic(
    "total variance", lambda x, circular: total_variance(x, per_trajectory=True, circular=circular), "{u}²",
    burn_in=True, description="variance over time summed over dimensions, after the burn-in (Fig. 2f)"))
register_statistic(Statistic(
    "mean angular velocity", lambda x, circular: angular_velocity(x[..., 0]).mean(axis=1), "rad/step",
    linear=False, description="signed mean step of the decoded bearing (Fig. C.5)"))
register_statistic(Statistic(
    "mean distance from centre", lambda x, circular: np.linalg.norm(x, axis=-1).mean(axis=1), "m",
    circular=False, description="mean distance of the decoded position from the arena's centre"))
register_statistic(Statistic(
    "h variance explained by 3 PCs", _h_pca, "1", of="h",
    description="fraction of hidden-state variance in the first three principal components (Fig. 1c)"))
register_statistic(Statistic(
    "mean abs(h)", lambda h, circular: activity_level(h), "1", of="h",
    description="mean absolute hidden state: activity that collapsed to the noise floor is near 0"))
register_statistic(Statistic(
    "stepwise / shuffled", lambda x, circular: path_noise_ratio(x, circular=circular), "1",
    description="stepwise distance over that of the same points in random order: about 1 for a path that moves "
                "like noise"))
