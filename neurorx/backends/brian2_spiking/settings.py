"""The settings of a spiking run: what each option means, and the checks that refuse impossible ones.

Every check runs before anything is built and raises one :class:`~neurorx.errors.ConfigurationError` line
naming the option and the fix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from brian2 import Hz
from brian2.units.fundamentalunits import Quantity, get_dimensions

from neurorx.errors import ConfigurationError
from neurorx.registry import Registry
from neurorx.resources import check_memory
from neurorx.units import parse_time

__all__ = ["DEFAULT_LIF_TAU_M_CURRENT", "DEFAULT_LIF_TAU_M_RATE", "NEURON_MODELS", "NOISE_MODES", "LIFParams",
           "SpikingSettings", "spiking_settings"]

NEURON_MODELS: Registry[str] = Registry("spiking neuron model")
NEURON_MODELS.add("poisson", "inhomogeneous Poisson neurons: per-step spike counts at rate max_rate*phi/r_scale")
NEURON_MODELS.add("lif", "leaky integrate-and-fire neurons with refractoriness, heterogeneous gains")

NOISE_MODES: Registry[str] = Registry("spiking noise mode")
NOISE_MODES.add("keep", "the network's injected noise as in a rate run (times noise_scale)")
NOISE_MODES.add("mean", "the injected noise reduced to its mean drift: spiking variability is the only noise")
NOISE_MODES.add("off", "no injected noise at all (mean removed too)")

#: Default peak rate: the rate of a neuron whose unit's activation equals ``r_scale``.
DEFAULT_MAX_RATE = 20.0
#: Default spike step of LIF neurons (seconds; the membrane needs a fine step).
DEFAULT_LIF_DT = 0.5e-3
#: Default membrane time constant (seconds) of rate-matched LIF neurons: long against every inter-spike interval,
#: so that the population rate follows phi within a network step (see :class:`LIFParams`).
DEFAULT_LIF_TAU_M_RATE = 10.0
#: Default membrane time constant (seconds) of current-driven LIF neurons (Kim, Li & Sejnowski 2019).
DEFAULT_LIF_TAU_M_CURRENT = 20e-3


@dataclass(frozen=True)
class LIFParams:
    """Leaky integrate-and-fire neurons (dimensionless potential: rest and reset 0, threshold 1).

    Attributes
    ----------
    tau_m : float
        Membrane time constant (seconds). Default: :data:`DEFAULT_LIF_TAU_M_RATE` (10 s) for the rate-matched
        drive, :data:`DEFAULT_LIF_TAU_M_CURRENT` (20 ms) for the current drive.
    t_ref : float
        Absolute refractory period (seconds).
    gain_spread : float
        Gains of the ``M`` neurons of a unit spread evenly over ``[1 - s, 1 + s]`` (mean exactly 1).
    scale : float or None
        ``None``: rate-matched drive (each neuron gets the current that makes its stationary rate
        ``gain * max_rate * phi / r_scale``). A number ``lambda``: current drive ``J = 1 + gain*lambda*z`` from
        the unit's pre-activation ``z`` (the one-to-one mapping of Kim, Li & Sejnowski 2019, with their scaling
        factor; :func:`~neurorx.backends.brian2_spiking.search_scale` searches it).

    Notes
    -----
    Below threshold :math:`\\tau_m \\dot v = J - v`; at :math:`v > 1` a spike, :math:`v \\leftarrow 0` and
    :math:`t_{ref}` of silence. For constant :math:`J > 1` the rate is

    .. math:: G(J) = \\left[t_{ref} + \\tau_m \\ln\\frac{J}{J - 1}\\right]^{-1},

    and its inverse :math:`G^{-1}(\\nu) = [1 - e^{-(1/\\nu - t_{ref})/\\tau_m}]^{-1}` (for
    :math:`0 < \\nu < 1/t_{ref}`) is the rate-matched drive. On the spike clock (step :math:`\\delta`) a spike is
    stamped at the start of the step in which :math:`v` crosses 1 and integration resumes :math:`t_{ref}` after
    that stamp, so the mean inter-spike interval is :math:`t_{ref} + \\tau_m\\ln\\frac{J}{J-1} - \\delta/2`; the
    rate-matched drive is calibrated for it (:math:`t_{ref} - \\delta/2` in place of :math:`t_{ref}` in
    :math:`G^{-1}`).

    The rate-matched drive sets each neuron's *stationary* rate. A population follows a change of drive within
    one network step only if its membranes integrate without leaking over an inter-spike interval
    (:math:`\\tau_m \\gg 1/\\nu`): a perfect integrator's phases stay uniform, so its population rate is
    :math:`\\nu` at once, while a leaky membrane's stationary potentials depend on :math:`J` and re-settle only over
    about one interval (many 20 ms steps at 5-20 Hz). Hence the long default ``tau_m`` of the rate-matched drive.
    """

    tau_m: float = 10.0
    t_ref: float = 2e-3
    gain_spread: float = 0.5
    scale: float | None = None


@dataclass(frozen=True)
class SpikingSettings:
    """The checked options of one spiking run (times in physical seconds).

    Attributes
    ----------
    neuron : str
        A registered neuron model (:data:`NEURON_MODELS`).
    per_unit : int
        Neurons per rate unit, ``M``.
    max_rate : float
        Rate (Hz) of a neuron whose unit's activation equals ``r_scale``.
    r_scale : float
        The activation value that maps to ``max_rate``.
    step_duration : float
        Physical duration of one network step (default: the network's training step).
    spike_dt : float
        The spiking neurons' time step (physical seconds); a whole fraction of the unit step.
    tau_syn : float or None
        An extra synaptic filter on top of the network's ``tau`` (off by default).
    noise : str
        A registered noise mode (:data:`NOISE_MODES`).
    noise_scale : float
        Factor on the injected noise (``noise="keep"``) or on its mean (``noise="mean"``).
    lif : LIFParams
    spike_trials : tuple of int or None
        Trials whose spikes are recorded (``None``: all).
    """

    neuron: str
    per_unit: int
    max_rate: float
    r_scale: float
    step_duration: float
    spike_dt: float
    tau_syn: float | None
    noise: str
    noise_scale: float
    lif: LIFParams
    spike_trials: tuple[int, ...] | None


def _positive(value, name: str, fix: str, *, zero_ok: bool = False) -> float:
    if isinstance(value, Quantity):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError(f"{name} must be a number; got {value!r}. {fix}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
        raise ConfigurationError(f"{name} must be {'non-negative' if zero_ok else 'positive'} and finite; got "
                                 f"{value!r}. {fix}")
    return value


def _rate(value) -> float:
    if isinstance(value, Quantity):
        if get_dimensions(value) != get_dimensions(Hz):
            raise ConfigurationError(f"max_rate must be a rate (e.g. 20*Hz or 20); got {value!r}")
        value = float(value)
    return _positive(value, "max_rate", "Give the peak rate in Hz, e.g. max_rate=20.")


def _time(value, name: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and value <= 0:
        raise ConfigurationError(f"{name} must be a positive time; got {value!r}. Give e.g. '20 ms'.")
    return parse_time(value, name)


def _spike_trials(value, trials: int) -> tuple[int, ...] | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise ConfigurationError(f"spike_trials must be at least 1 (record the spikes of the first K trials); "
                                     f"got {value}. Leave it out to record every trial")
        value = range(value)
    try:
        chosen = sorted({int(v) for v in value})
    except (TypeError, ValueError):
        raise ConfigurationError(f"spike_trials must be a number of trials or a list of trial indices; got "
                                 f"{value!r}") from None
    bad = [b for b in chosen if not 0 <= b < trials]
    if bad:
        raise ConfigurationError(f"spike_trials {bad} are not trials of this run (0 .. {trials - 1})")
    return tuple(chosen)


#: Lower bound on the memory of one spiking neuron in Brian2 (its state variables and its synapse onto its
#: unit, float64 and int32 arrays), for the estimate made before anything is built.
BYTES_PER_NEURON = 64


def spiking_settings(network, *, trials: int, dt_factor: int = 1, neuron: str = "poisson", per_unit=16,
                     max_rate=DEFAULT_MAX_RATE, r_scale=1.0, step_duration=None, spike_dt=None, tau_syn=None,
                     noise: str = "keep", noise_scale=1.0, tau_m=None, t_ref=2e-3, gain_spread=0.5,
                     lif_scale=None, spike_trials=None) -> SpikingSettings:
    """Check every spiking option; return :class:`SpikingSettings` or raise one clear line.

    Refused: an unknown neuron model or noise mode, ``per_unit < 1``, more neurons (``n_rec * per_unit *
    trials``, at least ``BYTES_PER_NEURON`` bytes each) than fit in memory, ``spike_trials < 1``, non-positive
    rates, scales or time constants, a negative ``tau_syn``, a spike step that is not a whole fraction of the
    unit step, Poisson settings with ``max_rate * spike_dt >= 1`` (more than one spike per neuron and bin at
    the peak rate: not a spike train at that resolution) and LIF settings whose fastest neuron would need a
    rate at or above ``1/t_ref``.
    """
    NEURON_MODELS.get(neuron)
    NOISE_MODES.get(noise)
    if isinstance(per_unit, bool) or not isinstance(per_unit, int) or per_unit < 1:
        raise ConfigurationError(f"per_unit must be an integer >= 1 (neurons per rate unit, M); got {per_unit!r}")
    neurons = float(network.n_rec) * per_unit * trials
    check_memory(neurons * BYTES_PER_NEURON, f"{neurons:,.0f} spiking neurons ({network.n_rec} units x per_unit "
                 f"{per_unit:,} x {trials:,} trials)", "use fewer neurons per unit (--per-unit) or fewer trials")
    max_rate = _rate(max_rate)
    r_scale = _positive(r_scale, "r_scale", "It is the activation value that fires at max_rate, e.g. 1.0.")
    noise_scale = _positive(noise_scale, "noise_scale", "Use 1 to keep the injected noise, 0 to remove it.",
                            zero_ok=True)
    step = network.dt if step_duration is None else _time(step_duration, "step_duration")
    dt_unit = step / dt_factor
    if tau_syn is not None:
        if isinstance(tau_syn, int | float) and not isinstance(tau_syn, bool) and tau_syn < 0:
            raise ConfigurationError(f"tau_syn must be a positive time or None (no extra synaptic filter); got "
                                     f"{tau_syn!r}")
        tau_syn = _time(tau_syn, "tau_syn")
    if tau_m is None:
        tau_m = DEFAULT_LIF_TAU_M_RATE if lif_scale is None else DEFAULT_LIF_TAU_M_CURRENT
    else:
        tau_m = _time(tau_m, "tau_m")
    lif = LIFParams(tau_m=tau_m, t_ref=_time(t_ref, "t_ref"),
                    gain_spread=_positive(gain_spread, "gain_spread", "Use a spread in [0, 1).", zero_ok=True),
                    scale=None if lif_scale is None else _positive(lif_scale, "lif_scale",
                                                                    "It is Kim et al.'s lambda, e.g. 20."))
    if lif.gain_spread >= 1:
        raise ConfigurationError(f"gain_spread must be below 1 (gains spread over [1-s, 1+s]); got {gain_spread!r}")
    if spike_dt is None:
        sub = 1 if neuron == "poisson" else max(1, math.ceil(dt_unit / DEFAULT_LIF_DT - 1e-9))
    else:
        want = _time(spike_dt, "spike_dt")
        sub = round(dt_unit / want)
        if sub < 1 or abs(sub * want - dt_unit) > 1e-9 * dt_unit:
            raise ConfigurationError(f"spike_dt = {want:g} s must divide the unit step {dt_unit:g} s (step_duration/"
                                     f"dt_factor) a whole number of times, e.g. spike_dt={dt_unit / 10:g}")
    spike_dt = dt_unit / sub
    if neuron == "poisson" and max_rate * spike_dt >= 1:
        raise ConfigurationError(
            f"max_rate*spike_dt = {max_rate:g} Hz * {spike_dt:g} s = {max_rate * spike_dt:.3g} >= 1: a neuron at the "
            f"peak rate would fire more than once per bin; lower max_rate or refine spike_dt (e.g. "
            f"spike_dt={0.1 / max_rate:g})")
    if neuron == "lif":
        if spike_dt > lif.t_ref:
            raise ConfigurationError(f"spike_dt = {spike_dt:g} s must not exceed the LIF refractory period t_ref = "
                                     f"{lif.t_ref:g} s; refine spike_dt (e.g. spike_dt={lif.t_ref / 4:g})")
        top = max_rate * (1 + lif.gain_spread)
        if lif.scale is None and top * lif.t_ref >= 1:
            raise ConfigurationError(
                f"the fastest LIF neuron would need {top:g} Hz (max_rate*(1+gain_spread)), at or above 1/t_ref = "
                f"{1 / lif.t_ref:g} Hz; lower max_rate or t_ref")
    return SpikingSettings(neuron=neuron, per_unit=per_unit, max_rate=max_rate, r_scale=r_scale,
                           step_duration=step, spike_dt=spike_dt, tau_syn=tau_syn, noise=noise,
                           noise_scale=noise_scale, lif=lif, spike_trials=_spike_trials(spike_trials, trials))
