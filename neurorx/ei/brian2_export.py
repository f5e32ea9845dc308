"""Brian2 export of a trained E/I network: E, subtractive-I and divisive-I rate groups per layer.

Every layer becomes continuous-time rate neurons coupled by :class:`brian2.Synapses` with summed variables;
the fixed point of the dynamics is the torch forward pass (only inference is exported: error normalization
and the homeostatic loss act during learning). The result is a plain :class:`brian2.Network` that users can
extend (monitors, more groups) and run.

Notes
-----
Hidden layer :math:`\\ell` of an I-Norm network (``svd`` divisive pathway), with ``h`` the rates of the layer
below:

.. math::

    \\tau_I \\dot r^{s} = -r^{s} + W_{IE} h, \\qquad
    \\tau_I \\dot r^{d} = -r^{d} + (U_{IE} h)^{\\circ 2}, \\\\
    \\tau_E \\dot r^{E} = -r^{E} + \\mathrm{ReLU}\\big((W_{EE} h + b - W_{EI} r^{s}) /
    \\sqrt{U_{EI} r^{d} + \\epsilon}\\big).

At the fixed point :math:`r^{E}` is Eq. 1 followed by the ReLU. The ``dann`` (Dale shunting) pathway has no
divisive group: the divisor is :math:`W_{EI}(e^{\\alpha}\\odot r^{s}) + \\epsilon`, a second synaptic pathway
from the subtractive interneurons; ``none`` has no divisor. DANN layers and the readout have no divisor and
(readout) no ReLU. Torch weights are ``[post, pre]``; Brian2's ``S.w[:]`` after ``S.connect(i=, j=)`` follows
the order of ``i, j``, which :func:`~neurorx.backends.brian2_synapses.synapse_indices` makes pre-major, so
``w = W.T.ravel()``.

All images run at once: every group has ``n_images * n`` neurons, neuron ``image * n + unit``, and synapses
connect units of the same image only.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
from brian2 import Network, NeuronGroup, Synapses, TimedArray, second

from neurorx.backends.brian2.codegen import TARGETS, brian2_prefs
from neurorx.backends.brian2_synapses import synapse_indices, synapse_weights
from neurorx.ei.layers import DANNLayer, INormLayer
from neurorx.ei.network import EINetwork
from neurorx.errors import ConfigurationError
from neurorx.units import parse_time

__all__ = ["EIBrian2Network", "synapse_indices", "to_brian2"]


def _connect(src, tgt, target_var: str, w: np.ndarray, n_images: int, name: str, namespace: dict):
    n_post, n_pre = w.shape
    syn = Synapses(src, tgt, model=f"w : 1\n{target_var}_post = w*r_pre : 1 (summed)", name=name,
                   namespace=namespace)
    i, j = synapse_indices(n_pre, n_post, n_images)
    syn.connect(i=i, j=j)
    syn.w[:] = synapse_weights(w, n_images)
    return syn


@dataclass(eq=False)
class EIBrian2Network:
    """An exported E/I network: the Brian2 network and its groups.

    Attributes
    ----------
    network : brian2.Network
        Everything below, ready to ``run``; add monitors or groups to it.
    input : brian2.NeuronGroup
        Input rates ``r`` (``n_images * n_in``), constant or read from a ``TimedArray``.
    layers : list of dict
        Per layer (hidden layers, then the readout): ``{"E": group, "I_sub": group, "I_div": group or None}``.
    n_images : int
        Images simulated at once.
    settle_time : brian2 Quantity
        Default duration of :meth:`steady_state`.
    """

    network: Network
    input: NeuronGroup
    layers: list[dict] = field(default_factory=list)
    n_images: int = 1
    settle_time: object = None

    @property
    def output(self) -> NeuronGroup:
        """The readout's E group (its ``r`` are the logits)."""
        return self.layers[-1]["E"]

    def rates(self, group: NeuronGroup) -> np.ndarray:
        """A group's rates as an ``(n_images, n)`` array."""
        return np.asarray(group.r[:]).reshape(self.n_images, -1)

    def steady_state(self, duration=None, *, target: str = "numpy", cache_dir=None) -> np.ndarray:
        """Run for ``duration`` (default :attr:`settle_time`) and return the logits ``(n_images, n_out)``.

        Parameters
        ----------
        duration : brian2 Quantity or str, optional
            Simulated time (``"300 ms"``).
        target : {"numpy", "cython", "auto"}
            Brian2 runtime code-generation target (``"auto"``: cython, numpy if compilation fails).
        cache_dir : path, optional
            Cython cache directory.
        """
        duration = self.settle_time if duration is None else parse_time(duration, "duration") * second
        TARGETS.get(target)   # an unknown target: one line listing the choices
        run_target = "cython" if target in ("cython", "auto") else "numpy"
        try:
            with brian2_prefs(run_target, cache_dir):
                self.network.run(duration, namespace={})
        except Exception as err:
            if run_target != "cython" or target != "auto":
                raise
            warnings.warn(f"Brian2's cython target failed ({type(err).__name__}); using numpy",
                          RuntimeWarning, stacklevel=2)
            with brian2_prefs("numpy", cache_dir):
                self.network.run(duration, namespace={})
        return self.rates(self.output)


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().double().numpy()


def to_brian2(net: EINetwork, images, *, tau_e="10 ms", tau_i="5 ms", dt="0.5 ms", input_dt=None,
              method: str = "exponential_euler", settle_taus: float = 8.0) -> EIBrian2Network:
    """Export ``net`` with ``images`` as input to a :class:`brian2.Network` of rate groups.

    Parameters
    ----------
    net : EINetwork
        A network of I-Norm or DANN hidden layers (exact LayerNorm has no E/I circuit to export).
    images : array (n_images, n_in) or (steps, n_images, n_in)
        Constant input rates, or a time course read from a 2-D ``TimedArray`` (``input_dt`` per step).
    tau_e, tau_i : Quantity or str
        Time constants of the E and I groups.
    dt : Quantity or str
        Integration step of every group.
    input_dt : Quantity or str, optional
        Step of a time-varying input (default ``dt``).
    method : str
        Brian2 integration method (the default is exact for each group's linear relaxation).
    settle_taus : float
        :attr:`EIBrian2Network.settle_time` is ``settle_taus * (tau_e + tau_i)`` per layer.

    Returns
    -------
    EIBrian2Network

    Raises
    ------
    ConfigurationError
        For LayerNorm (E-only) networks, or images of the wrong size.
    """
    tau_e, tau_i = parse_time(tau_e, "tau_e") * second, parse_time(tau_i, "tau_i") * second
    dt = parse_time(dt, "dt") * second
    for layer in net.hidden:
        if not isinstance(layer, (INormLayer, DANNLayer)):
            raise ConfigurationError(f"layer kind {layer.spec.kind!r} has no E/I circuit to export to Brian2; export "
                                     "a network of 'inorm' or 'dann' layers")
    x = np.asarray(images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else images, dtype=np.float64)
    if x.ndim not in (2, 3) or x.shape[-1] != net.config.n_in:
        raise ConfigurationError(f"images must be (n_images, {net.config.n_in}) or (steps, n_images, "
                                 f"{net.config.n_in}); got shape {x.shape}")
    with brian2_prefs("numpy", None):  # building (connecting synapses) must not compile anything
        return _build(net, x, tau_e, tau_i, dt, input_dt, method, settle_taus)


def _build(net, x, tau_e, tau_i, dt, input_dt, method, settle_taus) -> EIBrian2Network:
    n_images = x.shape[-2]
    objects = []
    ns = {"tau_e": tau_e, "tau_i": tau_i}
    if x.ndim == 2:
        inp = NeuronGroup(n_images * net.config.n_in, "r : 1", name="input")
        inp.r[:] = x.ravel()
    else:
        step = parse_time(input_dt, "input_dt") * second if input_dt is not None else dt
        ta = TimedArray(x.reshape(x.shape[0], -1), dt=step, name="input_rates")
        ns["input_rates"] = ta  # r_pre of the first synapses is this subexpression: they need it too
        inp = NeuronGroup(n_images * net.config.n_in, "r = input_rates(t, i) : 1", name="input", namespace=ns)
    objects.append(inp)
    layers, pre = [], inp
    for k, layer in enumerate(net.layers):
        spec = layer.spec
        n = n_images * spec.n_e
        divisive = spec.divisive if isinstance(layer, INormLayer) else "none"
        drive = "(I_e + b - I_s)"
        if divisive == "svd":
            drive += "/sqrt(I_d + eps)"
        elif divisive == "dann":
            drive += "/(I_d + eps)"
        rate = f"clip({drive}, 0, inf)" if spec.activation else drive
        e_eqs = f"dr/dt = (-r + {rate})/tau_e : 1\nI_e : 1\nI_s : 1\nI_d : 1\nb : 1 (constant)\neps : 1 (constant)"
        e = NeuronGroup(n, e_eqs, method=method, dt=dt, name=f"E_{k}", namespace=ns)
        e.b[:] = np.tile(_np(layer.b), n_images)
        e.eps[:] = spec.eps
        i_sub = NeuronGroup(n_images * spec.n_i, "dr/dt = (-r + I_in)/tau_i : 1\nI_in : 1", method=method, dt=dt,
                            name=f"Isub_{k}", namespace=ns)
        objects += [e, i_sub,
                    _connect(pre, e, "I_e", _np(layer.W_EE), n_images, f"EE_{k}", ns),
                    _connect(pre, i_sub, "I_in", _np(layer.W_IE), n_images, f"IE_{k}", ns),
                    _connect(i_sub, e, "I_s", _np(layer.W_EI), n_images, f"EI_{k}", ns)]
        i_div = None
        if divisive == "svd":
            pool = layer.div.pool
            i_div = NeuronGroup(n_images * pool, "dr/dt = (-r + I_in**2)/tau_i : 1\nI_in : 1", method=method,
                                dt=dt, name=f"Idiv_{k}", namespace=ns)
            objects += [i_div, _connect(pre, i_div, "I_in", _np(layer.div.U_IE), n_images, f"UIE_{k}", ns),
                        _connect(i_div, e, "I_d", _np(layer.div.U_EI), n_images, f"UEI_{k}", ns)]
        elif divisive == "dann":
            w = _np(layer.W_EI) * np.exp(_np(layer.div.alpha))[None, :]
            objects.append(_connect(i_sub, e, "I_d", w, n_images, f"EIdiv_{k}", ns))
        layers.append({"E": e, "I_sub": i_sub, "I_div": i_div})
        pre = e
    settle = settle_taus * (tau_e + tau_i) * len(layers)
    return EIBrian2Network(Network(*objects), inp, layers, n_images, settle)

