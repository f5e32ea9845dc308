"""Assembling the Brian2 network of a rate network: one group of ``B*N`` units, or one group per population.

All trials run at once (trial-major: neuron ``i = trial*N + unit``; ``trial`` and ``unit`` are integer constants
of the group). The equations come from the network's cell, activation and noise models
(:mod:`neurorx.backends.brian2_equations`); the recurrent currents from a coupling
(:data:`COUPLINGS`, :mod:`neurorx.backends.brian2.groups`). :func:`build_network` gives the network itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import numpy as np
import torch
from brian2 import Network, NetworkOperation, NeuronGroup, Synapses, TimedArray, prefs, second
from brian2.devices.device import get_device

from neurorx.activations import get_activation
from neurorx.backends.base import check_dt_factor, check_positive_int, derive_seed
from neurorx.backends.brian2.codegen import brian2_prefs, euler_sorted_draws, is_standalone
from neurorx.backends.brian2.draws import GaussianDraws, buffered_equations
from neurorx.backends.brian2.groups import (
    Assembly,
    _add_input_noise,
    _input_values,
    _matmul_between,
    _matmul_operation,
    _synapses,
    _synapses_between,
    _timed_values,
)
from neurorx.backends.brian2.inputs import INPUT_OFFSET, windowed_equations
from neurorx.backends.brian2_equations import INPUT_ARRAY, POOL_SOURCE, Current, NeuronModel, neuron_model, noise_prefix
from neurorx.backends.brian2_synapses import synapse_indices, synapse_weights
from neurorx.noise import NoiseModel
from neurorx.registry import Registry
from neurorx.seeds import numpy_rng

__all__ = ["COUPLINGS", "assemble", "build_network", "resolve_coupling"]

COUPLINGS: Registry[str] = Registry("coupling")
COUPLINGS.add("auto", "matmul on Brian2's runtime device, synapses under cpp_standalone")
COUPLINGS.add("matmul", "one BLAS matrix product per recurrent current and time step (runtime device only)")
COUPLINGS.add("synapses", "Brian2 Synapses with summed variables (portable, works in standalone mode)")


#: Purpose of the seed :func:`build_network` derives for its input noise and initial noise state.
_BUILD = 0


def resolve_coupling(coupling: str) -> str:
    """Return the concrete coupling ("matmul" or "synapses") for ``coupling`` on the current Brian2 device.

    Raises
    ------
    ValueError
        For an unknown name (listing the choices) or ``"matmul"`` under a standalone device.
    """
    COUPLINGS.get(coupling)
    standalone = is_standalone()
    if coupling == "auto":
        return "synapses" if standalone else "matmul"
    if coupling == "matmul" and standalone:
        raise ValueError(
            f"coupling='matmul' uses a network_operation, which Brian2's {type(get_device()).__name__} device "
            "silently drops (the recurrent input would be zero); use coupling='synapses' (or 'auto') in "
            "standalone mode"
        )
    return coupling


def assemble(network, trials: int, dt_factor: int, coupling: str, noise_models: Sequence[NoiseModel],
              x_values: np.ndarray, noise_arrays: dict, dtype=np.float64) -> Assembly:
    """Build the Brian2 objects; ``x_values`` (T, B*n_in), ``noise_arrays`` name -> (values (steps, B*N), unit).

    ``dtype`` must be Brian2's ``core.default_float_dtype`` while this runs (:func:`brian2_prefs` sets both).
    """
    coupling = resolve_coupling(coupling)
    x_values = _timed_values(x_values, dtype)
    noise_arrays = {name: (_timed_values(values, dtype), unit) for name, (values, unit) in noise_arrays.items()}
    if network.cell_object.populations(network.n_rec):
        return assemble_populations(network, trials, dt_factor, coupling, noise_models, x_values, noise_arrays,
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

    equations, z_vars = buffered_equations(windowed_equations(model.equations))
    neurons = NeuronGroup(trials * n_rec, equations, method=euler_sorted_draws, dt=dt_sim * second,
                          name="neurons", namespace=namespace, dtype=_offset_dtype(equations))
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
    draws = _draw_objects(objects, [neurons], z_vars)
    return Assembly(Network(*objects), neurons, model, trials, n_rec, dt_sim, zero_terms, dtype=dtype, draws=draws)


def _offset_dtype(equations: str) -> dict:
    """The groups' variable dtypes besides Brian2's default: the input window's time offset in float64 (a time,
    like ``t``, also in a float32 run).
    """
    return {INPUT_OFFSET: np.float64} if INPUT_OFFSET in equations else {}


def _draw_objects(objects: list, groups: list, z_vars: dict) -> GaussianDraws | None:
    """Append the network operation drawing the groups' Gaussian numbers (first in every step) to ``objects``."""
    if not z_vars:
        return None
    draws = GaussianDraws(groups, z_vars, numpy_rng(None, _BUILD))
    objects.append(NetworkOperation(draws, clock=groups[0].clock, when="start", order=-100, name="gaussian_draws"))
    return draws


def assemble_populations(network, trials: int, dt_factor: int, coupling: str, noise_models: Sequence[NoiseModel],
                          x_values: np.ndarray, noise_arrays: dict, dtype=np.float64) -> Assembly:
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
        equations, z_vars = buffered_equations(windowed_equations(models[pop].equations))
        group = NeuronGroup(trials * n_p, equations, method=euler_sorted_draws, dt=dt_sim * second,
                            name=f"neurons_{pop}", namespace=namespace, dtype=_offset_dtype(equations))
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

    # Scheduling as in _assemble, all in the "groups" slot before the state update: current c of C first fills
    # its presynaptic source in every group (order -2(C-c)-3), then is summed (order -2(C-c)-2), so a later
    # current's source may read an earlier current (dale_norm's steady inhibition: phi(I_rec_E + I_in)); then
    # the pool: its own source if it has one (order -3, after every current), its units (-2), its output (-1).
    objects = [g for g, _, _ in groups.values()]
    filled = set()
    n_cur = len(model.currents)
    for c, current in enumerate(model.currents):
        order = -2 * (n_cur - c) - 3
        if current.needs_source and current.source not in filled:
            filled.add(current.source)
            for pop, (group, _, _) in groups.items():
                group.run_regularly(f"{current.source} = {current.expression}", when="groups", order=order,
                                    name=f"source_{current.source}_{pop}")
        pre = bcell.presynaptic[current.name]
        pre_group, pre_units, _ = groups[pre]
        for post, (post_group, post_units, _) in groups.items():
            w = w_rec[post_units, pre_units]   # one gate block: the currents split w_rec by presynaptic population
            if coupling == "synapses":
                syn = _synapses_between(pre_group, post_group, current, w, trials, f"recurrent_{pre}_to_{post}")
                syn.summed_updaters[f"{current.name}_post"].order = order + 1
                objects.append(syn)
            else:
                objects.append(NetworkOperation(
                    _matmul_between(pre_group, post_group, current, w, trials), clock=post_group.clock,
                    when="groups", order=order + 1, name=f"recurrent_matmul_{pre}_to_{post}"))
    if bcell.pool is not None:
        objects += _pool_objects(network, bcell.pool, model, groups, trials, coupling, dt_sim)
    first = objects[0]
    draws = _draw_objects(objects, [g for g, _, _ in groups.values()], z_vars)
    return Assembly(Network(*objects), first, model, trials, n_rec, dt_sim, zero_terms,
                     groups=tuple((g, units) for g, units, _ in groups.values()), dtype=dtype, draws=draws)


def _pool_objects(network, pool, model: NeuronModel, groups: dict, trials: int, coupling: str,
                  dt_sim: float) -> list:
    """The instantaneous pool of a cell (dale_norm's divisive pool, :class:`~neurorx.models.cells.Brian2Pool`).

    A group ``"pool"`` of ``B*k`` units (``trial`` and the summed variable ``p``), filled from the presynaptic
    population's source variable through the weights ``network.weights[pool.weight]`` (``"pool_in"``,
    :math:`p_k = \\sum_j U_{kj} s_j`) after every current (order -2; a source that is none of the currents'
    is filled into :data:`~neurorx.backends.brian2_equations.POOL_SOURCE` at order -3), then summed into the target's
    ``pool.current`` with the fixed weight :math:`1/k` (``"pool_out"``, :math:`\\frac1k\\sum_k p_k^2`) together with
    the recurrent currents (order -1). Network operations ``pool_in_matmul`` / ``pool_out_matmul`` for
    ``coupling="matmul"``.
    """
    u = np.asarray(network.weights[pool.weight], dtype=np.float64)
    k = u.shape[0]
    pre_group, _, _ = groups[pool.presynaptic]
    post_group, _, n_post = groups[pool.target]
    if POOL_SOURCE in pre_group.variables:    # neuron_model gave the pool its own signal: filled after every current
        source = POOL_SOURCE
        pre_group.run_regularly(f"{POOL_SOURCE} = {pool.source}", when="groups", order=-3,
                                name=f"source_{POOL_SOURCE}")
    else:                                     # a plain variable, or a current's source
        source = next((c.source for c in model.currents if c.expression == pool.source), pool.source.strip())
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
        Seed of the input noise, of the initial Ornstein–Uhlenbeck state and of the Gaussian draws of the
        run (the network operation ``"gaussian_draws"``, :mod:`~neurorx.backends.brian2.draws`).

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
      units' drive ``src_pool = I_rec_E + I_in`` (``pool_input="drive"``) or their rates (``"rates"``) through
      ``w_div`` (``"pool_in"``) and feeding ``I_div`` = :math:`\\frac1k\\sum_k p_k^2` into
      ``neurons_E`` (``"pool_out"``, weights :math:`1/k`; ``"pool_in_matmul"``, ``"pool_out_matmul"`` for
      ``coupling="matmul"``), whose drift divides the drive by :math:`\\sqrt{I_{div} + \\epsilon}`.
    - ``dale_norm``, ``dale_subnorm`` with ``inhibition="steady"``: ``I_rec_I`` sums the I units' steady rates
      ``src_I_rec_I = phi(I_rec_E + I_in)``, filled after ``I_rec_E`` is summed, and the I group's drift is
      ``-h + phi(I_rec_E + I_in)``.

    Building compiles nothing: on the runtime device the synapses are connected (and the state set) with
    Brian2's numpy target, as the backend's own runs build; ``net.run`` compiles for the target in effect then.

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
    # connecting synapses runs generated code once: numpy compiles nothing (the run's target is the caller's)
    building = (contextlib.nullcontext() if is_standalone()
                else brian2_prefs("numpy", None, prefs["core.default_float_dtype"]))
    with building:
        assembly = assemble(network, trials, dt_factor, coupling, recurrent, _input_values(x), arrays)
        assembly.set_state(np.zeros((trials, n_rec)) if h0 is None else h0)
        assembly.set_noise({m.name: m for m in recurrent}, generator)
    if assembly.draws is not None:
        assembly.draws.reseed(numpy_rng(seed, _BUILD, 1))
    return assembly.net
