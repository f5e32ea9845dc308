"""Recording the hidden state of a Brian2 run into a preallocated buffer, at the ends of training steps."""

from __future__ import annotations

import numpy as np

__all__ = ["RECORDER_ORDER", "StepRecorder"]

RECORDER_ORDER = 100  # in the "end" slot, after everything else


class StepRecorder:
    """Copies ``h`` into a preallocated buffer at the end of every ``every``-th simulation step.

    Measured against a ``StateMonitor(when='end')`` (N=512, B=200, 100 steps, cython, matmul): about as
    fast (0.35 s against 0.36-0.45 s per run), with no growing dynamic arrays, and with ``dt_factor > 1`` it
    keeps only the states at the ends of training steps (a monitor with ``dt=network.dt`` would record the
    first substep of each training step instead).
    """

    def __init__(self, parts, trials: int, n_rec: int, every: int):
        # parts: ((NeuronGroup, slice of the N units), ...) -- one group, or one per population
        self.views = [(g.variables["h"].get_value().reshape(trials, -1), units) for g, units in parts]
        self.dtype = self.views[0][0].dtype   # the groups' float dtype: chunks come out in the simulated dtype
        self.shape = (trials, n_rec)
        self.every = every
        self.count = 0
        self.row = 0
        self.buffer = np.empty((trials, 0, n_rec), dtype=self.dtype)

    def start(self, rows: int) -> None:
        self.buffer = np.empty((self.shape[0], rows, self.shape[1]), dtype=self.dtype)
        self.row = 0

    def record(self) -> None:
        self.count += 1
        if self.count == self.every:
            self.count = 0
            for h, units in self.views:
                self.buffer[:, self.row, units] = h
            self.row += 1
