"""The ``"brian2-spiking"`` backend: a trained rate network run as spiking populations in Brian2.

>>> rec = protocol.run(net, backend="brian2-spiking", trials=200, seed=0, neuron="lif", per_unit=16)  # doctest: +SKIP

Population code (vanilla cell, :math:`\\tau\\dot h = -h + \\phi(z)`, :math:`z = W_{rec}h + W_{in}x + b`):
unit :math:`i` becomes :math:`M` neurons firing at :math:`\\nu_{max}\\phi(z_i)/r` and :math:`h_i` is their
population spike train :math:`S_i` filtered with the network's own :math:`\\tau`,

.. math:: \\tau\\,\\dot h_i = -h_i + \\frac{r}{M\\,\\nu_{max}}\\,S_i(t),

so :math:`E[h]` obeys the rate equation and at :math:`M \\to \\infty` the spiking network is the rate
network. The Dale cell (:math:`\\tau\\dot h = -h + \\phi(W[h]_+ + u)`) maps the same way: E units and I units
become separate spiking groups, and a neuron's sign is its unit's column sign of :math:`W_{rec}`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import brian2
import numpy as np
import torch
from brian2 import EventMonitor, NetworkOperation, second

from neurorx.backends.base import BACKENDS, Chunk, Segment, SimulationError, check_dt_factor, check_finite
from neurorx.backends.brian2.codegen import brian2_prefs
from neurorx.backends.brian2_equations import noise_prefix
from neurorx.backends.brian2_spiking.assembly import SpikingAssembly, assemble, rate_terms
from neurorx.backends.brian2_spiking.settings import SpikingSettings, spiking_settings
from neurorx.checks import positive_int
from neurorx.noise import NoiseModel, NoiseStream, NoNoise, add_increments
from neurorx.seeds import derive_seed, numpy_rng

__all__ = ["SpikeChunk", "SpikingBackend", "simulate"]

_INPUT, _STATE, _RUN, _LIF_START = 301, 302, 303, 304   # seed purposes of this backend


@dataclass(frozen=True, eq=False)
class SpikeChunk(Chunk):
    """A :class:`~neurorx.backends.Chunk` plus the spikes of its steps.

    ``spikes`` maps ``"t"`` (physical seconds from the run's start), ``"trial"``, ``"neuron"`` (``unit*M +
    k`` within the trial) and ``"count"`` (spikes in that bin) to arrays; ``stats`` holds counters of the chunk.
    """

    spikes: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)


def _segment_noise(seg: Segment, settings: SpikingSettings, dt: float) -> tuple[NoiseModel, NoiseModel, float, float]:
    """(recurrent model, input model, recurrent mean drift per second, input mean per sample) of a segment."""
    noise = dict(seg.noise or {})
    rec, inp = noise.get("recurrent", NoNoise()), noise.get("input", NoNoise())
    if settings.noise == "off":
        return NoNoise(), NoNoise(), 0.0, 0.0
    if settings.noise == "mean":
        mean_rec = 0.0 if rec.is_zero else rec.step_moments(dt)[0] * settings.noise_scale / dt
        mean_in = 0.0 if inp.is_zero else inp.step_moments(dt)[0] * settings.noise_scale
        return NoNoise(), NoNoise(), mean_rec, mean_in
    if settings.noise_scale != 1.0:
        rec, inp = rec.scaled(settings.noise_scale), inp.scaled(settings.noise_scale)
    return rec, inp, 0.0, 0.0


class _Recorder:
    """Copies the traces at the unit-clock ticks that end training steps, and counts rate statistics."""

    def __init__(self, assembly: SpikingAssembly, substeps: int, settings: SpikingSettings):
        self.h = assembly.units.variables["h"].get_value().reshape(assembly.trials, assembly.n_rec)
        self.rate = assembly.units.variables["rate"].get_value()
        self.substeps = substeps
        self.peak = settings.max_rate / settings.r_scale
        self.top = self.peak * (1 + settings.lif.gain_spread) if settings.neuron == "lif" else self.peak
        self.limit = (0.95 / settings.lif.t_ref) if settings.neuron == "lif" else 1.0 / settings.spike_dt
        self.ticks = 0
        self.buffer = np.empty((0,))
        self.row = 0
        self.over = 0
        self.seen = 0

    def start(self, rows: int) -> None:
        self.buffer = np.empty((self.h.shape[0], rows, self.h.shape[1]))
        self.row = 0
        self.ticks = 0

    def tick(self) -> None:
        """At the start of a unit tick: the state after the previous training step, once per training step."""
        if self.ticks and self.ticks % self.substeps == 0:
            self.buffer[:, self.row] = self.h
            self.row += 1
        self.ticks += 1

    def count_rates(self) -> None:
        """After the rates of a unit tick are set: count unit-steps whose fastest neuron exceeds the limit."""
        self.over += int(np.count_nonzero(self.rate * self.top >= self.limit))
        self.seen += self.rate.size

    def finish(self) -> None:
        self.buffer[:, self.row] = self.h
        self.row += 1


@contextlib.contextmanager
def _brian2_prefs(target: str):
    """:func:`~neurorx.backends.brian2.codegen.brian2_prefs` (target, float64, the cheap ``gc`` in ``run()``),
    with Brian2's dt-mismatch message for the delivery synapses silenced (they run on the spike clock on purpose).
    """
    logger = logging.getLogger("brian2.synapses.synapses.synapses_dt_mismatch")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with brian2_prefs(target, None):
            yield
    finally:
        logger.setLevel(level)


def _pick_target(net, target: str) -> str:
    if target == "numpy":
        return "numpy"
    try:
        with _brian2_prefs("cython"):
            net.run(0 * second, namespace={})
        return "cython"
    except Exception as err:   # no compiler: numpy unless cython was asked for
        if target == "cython":
            raise SimulationError(f"Brian2 could not compile the spiking network with cython ({type(err).__name__}: "
                                  f"{err}); install a C compiler or pass target='numpy'") from err
        return "numpy"


def simulate(network, segments: Sequence[Segment], *, trials: int, seed: int, dt_factor: int = 1,
             chunk_steps: int = 100, dtype: str = "float64", record_spikes: bool = False, target: str = "auto",
             **options) -> Iterator[SpikeChunk]:
    """Simulate ``segments`` of ``network`` as spiking populations; yield traces (and spikes) chunk by chunk.

    Parameters
    ----------
    network : RateNetwork
        A vanilla or dale network with a non-negative activation.
    segments : sequence of Segment
    trials, seed, dt_factor, chunk_steps
        As for every backend; the unit step is ``step_duration / dt_factor``.
    dtype : {"float64"}
        Only float64.
    record_spikes : bool
        Return the spikes of ``spike_trials`` (set by :meth:`neurorx.Protocol.run` for ``record=("spikes",)``).
    target : {"auto", "cython", "numpy"}
        Brian2 code-generation target (auto: cython if it compiles).
    **options
        The spiking options of :func:`~neurorx.backends.brian2_spiking.settings.spiking_settings`:
        ``neuron``, ``per_unit``, ``max_rate``, ``r_scale``, ``step_duration``, ``spike_dt``, ``tau_syn``,
        ``noise``, ``noise_scale``, ``tau_m``, ``t_ref``, ``gain_spread``, ``lif_scale``, ``spike_trials``.

    Yields
    ------
    SpikeChunk
        The traces ``h`` (B, n, N) after each training step (the population rates in the rate network's units)
        and, when recorded, the chunk's spikes.

    Notes
    -----
    A unit step of the traces is the Euler step of the rate backend with the activation term replaced by the
    spikes delivered during the step: :math:`h_{n+1} = h_n - \\frac{\\delta}{\\tau}h_n + \\text{noise} +
    \\frac{r}{M\\nu_{max}\\tau}K_n`, :math:`K_n` the unit's spikes in the step, :math:`E[K_n] =
    M\\nu_{max}\\phi(z_n)\\delta/r`. So at ``dt_factor=1`` the mean step is the torch step exactly, and the
    spike count's variance :math:`M\\nu\\delta` makes the trace's shot noise fall like :math:`1/\\sqrt M`.
    ``noise="mean"`` replaces each injected noise by its mean (recurrent: a drift :math:`\\mu/D` per second,
    :math:`\\mu` the mean increment per training step :math:`D`; input: the mean sample added to the inputs).
    Brian2's random numbers are seeded (``brian2.seed``) before every ``run()`` from ``seed``, the segment and
    the chunk, and the LIF start potentials from ``seed``: a seed reproduces the spike trains exactly.
    """
    trials = positive_int(trials, "trials")
    dt_factor = check_dt_factor(dt_factor)
    chunk_steps = positive_int(chunk_steps, "chunk_steps")
    if dtype not in ("float64", np.float64):
        raise ValueError(f"the brian2-spiking backend runs in float64 only; got dtype={dtype!r}")
    if target not in ("auto", "cython", "numpy"):
        raise ValueError(f"target must be 'auto', 'cython' or 'numpy'; got {target!r}")
    settings = spiking_settings(network, trials=trials, dt_factor=dt_factor, **options)
    rate_terms(network)
    segments = list(segments)
    if not segments:
        return
    n_in, n = network.n_in, network.n_rec
    dt_unit = network.dt / dt_factor
    plans, xs = [], []
    for s, seg in enumerate(segments):
        if seg.h0 is None and s == 0:
            raise ValueError(f"segment 0 ({seg.name!r}) continues from a previous state, but it is the first; "
                             "give it an h0")
        x = np.asarray(seg.inputs, dtype=np.float64)
        if x.shape != (trials, seg.steps, n_in):
            raise ValueError(f"segment {s} ({seg.name!r}): inputs have shape {x.shape}; expected "
                             f"{(trials, seg.steps, n_in)}")
        try:
            rec, inp, mean_rec, mean_in = _segment_noise(seg, settings, network.dt)
        except (NotImplementedError, ValueError) as err:
            raise ValueError(f"segment {s} ({seg.name!r}): noise={settings.noise!r} needs the noise's step "
                             f"moments ({err})") from None
        if not inp.is_zero:
            gen = torch.Generator().manual_seed(derive_seed(seed, _INPUT, s, bits=64))
            inp.check_run(seg.steps, (trials, n_in), network.dt)
            x = add_increments(x, NoiseStream(inp, (trials, n_in), network.dt, gen).draw(seg.steps), time_axis=1)
        xs.append(x + mean_in)
        steps = seg.steps * dt_factor
        rec.check_run(steps, (trials, n), dt_unit)
        arrays = {} if rec.is_zero else rec.brian2_terms(noise_prefix(rec), dt=dt_unit, steps=steps,
                                                         shape=(trials, n)).arrays
        plans.append((rec, mean_rec, arrays))

    models = [p[0] for p in plans if not p[0].is_zero]
    names: dict[str, int] = {}
    for (_, _, arrays) in plans:
        for name, (values, _unit) in arrays.items():
            names.setdefault(name, values.shape[1])
    noise_arrays = {}
    for name, cols in names.items():
        unit = next(a[name][1] for (_, _, a) in plans if name in a)
        noise_arrays[name] = (np.concatenate([a[name][0] if name in a else np.zeros((seg.steps * dt_factor, cols))
                                              for (_, _, a), seg in zip(plans, segments, strict=True)]), unit)
    x_all = np.concatenate(xs, axis=1)
    x_values = np.ascontiguousarray(x_all.transpose(1, 0, 2).reshape(x_all.shape[1], trials * n_in))
    from neurorx.backends.brian2_backend import euler_sorted_draws

    with _brian2_prefs("numpy"):
        asm = assemble(network, settings, trials, dt_factor, models, x_values, noise_arrays,
                       numpy_rng(seed, _LIF_START), euler_sorted_draws)
    rho = settings.step_duration / network.dt
    recorder = _Recorder(asm, dt_factor, settings)
    asm.net.add(NetworkOperation(recorder.tick, clock=asm.units.clock, when="start", name="trace_recorder"))
    asm.net.add(NetworkOperation(recorder.count_rates, clock=asm.units.clock, when="groups", order=-1,
                                 name="rate_counter"))
    monitors = []
    if record_spikes:
        chosen = range(trials) if settings.spike_trials is None else settings.spike_trials
        for group, first, n_p in asm.spikes:
            per_trial = n_p * settings.per_unit
            recorded = np.zeros(trials * per_trial, dtype=bool)
            recorded.reshape(trials, per_trial)[list(chosen)] = True
            group.recorded = recorded
            mon = EventMonitor(group, "recorded_spike", variables=["k"], name=f"monitor_{group.name}")
            asm.net.add(mon)
            monitors.append((mon, first, per_trial, [0]))
    used = _pick_target(asm.net, target)
    zero_terms = {m.name: m.scaled(0.0).brian2_terms(asm.model.noise_prefixes[m.name]) for m in models}
    for s, (seg, (rec, mean_rec, _arrays)) in enumerate(zip(segments, plans, strict=True)):
        with _brian2_prefs(used):
            if seg.h0 is not None:
                asm.units.h_ = np.asarray(seg.h0, dtype=np.float64).reshape(-1)
                if settings.tau_syn is not None:
                    asm.units.s_ = np.clip(np.asarray(seg.h0, dtype=np.float64), 0, None).reshape(-1)
            _set_noise(asm, {} if rec.is_zero else {rec.name: rec}, zero_terms, trials, n, dt_unit,
                       torch.Generator().manual_seed(derive_seed(seed, _STATE, s, bits=64)))
            asm.units.mean_drift_ = mean_rec
        for start in range(0, seg.steps, chunk_steps):
            steps = min(chunk_steps, seg.steps - start)
            recorder.start(steps)
            recorder.over = recorder.seen = 0
            brian2.seed(derive_seed(seed, _RUN, s, start))
            with _brian2_prefs(used):
                asm.net.run(steps * network.dt * second, namespace={})
            recorder.finish()
            if recorder.row != steps:
                raise SimulationError(f"phase {seg.name!r}: recorded {recorder.row} steps from step {start}, "
                                      f"expected {steps}")
            h = recorder.buffer
            check_finite(h, seg, start, network.dt)
            spikes = _new_spikes(monitors, n, settings.per_unit, rho) if record_spikes else {}
            stats = {"rate_over_limit": recorder.over, "unit_steps": recorder.seen}
            yield SpikeChunk(s, start, h, spikes=spikes, stats=stats)


def _new_spikes(monitors, n: int, m: int, rho: float) -> dict:
    """The spikes the monitors gathered since the last call, in the recording's layout."""
    parts = {"t": [], "trial": [], "neuron": [], "count": []}
    for mon, first, per_trial, seen in monitors:
        i = np.asarray(mon.i[:])[seen[0]:]
        t = np.asarray(mon.t_[:])[seen[0]:] * rho
        k = np.asarray(mon.k[:])[seen[0]:]
        seen[0] += len(i)
        parts["t"].append(t)
        parts["trial"].append((i // per_trial).astype(np.int32))
        parts["neuron"].append((first * m + i % per_trial).astype(np.int32))
        parts["count"].append(k.astype(np.int32))
    return {key: np.concatenate(v) if v else np.zeros(0) for key, v in parts.items()}


def _set_noise(asm: SpikingAssembly, active: dict, zero_terms: dict, trials: int, n: int, dt: float,
               generator) -> None:
    """Set the units' injected-noise parameters: ``active`` type -> model, every other type zero."""
    for kind, prefix in asm.model.noise_prefixes.items():
        model = active.get(kind)
        terms = zero_terms[kind] if model is None else model.brian2_terms(prefix)
        for param, (value, _unit) in terms.parameters.items():
            setattr(asm.units, f"{param}_", value)
        state = asm.model.noise_states.get(kind)
        if state is None:
            continue
        if model is None:
            setattr(asm.units, f"{state}_", 0.0)
        else:
            eta = model.initial_state((trials * n,), dt, generator, torch.float64)
            setattr(asm.units, f"{state}_", np.asarray(eta, dtype=np.float64))


class SpikingBackend:
    """The ``"brian2-spiking"`` backend object registered in :data:`neurorx.backends.BACKENDS`.

    See :func:`simulate`. ``records`` names what it can record besides ``h``/``y`` (``"spikes"``), ``dtypes`` the
    float dtypes it runs in (float64 only).
    """

    name = "brian2-spiking"
    records = ("spikes",)
    dtypes = ("float64",)
    options = ("neuron", "per_unit", "max_rate", "r_scale", "step_duration", "spike_dt", "tau_syn", "noise",
               "noise_scale", "tau_m", "t_ref", "gain_spread", "lif_scale", "spike_trials", "target", "dtype")

    def unsupported(self, network) -> str | None:
        """Why ``network`` cannot run as spikes (one line), or ``None`` if it can."""
        try:
            rate_terms(network)
        except ValueError as err:
            return str(err)
        return None

    def check_options(self, network, *, trials: int, dt_factor: int = 1, **options) -> None:
        """Refuse bad spiking options in one line before anything runs (a sweep spec, when it is read).

        ``network`` needs ``dt``, ``n_rec``, ``cell_object``, ``cell`` and ``activation`` (a sweep checks against
        its cards before training): a cell that cannot be spiked (the GRU's gates) is refused here too.
        """
        opts = {k: v for k, v in options.items() if k not in ("target", "dtype", "memory_budget", "record_spikes")}
        spiking_settings(network, trials=trials, dt_factor=check_dt_factor(dt_factor), **opts)
        rate_terms(network)

    def spike_trains(self, collector, network, trials: int, dt_factor: int, options: dict):
        """The :class:`~neurorx.spike_trains.SpikeTrains` of a run from the spikes its chunks carried."""
        opts = {k: v for k, v in options.items() if k not in ("target", "dtype", "memory_budget")}
        s = spiking_settings(network, trials=trials, dt_factor=dt_factor, **opts)
        chosen = range(trials) if s.spike_trials is None else s.spike_trials
        return collector.result(chosen, s.per_unit, network.n_rec, s.spike_dt, s.step_duration)

    def simulate(self, network, segments, *, trials, seed, dt_factor=1, chunk_steps=100, dtype="float64",
                 **options) -> Iterator[SpikeChunk]:
        """Yield chunks of traces (and spikes); see :func:`neurorx.backends.brian2_spiking.run.simulate`."""
        settings = {**options}
        trials = positive_int(trials, "trials")
        # checked here, before the generator starts: a bad setting fails at the call, not at the first chunk
        spiking_settings(network, trials=trials, dt_factor=check_dt_factor(dt_factor),
                         **{k: v for k, v in settings.items() if k not in ("target", "record_spikes")})
        rate_terms(network)
        return simulate(network, segments, trials=trials, seed=seed, dt_factor=dt_factor, chunk_steps=chunk_steps,
                        dtype=dtype, **settings)


BACKENDS.add("brian2-spiking", SpikingBackend())
