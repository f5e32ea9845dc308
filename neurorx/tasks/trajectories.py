r"""Tasks from measured trajectories: a lab's tracking, or RatInABox's real rat paths, as the training data.

:class:`MeasuredSpatial` is built from ``(times, positions)`` and :class:`MeasuredHeadDirection` from
``(times, angles)``. Each checks its samples, resamples them to the network's step ``dt``, and samples windows
of ``steps + 1`` consecutive samples as trials: the inputs are the self-motion steps (displacements in metres,
or turns in radians), the states the measured path after each step, the targets its place or head-direction
code, exactly as in :class:`~neurorx.tasks.SpatialNavigation` and :class:`~neurorx.tasks.HeadDirection`.

``source="ratinabox:sargolini"`` loads the Sargolini et al. (2006) trajectory that ships with the ``ratinabox``
package (``pip install 'neurorx[data]'``): 600 s at 50 Hz in a 1 m x 1 m box. ``part`` picks the first
``train_fraction`` of the recording (``"train"``) or the rest (``"test"``, held out).
"""

from __future__ import annotations

import itertools

import numpy as np

from neurorx.errors import ConfigurationError
from neurorx.tasks._checks import check_choice, check_float, check_int, check_seconds, make_rng
from neurorx.tasks.base import TASKS, CellCodedTask, TaskBatch
from neurorx.tasks.cells import HeadDirectionCells, PlaceCells
from neurorx.tasks.head_direction import HeadDirection, wrap_angle
from neurorx.tasks.spatial import SpatialNavigation
from neurorx.tasks.streams import TrajectoryStream

__all__ = ["SOURCES", "MeasuredHeadDirection", "MeasuredSpatial", "held_out_network", "load_source"]

#: Trajectories a task can name by ``source``: name -> (package, file in its data folder, arena in metres).
SOURCES = {"ratinabox:sargolini": ("ratinabox", "sargolini.npz", (0.0, 1.0, 0.0, 1.0)),
           "ratinabox:tanni": ("ratinabox", "tanni.npz", None)}
PARTS = ("train", "test", "all")
GAPS = ("error", "split")


def load_source(source: str) -> tuple[np.ndarray, np.ndarray, tuple | None]:
    """``(times, positions, arena)`` of a named trajectory of :data:`SOURCES` (never unpickles)."""
    from importlib.resources import files

    from neurorx.io.extras import require

    check_choice(source, SOURCES, "trajectory source")
    package, name, arena = SOURCES[source]
    require(package, f"the trajectory {source!r}")
    with np.load(files(package) / "data" / name, allow_pickle=False) as data:
        return np.asarray(data["t"], dtype=np.float64), np.asarray(data["pos"], dtype=np.float64), arena


def held_out_network(net):
    """``net`` with its measured task replaced by the task's held-out part (same cells), to test it there.

    >>> rec = nrx.Protocol([nrx.Active(steps=100)]).run(held_out_network(net), trials=200, seed=0)  # doctest: +SKIP
    """
    task = getattr(net, "task", None)
    if not hasattr(task, "held_out"):
        raise ConfigurationError(f"the network was trained on {type(task).__name__}, not on a measured trajectory "
                                 f"with a held-out part (MeasuredSpatial)")
    params, arrays = task.held_out().to_card()
    return net.with_changes(task_card={"name": params.pop("name"), "params": params}, task_arrays=arrays)


def _check_times(times, n_values: int, max_gap: float, gaps: str, what: str) -> list[tuple[int, int]]:
    """Validate sample times; return the continuous stretches ``[start, stop)`` (split at gaps)."""
    times = np.asarray(times, dtype=np.float64)
    if times.ndim != 1 or len(times) != n_values:
        raise ConfigurationError(f"times must be a 1-D array with one entry per {what} sample ({n_values}); "
                                 f"got shape {times.shape}")
    if len(times) < 2:
        raise ConfigurationError(f"a measured trajectory needs at least 2 samples; got {len(times)}")
    bad = np.nonzero(~np.isfinite(times))[0]
    if bad.size:
        raise ConfigurationError(f"times contains NaN or infinite values ({bad.size}, first at sample {bad[0]}); "
                                 f"drop those samples")
    d = np.diff(times)
    if np.any(d == 0):
        i = int(np.nonzero(d == 0)[0][0])
        raise ConfigurationError(f"times repeats {times[i]:g} s at samples {i} and {i + 1}: sample times must be "
                                 f"strictly increasing; drop the duplicated samples")
    if np.any(d < 0):
        i = int(np.nonzero(d < 0)[0][0])
        raise ConfigurationError(f"times decreases at sample {i + 1} ({times[i]:g} s -> {times[i + 1]:g} s): "
                                 f"sample times must be strictly increasing; sort the samples by time")
    cuts = np.nonzero(d > max_gap)[0]
    if cuts.size and gaps == "error":
        raise ConfigurationError(f"the trajectory has {cuts.size} gap(s) longer than max_gap={max_gap:g} s (the "
                                 f"first {d[cuts[0]]:g} s at t = {times[cuts[0]]:g} s); pass gaps='split' to use "
                                 f"the continuous stretches between them, or a larger max_gap to interpolate over")
    bounds = np.concatenate([[0], cuts + 1, [len(times)]])
    return [(int(a), int(b)) for a, b in itertools.pairwise(bounds)]


def _resample(times, values, stretches, dt, circular) -> list[np.ndarray]:
    """Each stretch linearly interpolated at ``t0, t0 + dt, ...`` (angles unwrapped first, wrapped after)."""
    out = []
    for a, b in stretches:
        t, v = times[a:b], values[a:b]
        if circular:
            v = np.unwrap(v, axis=0)
        grid = t[0] + dt * np.arange(int(np.floor((t[-1] - t[0]) / dt + 1e-9)) + 1)
        res = np.stack([np.interp(grid, t, v[:, j]) for j in range(v.shape[1])], axis=-1)
        out.append(wrap_angle(res) if circular else res)
    return out


class _Measured(CellCodedTask):
    """Shared machinery: checked samples, resampled stretches, the train/test split, windows as trials."""

    array_params = ("times", "values", "centres")

    def _setup(self, times, values, source, part, train_fraction, dt, max_gap, gaps):
        self.source = source
        if source is not None:
            if times is not None or values is not None:
                raise ConfigurationError("give either source= or the measured arrays, not both")
            times, values, self._source_arena = load_source(source)
        elif times is None or values is None:
            raise ConfigurationError(f"a measured task needs its samples: times= and {self._values_name}= arrays "
                                     f"(or source=, one of {sorted(SOURCES)})")
        else:
            self._source_arena = None
        self.part = check_choice(part, PARTS, "part")
        self.train_fraction = check_float(train_fraction, "train_fraction", positive=True, maximum=1.0)
        self.dt = check_seconds(dt, "dt")
        self.max_gap = check_float(max_gap, "max_gap", positive=True)
        self.gaps = check_choice(gaps, GAPS, "gaps")
        values = np.asarray(values, dtype=np.float64)
        values = values.reshape(len(values), -1) if values.ndim <= 2 else values
        if values.ndim != 2 or values.shape[1] != self.state_dim:
            raise ConfigurationError(f"{self._values_name} must have shape (n_samples, {self.state_dim})"
                                     f"{' or (n_samples,)' if self.state_dim == 1 else ''}; got {values.shape}")
        bad = np.nonzero(~np.all(np.isfinite(values), axis=1))[0]
        if bad.size:
            raise ConfigurationError(f"{self._values_name} contains NaN or infinite values ({bad.size} samples, "
                                     f"the first at t = {np.asarray(times, dtype=float)[bad[0]]:g} s); drop or "
                                     f"interpolate those samples first")
        self._times, self._values = np.asarray(times, dtype=np.float64), values
        return _check_times(times, len(values), self.max_gap, self.gaps, self._values_name)

    def _split(self, stretches, times) -> None:
        """Resample and keep the ``part`` of the recording (by time)."""
        cut = times[0] + self.train_fraction * (times[-1] - times[0])
        pieces = []
        for res, (a, _) in zip(_resample(times, self._states_of(self._values), stretches, self.dt, self.circular),
                               stretches, strict=True):
            t = times[a] + self.dt * np.arange(len(res))
            keep = {"train": t < cut, "test": t >= cut, "all": np.ones(len(t), dtype=bool)}[self.part]
            if keep.sum() >= 2:
                pieces.append(res[keep])
        if not pieces:
            raise ConfigurationError(f"the {self.part!r} part of the trajectory holds no two samples; change "
                                     f"train_fraction ({self.train_fraction})")
        self.stretches = pieces

    def _states_of(self, values):
        return values

    @property
    def samples(self) -> np.ndarray:
        """The resampled states of the task's part, stretches one after another, ``(n, d)``."""
        return np.concatenate(self.stretches)

    def sample(self, batch: int, steps: int, seed, init_state=None) -> TaskBatch:
        """Windows of ``steps + 1`` consecutive resampled samples, uniformly over the part's stretches.

        With ``init_state``, each trial takes the window whose first sample is nearest to it (the measured
        path cannot start anywhere).
        """
        stream = self.stream(batch, steps, seed, init_state)
        steps_in, states = stream.take(steps)
        return TaskBatch(inputs=steps_in, states=states, targets=self.encode(states), init_state=stream.init_state,
                         init_code=self.encode(stream.init_state))

    def stream(self, batch: int, steps: int, seed, init_state=None) -> TrajectoryStream:
        """The windows of :meth:`sample` (same arguments), cut a chunk of steps at a time."""
        batch, steps, init_state = self._check_sample_args(batch, steps, init_state)
        starts = [(k, i) for k, s in enumerate(self.stretches) for i in range(len(s) - steps)]
        if not starts:
            longest = max(len(s) for s in self.stretches)
            raise ConfigurationError(f"no continuous stretch of the measured trajectory holds {steps + 1} samples "
                                     f"(the longest holds {longest}); use at most {longest - 1} steps")
        rng = make_rng(seed)
        if init_state is None:
            pick = rng.integers(0, len(starts), batch)
        else:
            first = np.array([self.stretches[k][i] for k, i in starts])
            pick = np.array([int(np.argmin(np.abs(self.error(first, s[None, :])))) for s in init_state])
        return _Windows(self, [starts[j] for j in pick], steps)

    def arrays(self) -> dict[str, np.ndarray]:
        """The measured samples (when not named by ``source``) and the cell centres."""
        out = {} if self.source is not None else {"times": self._times, "values": self._values}
        return {**out, **self._cell_arrays()}

    def _cell_arrays(self) -> dict:
        return {}

    @classmethod
    def _from_card(cls, params, arrays):
        cls._check_card_arrays(arrays, cls.array_params)
        kwargs = {cls._values_name: arrays.get("values"), "times": arrays.get("times")}
        if "centres" in arrays:
            kwargs["centres"] = arrays["centres"]
        return cls(**params, **{k: v for k, v in kwargs.items() if v is not None})


class _Windows(TrajectoryStream):
    """Windows ``(stretch, first sample)`` of a measured task, ``steps + 1`` samples each, cut in chunks."""

    def __init__(self, task: _Measured, windows: list[tuple[int, int]], steps: int):
        self._task, self._windows = task, windows
        super().__init__(len(windows), steps, np.stack([task.stretches[k][i] for k, i in windows]))

    def _take(self, n):
        a = self.done
        cut = np.stack([self._task.stretches[k][i + a:i + a + n + 1] for k, i in self._windows])
        steps_in = np.diff(cut, axis=1)
        return (wrap_angle(steps_in) if self._task.circular else steps_in), cut[:, 1:].copy()


@TASKS.register("measured_spatial")
class MeasuredSpatial(_Measured):
    r"""Spatial path integration on a measured 2-D trajectory, read out by place cells.

    Parameters
    ----------
    times : array (n,), optional
        Sample times in seconds, strictly increasing.
    positions : array (n, 2), optional
        Positions in metres.
    source : str, optional
        A named trajectory of :data:`SOURCES` instead of the arrays (e.g. ``"ratinabox:sargolini"``).
    arena : (xmin, xmax, ymin, ymax), optional
        The walls in metres (default: the source's box, else the samples' bounding box). Every sample must lie
        inside; states are positions relative to the arena's centre, as in
        :class:`~neurorx.tasks.SpatialNavigation`'s box.
    part : {"train", "test", "all"}
        The first ``train_fraction`` of the recording, the rest (held out), or all of it.
    train_fraction : float
        0.8: the final fifth is the test part.
    dt : float or brian2 Quantity
        Resampling step (the network's step); a bare number is in seconds.
    max_gap : float
        Longest interval between samples (s) that is interpolated over.
    gaps : {"error", "split"}
        A longer gap is an error, or splits the trajectory into stretches that windows never cross.
    n_cells, sigma, code, top_k, seed, centres
        Place cells as :class:`~neurorx.tasks.SpatialNavigation` (centres uniform in the arena).

    Notes
    -----
    Each stretch between gaps is linearly interpolated at :math:`t_0 + k\,\Delta t`; a trial is a window
    :math:`p_{i..i+T}`, with ``init_state`` :math:`p_i`, inputs :math:`x_k = p_{i+k} - p_{i+k-1}` and states
    :math:`p_{i+k}`, :math:`k = 1..T`, so that :math:`s_k = s_0 + \sum_{j \le k} x_j`.
    """

    name = "measured_spatial"
    n_in = 2
    state_dim = 2
    circular = False
    _values_name = "positions"

    def __init__(self, *, times=None, positions=None, source: str | None = None, arena=None, part: str = "train",
                 train_fraction: float = 0.8, dt: float = 0.02, max_gap: float = 0.1, gaps: str = "error",
                 n_cells: int = 512, sigma: float = 0.2, code: str = "softmax", top_k: int = 3, seed: int = 0,
                 centres=None):
        stretches = self._setup(times, positions, source, part, train_fraction, dt, max_gap, gaps)
        pos = self._values
        arena = arena if arena is not None else self._source_arena
        if arena is None:
            arena = (pos[:, 0].min(), pos[:, 0].max(), pos[:, 1].min(), pos[:, 1].max())
        arena = tuple(float(a) for a in arena)
        if len(arena) != 4 or not (arena[0] < arena[1] and arena[2] < arena[3]):
            raise ConfigurationError(f"arena must be (xmin, xmax, ymin, ymax) in metres with xmin < xmax and "
                                     f"ymin < ymax; got {arena}")
        self.arena = arena
        outside = ((pos[:, 0] < arena[0]) | (pos[:, 0] > arena[1]) | (pos[:, 1] < arena[2]) | (pos[:, 1] > arena[3]))
        if outside.any():
            i = int(np.nonzero(outside)[0][0])
            raise ConfigurationError(f"{int(outside.sum())} positions lie outside the arena {arena} m (the first "
                                     f"{tuple(np.round(pos[i], 4))} at t = {self._times[i]:g} s); give the arena's "
                                     f"walls (arena=) in the positions' units, metres")
        self.box_width, self.box_height = arena[1] - arena[0], arena[3] - arena[2]
        self.centre = ((arena[0] + arena[1]) / 2, (arena[2] + arena[3]) / 2)
        self.seed = check_int(seed, "seed", minimum=0) if seed else 0
        n_cells = check_int(n_cells, "n_cells")
        if centres is None:
            rng = np.random.default_rng(self.seed)
            centres = np.stack([rng.uniform(-self.box_width / 2, self.box_width / 2, n_cells),
                                rng.uniform(-self.box_height / 2, self.box_height / 2, n_cells)], axis=-1)
        self.cells = PlaceCells(np.asarray(centres, dtype=np.float64), sigma=sigma, code=code)
        self.top_k = check_int(top_k, "top_k")
        self._split(stretches, self._times)

    def _states_of(self, values):
        return values - np.asarray(self.centre)

    def _cell_arrays(self) -> dict:
        return {"centres": self.cells.centres}

    def params(self) -> dict:
        """Constructor arguments (the measured arrays travel in :meth:`arrays`)."""
        return {"source": self.source, "arena": list(self.arena), "part": self.part,
                "train_fraction": self.train_fraction, "dt": self.dt, "max_gap": self.max_gap, "gaps": self.gaps,
                "n_cells": self.n_cells, "sigma": self.sigma, "code": self.code, "top_k": self.top_k,
                "seed": self.seed}

    def occupancy(self, bins: int = 20) -> np.ndarray:
        """Fraction of the part's samples in each of ``bins x bins`` cells of the arena (rows: x)."""
        s = self.samples
        hist, _, _ = np.histogram2d(s[:, 0], s[:, 1], bins=bins, range=[
            [-self.box_width / 2, self.box_width / 2], [-self.box_height / 2, self.box_height / 2]])
        return hist / hist.sum()

    @property
    def centres(self) -> np.ndarray:
        """Place-cell centres, shape (n_cells, 2), in metres from the arena's centre (read-only)."""
        return self.cells.centres

    def held_out(self) -> MeasuredSpatial:
        """The same task on the held-out part (``part="test"``), with the same place cells."""
        params = {k: v for k, v in self.params().items() if k != "part"}
        arrays = {} if self.source is not None else {"times": self._times, "positions": self._values}
        return MeasuredSpatial(**params, **arrays, part="test", centres=self.cells.centres)

    error = SpatialNavigation.error
    chance_error = SpatialNavigation.chance_error


@TASKS.register("measured_head_direction")
class MeasuredHeadDirection(_Measured):
    r"""Head-direction integration on a measured bearing, read out by head-direction cells.

    Parameters
    ----------
    times : array (n,)
        Sample times in seconds, strictly increasing.
    angles : array (n,)
        Bearings in radians (any branch; wrapped to :math:`[-\pi, \pi)`).
    part, train_fraction, dt, max_gap, gaps
        As :class:`MeasuredSpatial`.
    n_cells, sigma, code, top_k, seed
        Head-direction cells as :class:`~neurorx.tasks.HeadDirection`.

    Notes
    -----
    Bearings are unwrapped, linearly interpolated at :math:`t_0 + k\,\Delta t` and wrapped again; inputs are
    the wrapped turns :math:`\mathrm{wrap}(\theta_{i+k} - \theta_{i+k-1})`.
    """

    name = "measured_head_direction"
    n_in = 1
    state_dim = 1
    circular = True
    _values_name = "angles"
    array_params = ("times", "values")

    def __init__(self, *, times=None, angles=None, source: str | None = None, part: str = "train",
                 train_fraction: float = 0.8, dt: float = 0.02, max_gap: float = 0.1, gaps: str = "error",
                 n_cells: int = 512, sigma: float = np.pi / 6, code: str = "von_mises", top_k: int = 3, seed: int = 0):
        if source is not None:
            raise ConfigurationError(f"no named head-direction trajectory ships yet; pass times= and angles= "
                                     f"(source {source!r})")
        stretches = self._setup(times, angles, None, part, train_fraction, dt, max_gap, gaps)
        self._values = wrap_angle(self._values)
        self.seed = check_int(seed, "seed", minimum=0) if seed else 0
        self.cells = HeadDirectionCells(n_cells=check_int(n_cells, "n_cells"), sigma=sigma, code=code)
        self.top_k = check_int(top_k, "top_k")
        self._split(stretches, self._times)

    def params(self) -> dict:
        """Constructor arguments (the measured arrays travel in :meth:`arrays`)."""
        return {"part": self.part, "train_fraction": self.train_fraction, "dt": self.dt, "max_gap": self.max_gap,
                "gaps": self.gaps, "n_cells": self.n_cells, "sigma": self.sigma, "code": self.code,
                "top_k": self.top_k, "seed": self.seed}

    error = HeadDirection.error
    chance_error = HeadDirection.chance_error
