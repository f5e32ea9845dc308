"""Build the Brian2 objects of a spiking run: unit traces, spiking populations, coupling and spike delivery.

Layout (all trials in one network, trial-major):

- ``"units"``: ``B*N`` rate units on the unit clock (``network.dt / dt_factor``), holding the trace ``h``, the
  recurrent currents, inputs and injected noise (equations from
  :func:`neurorx.backends.brian2_equations.neuron_model`, with the drift's rate term replaced by spikes), and
  ``rate`` = the cell's activation term, computed once per unit step.
- ``"spikes"`` (cells with populations: ``"spikes_E"``, ``"spikes_I"``): ``M`` neurons per unit on the spike
  clock, reading their unit's ``rate`` through a linked variable.
- ``"deliver"`` (``"deliver_E"``, ...): one synapse per neuron onto its own unit, adding ``w*k`` to the trace
  (or to the synaptic variable ``s`` with ``tau_syn``).
- ``"recurrent_matmul"`` (``"recurrent_matmul_<current>"``): one BLAS product per unit step and current on the
  population traces, as the rate backend's ``coupling="matmul"``; no per-neuron recurrent synapses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from brian2 import Network, NetworkOperation, NeuronGroup, Synapses, TimedArray, linked_var, second

from neurorx.activations import get_activation
from neurorx.backends.brian2_equations import INPUT_ARRAY, neuron_model
from neurorx.backends.brian2_spiking.neurons import neuron_gains, spiking_group
from neurorx.backends.brian2_spiking.settings import SpikingSettings
from neurorx.errors import ConfigurationError

__all__ = ["SpikingAssembly", "assemble", "rate_terms"]

_DRIFT = re.compile(r"^-h \+ (?P<rate>.+)$", re.S)


def rate_terms(network) -> tuple[str, str]:
    """The cell's rate and pre-activation expressions, from its drift :math:`F = -h + \\phi(z)`.

    Raises
    ------
    ConfigurationError
        For a cell whose drift is not of that form (the GRU's gates) or with populations of different drifts
        (``dale_norm``), and for an activation that can be negative (a rate cannot).
    """
    cell = network.cell_object
    act = get_activation(network.activation)
    bcell = cell.brian2(act)
    match = _DRIFT.match(bcell.drift.strip())
    if len(cell.gates) != 1 or match is None:
        raise ConfigurationError(
            f"the {network.cell!r} cell cannot be spiked: its drift {bcell.drift!r} is not -h + phi(z) (a gated cell's "
            "state is not a filtered firing rate); use a vanilla or dale network")
    if bcell.population_drift or bcell.pool is not None:
        raise ConfigurationError(f"the {network.cell!r} cell's populations have different drifts (a divisive pool, or "
                                 "inhibitory units at their steady state), which the spiking backend does not map "
                                 "yet; use a vanilla or dale network")
    if network.activation not in ("relu", "sigmoid", "softplus"):
        raise ConfigurationError(
            f"the {network.activation!r} activation can be negative, and a negative rate has no spike train; the "
            "spiking backend needs a non-negative activation (relu, sigmoid, softplus)")
    ident = _DRIFT.match(cell.brian2(get_activation("identity")).drift.strip())
    return match["rate"], ident["rate"]


@dataclass(eq=False)
class SpikingAssembly:
    """The built network and its parts."""

    net: Network
    units: NeuronGroup
    spikes: tuple   # ((NeuronGroup, first unit, units in it), ...)
    model: object   # the units' NeuronModel (noise prefixes and states)
    trials: int
    n_rec: int


def _unit_equations(model, settings: SpikingSettings, rate_expr: str, z_expr: str, drift: str) -> str:
    head = f"dh/dt = ({drift})/tau + "
    lines = model.equations.split("\n")
    if not lines[0].startswith(head):
        raise RuntimeError(f"unexpected unit equation {lines[0]!r}")   # the equations module changed its form
    noise = lines[0][len(head):].rsplit(" : ", 1)[0]
    if settings.tau_syn is None:
        lines[0] = f"dh/dt = -h/tau + mean_drift + {noise} : 1"
    else:
        lines[0] = f"dh/dt = (s - h)/tau + mean_drift + {noise} : 1"
        lines.append("ds/dt = -s/tau_syn : 1")
        lines.append("tau_syn : second (shared, constant)")
    lines += ["rate : 1", "z : 1", "mean_drift : Hz (shared)"]
    return "\n".join(lines)


def assemble(network, settings: SpikingSettings, trials: int, dt_factor: int, noise_models, x_values: np.ndarray,
             noise_arrays: dict, seed_rng: np.random.Generator, method) -> SpikingAssembly:
    """Build every object; ``x_values`` (T, B*n_in), ``noise_arrays`` name -> (values (steps, B*N), unit)."""
    rate_expr, z_expr = rate_terms(network)
    cell = network.cell_object
    bcell = cell.brian2(get_activation(network.activation))
    n, m = network.n_rec, settings.per_unit
    rho = settings.step_duration / network.dt
    dt_unit = network.dt / dt_factor
    model = neuron_model(network.cell, network.activation, network.n_in, noise_models)
    namespace = {}
    if model.n_in:
        namespace[INPUT_ARRAY] = TimedArray(x_values, dt=network.dt * second, name=INPUT_ARRAY)
    for name, (values, unit) in noise_arrays.items():
        namespace[name] = TimedArray(values * unit, dt=dt_unit * second, name=name)
    units = NeuronGroup(trials * n, _unit_equations(model, settings, rate_expr, z_expr, bcell.drift), method=method,
                        dt=dt_unit * second, name="units", namespace=namespace)
    units.tau = network.tau * second
    if settings.tau_syn is not None:
        units.tau_syn = settings.tau_syn / rho * second
    idx = np.arange(trials * n)
    units.trial = idx // n
    units.unit = idx % n
    w_in = np.asarray(network.weights["w_in"], dtype=np.float64)
    bias = np.asarray(network.weights["bias"], dtype=np.float64)
    w_rec = np.asarray(network.weights["w_rec"], dtype=np.float64)
    for inp in model.inputs:
        setattr(units, inp.bias, np.tile(bias[:n], trials))
        for j in range(model.n_in):
            setattr(units, inp.weight(j), np.tile(w_in[:n, j], trials))

    # Unit clock, "groups" slot, before the state update: sources (-4), currents (-3), rate and z (-2).
    objects = [units]
    for current in model.currents:
        if current.needs_source and not any(o.name == f"source_{current.source}" for o in units.contained_objects):
            units.run_regularly(f"{current.source} = {current.expression}", when="groups", order=-4,
                                name=f"source_{current.source}")
    pops = cell.populations(n) or {"": slice(0, n)}
    for current in model.currents:
        pre = bcell.presynaptic.get(current.name)
        cols = pops[pre] if pre is not None else slice(0, n)
        objects.append(NetworkOperation(_matmul(units, current.source, current.name, w_rec[:n, cols], cols, trials,
                                                n), clock=units.clock, when="groups", order=-3,
                                        name=f"recurrent_matmul_{current.name}"))
    units.run_regularly(f"rate = {rate_expr}\nz = {z_expr}", when="groups", order=-2, name="rate")

    # Spiking populations and their delivery onto the units' traces.
    spikes = []
    target = "h" if settings.tau_syn is None else "s"
    tau_w = network.tau if settings.tau_syn is None else settings.tau_syn / rho
    w = settings.r_scale / (m * settings.max_rate * rho * tau_w)   # per spike, in network time
    for pop, cols in pops.items():
        n_p = cols.stop - cols.start
        name = "spikes" + (f"_{pop}" if pop else "")
        group = spiking_group(settings, trials * n_p * m, name, rho, dt_unit)
        i = np.arange(trials * n_p * m)
        unit_index = (i // (n_p * m)) * n + cols.start + (i % (n_p * m)) // m
        group.nu_unit = linked_var(units, "rate", index=unit_index)
        if settings.neuron == "lif":
            group.gain = np.tile(neuron_gains(m, settings.lif.gain_spread), trials * n_p)
            group.v = seed_rng.uniform(0.0, 1.0, size=len(i))   # desynchronised start
            if settings.lif.scale is not None:
                group.z_unit = linked_var(units, "z", index=unit_index)
        deliver = Synapses(group, units, on_pre=f"{target}_post += w_spike*k_pre", dt=group.clock.dt,
                           name="deliver" + (f"_{pop}" if pop else ""), namespace={"w_spike": w})
        deliver.connect(i=i.astype(np.int32), j=unit_index.astype(np.int32))
        objects += [group, deliver]
        spikes.append((group, cols.start, n_p))
    return SpikingAssembly(Network(*objects), units, tuple(spikes), model, trials, n)


def _matmul(units: NeuronGroup, source: str, current: str, w: np.ndarray, cols: slice, trials: int, n: int):
    """``current = source[:, cols] @ w.T`` for all trials in one BLAS call (``w`` torch ``[post, pre]``)."""
    src = units.variables[source].get_value().reshape(trials, n)
    dst = units.variables[current].get_value().reshape(trials, n)
    w_t = np.ascontiguousarray(w.T)
    whole = cols == slice(0, n)

    def matmul():
        with np.errstate(all="ignore"):
            np.matmul(src if whole else src[:, cols], w_t, out=dst)

    return matmul
