"""The task interface: :class:`Task` (abstract base), :class:`TaskBatch` (one sampled batch) and ``TASKS``.

A task generates trajectories of a latent state (a position or an angle), the change-based inputs a
network integrates, and the cell-code targets it must output; it also converts between states and cell
codes. Tasks serialise to a *card* (JSON-able parameters plus numpy arrays, e.g. place-cell centres), so a
saved network decodes exactly as it was trained.
"""

from __future__ import annotations

import inspect
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from neurorx.registry import Registry
from neurorx.tasks._checks import check_int, make_rng

__all__ = ["TASKS", "Task", "TaskBatch"]

#: Registry of task classes by name: ``"spatial_navigation"``, ``"head_direction"``.
TASKS: Registry[type[Task]] = Registry("task")


@dataclass(frozen=True, eq=False)
class TaskBatch:
    """One batch of trajectories (numpy float64 arrays; B trials, T steps).

    Attributes
    ----------
    inputs : numpy.ndarray, shape (B, T, n_in)
        Change-based input at each step (displacement in metres, or turn in radians).
    states : numpy.ndarray, shape (B, T, d)
        True state *after* each input step (position in metres, or angle in radians in [-pi, pi)).
    targets : numpy.ndarray, shape (B, T, n_cells)
        Cell code of ``states``: ``targets == task.encode(states)``.
    init_state : numpy.ndarray, shape (B, d)
        State before the first input.
    init_code : numpy.ndarray, shape (B, n_cells)
        Cell code of ``init_state`` (the network's initial-state input).
    """

    inputs: np.ndarray
    states: np.ndarray
    targets: np.ndarray
    init_state: np.ndarray
    init_code: np.ndarray

    def __post_init__(self):
        b, t = self.inputs.shape[:2]
        d = self.states.shape[-1]
        expected = {
            "inputs": (b, t, self.inputs.shape[-1]),
            "states": (b, t, d),
            "targets": (b, t, self.targets.shape[-1]),
            "init_state": (b, d),
            "init_code": (b, self.targets.shape[-1]),
        }
        for field, shape in expected.items():
            if getattr(self, field).shape != shape:
                got = getattr(self, field).shape
                raise ValueError(f"TaskBatch.{field} has shape {got}, expected {shape}")

    @property
    def batch_size(self) -> int:
        """Number of trajectories B."""
        return self.inputs.shape[0]

    @property
    def steps(self) -> int:
        """Number of input steps T."""
        return self.inputs.shape[1]

    def to_torch(self, dtype=None, device=None) -> dict[str, Any]:
        """The five arrays as torch tensors (default dtype ``torch.float32``), keyed by field name."""
        import torch

        dtype = torch.float32 if dtype is None else dtype
        return {
            name: torch.as_tensor(getattr(self, name), dtype=dtype, device=device)
            for name in ("inputs", "states", "targets", "init_state", "init_code")
        }


class Task(ABC):
    """Abstract base class of path-integration tasks.

    Subclasses set the class attributes and implement :meth:`sample`, :meth:`error`, :meth:`chance_error`,
    :meth:`params` (and :meth:`arrays` if they hold arrays). Encoding and decoding are delegated to the
    task's cell population ``self.cells``.

    Attributes
    ----------
    name : str
        Registry name (class attribute).
    n_in : int
        Input dimension per step.
    state_dim : int
        Dimension d of the latent state (2 for positions, 1 for angles).
    circular : bool
        Whether the state is an angle (wrapped to [-pi, pi)).
    n_cells : int
        Number of output cells.
    dt : float
        Time step in seconds.
    seed : int
        Seed of the task's fixed random parts (e.g. place-cell centres).
    top_k : int
        Default number of most active cells used by :meth:`decode`.
    """

    name: ClassVar[str]
    n_in: ClassVar[int]
    state_dim: ClassVar[int]
    circular: ClassVar[bool]

    cells: Any
    dt: float
    seed: int
    top_k: int

    @property
    def n_cells(self) -> int:
        """Number of output cells."""
        return self.cells.n_cells

    # -- sampling ------------------------------------------------------------------------------------------

    @abstractmethod
    def sample(self, batch: int, steps: int, seed, init_state=None) -> TaskBatch:
        """Draw ``batch`` trajectories of ``steps`` input steps.

        Parameters
        ----------
        batch : int
            Number of trajectories B (positive).
        steps : int
            Number of input steps T (positive).
        seed : int or numpy.random.Generator or None
            Seed of this batch's randomness (independent of the task's own ``seed``).
        init_state : array_like, shape (B, d), optional
            Fixes the initial states; everything else stays random.

        Returns
        -------
        TaskBatch
        """

    def stream(self, batch: int, steps: int, seed, init_state=None):
        """The inputs and true states of :meth:`sample` with the same arguments, read a chunk at a time.

        Returns a :class:`~neurorx.tasks.streams.TrajectoryStream`; its ``take(n)`` gives the next ``n`` steps
        without the cell-code targets. The arguments are checked here and the stream is made by
        :meth:`_stream`, whose default samples the whole batch; the built-in tasks generate the steps as they
        are taken, so memory is that of the steps asked for at once, whatever ``steps`` is (see
        :class:`~neurorx.tasks.streams.RowDraws`).
        """
        batch, steps, init_state = self._check_sample_args(batch, steps, init_state)
        return self._stream(batch, steps, make_rng(seed), init_state)

    def _stream(self, batch: int, steps: int, rng: np.random.Generator, init_state):
        """The stream of :meth:`stream` from checked arguments and the batch's generator ``rng``."""
        from neurorx.tasks.streams import BatchStream

        return BatchStream(self.sample(batch, steps, rng, init_state=init_state))

    def encoded_batch(self, inputs: np.ndarray, states: np.ndarray, init_state: np.ndarray) -> TaskBatch:
        """The :class:`TaskBatch` of ``inputs`` (B, T, n_in), true ``states`` (B, T, d) and ``init_state`` (B, d),
        with their cell codes as ``targets`` and ``init_code``.
        """
        return TaskBatch(inputs=inputs, states=states, targets=self.encode(states), init_state=init_state,
                         init_code=self.encode(init_state))

    def _check_sample_args(self, batch, steps, init_state):
        batch = check_int(batch, "batch")
        steps = check_int(steps, "steps")
        if init_state is not None:
            if hasattr(init_state, "detach"):
                init_state = init_state.detach().cpu().numpy()
            try:
                init_state = np.array(init_state, dtype=np.float64)
            except (TypeError, ValueError) as err:
                raise TypeError(f"init_state must be an array of numbers: {err}") from None
            if init_state.shape != (batch, self.state_dim):
                raise ValueError(
                    f"init_state must have shape (batch, {self.state_dim}) = ({batch}, {self.state_dim}), "
                    f"got shape {init_state.shape}"
                )
            if not np.all(np.isfinite(init_state)):
                raise ValueError("init_state contains non-finite values (nan or inf)")
        return batch, steps, init_state

    # -- codes ---------------------------------------------------------------------------------------------

    def encode(self, states):
        """Cell code of states: (..., d) -> (..., n_cells); numpy or torch in, same type out."""
        return self.cells.encode(states)

    def decode(self, outputs, k: int | None = None):
        """States from cell activations by top-k decoding: (..., n_cells) -> (..., d).

        ``k`` defaults to the task's ``top_k`` (3, as in the reference code).
        """
        return self.cells.decode(outputs, self.top_k if k is None else k)

    # -- metrics -------------------------------------------------------------------------------------------

    @abstractmethod
    def error(self, decoded, states):
        """Per-sample decoding error between ``decoded`` and true ``states`` (both (..., d)) -> (...)."""

    @abstractmethod
    def chance_error(self, metric: str = "distance") -> float:
        """Expected error of a uniformly random guess (``metric="distance"``, or ``"mse"``)."""

    # -- cards ---------------------------------------------------------------------------------------------

    #: Constructor arguments that travel in :meth:`arrays`, not in :meth:`params`.
    array_params: tuple[str, ...] = ()

    def params(self) -> dict[str, Any]:
        """Constructor keyword arguments (read back from the attributes of the same name), JSON-able."""
        names = [n for n in inspect.signature(type(self).__init__).parameters if n != "self"]
        return {n: _jsonable(getattr(self, n)) for n in names if n not in self.array_params}

    def arrays(self) -> dict[str, np.ndarray]:
        """Arrays that belong to the task (e.g. place-cell centres)."""
        return {}

    def to_card(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """``(params, arrays)``: JSON-able parameters (with the task ``"name"``) and numpy arrays.

        ``Task.from_card(*task.to_card())`` rebuilds an identical task.
        """
        params = {"name": self.name, **self.params()}
        json.dumps(params)  # fail here, not at save time, if something is not JSON-able
        return params, {key: np.array(val, copy=True) for key, val in self.arrays().items()}

    @classmethod
    def from_card(cls, params: dict[str, Any], arrays: dict[str, np.ndarray] | None = None) -> Task:
        """Rebuild a task from :meth:`to_card` output.

        Called on :class:`Task` itself, the class is looked up in ``TASKS`` from ``params["name"]``.
        """
        params = dict(params)
        name = params.pop("name", None)
        if isinstance(params.get("dt"), int | float) and not isinstance(params["dt"], bool):
            from brian2 import second  # a card's dt is in seconds: give it its unit (no bare-number guard)

            params["dt"] = params["dt"] * second
        if cls is Task or getattr(cls, "name", None) is None:
            if name is None:
                raise ValueError("the task card has no 'name'; cannot tell which task to build")
            target = TASKS.get(name)
        else:
            if name is not None and name != cls.name:
                raise ValueError(f"card is for task {name!r}, not {cls.name!r}")
            target = cls
        return target._from_card(params, dict(arrays or {}))

    @classmethod
    def _from_card(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> Task:
        cls._check_card_arrays(arrays)
        return cls(**params)

    @classmethod
    def _check_card_arrays(cls, arrays: dict[str, np.ndarray], known=()) -> None:
        """Refuse a card that holds arrays other than the ``known`` names."""
        extra = set(arrays) - set(known)
        if extra:
            raise ValueError(f"unexpected arrays in a {cls.name!r} card: {sorted(extra)}")

    def __eq__(self, other) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        (p1, a1), (p2, a2) = self.to_card(), other.to_card()
        return p1 == p2 and a1.keys() == a2.keys() and all(np.array_equal(a1[k], a2[k]) for k in a1)

    __hash__ = None  # compared by value (including arrays): not hashable

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


def _jsonable(value):
    """Tuples as lists and numpy scalars as Python numbers, so that ``params`` is plain JSON."""
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value.item() if isinstance(value, np.generic) else value


class CellCodedTask(Task):
    """A task whose targets are a population code ``self.cells`` (place or head-direction cells)."""

    cells: Any

    @property
    def sigma(self) -> float:
        """Width of the cells' tuning (metres for place cells, radians for head-direction cells)."""
        return self.cells.sigma

    @property
    def code(self) -> str:
        """Name of the population code."""
        return self.cells.code
