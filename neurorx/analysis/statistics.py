r"""The statistics registry: every statistic neurorx computes, registered once.

:data:`STATISTICS` is the only statistics registry. :func:`neurorx.compare`'s table, the demo report, the
:class:`~neurorx.hooks.PhaseStatistics` hook, :func:`neurorx.plotting.statistic_boxplot` and sweeps
(:mod:`neurorx.sweep`) all read it, so a statistic registered here appears in each of them with one name,
one unit, one set of parameters and one burn-in convention:

>>> import numpy as np                                                           # doctest: +SKIP
>>> register_statistic(Statistic(                                                # doctest: +SKIP
...     "max excursion", lambda x, circular: np.abs(x).max(axis=(1, 2)), unit="{u}", circular=False))

A statistic has a *scope*, the data it reads:

- ``"phase"``: one phase of one recording. ``function(x, circular, **params)`` gets the decoded outputs
  ``(B, T, d)`` (``of="decoded"``) or the hidden states ``(B, T, N)`` (``of="h"``) and returns one value per
  trial ``(B,)`` (``per_trial=True``; the statistic is their mean) or one value for the whole phase, an array
  over :attr:`Statistic.dims`.
- ``"run"``: several phases of one recording, ``function(rec, phases, **params)`` (e.g. KL(quiescent‖active)).
- ``"conditions"``: the recordings of several trained conditions,
  ``function(recs: dict condition -> Recording, phases, **params)`` (the KL matrix of Fig. 2e).
- ``"training"``: a trained network, ``function(network, **params)`` (its learning curve).

A statistic of a phase or a run that also needs the trained network (its E/I populations, its weights)
declares ``needs_network=True``: its ``function`` then gets the :class:`~neurorx.RateNetwork` as the keyword
``network``, given to :meth:`Statistic.outputs` / :meth:`Statistic.values` (a sweep passes the network of the
run's training). Such statistics are left out of :func:`applicable_statistics`, whose callers hold recordings only.

Statistics of several phases, conditions or of the training return ``dict name -> Output`` (name ``""`` is
the main output); :meth:`Statistic.outputs` gives that form for every scope, which is what a sweep stores.

Notes
-----
**Burn-in.** One convention everywhere: ``burn_in`` is the *fraction* :math:`f \in [0, 1)` of a phase's
steps dropped before a statistic that uses one (``Statistic.burn_in``); of :math:`T` steps the first
:math:`\lfloor fT \rfloor` are dropped (:func:`burn_in_steps`). The paper's total variance drops 1000 of 2000
quiescent steps: :math:`f = 0.5`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from neurorx.errors import ConfigurationError
from neurorx.registry import Registry

from ._validate import check_recording_values
from .circular import angular_velocity
from .health import activity_level, path_noise_ratio
from .pca import explained_variance
from .variance import stepwise_distance, total_variance

__all__ = ["SCOPES", "STATISTICS", "Output", "Statistic", "applicable_statistics", "burn_in_fraction",
           "burn_in_steps", "get_statistic", "register_statistic"]

#: What a statistic reads: one phase, several phases of one recording, several conditions' recordings, a training.
SCOPES = ("phase", "run", "conditions", "training")


@dataclass
class Output:
    """One named output of a statistic: values with labelled dimensions and a unit.

    ``coords`` gives the labels of the statistic's own dimensions (e.g. ``component: [1, 2, ...]``).
    """

    dims: tuple[str, ...]
    values: np.ndarray
    unit: str
    coords: dict = field(default_factory=dict)


def burn_in_steps(steps: int, fraction: float) -> int:
    r"""Steps dropped from a phase of ``steps`` steps by the burn-in ``fraction``: :math:`\lfloor f\,T \rfloor`."""
    return int(steps * fraction)


def burn_in_fraction(dropped: int, steps: int) -> float:
    """The burn-in fraction that drops exactly ``dropped`` of ``steps`` steps (:func:`burn_in_steps` inverts it).

    The float nearest ``dropped / steps`` can fall just short of it (``1/49 * 49 < 1``); the next float up is
    taken then.
    """
    if steps <= 0 or not 0 <= dropped < steps:
        raise ValueError(f"a burn-in of {dropped} steps does not fit a phase of {steps} steps")
    f = dropped / steps
    while burn_in_steps(steps, f) < dropped:
        f = math.nextafter(f, 1.0)
    return f


def _key(name: str) -> str:
    return re.sub(r"\W+", "_", name).strip("_").lower()


@dataclass(frozen=True)
class Statistic:
    """A registered statistic: what it reads, its unit, parameters and burn-in.

    Attributes
    ----------
    name : str
        Name in tables and plots (``"total variance"``); the key of :data:`STATISTICS`.
    function : callable
        Scope ``"phase"``: ``function(x, circular, **params)`` -> per-trial values ``(B,)`` or one value over
        ``dims``; other scopes: see the module docstring (they return ``dict name -> Output``).
    unit : str
        Unit; ``{u}`` stands for the decoded unit (``m`` for positions, ``rad`` for angles).
    circular : bool
        Whether it is defined for angles (head direction).
    linear : bool
        Whether it is defined for positions.
    of : {"decoded", "h"}
        What a phase statistic is computed on.
    burn_in : bool
        Whether it drops a burn-in, the fraction ``burn_in`` of the phase's steps (module notes).
    description : str
        One line for reports and docs.
    scope : {"phase", "run", "conditions", "training"}
        What it reads (:data:`SCOPES`).
    key : str
        Identifier in sweep specs and NetCDF variable names (default: ``name`` in lower case with ``_`` for
        every run of other characters: ``"total_variance"``).
    params : mapping
        Keyword parameters of ``function`` and their defaults (``{"n_components": 10}``).
    per_trial : bool
        A phase statistic's ``function`` returns one value per trial (the statistic is their mean; a sweep
        also keeps them as ``<key>_per_trajectory``).
    dims : tuple of str
        Own dimensions of a whole-phase value (``per_trial=False``), e.g. ``("component",)``.
    phases : tuple of str
        Phases it reads in a sweep when a spec names none.
    version : int
        Bumped when its results change within one neurorx version (part of its sweep jobs' ids).
    needs_network : bool
        ``function`` also takes the trained network as the keyword ``network`` (scopes ``"phase"`` and ``"run"``).
    """

    name: str
    function: Callable
    unit: str = "1"
    circular: bool = True
    linear: bool = True
    of: str = "decoded"
    burn_in: bool = False
    description: str = ""
    scope: str = "phase"
    key: str = ""
    params: Mapping = field(default_factory=dict)
    per_trial: bool = True
    dims: tuple[str, ...] = ()
    phases: tuple[str, ...] = ()
    version: int = 1
    needs_network: bool = False

    def __post_init__(self):
        if self.of not in ("decoded", "h"):
            raise ValueError(f"Statistic {self.name!r}: of must be 'decoded' or 'h'; got {self.of!r}")
        if self.scope not in SCOPES:
            raise ValueError(f"Statistic {self.name!r}: scope must be one of {list(SCOPES)}; got {self.scope!r}")
        if self.needs_network and self.scope not in ("phase", "run"):
            raise ValueError(f"Statistic {self.name!r}: needs_network is for scopes 'phase' and 'run' (a training "
                             f"statistic gets the network itself); got scope {self.scope!r}")
        if not callable(self.function):
            raise TypeError(f"Statistic {self.name!r}: function must be callable, e.g. lambda x, circular: ...")
        if not self.key:
            object.__setattr__(self, "key", _key(self.name))
        if not self.key.isidentifier():
            raise ValueError(f"Statistic {self.name!r}: key {self.key!r} must be an identifier (letters, digits, _)")
        if not self.phases:
            default = {"phase": ("quiescent",), "run": ("active", "quiescent"),
                       "conditions": ("active", "quiescent"), "training": ()}[self.scope]
            object.__setattr__(self, "phases", default)

    @property
    def scalar(self) -> bool:
        """A phase statistic with one number per phase (what :func:`neurorx.compare`'s table shows)."""
        return self.scope == "phase" and (self.per_trial or not self.dims)

    def parameters(self) -> dict:
        """Keyword parameters and their defaults, ``burn_in`` (a fraction, default 0) included when it uses one."""
        return {**({"burn_in": 0.0} if self.burn_in else {}), **dict(self.params)}

    def applies_to(self, circular: bool) -> bool:
        """Whether the statistic is defined for angles (``circular``) or positions."""
        return self.circular if circular else self.linear

    def unit_for(self, circular: bool) -> str:
        """The unit with ``{u}`` filled in."""
        return self.unit.replace("{u}", "rad" if circular else "m")

    def _array(self, x) -> np.ndarray:
        if hasattr(x, "decoded"):
            check_recording_values(x)
            x = x.require("h") if self.of == "h" else x.decoded
        return np.asarray(x, dtype=np.float64)

    def values(self, x, circular: bool = False, burn_in: float = 0.0, **params) -> np.ndarray:
        """A phase statistic's values on ``x (B, T, ·)``, after dropping ``burn_in`` of the steps if it uses one.

        ``x`` may be a :class:`~neurorx.Recording` (of one phase): its ``decoded`` or ``h`` is used. Per-trial
        statistics give a 1-D array of one value per trial; others their value over :attr:`dims`.
        """
        if self.scope != "phase":
            raise ValueError(f"{self.name!r} is a statistic of scope {self.scope!r}; use outputs()")
        x = self._array(x)                          # a recording that diverged is refused first
        self._check_network(params)
        if self.burn_in and burn_in:
            x = x[:, burn_in_steps(x.shape[1], burn_in):]
        kwargs = {**dict(self.params), **params}
        out = np.asarray(self.function(x, circular, **kwargs), dtype=np.float64)
        return np.atleast_1d(out) if self.per_trial else out

    def value(self, x, circular: bool = False, burn_in: float = 0.0, **params) -> float:
        """A scalar phase statistic: the mean of :meth:`values` over trials."""
        return float(np.mean(self.values(x, circular, burn_in, **params)))

    def _check_network(self, params: Mapping) -> None:
        if self.needs_network and params.get("network") is None:
            raise ConfigurationError(f"statistic {self.name!r} reads the trained network; pass network=<RateNetwork> "
                                     "(a sweep passes the network of the run's training)")

    def outputs(self, data, *, circular: bool | None = None, phases=(), **params) -> dict[str, Output]:
        """The statistic as named, labelled outputs with units (what a sweep stores).

        Parameters
        ----------
        data
            Scope ``"phase"``: one phase of a Recording; ``"run"``: a Recording; ``"conditions"``: ``dict
            condition -> Recording``; ``"training"``: a :class:`~neurorx.RateNetwork`.
        circular : bool, optional
            Angles or positions (default: the recording's ``meta["circular"]``).
        phases : sequence of str
            The phases of a ``"run"`` or ``"conditions"`` statistic (default :attr:`phases`).
        **params
            Its parameters (``burn_in`` a fraction of the phase); ``network``, the trained
            :class:`~neurorx.RateNetwork`, for a statistic with :attr:`needs_network`.

        Returns
        -------
        dict of str -> Output
            ``""`` is the main output; a per-trial phase statistic adds ``"per_trajectory"``.
        """
        kwargs = {**self.parameters(), **params}
        if self.scope == "training":
            return self.function(data, **kwargs)
        if self.scope in ("run", "conditions"):
            for name, rec in (data.items() if self.scope == "conditions" else [("the recording", data)]):
                check_recording_values(rec, str(name))     # no statistic of a run that diverged
            self._check_network(kwargs)
            return self.function(data, tuple(phases) or self.phases, **kwargs)
        if circular is None:
            circular = bool(getattr(data, "meta", {}).get("circular", False))
        burn_in = kwargs.pop("burn_in", 0.0)
        vals = self.values(data, circular, burn_in, **kwargs)
        unit = self.unit_for(circular)
        if not self.per_trial:
            return {"": Output(self.dims, vals, unit,
                               {d: list(range(1, n + 1)) for d, n in zip(self.dims, vals.shape, strict=True)})}
        return {"": Output((), np.float64(vals.mean()), unit),
                "per_trajectory": Output(("trajectory",), vals, unit, {"trajectory": list(range(len(vals)))})}


#: Every statistic, ``name -> Statistic``.
STATISTICS: Registry[Statistic] = Registry("statistic")


def register_statistic(stat: Statistic) -> Statistic:
    """Add ``stat`` to :data:`STATISTICS` under its name and return it (its key must be new too)."""
    for other in STATISTICS.names():
        if STATISTICS.get(other).key == stat.key:
            raise ValueError(f"statistic key {stat.key!r} is already registered (by {other!r}); give key=")
    return STATISTICS.add(stat.name, stat)


def get_statistic(name: str) -> Statistic:
    """The registered statistic called ``name`` (its display name, ``"total variance"``, or its key,
    ``"total_variance"``).
    """
    for other in STATISTICS.names():
        if STATISTICS.get(other).key == name:
            return STATISTICS.get(other)
    return STATISTICS.get(name)


def applicable_statistics(circular: bool, has_h: bool = True) -> list[Statistic]:
    """The registered scalar phase statistics defined for this kind of data, in registration order (those that
    read the trained network too, :attr:`Statistic.needs_network`, left out: a recording alone cannot give them).
    """
    return [s for _, s in STATISTICS.items()
            if s.scalar and not s.needs_network and s.applies_to(circular) and (has_h or s.of != "h")]


def _h_pca(h: np.ndarray, circular: bool) -> float:
    """Fraction of hidden-state variance in the first 3 PCs (pooled over trials and steps)."""
    k = min(3, h.shape[-1], h.shape[0] * h.shape[1] - 1)
    return float(explained_variance(h, n_components=k)[-1])


def _explained_variance(h: np.ndarray, circular: bool, *, n_components: int = 10) -> np.ndarray:
    return np.asarray(explained_variance(h, n_components=n_components))


register_statistic(Statistic(
    "stepwise distance", lambda x, circular: stepwise_distance(x, circular=circular), "{u}/step",
    description="mean distance between consecutive decoded points (Fig. C.4)"))
register_statistic(Statistic(
    "total variance", lambda x, circular: total_variance(x, per_trajectory=True, circular=circular), "{u}^2",
    burn_in=True, description="variance over time summed over dimensions, after the burn-in (Fig. 2f)"))
register_statistic(Statistic(
    "mean angular velocity", lambda x, circular: angular_velocity(x[..., 0]).mean(axis=1), "rad/step",
    linear=False, description="signed mean step of the decoded bearing (Fig. C.5)"))
register_statistic(Statistic(
    "mean distance from centre", lambda x, circular: np.linalg.norm(x, axis=-1).mean(axis=1), "m",
    circular=False, description="mean distance of the decoded position from the arena's centre"))
register_statistic(Statistic(
    "h variance explained by 3 PCs", _h_pca, "1", of="h", per_trial=False, phases=("active", "quiescent"),
    description="fraction of hidden-state variance in the first three principal components (Fig. 1c)"))
register_statistic(Statistic(
    "explained variance", _explained_variance, "1", of="h", per_trial=False, dims=("component",),
    params={"n_components": 10}, phases=("active", "quiescent"),
    description="cumulative explained-variance ratio of the hidden states' leading principal components (Fig. 1c)"))
register_statistic(Statistic(
    "mean abs(h)", lambda h, circular: activity_level(h), "1", of="h",
    description="mean absolute hidden state: activity that collapsed to the noise floor is near 0"))
register_statistic(Statistic(
    "stepwise / shuffled", lambda x, circular: path_noise_ratio(x, circular=circular), "1",
    description="stepwise distance over that of the same points in random order: about 1 for a path that moves "
                "like noise"))
