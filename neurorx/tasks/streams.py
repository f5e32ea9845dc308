r"""Trajectory streams: a task's inputs and true states read a chunk of steps at a time, without targets.

A protocol runs a phase of any length, so it cannot hold a whole task batch (``targets`` alone are
``B x T x n_cells`` numbers). :meth:`Task.stream <neurorx.tasks.Task.stream>` returns a
:class:`TrajectoryStream` instead: its :meth:`~TrajectoryStream.take` hands out the next ``n`` steps of inputs
and true states, and its numbers are exactly those of ``task.sample`` with the same arguments.

>>> stream = task.stream(batch=500, steps=100_000, seed=0)                  # doctest: +SKIP
>>> x, s = stream.take(1000)        # steps 0..999: (500, 1000, n_in), (500, 1000, d)

The built-in tasks draw their random numbers row by row (one trial after another, see their ``Notes``).
:class:`RowDraws` reproduces such a row-major block of draws chunk by chunk: it walks the generator once
through the block, keeps the generator's state at the start of every row, and then draws each row's next
values from its own copy.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

import numpy as np

__all__ = ["BatchStream", "RowDraws", "TrajectoryStream"]

#: Values drawn at once while walking a generator through a row (bounds the walk's temporaries).
_WALK_BLOCK = 1 << 16


class TrajectoryStream(ABC):
    """The inputs and true states of ``batch`` trajectories of ``steps`` steps, read in order.

    Attributes
    ----------
    batch, steps : int
        Number of trajectories B and of steps T.
    init_state : numpy.ndarray, shape (B, d)
        State before the first input.
    done : int
        Steps handed out so far.
    """

    def __init__(self, batch: int, steps: int, init_state: np.ndarray):
        self.batch, self.steps, self.init_state, self.done = batch, steps, init_state, 0

    def take(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The next ``n`` steps: inputs ``(B, n, n_in)`` and true states ``(B, n, d)`` (float64)."""
        if not 1 <= n <= self.steps - self.done:
            raise ValueError(f"a trajectory stream of {self.steps} steps has {self.steps - self.done} left; "
                             f"cannot take {n}")
        out = self._take(n)
        self.done += n
        return out

    @abstractmethod
    def _take(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Steps ``done .. done + n - 1``."""


class BatchStream(TrajectoryStream):
    """Slices of a sampled :class:`~neurorx.tasks.TaskBatch` (for tasks that only implement ``sample``)."""

    def __init__(self, batch):
        super().__init__(batch.batch_size, batch.steps, batch.init_state)
        self._batch = batch

    def _take(self, n):
        window = slice(self.done, self.done + n)
        return self._batch.inputs[:, window], self._batch.states[:, window]


class RowDraws:
    """A row-major ``(rows, length)`` block of draws from ``rng``, handed out a few columns at a time.

    Parameters
    ----------
    rng : numpy.random.Generator
        Advanced past the whole block, as drawing ``draw(rng, (rows, length))`` would leave it.
    rows, length : int
    draw : callable ``(generator, size) -> ndarray``
        The distribution, e.g. ``lambda g, size: g.normal(0.0, 1.0, size)``.

    Notes
    -----
    numpy's generators fill an array element by element from one stream, so the block equals its rows drawn
    one after another, and each row equals its pieces drawn one after another. Walking the generator through
    the block once (``rows x length`` draws, ``length`` at most :data:`_WALK_BLOCK` at a time) gives every
    row's start state; :meth:`take` then draws the next columns of every row from that row's copy. Memory:
    one generator per row, plus the columns asked for.
    """

    def __init__(self, rng: np.random.Generator, rows: int, length: int, draw: Callable):
        self._draw, self._gens = draw, []
        for _ in range(rows):
            self._gens.append(_copy(rng))
            for start in range(0, length, _WALK_BLOCK):
                draw(rng, min(_WALK_BLOCK, length - start))

    def take(self, n: int) -> np.ndarray:
        """The next ``n`` columns, ``(rows, n)``."""
        out = np.empty((len(self._gens), n))
        for i, gen in enumerate(self._gens):
            out[i] = self._draw(gen, n)
        return out


def _copy(rng: np.random.Generator) -> np.random.Generator:
    """An independent generator in ``rng``'s current state."""
    bits = type(rng.bit_generator)()
    bits.state = rng.bit_generator.state
    return np.random.Generator(bits)
