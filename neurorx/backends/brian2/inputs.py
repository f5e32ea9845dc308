"""Feeding a Brian2 run its inputs a window of training steps at a time.

The equations read the inputs from the 2-D ``TimedArray`` ``x_in`` at ``t - x_in_t0``
(:func:`windowed_equations`): the array holds a window of ``rows`` training steps, and :class:`InputWindow`
refills it in place and moves the shared offset ``x_in_t0`` to the window's start before the run reaches the
steps it holds. So a run holds ``rows x B x n_in`` input values whatever its length, and the generated code
(whose ``TimedArray`` size is part of it) is the same for every protocol length.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch

from neurorx.backends.base import Segment, check_positive_int, derive_seed
from neurorx.backends.brian2_equations import INPUT_ARRAY
from neurorx.noise import NoiseModel, NoiseStream

__all__ = ["INPUT_OFFSET", "InputWindow", "default_input_steps", "windowed_equations"]

#: The shared variable (seconds, float64) subtracted from ``t`` where the equations read ``x_in``.
INPUT_OFFSET = "x_in_t0"

#: Bytes of the input window a run holds by default (:func:`default_input_steps`).
INPUT_WINDOW_BYTES = 8e6

_READ = re.compile(rf"\b{INPUT_ARRAY}\(t,")


def default_input_steps(trials: int, n_in: int) -> int:
    """Training steps of inputs a run holds at once by default: a float64 ``(steps, trials*n_in)`` window
    within :data:`INPUT_WINDOW_BYTES`, at least 1 and at most 1024 steps.
    """
    return int(max(1, min(1024, INPUT_WINDOW_BYTES // (8 * trials * max(1, n_in)))))


def windowed_equations(equations: str) -> str:
    """``equations`` reading ``x_in`` at ``t - x_in_t0``, with the parameter ``x_in_t0 : second (shared)``.

    With ``x_in_t0 = 0`` (its initial value) the equations read the same values as the unchanged ones.
    Equations that do not read ``x_in`` are returned unchanged.
    """
    if not _READ.search(equations):
        return equations
    return _READ.sub(f"{INPUT_ARRAY}(t - {INPUT_OFFSET},", equations) + f"\n{INPUT_OFFSET} : second (shared)"


def check_input_steps(input_steps) -> int:
    """``input_steps`` as a positive int; one clear error otherwise."""
    return check_positive_int(input_steps, "input_steps (training steps of inputs a Brian2 run holds at once)")


class InputWindow:
    """The inputs of a run's segments, written a window of ``rows`` training steps at a time into the
    ``TimedArray`` values the groups read.

    Parameters
    ----------
    values : ndarray (rows, B*n_in), float64
        The ``TimedArray``'s own values (written in place; column ``trial*n_in + k``).
    groups : sequence of NeuronGroup
        The groups whose ``x_in_t0`` is moved to each window's start.
    segments : sequence of Segment
        The run's segments; ``inputs`` (B, steps, n_in) are read a window at a time.
    input_noise : sequence of NoiseModel
        Each segment's input noise (a zero model for none), drawn once per training step.
    seed : int or None
        Seed of the input noise (a generator per segment, ``derive_seed(seed, purpose, segment)``).
    purpose : int
        Seed purpose of the input noise.
    dt : float
        Training step (seconds), the ``TimedArray``'s step.
    dtype : type
        The run's float dtype: values are rounded to it (and held in float64, as ``TimedArray`` holds them).

    Notes
    -----
    Step :math:`n` of a segment reads :math:`x_n + \\xi_n` with :math:`\\xi_n` the input noise's increment of that
    step, drawn one step at a time from the segment's generator: the numbers do not depend on the window size.
    """

    def __init__(self, values: np.ndarray, groups: Sequence, segments: Sequence[Segment],
                 input_noise: Sequence[NoiseModel], seed: int | None, purpose: int, dt: float, dtype):
        self.values, self.groups, self.segments = values, list(groups), list(segments)
        self.input_noise, self.seed, self.purpose = list(input_noise), seed, purpose
        self.dt, self.dtype = dt, dtype
        self.rows = values.shape[0]
        self.segment, self.lo, self.hi = -1, 0, 0    # the window holds steps lo .. hi-1 of segment `segment`
        self.stream: NoiseStream | None = None

    def pieces(self, segment: int, start: int, n: int, now: Callable[[], float]) -> Iterator[int]:
        """Yield the lengths of the runs covering steps ``start .. start+n-1`` of ``segment``, in order; before
        each run the window holds its steps. ``now()``: the network's time (seconds) when a run starts.
        """
        done = 0
        while done < n:
            step = start + done
            if segment != self.segment or not self.lo <= step < self.hi:
                self._fill(segment, step, now())
            m = min(n - done, self.hi - step)
            yield m
            done += m

    def _fill(self, segment: int, step: int, t: float) -> None:
        seg = self.segments[segment]
        if segment != self.segment:
            if step != 0:
                raise RuntimeError(f"segment {segment}: inputs requested from step {step}, not from its start")
            model = self.input_noise[segment]
            generator = torch.Generator().manual_seed(derive_seed(self.seed, self.purpose, segment, bits=64))
            b, _, n_in = np.shape(seg.inputs)
            self.stream = None if model.is_zero else NoiseStream(model, (b, n_in), self.dt, generator)
        elif step != self.hi:
            raise RuntimeError(f"segment {segment}: inputs requested from step {step}, expected {self.hi}")
        m = min(self.rows, seg.steps - step)
        x = np.asarray(seg.inputs[:, step:step + m], dtype=np.float64).transpose(1, 0, 2)   # (m, B, n_in)
        if self.stream is not None:
            x = x + np.concatenate([self.stream.draw(1).numpy() for _ in range(m)])
        window = x.reshape(m, -1)
        self.values[:m] = window if self.dtype is np.float64 else window.astype(self.dtype)
        self.values[m:] = self.values[m - 1]   # held after the window's last step (never read by the run)
        for group in self.groups:
            setattr(group, f"{INPUT_OFFSET}_", t)
        self.segment, self.lo, self.hi = segment, step, step + m
