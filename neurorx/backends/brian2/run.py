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

Use :func:`simulate` through :meth:`neurorx.Protocol.run` (``backend="brian2"``), or
:func:`~neurorx.backends.brian2.assembly.build_network` to get the Brian2 network itself and add your own monitors.

``dtype="float32"`` builds and runs the network with Brian2's ``core.default_float_dtype`` set to ``float32``
(for that call only): state, parameters, weights and the coupling products are float32. Brian2 keeps ``t``
and ``dt`` in float64, and its ``TimedArray`` too; the Gaussian draws are made in float64 and rounded to float32
(see :func:`simulate`, Notes).

The modules: :mod:`~neurorx.backends.brian2.assembly` builds the network (from the parts in
:mod:`~neurorx.backends.brian2.groups`), :mod:`~neurorx.backends.brian2.codegen` sets Brian2's targets and
compiles, :mod:`~neurorx.backends.brian2.monitors` records the state, and this module runs the phases.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import brian2
import numpy as np
import torch
from brian2 import Network, NetworkOperation, second
from brian2.devices.device import get_device

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
from neurorx.backends.brian2.assembly import COUPLINGS, assemble, build_network, resolve_coupling
from neurorx.backends.brian2.codegen import TARGETS, brian2_prefs, compile_network, euler_sorted_draws, is_standalone
from neurorx.backends.brian2.groups import _float_dtype, _noise_arrays
from neurorx.backends.brian2.inputs import InputWindow, check_input_steps, default_input_steps
from neurorx.backends.brian2.monitors import RECORDER_ORDER, StepRecorder
from neurorx.backends.brian2_equations import INPUT_ARRAY, noise_prefix
from neurorx.noise import PLACEMENTS, NoiseModel, NoNoise
from neurorx.seeds import numpy_rng

__all__ = ["COUPLINGS", "TARGETS", "Brian2Backend", "build_network", "euler_sorted_draws", "resolve_coupling",
           "simulate"]

_INPUT, _STATE, _RUN = 1, 2, 3   # purposes of derived seeds (0: build_network's)

#: The first cython failure of this process ("auto" then uses numpy; see compile_network).
_CYTHON_FAILED: list[str] = []

#: The assembly function ``simulate`` calls (a module-level name, so a test can wrap it).
_assemble = assemble


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


def _segment_inputs(seg: Segment, index: int, trials: int, n_in: int, block: int) -> None:
    """Check a segment's inputs (shape, finite), ``block`` steps at a time (no copy of the whole array)."""
    steps = check_positive_int(seg.steps, f"segment {index} ({seg.name!r}) steps")
    x = seg.inputs
    if np.shape(x) != (trials, steps, n_in):
        raise ValueError(f"segment {index} ({seg.name!r}): inputs have shape {np.shape(x)}; expected "
                         f"(trials, steps, n_in) = ({trials}, {steps}, {n_in})")
    for start in range(0, steps, block):
        if not np.all(np.isfinite(np.asarray(x[:, start:start + block], dtype=np.float64))):
            raise ValueError(f"segment {index} ({seg.name!r}): inputs contain NaN or inf")


def _prepare_segments(network, segments: list[Segment], trials: int, dt_factor: int, block: int):
    """Validate every segment before anything is built; return the input noise and recurrent noise models and
    the recurrent noise's Brian2 arrays, per segment.
    """
    n_in, n_rec = network.n_in, network.n_rec
    dt_sim = network.dt / dt_factor
    input_noise, recurrent, seg_arrays = [], [], []
    for s, seg in enumerate(segments):
        _segment_inputs(seg, s, trials, n_in, block)
        noise = _segment_noise(seg, s)
        if seg.h0 is None and s == 0:
            raise ValueError(f"segment 0 ({seg.name!r}) continues from a previous state, but it is the first; "
                             "give it an h0")
        if seg.h0 is not None and np.shape(seg.h0) != (trials, n_rec):
            raise ValueError(f"segment {s} ({seg.name!r}): h0 has shape {np.shape(seg.h0)}; expected "
                             f"(trials, N) = ({trials}, {n_rec})")
        inp = noise.get("input", NoNoise())
        if not inp.is_zero:
            try:
                inp.check_run(seg.steps, (trials, n_in), network.dt)
            except ValueError as err:
                raise ValueError(f"segment {s} ({seg.name!r}), input noise: {err}") from None
        input_noise.append(inp)
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
    return input_noise, recurrent, seg_arrays


def simulate(network, segments: Sequence[Segment], *, trials: int, seed: int | None, dt_factor: int = 1,
             chunk_steps: int = 100, dtype: str = "float64", coupling: str = "auto", target: str = "auto",
             cache_dir=None, record_every: int = 1, input_steps: int | None = None) -> Iterator[Chunk]:
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
        (for the same ``chunk_steps``, target and Brian2 version; whatever ``input_steps``).
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
    input_steps : int, optional
        Training steps of inputs the run holds at once (its input window, see Notes); ``None``:
        :func:`~neurorx.backends.brian2.inputs.default_input_steps` (a window of at most 8 MB, at most 1024
        steps). Results do not depend on it.

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

    Inputs: the equations read the ``TimedArray`` ``x_in`` at :math:`t - t_0`, and it holds ``input_steps``
    training steps (:class:`~neurorx.backends.brian2.inputs.InputWindow`): before the run reaches a step the
    window does not hold, the window is refilled in place from the segment's inputs (plus its input noise,
    drawn one step at a time) and :math:`t_0` moves to its start; a ``run()`` call is split there. The run's
    memory for inputs is ``8 x B x n_in x input_steps`` bytes, whatever its length, and the generated code
    (which contains the ``TimedArray``'s size) is compiled once for every length.

    The Gaussian numbers of the recurrent noise are drawn once per step by a network operation with numpy's
    ``Generator.standard_normal`` (:mod:`~neurorx.backends.brian2.draws`; the equations read
    them instead of Brian2's ``xi``), reseeded before every ``run()`` with a seed derived from ``seed``, the
    segment and the chunk; Brian2's own generator (``brian2.seed``) is seeded the same way.

    As in the torch backend, noise state starts afresh in every segment: a
    :class:`~neurorx.noise.FrozenNoise` indexes its increments from the start of its segment, and an OU state
    is drawn from its stationary distribution (at the simulation step) at each segment's start.

    ``dtype="float32"``: every float variable of the Brian2 groups (``h``, the currents, weights, biases, noise
    parameters and states), the synaptic weights, the recorded states and the coupling's matrix product
    (one float32 GEMM) are float32, and the inputs and frozen-noise increments are rounded to float32. What
    stays float64, by Brian2's design: ``t`` and ``dt`` (Brian2 PR #981) and the values of a ``TimedArray``
    (stored as float64, holding float32-rounded numbers here); the Gaussian draws are made in float64 and
    rounded to float32 (the float64 run's numbers, rounded). So the generated code evaluates each neuron's
    update in mixed
    precision -- C promotion to double in cython wherever ``dt`` or an input enters, numpy 2's
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
    rows = default_input_steps(trials, network.n_in) if input_steps is None else check_input_steps(input_steps)
    TARGETS.get(target)
    float_dtype = _float_dtype(dtype)
    if is_standalone():
        raise SimulationError(
            "the brian2 backend's simulate() runs on Brian2's runtime device (cython or numpy), but a "
            f"{type(get_device()).__name__} device is set; use build_network(..., coupling='synapses') and run "
            "and build the network yourself, or call brian2.set_device('runtime')"
        )
    resolve_coupling(coupling)
    segments = list(segments)
    if not segments:
        return
    n_rec = network.n_rec
    dt_sim = network.dt / dt_factor
    input_noise, recurrent, seg_arrays = _prepare_segments(network, segments, trials, dt_factor, rows)
    noise_arrays = _noise_arrays(seg_arrays, [seg.steps * dt_factor for seg in segments])
    with brian2_prefs("numpy", cache_dir, float_dtype):  # building (connecting synapses) compiles nothing
        assembly = _assemble(network, trials, dt_factor, coupling, recurrent,
                             np.zeros((rows, trials * network.n_in)), noise_arrays, float_dtype)
    del seg_arrays, noise_arrays
    groups = [g for g, _units in assembly.parts()]
    timed = groups[0].namespace.get(INPUT_ARRAY)
    window = None if timed is None else InputWindow(timed.values, groups, segments, input_noise, seed, _INPUT,
                                                     network.dt, float_dtype)
    recorder = StepRecorder(assembly.parts(), trials, n_rec, dt_factor * record_every)
    assembly.net.add(NetworkOperation(recorder.record, clock=assembly.neurons.clock, when="end",
                                      order=RECORDER_ORDER, name="recorder"))
    used_target = compile_network(assembly.net, target, cache_dir, float_dtype, failures=_CYTHON_FAILED)

    for s, seg in enumerate(segments):
        generator = torch.Generator().manual_seed(derive_seed(seed, _STATE, s, bits=64))
        rec = recurrent[s]
        with brian2_prefs(used_target, cache_dir, float_dtype):
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
            if assembly.draws is not None:
                assembly.draws.reseed(numpy_rng(seed, _RUN, s, start))
            pieces = [n] if window is None else window.pieces(s, start, n, lambda: float(assembly.net.t_))
            with brian2_prefs(used_target, cache_dir, float_dtype):
                for m in pieces:
                    assembly.net.run(m * network.dt * second, namespace={})
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
    options = ("dtype", "coupling", "target", "cache_dir", "input_steps")

    def simulate(self, network, segments, *, trials, seed, dt_factor=1, chunk_steps=100, dtype="float64",
                 **options) -> Iterator[Chunk]:
        """Yield chunks of hidden states; see :func:`neurorx.backends.brian2.run.simulate`."""
        return simulate(network, segments, trials=trials, seed=seed, dt_factor=dt_factor,
                        chunk_steps=chunk_steps, dtype=dtype, **options)

    def build_network(self, network, trials, **options) -> Network:
        """The Brian2 network itself; see :func:`neurorx.backends.brian2.assembly.build_network`."""
        return build_network(network, trials, **options)


BACKENDS.add("brian2", Brian2Backend())
