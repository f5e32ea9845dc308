"""The ``"brian2"`` backend: a :class:`~neurorx.network.RateNetwork` run as a continuous-time SDE in Brian2.

All trials run at once in one ``NeuronGroup`` of ``B*N`` units (trial-major: neuron ``i = trial*N + unit``;
``trial`` and ``unit`` are integer constants of the group). The equations are generated from the network's
cell, activation and noise models (:mod:`neurorx.backends.brian2_equations`) and integrated with
Brian2's ``euler`` (Euler–Maruyama; :func:`euler_sorted_draws`, its draws in a fixed order) at
``dt = network.dt / dt_factor``. Phases (segments) are consecutive
``run()`` calls on one explicit :class:`brian2.Network`; between runs only ``(shared)`` noise parameters and,
on a reset, the state change.

Two couplings compute the recurrent currents from the same equations:

- ``"synapses"``: one :class:`brian2.Synapses` per recurrent current with a summed variable
  ``I_rec_post = w*h_pre : 1 (summed)`` (``w[pre -> post] = w_rec[post, pre]``; synapses only within a
  trial). Pure Brian2: works on every device, including ``cpp_standalone``.
- ``"matmul"``: a ``network_operation`` per current doing one BLAS product ``(B, N) @ W.T`` for all trials.
  Much faster and smaller; not available under ``cpp_standalone``, which silently drops network operations.

Use :func:`simulate` through :meth:`neurorx.Protocol.run` (``backend="brian2"``), or :func:`build_network` to
get the Brian2 network itself and add your own monitors.

``dtype="float32"`` builds and runs the network with Brian2's ``core.default_float_dtype`` set to ``float32``
(for that call only): state, parameters, weights and the coupling products are float32. Brian2 keeps ``t``
and ``dt`` in float64, and its ``TimedArray`` and Gaussian draws are float64 (see :func:`simulate`, Notes).
"""

from __future__ import annotations

import contextlib
import gc
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import brian2
import brian2.core.network as _brian2_network_module
import numpy as np
import torch
from brian2 import Network, NetworkOperation, NeuronGroup, Synapses, TimedArray, prefs, second
from brian2.devices.device import RuntimeDevice, get_device

from neurorx.activations import get_activation
from neurorx.backends.base import (
    BACKENDS,
    Chunk,
    Segment,
    SimulationError,
    check_dt_factor,
    check_finite,
    check_positive_int,
    derive_seed,
)
from neurorx.backends.brian2_equations import INPUT_ARRAY, Current, NeuronModel, neuron_model, noise_prefix
from neurorx.backends.brian2_synapses import synapse_indices, synapse_weights
from neurorx.noise import PLACEMENTS, Brian2Terms, NoiseModel, NoiseStream, NoNoise, add_increments
from neurorx.registry import Registry

__all__ = ["COUPLINGS", "TARGETS", "Brian2Backend", "build_network", "resolve_coupling", "simulate"]

COUPLINGS: Registry[str] = Registry("coupling")
COUPLINGS.add("auto", "matmul on Brian2's runtime device, synapses under cpp_standalone")
COUPLINGS.add("matmul", "one BLAS matrix product per recurrent current and time step (runtime device only)")
COUPLINGS.add("synapses", "Brian2 Synapses with summed variables (portable, works in standalone mode)")

TARGETS: Registry[str] = Registry("Brian2 code-generation target")
TARGETS.add("auto", "cython, falling back to numpy (with one warning) if compilation fails")
TARGETS.add("cython", "cython (needs a C compiler at run time); compilation errors are raised")
TARGETS.add("numpy", "numpy (no compilation; slower per step)")

_RECORDER_ORDER = 100  # in the "end" slot, after everything else

_CYTHON_FAILED: list[str] = []  # the first cython failure of this process ("auto" then uses numpy)


def _is_standalone() -> bool:
    return not isinstance(get_device(), RuntimeDevice)


def resolve_coupling(coupling: str) -> str:
    """Return the concrete coupling ("matmul" or "synapses") for ``coupling`` on the current Brian2 device.

    Raises
    ------
    ValueError
        For an unknown name (listing the choices) or ``"matmul"`` under a standalone device.
    """
    COUPLINGS.get(coupling)
    standalone = _is_standalone()
    if coupling == "auto":
        return "synapses" if standalone else "matmul"
    if coupling == "matmul" and standalone:
        raise ValueError(
            f"coupling='matmul' uses a network_operation, which Brian2's {type(get_device()).__name__} device "
            "silently drops (the recurrent input would be zero); use coupling='synapses' (or 'auto') in "
            "standalone mode"
        )
    return coupling


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
class _Assembly:
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


def _assemble(network, trials: int, dt_factor: int, coupling: str, noise_models: Sequence[NoiseModel],
              x_values: np.ndarray, noise_arrays: dict, dtype=np.float64) -> _Assembly:
    """Build the Brian2 objects; ``x_values`` (T, B*n_in), ``noise_arrays`` name -> (values (steps, B*N), unit).

    ``dtype`` must be Brian2's ``core.default_float_dtype`` while this runs (:func:`_codegen` sets both).
    """
    coupling = resolve_coupling(coupling)
    x_values = _timed_values(x_values, dtype)
    noise_arrays = {name: (_timed_values(values, dtype), unit) for name, (values, unit) in noise_arrays.items()}
    if network.cell_object.populations(network.n_rec):
        return _assemble_populations(network, trials, dt_factor, coupling, noise_models, x_values, noise_arrays,
                                     dtype)
    n_rec, dt_sim = network.n_rec, network.dt / dt_factor
    model = neuron_model(network.cell_object, network.activation, network.n_in, noise_models)
    namespace = {}
    if model.n_in:
        namespace[INPUT_ARRAY] = TimedArray(x_values, dt=network.dt * second, name=INPUT_ARRAY)
    zero_terms = {}
    for m in noise_models:
        if m is not None and not m.is_zero and m.name not in zero_terms:
            zero_terms[m.name] = m.scaled(0.0).brian2_terms(model.noise_prefixes[m.name])
    for name, (values, unit) in noise_arrays.items():   # the noise models' own arrays (frozen increments)
        namespace[name] = TimedArray(values * unit, dt=dt_sim * second, name=name)

    neurons = NeuronGroup(trials * n_rec, model.equations, method=euler_sorted_draws, dt=dt_sim * second,
                          name="neurons", namespace=namespace)
    neurons.tau = network.tau * second
    idx = np.arange(trials * n_rec)
    neurons.trial = idx // n_rec
    neurons.unit = idx % n_rec
    w_in = np.asarray(network.weights["w_in"], dtype=dtype)
    bias = np.asarray(network.weights["bias"], dtype=dtype)
    w_rec = np.asarray(network.weights["w_rec"], dtype=dtype)
    for inp in model.inputs:
        rows = slice(inp.block * n_rec, (inp.block + 1) * n_rec)
        setattr(neurons, inp.bias, np.tile(bias[rows], trials))
        for j in range(model.n_in):
            setattr(neurons, inp.weight(j), np.tile(w_in[rows, j], trials))

    # Scheduling, all in the "groups" slot before the state update (order 0): current c of C first fills its
    # presynaptic source (order -2(C-c)), then is summed (order -2(C-c)+1), so a later current (the GRU
    # candidate's g*h) sees the gates computed from this step's state.
    objects = [neurons]
    n_cur = len(model.currents)
    for c, current in enumerate(model.currents):
        order = -2 * (n_cur - c)
        if current.needs_source:
            neurons.run_regularly(f"{current.source} = {current.expression}", when="groups", order=order,
                                  name=f"source_{current.name}")
        w = w_rec[current.block * n_rec : (current.block + 1) * n_rec]
        suffix = "" if n_cur == 1 else f"_{current.name}"
        if coupling == "synapses":
            syn = _synapses(neurons, current, w, trials, n_rec, f"recurrent{suffix}")
            syn.summed_updaters[f"{current.name}_post"].order = order + 1
            objects.append(syn)
        else:
            objects.append(NetworkOperation(_matmul_operation(neurons, current, w, trials, n_rec),
                                            clock=neurons.clock, when="groups", order=order + 1,
                                            name=f"recurrent_matmul{suffix}"))
    return _Assembly(Network(*objects), neurons, model, trials, n_rec, dt_sim, zero_terms, dtype=dtype)


def _assemble_populations(network, trials: int, dt_factor: int, coupling: str, noise_models: Sequence[NoiseModel],
                          x_values: np.ndarray, noise_arrays: dict, dtype=np.float64) -> _Assembly:
    """Build one ``NeuronGroup`` per population of the cell (dale: ``neurons_E``, ``neurons_I``).

    Every group has the cell's equations, ``B*n_P`` units (trial-major: neuron ``i = trial*n_P + k``, ``unit``
    the unit's index in the whole network). Each recurrent current sums over one presynaptic population
    (:attr:`Brian2Cell.presynaptic`), so the ``w_rec`` blocks become one coupling per (pre, post) pair:
    ``recurrent_E_to_E``, ``recurrent_E_to_I``, ``recurrent_I_to_E``, ``recurrent_I_to_I`` (Synapses, or
    network operations ``recurrent_matmul_<pre>_to_<post>``). Frozen-noise arrays are split by column.
    """
    cell = network.cell_object
    pops = cell.populations(network.n_rec)
    if len(cell.gates) != 1:
        raise NotImplementedError(f"cell {cell.name!r}: populations are supported for one-gate cells only")
    bcell = cell.brian2(get_activation(network.activation))
    n_rec, dt_sim = network.n_rec, network.dt / dt_factor
    models = {pop: neuron_model(network.cell_object, network.activation, network.n_in, noise_models, population=pop)
              for pop in pops}
    model = next(iter(models.values()))   # currents, inputs and noise terms are the same in every group
    x_array = TimedArray(x_values, dt=network.dt * second, name=INPUT_ARRAY) if model.n_in else None
    zero_terms = {}
    for m in noise_models:
        if m is not None and not m.is_zero and m.name not in zero_terms:
            zero_terms[m.name] = m.scaled(0.0).brian2_terms(model.noise_prefixes[m.name])
    w_in = np.asarray(network.weights["w_in"], dtype=dtype)
    bias = np.asarray(network.weights["bias"], dtype=dtype)
    w_rec = np.asarray(network.weights["w_rec"], dtype=dtype)

    groups = {}
    for pop, units in pops.items():
        n_p = units.stop - units.start
        namespace = {} if x_array is None else {INPUT_ARRAY: x_array}
        for name, (values, unit) in noise_arrays.items():
            cols = values.reshape(values.shape[0], trials, n_rec)[:, :, units].reshape(values.shape[0], trials * n_p)
            namespace[name] = TimedArray(cols * unit, dt=dt_sim * second, name=f"{name}_{pop}")
        group = NeuronGroup(trials * n_p, models[pop].equations, method=euler_sorted_draws, dt=dt_sim * second,
                            name=f"neurons_{pop}", namespace=namespace)
        group.tau = network.tau * second
        idx = np.arange(trials * n_p)
        group.trial = idx // n_p
        group.unit = units.start + idx % n_p
        for inp in model.inputs:
            rows = np.arange(inp.block * n_rec, (inp.block + 1) * n_rec)[units]
            setattr(group, inp.bias, np.tile(bias[rows], trials))
            for j in range(model.n_in):
                setattr(group, inp.weight(j), np.tile(w_in[rows, j], trials))
        groups[pop] = (group, units, n_p)

    # Scheduling as in _assemble: every group fills its presynaptic sources (order -3), then the currents are
    # summed (order -1), all in the "groups" slot before the state update.
    objects = [g for g, _, _ in groups.values()]
    filled = set()
    for current in model.currents:
        if current.needs_source and current.source not in filled:
            filled.add(current.source)
            for pop, (group, _, _) in groups.items():
                group.run_regularly(f"{current.source} = {current.expression}", when="groups", order=-3,
                                    name=f"source_{current.source}_{pop}")
    for current in model.currents:
        pre = bcell.presynaptic[current.name]
        pre_group, pre_units, _ = groups[pre]
        for post, (post_group, post_units, _) in groups.items():
            w = w_rec[post_units, pre_units]   # one gate block: the currents split w_rec by presynaptic population
            if coupling == "synapses":
                syn = _synapses_between(pre_group, post_group, current, w, trials, f"recurrent_{pre}_to_{post}")
                syn.summed_updaters[f"{current.name}_post"].order = -1
                objects.append(syn)
            else:
                objects.append(NetworkOperation(
                    _matmul_between(pre_group, post_group, current, w, trials), clock=post_group.clock,
                    when="groups", order=-1, name=f"recurrent_matmul_{pre}_to_{post}"))
    if bcell.pool is not None:
        objects += _pool_objects(network, bcell.pool, model, groups, trials, coupling, dt_sim)
    first = objects[0]
    return _Assembly(Network(*objects), first, model, trials, n_rec, dt_sim, zero_terms,
                     groups=tuple((g, units) for g, units, _ in groups.values()), dtype=dtype)


def _pool_objects(network, pool, model: NeuronModel, groups: dict, trials: int, coupling: str,
                  dt_sim: float) -> list:
    """The instantaneous pool of a cell (dale_norm's divisive pool, :class:`~neurorx.models.cells.Brian2Pool`).

    A group ``"pool"`` of ``B*k`` units (``trial`` and the summed variable ``p``), filled from the presynaptic
    population's source variable through the weights ``network.weights[pool.weight]`` (``"pool_in"``,
    :math:`p_k = \\sum_j U_{kj} s_j`) right after the sources (order -2), then summed into the target's
    ``pool.current`` with the fixed weight :math:`1/k` (``"pool_out"``, :math:`\\frac1k\\sum_k p_k^2`) together with
    the recurrent currents (order -1). Network operations ``pool_in_matmul`` / ``pool_out_matmul`` for
    ``coupling="matmul"``.
    """
    u = np.asarray(network.weights[pool.weight], dtype=np.float64)
    k = u.shape[0]
    source = next((c.source for c in model.currents if c.expression == pool.source), None)
    if source is None:
        raise ValueError(f"the pool's presynaptic expression {pool.source!r} is none of the cell's currents")
    pre_group, _, _ = groups[pool.presynaptic]
    post_group, _, n_post = groups[pool.target]
    neurons = NeuronGroup(trials * k, "p : 1\ntrial : integer (constant)", dt=dt_sim * second, name="pool",
                          namespace={})
    neurons.trial = np.arange(trials * k) // k
    w_out = np.full((n_post, k), 1.0 / k)
    if coupling == "synapses":
        inp = _synapses_between(pre_group, neurons, Current("p", 0, pool.source, source), u, trials, "pool_in")
        inp.summed_updaters["p_post"].order = -2
        out = Synapses(neurons, post_group, model=f"w : 1 (constant)\n{pool.current}_post = w*p_pre**2 : 1 (summed)",
                       clock=post_group.clock, name="pool_out", namespace={})
        i, j = synapse_indices(k, n_post, trials)
        out.connect(i=i, j=j)
        out.w = synapse_weights(w_out, trials)
        out.summed_updaters[f"{pool.current}_post"].order = -1
        return [neurons, inp, out]
    src = pre_group.variables[source].get_value().reshape(trials, -1)
    pv = neurons.variables["p"].get_value().reshape(trials, k)
    dst = post_group.variables[pool.current].get_value().reshape(trials, n_post)
    u_t, w_t = np.ascontiguousarray(u.T), np.ascontiguousarray(w_out.T)

    def fill_pool():
        with np.errstate(all="ignore"):
            np.matmul(src, u_t, out=pv)

    def pool_current():
        with np.errstate(all="ignore"):
            np.matmul(pv * pv, w_t, out=dst)

    return [neurons,
            NetworkOperation(fill_pool, clock=post_group.clock, when="groups", order=-2, name="pool_in_matmul"),
            NetworkOperation(pool_current, clock=post_group.clock, when="groups", order=-1, name="pool_out_matmul")]


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


def build_network(network, trials: int, *, dt_factor: int = 1, coupling: str = "auto",
                  noise_models: Sequence[NoiseModel] = (), inputs=None, h0=None, seed: int | None = None
                  ) -> Network:
    """Build the Brian2 network of ``trials`` copies of ``network``, ready to ``run()``.

    Parameters
    ----------
    network : RateNetwork
    trials : int
        Number of independent trials ``B`` simulated side by side.
    dt_factor : int
        Brian2 ``dt = network.dt / dt_factor``.
    coupling : {"auto", "matmul", "synapses"}
        How recurrent currents are computed (see the module docstring). ``"auto"`` picks ``"matmul"`` on the
        runtime device and ``"synapses"`` under ``cpp_standalone``.
    noise_models : sequence of NoiseModel
        Noise to include. Recurrent models: at most one per noise type; each is active with its own
        parameters (change them between runs through the ``(shared)`` variables, see Notes).
        ``placement="input"`` models are sampled once per training step (with ``seed``) and added to
        ``inputs``; ``placement="output"`` models are ignored (the protocol layer adds them after readout).
    inputs : array (B, T, n_in), optional
        Inputs per training step, held over the step; after ``T`` steps the last row is held. Zeros if
        omitted.
    h0 : array (B, N), optional
        Initial state (zeros if omitted).
    seed : int, optional
        Seed of the input noise and of the initial Ornstein–Uhlenbeck state. Call ``brian2.seed`` yourself
        for the noise drawn during the run.

    Returns
    -------
    brian2.Network
        An explicit network; run it with ``net.run(duration, namespace={})``.

    Raises
    ------
    ValueError
        For an unknown coupling, ``coupling="matmul"`` under ``cpp_standalone``, or arrays of the wrong shape.

    Notes
    -----
    Objects, by name (``net["neurons"]`` etc.):

    - ``"neurons"``: the ``NeuronGroup`` of ``B*N`` units, neuron ``i = trial*N + unit``. Variables: ``h``;
      integer constants ``trial``, ``unit``; recurrent currents (``I_rec``; GRU: ``I_zrec``, ``I_grec``,
      ``I_hrec``); input currents (``I_in``; GRU: ``I_zin``, ``I_gin``, ``I_hin``) built from per-unit
      ``b_<tag>`` and ``w_<tag>_<k>`` and the ``TimedArray`` ``x_in`` ``(T, B*n_in)``; ``tau``; noise
      parameters ``<type>_<name>`` (``white_sigma``, ``reference_uniform_mu``, ``reference_uniform_sigma``,
      ``ou_sigma``, ``ou_tau``, state ``ou_eta``, ``frozen_gain`` with ``TimedArray`` ``frozen_rate``).
    - ``"recurrent"`` (GRU: ``"recurrent_I_zrec"``, ...): the ``Synapses``, ``w[pre -> post] =
      w_rec[post, pre]``; or ``"recurrent_matmul"`` (...) network operations for ``coupling="matmul"``.
    - ``"source_I_hrec"`` (GRU only): fills ``src_I_hrec = g*h`` before the candidate's current is summed.
    - Cells with populations (``dale``): instead of ``"neurons"``, one group per population, ``"neurons_E"``
      (``B*N_E`` units) and ``"neurons_I"`` (``B*N_I``), neuron ``i = trial*n_P + k`` with ``unit`` the index in
      the whole network; currents ``I_rec_E``, ``I_rec_I`` (summed from the E and the I population's rates
      ``src_I_rec_E = clip(h, 0, inf)``); couplings ``"recurrent_E_to_E"``, ``"recurrent_E_to_I"``,
      ``"recurrent_I_to_E"``, ``"recurrent_I_to_I"`` (Synapses; ``"recurrent_matmul_<pre>_to_<post>"`` for
      ``coupling="matmul"``), each carrying its block of ``w_rec``. Record or replace either population alone.
    - ``dale_norm`` in addition: the divisive pool ``"pool"`` (``B*k`` units, variable ``p``), filled from the E
      rates through ``w_div`` (``"pool_in"``) and feeding ``I_div`` = :math:`\\frac1k\\sum_k p_k^2` into
      ``neurons_E`` (``"pool_out"``, weights :math:`1/k`; ``"pool_in_matmul"``, ``"pool_out_matmul"`` for
      ``coupling="matmul"``), whose drift divides the drive by :math:`\\sqrt{I_{div} + \\epsilon}`.

    The state equation is :math:`dh/dt = F(h, u)/\\tau + \\text{noise}` with the cell's drift :math:`F`; at
    ``dt_factor=1`` its Euler step is the torch step :math:`h + aF + \\text{increment}`, :math:`a = dt/\\tau`.

    Examples
    --------
    >>> from brian2 import StateMonitor, ms
    >>> net = build_network(rate_network, trials=10, noise_models=[WhiteNoise(0.07)])  # doctest: +SKIP
    >>> mon = StateMonitor(net["neurons"], "h", record=True, when="end")  # doctest: +SKIP
    >>> net.add(mon); net.run(200 * ms, namespace={})  # doctest: +SKIP
    """
    trials = check_positive_int(trials, "trials")
    dt_factor = check_dt_factor(dt_factor)
    resolve_coupling(coupling)
    n_in, n_rec = network.n_in, network.n_rec
    # float64: the inputs become a TimedArray, which Brian2 holds in float64 (build_network builds in float64)
    x = np.zeros((trials, 1, n_in)) if inputs is None else np.asarray(inputs, dtype=np.float64)
    if x.ndim != 3 or x.shape[0] != trials or x.shape[2] != n_in:
        raise ValueError(f"inputs have shape {x.shape}; expected (trials, steps, n_in) = ({trials}, T, {n_in})")
    recurrent, arrays = [], {}
    generator = torch.Generator().manual_seed(derive_seed(seed, _BUILD, bits=64))
    for m in noise_models:
        if m.placement == "output" or m.is_zero:
            continue
        if m.placement == "input":
            x = _add_input_noise(x, m, network.dt, generator)
            continue
        if any(r.name == m.name for r in recurrent):
            raise ValueError(f"noise_models holds two recurrent {m.name!r} models; give one per noise type and "
                             f"change its parameters between runs (e.g. net['neurons'].{noise_prefix(m)}...)")
        recurrent.append(m)
        arrays.update(m.brian2_terms(noise_prefix(m), dt=network.dt / dt_factor, shape=(trials, n_rec)).arrays)
    assembly = _assemble(network, trials, dt_factor, coupling, recurrent, _input_values(x), arrays)
    assembly.set_state(np.zeros((trials, n_rec)) if h0 is None else h0)
    assembly.set_noise({m.name: m for m in recurrent}, generator)
    return assembly.net


# -- seeds, targets ---------------------------------------------------------------------------------------
_BUILD, _INPUT, _STATE, _RUN = range(4)   # purposes of derived seeds


class _YoungGenerationGC:
    """Stands in for the ``gc`` module inside ``brian2.core.network`` while the backend runs its network.

    ``Network.run`` calls ``gc.collect()`` on every call, only to warn about Brian2 objects that were created
    but never added to a network (the backend adds all of its objects). A full collection costs 0.1-0.3 s in
    a process that has imported torch, which dominated short chunked runs; collecting the youngest
    generation keeps the warning for fresh garbage at a negligible cost.
    """

    @staticmethod
    def collect(generation: int = 0) -> int:
        return gc.collect(0)


@contextlib.contextmanager
def _codegen(target: str, cache_dir, dtype=np.float64):
    """Brian2 prefs for one call (code-generation target, cython cache, float dtype) and a cheap ``gc`` in ``run()``.

    ``dtype`` is Brian2's ``core.default_float_dtype``: the dtype of every float variable created and of the
    temporaries of the code generated inside the context, so a network built in float32 must also be run in
    it. With float32 the one warning Brian2's after-run check of the state makes on numpy 2 (it compares the
    float32 state with ``1e50``, which overflows the cast to float32) is silenced; the check itself still runs,
    and a NaN/inf state is reported by :func:`~neurorx.backends.base.check_finite`.
    """
    old_target = prefs["codegen.target"]
    old_cache = prefs["codegen.runtime.cython.cache_dir"]
    old_dtype = prefs["core.default_float_dtype"]
    swap_gc = getattr(_brian2_network_module, "gc", None) is gc
    prefs["codegen.target"] = target
    prefs["core.default_float_dtype"] = dtype
    if cache_dir is not None:
        prefs["codegen.runtime.cython.cache_dir"] = str(cache_dir)
    if swap_gc:
        _brian2_network_module.gc = _YoungGenerationGC
    try:
        with warnings.catch_warnings():
            if dtype is not np.float64:
                warnings.filterwarnings("ignore", message="overflow encountered in cast", category=RuntimeWarning,
                                        module=r"brian2\.groups\.group")
            yield
    finally:
        prefs["codegen.target"] = old_target
        prefs["codegen.runtime.cython.cache_dir"] = old_cache
        prefs["core.default_float_dtype"] = old_dtype
        if swap_gc:
            _brian2_network_module.gc = gc


def _compile(net: Network, target: str, cache_dir, dtype=np.float64) -> str:
    """Compile every code object (a zero-length cython run); return the target to run with.

    ``"auto"`` falls back to numpy when compilation fails, warning once per process.
    """
    if target == "numpy" or (target == "auto" and _CYTHON_FAILED):
        return "numpy"
    try:
        with _codegen("cython", cache_dir, dtype):
            net.run(0 * second, namespace={})
        return "cython"
    except Exception as err:
        if target == "cython":
            raise SimulationError(
                f"Brian2 could not compile the network with the cython target ({type(err).__name__}: {err}). "
                "Install a C compiler and Cython, or pass target='numpy' (or 'auto' to fall back)."
            ) from err
        _CYTHON_FAILED.append(f"{type(err).__name__}: {err}")
        warnings.warn(
            f"Brian2's cython target failed ({type(err).__name__}: {err}); the brian2 backend uses the "
            "slower numpy target from now on in this process. Install a C compiler to get cython.",
            RuntimeWarning, stacklevel=3,
        )
    return "numpy"


class _Recorder:
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


# -- validation ------------------------------------------------------------------------------------------
def _segment_noise(seg: Segment, index: int) -> dict[str, NoiseModel]:
    noise = dict(seg.noise or {})
    for placement, model in noise.items():
        if placement not in PLACEMENTS:
            raise ValueError(f"segment {index} ({seg.name!r}): unknown noise placement {placement!r}; "
                             f"use one of {PLACEMENTS}")
        if not isinstance(model, NoiseModel):
            raise TypeError(f"segment {index} ({seg.name!r}): noise[{placement!r}] must be a NoiseModel, got "
                            f"{type(model).__name__}")
    return noise


def _segment_inputs(seg: Segment, index: int, trials: int, n_in: int) -> np.ndarray:
    steps = check_positive_int(seg.steps, f"segment {index} ({seg.name!r}) steps")
    x = np.asarray(seg.inputs, dtype=np.float64)   # float64 in both dtypes: Brian2's TimedArray holds float64
    if x.shape != (trials, steps, n_in):
        raise ValueError(f"segment {index} ({seg.name!r}): inputs have shape {x.shape}; expected "
                         f"(trials, steps, n_in) = ({trials}, {steps}, {n_in})")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"segment {index} ({seg.name!r}): inputs contain NaN or inf")
    return x


_DRAW = re.compile(r"^xi_\w* = dt\*\*\.5 \* randn\(\)$")


def euler_sorted_draws(equations, variables=None, method_options=None) -> str:
    """Brian2's ``euler`` (Euler–Maruyama) state updater, with its Gaussian draws in a fixed order.

    Notes
    -----
    Brian2 draws one ``randn()`` per stochastic variable ``xi_*`` at the start of every step, in the
    iteration order of a ``set`` of their names. That order follows Python's string hashing, which differs
    between processes (``PYTHONHASHSEED``): with two noise types in one network (white noise while active, an
    OU process during quiescence) the same seed gave other paths in another process. This updater sorts the
    draw statements by name; the update itself is ``euler``'s, unchanged.
    """
    from brian2.stateupdaters.explicit import euler

    lines = euler(equations, variables, method_options).split("\n")
    k = next((i for i, line in enumerate(lines) if not _DRAW.match(line)), len(lines))
    return "\n".join(sorted(lines[:k]) + lines[k:])


def simulate(network, segments: Sequence[Segment], *, trials: int, seed: int | None, dt_factor: int = 1,
             chunk_steps: int = 100, dtype: str = "float64", coupling: str = "auto", target: str = "auto",
             cache_dir=None, record_every: int = 1) -> Iterator[Chunk]:
    """Simulate ``segments`` of ``network`` in Brian2, yielding the hidden state chunk by chunk.

    Parameters
    ----------
    network : RateNetwork
    segments : sequence of Segment
        Resolved phases, simulated in order as consecutive ``run()`` calls on one Brian2 network. A segment
        with ``h0`` resets the state, one without continues (the first needs an ``h0``).
    trials : int
        Number of trials ``B``.
    seed : int or None
        Seed of every random draw (Brian2's noise, input noise, initial OU state). Same seed, same result
        (for the same ``chunk_steps``, target and Brian2 version).
    dt_factor : int
        Brian2 ``dt = network.dt / dt_factor``; the state is reported at the end of each training step.
    chunk_steps : int
        Training steps per ``run()`` call and per yielded chunk.
    dtype : {"float64", "float32"}
        Float dtype of the simulation and of the yielded states: Brian2's ``core.default_float_dtype`` while
        the network is built and run (restored afterwards). See Notes for what float32 changes.
    coupling : {"auto", "matmul", "synapses"}
        See :func:`build_network`.
    target : {"auto", "cython", "numpy"}
        Brian2 runtime code-generation target. ``"auto"``: cython, falling back to numpy with one warning
        per process if compilation fails; ``"cython"`` raises instead.
    cache_dir : path, optional
        Cython cache directory (Brian2 pref ``codegen.runtime.cython.cache_dir``); Brian2's default if None.
    record_every : int
        Report every ``record_every``-th training step only (1: every step, the chunk layout of every
        backend). With ``r > 1`` the chunk ``h[:, m]`` is the state after segment step
        ``(m' + 1)*r - 1`` where ``m'`` counts reported steps from the segment's start.

    Yields
    ------
    Chunk
        ``Chunk(segment, start, h)``: ``h`` (B, n, N) holds the states after training steps
        ``start .. start+n-1`` of segment ``segment``.

    Raises
    ------
    ValueError
        For invalid arguments, inputs of the wrong shape, noise that does not fit the run (e.g.
        :class:`~neurorx.noise.FrozenNoise` of the wrong shape or too short, an unstable OU step).
    SimulationError
        If the state becomes NaN/inf (naming the phase and time), or under a Brian2 standalone device
        (use :func:`build_network` there).

    Notes
    -----
    With :math:`k` = ``dt_factor``, :math:`\\delta = D/k` (:math:`D` the training step) and
    :math:`a = D/\\tau`, Brian2's ``euler`` step is

    .. math:: h_{n+1} = h_n + \\frac{\\delta}{\\tau} F(h_n, u_{\\lfloor n/k \\rfloor}) + \\Delta N_n ,

    so :math:`k = 1` is exactly the torch step :math:`h + aF + \\Delta N`. Noise increments
    :math:`\\Delta N_n`: white :math:`\\sigma\\sqrt{\\delta}\\,\\xi`; reference uniform
    :math:`\\mu\\delta + c\\sqrt{\\delta}\\,\\xi` with :math:`\\mu = s/(2D)`, :math:`c = s/\\sqrt{12D}` (its
    Gaussian analogue, also at :math:`k = 1`); OU :math:`\\eta_n\\delta`; frozen: the given increments summed
    to the step :math:`\\delta` (pathwise equal to torch at :math:`k = 1`). Input noise is drawn once per
    training step (the noise model's own discrete step at :math:`D`) and added to the inputs before the
    projection, as in training. Noise of placement ``"output"`` is left to the protocol layer.

    Brian2's runtime draws from numpy's global random generator; the backend seeds it (``brian2.seed``)
    before every ``run()`` with a seed derived from ``seed``, the segment and the chunk.

    As in the torch backend, noise state starts afresh in every segment: a
    :class:`~neurorx.noise.FrozenNoise` indexes its increments from the start of its segment, and an OU state
    is drawn from its stationary distribution (at the simulation step) at each segment's start.

    ``dtype="float32"``: every float variable of the Brian2 groups (``h``, the currents, weights, biases, noise
    parameters and states), the synaptic weights, the recorded states and the coupling's matrix product
    (one float32 GEMM) are float32, and the inputs and frozen-noise increments are rounded to float32. What
    stays float64, by Brian2's design: ``t`` and ``dt`` (Brian2 PR #981), the values of a ``TimedArray``
    (stored as float64, holding float32-rounded numbers here), and the Gaussian draws of ``randn`` (float64,
    then multiplied into a float32 temporary). So the generated code evaluates each neuron's update in mixed
    precision -- C promotion to double in cython wherever ``dt``, an input or a draw enters, numpy 2's
    promotion by the float64 ``dt`` scalar in numpy -- and rounds it to float32 when it stores ``h``: the
    state carries float32 rounding every step, as in the torch backend's float32 mode, but the two do not
    round at the same places. The initial OU state is drawn in float64 and rounded, so a float32 run starts
    where the float64 run with the same seed does. The agreement with float64, as measured, is in the docs
    (backends page, section "float32").
    """
    trials = check_positive_int(trials, "trials")
    dt_factor = check_dt_factor(dt_factor)
    chunk_steps = check_positive_int(chunk_steps, "chunk_steps")
    record_every = check_positive_int(record_every, "record_every")
    TARGETS.get(target)
    float_dtype = _float_dtype(dtype)
    if _is_standalone():
        raise SimulationError(
            "the brian2 backend's simulate() runs on Brian2's runtime device (cython or numpy), but a "
            f"{type(get_device()).__name__} device is set; use build_network(..., coupling='synapses') and run "
            "and build the network yourself, or call brian2.set_device('runtime')"
        )
    resolve_coupling(coupling)
    segments = list(segments)
    if not segments:
        return
    n_in, n_rec = network.n_in, network.n_rec
    dt_sim = network.dt / dt_factor

    # Everything the run needs, validated before building: inputs (+ input noise), recurrent noise.
    xs, recurrent, seg_arrays = [], [], []
    for s, seg in enumerate(segments):
        x = _segment_inputs(seg, s, trials, n_in)
        noise = _segment_noise(seg, s)
        if seg.h0 is None and s == 0:
            raise ValueError(f"segment 0 ({seg.name!r}) continues from a previous state, but it is the first; "
                             "give it an h0")
        if seg.h0 is not None and np.shape(seg.h0) != (trials, n_rec):
            raise ValueError(f"segment {s} ({seg.name!r}): h0 has shape {np.shape(seg.h0)}; expected "
                             f"(trials, N) = ({trials}, {n_rec})")
        inp = noise.get("input", NoNoise())
        if not inp.is_zero:
            generator = torch.Generator().manual_seed(derive_seed(seed, _INPUT, s, bits=64))
            try:
                inp.check_run(seg.steps, (trials, n_in), network.dt)
                x = _add_input_noise(x, inp, network.dt, generator)
            except ValueError as err:
                raise ValueError(f"segment {s} ({seg.name!r}), input noise: {err}") from None
        xs.append(x)
        rec = noise.get("recurrent", NoNoise())
        steps = seg.steps * dt_factor
        try:
            rec.check_run(steps, (trials, n_rec), dt_sim)   # e.g. an unstable OU step, too few frozen increments
            arrays = {} if rec.is_zero else rec.brian2_terms(noise_prefix(rec), dt=dt_sim, steps=steps,
                                                             shape=(trials, n_rec)).arrays
        except ValueError as err:
            raise ValueError(f"segment {s} ({seg.name!r}), recurrent noise: {err}") from None
        seg_arrays.append((None if rec.is_zero else rec.name, arrays))
        recurrent.append(rec)

    noise_arrays = _noise_arrays(seg_arrays, [seg.steps * dt_factor for seg in segments])
    with _codegen("numpy", cache_dir, float_dtype):  # building (connecting synapses) compiles nothing
        assembly = _assemble(network, trials, dt_factor, coupling, recurrent,
                             _input_values(np.concatenate(xs, axis=1)), noise_arrays, float_dtype)
    del xs, seg_arrays, noise_arrays
    recorder = _Recorder(assembly.parts(), trials, n_rec, dt_factor * record_every)
    assembly.net.add(NetworkOperation(recorder.record, clock=assembly.neurons.clock, when="end",
                                      order=_RECORDER_ORDER, name="recorder"))
    used_target = _compile(assembly.net, target, cache_dir, float_dtype)

    for s, seg in enumerate(segments):
        generator = torch.Generator().manual_seed(derive_seed(seed, _STATE, s, bits=64))
        rec = recurrent[s]
        with _codegen(used_target, cache_dir, float_dtype):
            if seg.h0 is not None:
                assembly.set_state(seg.h0)
            assembly.set_noise({} if rec.is_zero else {rec.name: rec}, generator)
        recorder.count = 0
        done = 0
        for start in range(0, seg.steps, chunk_steps):
            n = min(chunk_steps, seg.steps - start)
            rows = (start + n) // record_every - done
            recorder.start(rows)
            brian2.seed(derive_seed(seed, _RUN, s, start))
            with _codegen(used_target, cache_dir, float_dtype):
                assembly.net.run(n * network.dt * second, namespace={})
            if recorder.row != rows:
                raise SimulationError(f"phase {seg.name!r}: Brian2 ran {recorder.row} reported steps from step "
                                      f"{start}, expected {rows} (dt={dt_sim:g} s)")
            h = recorder.buffer
            check_finite(h, seg, done, network.dt, every=record_every)
            done += rows
            yield Chunk(s, start, h)


class Brian2Backend:
    """The ``"brian2"`` backend object registered in :data:`neurorx.backends.BACKENDS`.

    See :func:`simulate` and :func:`build_network`.
    """

    name = "brian2"
    options = ("dtype", "coupling", "target", "cache_dir")

    def simulate(self, network, segments, *, trials, seed, dt_factor=1, chunk_steps=100, dtype="float64",
                 **options) -> Iterator[Chunk]:
        """Yield chunks of hidden states; see :func:`neurorx.backends.brian2_backend.simulate`."""
        return simulate(network, segments, trials=trials, seed=seed, dt_factor=dt_factor,
                        chunk_steps=chunk_steps, dtype=dtype, **options)

    def build_network(self, network, trials, **options) -> Network:
        """The Brian2 network itself; see :func:`neurorx.backends.brian2_backend.build_network`."""
        return build_network(network, trials, **options)


BACKENDS.add("brian2", Brian2Backend())
