"""The building blocks of a Brian2 rate network: the assembly record, couplings, and the arrays a run reads.

:class:`Assembly` is a built network plus what the backend needs to drive it (state, noise parameters). The
couplings compute one recurrent current for all trials: a ``network_operation`` doing one BLAS product
(``matmul``) or dense ``Synapses`` within each trial (``synapses``), within one group or between two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from brian2 import Network, NeuronGroup, Synapses

from neurorx.backends.brian2.draws import GaussianDraws
from neurorx.backends.brian2_equations import Current, NeuronModel
from neurorx.backends.brian2_synapses import synapse_indices, synapse_weights
from neurorx.noise import Brian2Terms, NoiseModel, NoiseStream, add_increments

__all__ = ["Assembly"]


_FLOAT_DTYPES = {"float64": np.float64, "float32": np.float32}


def _float_dtype(dtype) -> type:
    """The numpy float type (``np.float64`` or ``np.float32``) of a ``dtype`` option; one clear error otherwise."""
    for name, kind in _FLOAT_DTYPES.items():
        if dtype is kind or dtype == name or (isinstance(dtype, np.dtype) and dtype == kind):
            return kind
    raise ValueError(f"dtype must be one of {sorted(_FLOAT_DTYPES)}; got {dtype!r}")


def _timed_values(values: np.ndarray, dtype) -> np.ndarray:
    """``values`` as Brian2 will hold them in a ``TimedArray`` (always float64): rounded to ``dtype`` first.

    Brian2's ``TimedArray`` stores float64 whatever ``core.default_float_dtype`` says; rounding the values to
    float32 first makes a float32 run read the float32 inputs (and frozen increments) the torch backend reads.
    """
    return values if dtype is np.float64 else values.astype(dtype).astype(np.float64)


def _input_values(inputs: np.ndarray) -> np.ndarray:
    """(B, T, n_in) inputs -> (T, B*n_in) ``TimedArray`` values, column ``trial*n_in + k``."""
    b, t, n_in = inputs.shape
    return np.ascontiguousarray(inputs.transpose(1, 0, 2).reshape(t, b * n_in))


def _add_input_noise(x: np.ndarray, model: NoiseModel, dt: float, generator) -> np.ndarray:
    """Inputs ``x (B, T, n_in)`` plus ``model``'s increments drawn once per training step ``dt``."""
    inc = NoiseStream(model, (x.shape[0], x.shape[2]), dt, generator).draw(x.shape[1])
    return add_increments(x, inc, time_axis=1)


def _noise_arrays(per_segment: Sequence[tuple[str | None, dict]], rows: Sequence[int]) -> dict:
    """One ``(values, unit)`` per array name over all segments, zeros where the array's model is not active.

    ``per_segment[s]`` is ``(noise type or None, Brian2Terms.arrays)`` of segment ``s``, ``rows[s]`` its number of
    simulation steps.
    """
    names: dict[str, tuple[str, int, object]] = {}   # array name -> (noise type, columns, unit)
    for kind, arrays in per_segment:
        for name, (values, unit) in arrays.items():
            names.setdefault(name, (kind, values.shape[1], unit))
    out = {}
    for name, (kind, cols, unit) in names.items():
        parts = [arrays[name][0] if k == kind and name in arrays else np.zeros((n, cols))
                 for (k, arrays), n in zip(per_segment, rows, strict=True)]
        out[name] = (np.concatenate(parts), unit)
    return out


@dataclass(eq=False)
class Assembly:
    """A built Brian2 network plus what the backend needs to drive it."""

    net: Network
    neurons: NeuronGroup
    model: NeuronModel
    trials: int
    n_rec: int
    dt_sim: float
    zero_terms: dict[str, Brian2Terms]   # noise type -> its terms at zero amplitude (inactive)
    groups: tuple = ()   # cells with populations: ((NeuronGroup, slice of units), ...); empty: (neurons, all)
    dtype: type = np.float64   # Brian2's core.default_float_dtype the groups were built with
    draws: GaussianDraws | None = None   # the Gaussian draws of the recurrent noise (None: the equations have none)

    def parts(self) -> tuple:
        """``((NeuronGroup, slice of the N units it holds), ...)``: one group, or one per population."""
        return self.groups or ((self.neurons, slice(0, self.n_rec)),)

    def set_state(self, h0) -> None:
        """Set ``h`` from an array (B, N)."""
        h0 = np.asarray(h0, dtype=self.dtype)
        if h0.shape != (self.trials, self.n_rec):
            raise ValueError(f"h0 has shape {h0.shape}; expected (trials, N) = ({self.trials}, {self.n_rec})")
        for group, units in self.parts():
            group.h_ = h0[:, units].reshape(-1)

    def set_noise(self, active: dict[str, NoiseModel], generator: torch.Generator | None) -> None:
        """Set the recurrent noise: ``active`` maps noise type -> model; every other type is set to zero.

        An active stateful model's state (OU ``eta``) is drawn from its stationary distribution at the
        simulation step (as the torch backend does at each segment's start); an inactive one is zeroed.
        """
        if self.draws is not None:
            self.draws.set_active(self.model.noise_prefixes[kind] for kind in active)
        for kind, prefix in self.model.noise_prefixes.items():
            model = active.get(kind)
            terms = self.zero_terms[kind] if model is None else model.brian2_terms(prefix)
            for group, _units in self.parts():
                for param, (value, _unit) in terms.parameters.items():
                    setattr(group, f"{param}_", value)
            state = self.model.noise_states.get(kind)
            if state is None:
                continue
            if model is None:
                for group, _units in self.parts():
                    setattr(group, f"{state}_", 0.0)
            else:
                # drawn in float64 in both dtypes (then rounded): a float32 run starts where the float64 run does
                eta = model.initial_state((self.trials * self.n_rec,), self.dt_sim, generator, torch.float64)
                eta = np.asarray(eta, dtype=np.float64).reshape(self.trials, self.n_rec).astype(self.dtype)
                for group, units in self.parts():
                    setattr(group, f"{state}_", eta[:, units].reshape(-1))


def _matmul_operation(neurons: NeuronGroup, current: Current, w: np.ndarray, trials: int, n_rec: int):
    """A function writing ``current = source @ w.T`` for all trials with one BLAS call."""
    src = neurons.variables[current.source].get_value().reshape(trials, n_rec)
    dst = neurons.variables[current.name].get_value().reshape(trials, n_rec)
    w_t = np.ascontiguousarray(w.T, dtype=src.dtype)   # the group's float dtype: one float32 or float64 GEMM

    def matmul():
        with np.errstate(all="ignore"):   # a diverging run is reported once, by check_finite, per chunk
            np.matmul(src, w_t, out=dst)

    return matmul


def _synapses(neurons: NeuronGroup, current: Current, w: np.ndarray, trials: int, n_rec: int, name: str):
    """Dense synapses within each trial summing ``w*source_pre`` into ``current_post``.

    Brian2 indexes synapses ``[pre, post]``: synapse ``pre -> post`` gets ``w[post, pre]`` of the torch
    ``[post, pre]`` block ``w``. The pairs are given as index arrays: a ``condition='trial_pre == trial_post'``
    would be evaluated for all ``(B*N)**2`` pairs.
    """
    syn = Synapses(neurons, neurons, model=f"w : 1 (constant)\n{current.name}_post = w*{current.source}_pre : 1 "
                   "(summed)", clock=neurons.clock, name=name, namespace={})
    i, j = synapse_indices(n_rec, n_rec, trials)              # pre-major: pair p*N + q is (pre p, post q)
    syn.connect(i=i, j=j)
    # w.T[p, q] = w_rec[post q, pre p]; tiled in the synapses' own dtype (a float32 run: half the B*N^2 temporary)
    syn.w = synapse_weights(w, trials, syn.variables["w"].dtype)
    return syn


def _matmul_between(pre: NeuronGroup, post: NeuronGroup, current: Current, w: np.ndarray, trials: int):
    """``current`` of ``post`` = ``source`` of ``pre`` @ ``w.T`` for all trials (``w``: torch ``[post, pre]``)."""
    src = pre.variables[current.source].get_value().reshape(trials, -1)
    dst = post.variables[current.name].get_value().reshape(trials, -1)
    w_t = np.ascontiguousarray(w.T, dtype=src.dtype)

    def matmul():
        with np.errstate(all="ignore"):
            np.matmul(src, w_t, out=dst)

    return matmul


def _synapses_between(pre: NeuronGroup, post: NeuronGroup, current: Current, w: np.ndarray, trials: int,
                      name: str) -> Synapses:
    """Dense synapses ``pre -> post`` within each trial, summing ``w*source_pre`` into ``current_post``.

    ``w`` is the torch ``[post, pre]`` block; synapse ``p -> q`` gets ``w[q, p]``.
    """
    n_post, n_pre = w.shape
    syn = Synapses(pre, post, model=f"w : 1 (constant)\n{current.name}_post = w*{current.source}_pre : 1 (summed)",
                   clock=post.clock, name=name, namespace={})
    i, j = synapse_indices(n_pre, n_post, trials)
    syn.connect(i=i, j=j)
    syn.w = synapse_weights(w, trials, syn.variables["w"].dtype)
    return syn
