"""The spiking neurons of a population: their Brian2 groups, and the LIF rate curve.

A rate unit becomes ``M`` neurons reading the unit's activation ``rate`` (a linked variable ``nu_unit``) and,
for LIF current drive, its pre-activation (``z_unit``). All times inside Brian2 are *network* time (one network
step lasts ``network.dt``); physical times are divided by ``rho = step_duration / network.dt`` on the way in.
"""

from __future__ import annotations

import numpy as np
from brian2 import NeuronGroup, second

from neurorx.backends.brian2_spiking.settings import SpikingSettings

__all__ = ["lif_inverse_rate", "lif_rate", "neuron_gains", "spiking_group"]


def lif_rate(j, tau_m: float, t_ref: float) -> np.ndarray:
    """Stationary rate (Hz) of the LIF neuron of :class:`LIFParams` under a constant drive ``j``.

    Notes
    -----
    .. math:: G(J) = [t_{ref} + \\tau_m\\ln(J/(J-1))]^{-1}\\ (J > 1),\\qquad G(J) = 0\\ (J \\le 1)
    """
    j = np.asarray(j, dtype=np.float64)
    out = np.zeros_like(j)
    on = j > 1
    out[on] = 1.0 / (t_ref + tau_m * np.log(j[on] / (j[on] - 1.0)))
    return out


def lif_inverse_rate(nu, tau_m: float, t_ref: float) -> np.ndarray:
    """The drive :math:`G^{-1}(\\nu)` at which the LIF neuron fires at ``nu`` Hz (0 for ``nu <= 0``)."""
    nu = np.asarray(nu, dtype=np.float64)
    out = np.zeros_like(nu)
    on = nu > 0
    out[on] = 1.0 / (1.0 - np.exp(-(1.0 / nu[on] - t_ref) / tau_m))
    return out


def neuron_gains(m: int, spread: float) -> np.ndarray:
    """Gains of the ``m`` neurons of a unit: evenly over ``[1 - spread, 1 + spread]``, mean exactly 1."""
    if m == 1:
        return np.ones(1)
    return 1.0 + spread * (2.0 * (np.arange(m) + 0.5) / m - 1.0)


#: Rates below this (Hz) count as silence for the rate-matched LIF drive.
_NU_MIN = 1e-3


def spiking_group(settings: SpikingSettings, size: int, name: str, rho: float, unit_dt: float) -> NeuronGroup:
    """A ``NeuronGroup`` of ``size`` spiking neurons (network time; ``rho`` = physical seconds per network second;
    ``unit_dt`` the units' step in network seconds).

    Variables: ``nu_unit`` (linked: the unit's activation), ``z_unit`` (linked, LIF current drive only),
    ``gain`` (LIF), ``v`` and its drive ``J`` (LIF; set once per unit step, when the unit's rate changes), ``k``
    (spikes of the last step: Poisson counts, 1 for LIF), ``recorded`` (the neuron's spikes also raise the event
    ``"recorded_spike"``, which a monitor of the recorded trials watches).

    Notes
    -----
    Poisson: each step :math:`k \\sim \\mathrm{Poisson}(\\nu\\,\\delta)`, :math:`\\nu = \\nu_{max}\\,\\phi/r`, a
    spike event when :math:`k > 0` carrying its count (nothing is clipped). LIF rate-matched:
    :math:`J = G_\\delta^{-1}(g\\nu)`, the inverse rate on the spike clock (:math:`t_{ref} - \\delta/2` in place of
    :math:`t_{ref}`, see :class:`~neurorx.backends.brian2_spiking.settings.LIFParams`; rates capped at
    :math:`0.95/t_{ref}`); LIF current drive:
    :math:`J = 1 + g\\lambda z`.
    """
    s = settings
    dt_net = s.spike_dt / rho
    dt = dt_net * second
    factor = s.max_rate * rho / s.r_scale    # spikes per network second per unit of activation
    if s.neuron == "poisson":
        group = NeuronGroup(size, "k : integer\nnu_unit : 1 (linked)\nfactor : Hz (shared, constant)\n"
                            "recorded : boolean (constant)", threshold="k > 0", reset="", dt=dt, name=name,
                            namespace={}, events={"recorded_spike": "k > 0 and recorded"})
        group.factor = factor / second
        group.run_regularly("k = poisson(clip(nu_unit, 0, inf)*factor*dt)", when="before_thresholds",
                            name=f"{name}_counts")
        return group
    lif = s.lif
    tau_m, t_ref = lif.tau_m / rho, lif.t_ref / rho
    if lif.scale is None:
        drive = ("J = int(gain*factor*nu_unit > nu_min)"
                 "/(1 - exp(-(1/clip(gain*factor*nu_unit, nu_min, nu_cap) - t_isi)/tau_m))")
    else:
        drive = "J = 1 + gain*lam*z_unit"
    eqs = "\n".join([
        "dv/dt = (J - v)/tau_m : 1 (unless refractory)",
        "J : 1",
        "nu_unit : 1 (linked)",
        "gain : 1 (constant)",
        "k : integer (constant)",
        "factor : Hz (shared, constant)",
        "recorded : boolean (constant)",
    ] + (["z_unit : 1 (linked)", "lam : 1 (shared, constant)"] if lif.scale is not None else []))
    namespace = {"tau_m": tau_m * second, "t_ref": t_ref * second, "t_isi": (t_ref - dt_net / 2) * second,
                 "nu_min": _NU_MIN * rho / second,
                 "nu_cap": 0.95 / t_ref / second}
    group = NeuronGroup(size, eqs, threshold="v > 1", reset="v = 0", refractory=t_ref * second,
                        method="exponential_euler", dt=dt, name=name, namespace=namespace,
                        events={"recorded_spike": "v > 1 and recorded"})   # v stays 0 while refractory
    # The drive changes only when the unit's rate does: once per unit step, after the units' rate (order -2).
    group.run_regularly(drive, dt=unit_dt * second, when="groups", order=-1, name=f"{name}_drive")
    group.factor = factor / second
    group.k = 1
    if lif.scale is not None:
        group.lam = lif.scale
    return group
