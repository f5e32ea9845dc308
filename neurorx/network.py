"""The trained artefact: :class:`RateNetwork`, one network that runs on every backend."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import torch

from neurorx.activations import get_activation
from neurorx.errors import ConfigurationError
from neurorx.io import CorruptFileError, read_npz, write_npz
from neurorx.models.cells import check_weights, get_cell
from neurorx.models.rnn import RecurrentModel
from neurorx.noise import PLACEMENTS, NoiseModel, make_noise, noise_from_dict
from neurorx.provenance import provenance
from neurorx.units import parse_time, seconds_to_quantity

__all__ = ["FORMAT", "RateNetwork", "load"]

FORMAT = "neurorx.RateNetwork/1"


def _frozen_array(a, dtype) -> np.ndarray:
    arr = np.array(a, dtype=dtype, copy=True)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class RateNetwork:
    """A trained rate network: weights, time constants, noise, task and provenance; immutable.

    Build one with :meth:`from_torch` (after training), :meth:`from_arrays` (weights trained elsewhere), or
    :func:`neurorx.load`. Run it with :class:`neurorx.Protocol` on any backend.

    Attributes
    ----------
    cell : str
        A registered cell: "vanilla", "gru", "dale", "dale_norm", "dale_subnorm".
    cell_params : dict
        The cell's parameters (:meth:`Cell.params <neurorx.models.cells.Cell.params>`, e.g. ``gamma_shape`` of
        ``dale``); those not given take the cell's defaults, and the network holds every one of them (a file
        written before cells had parameters loads with the defaults). :attr:`cell_object` is the cell with them.
    activation : str
        Registered activation name.
    weights : mapping of str to ndarray
        ``encoder (N, n_init)``, ``w_in (G*N, n_in)``, ``w_rec (G*N, N)``, ``w_out (n_out, N)``,
        ``bias (G*N,)``, and the cell's extra arrays (``dale_norm``: ``w_div (k, N_E)``); torch ``[post, pre]``
        layout (Brian2 synapses are ``[pre, post]``: the export
        transposes).
    tau, dt : float
        Time constant and training step in seconds; :math:`a = dt/\\tau`.
    noise : mapping of str to NoiseModel
        The training noise by placement ("recurrent", "input", "output").
    task_card : dict or None
        ``{"name": ..., "params": {...}}`` of the task it was trained on; arrays in ``task_arrays``.
    config, metrics, provenance : dict
        Training configuration, metrics (learning curves, final errors), versions/seed/commit.

    Notes
    -----
    The dynamics (see :mod:`neurorx.models.cells`) are :math:`\\tau\\,dh/dt = F(h, W_{in}x + b) + \\text{noise}`,
    with :math:`h(0) = W_{enc}c_0` and readout :math:`y = W_{out}h`.
    """

    cell: str
    activation: str
    weights: Mapping[str, np.ndarray]
    tau: float
    dt: float
    noise: Mapping[str, NoiseModel] = field(default_factory=dict)
    cell_params: Mapping[str, Any] = field(default_factory=dict)
    task_card: dict | None = None
    task_arrays: Mapping[str, np.ndarray] = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.cell_params, Mapping):
            raise ConfigurationError(f"cell_params must be a mapping of parameter names to values; got "
                                     f"{self.cell_params!r}")
        cell = get_cell(self.cell, self.cell_params)
        object.__setattr__(self, "cell_params", cell.params())
        self.__dict__["_cell"] = cell
        get_activation(self.activation)
        for name in ("tau", "dt"):
            v = getattr(self, name)
            if not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
                raise ValueError(f"{name} must be a positive, finite time in seconds; got {v!r}")
        if self.dt > self.tau * (1 + 1e-12):
            raise ValueError(
                f"dt={self.dt:g} s is larger than tau={self.tau:g} s: the Euler step a = dt/tau = "
                f"{self.dt / self.tau:.3g} > 1 is unstable; use a smaller dt or a larger tau"
            )
        w = {k: _frozen_array(v, np.float64 if np.asarray(v).dtype == np.float64 else np.float32)
             for k, v in self.weights.items()}
        for k, v in w.items():
            if not np.all(np.isfinite(v)):
                raise ValueError(f"weight array {k!r} contains NaN or inf")
        n_rec, _, _, _ = check_weights(cell, w)
        if "bias" not in w:
            w["bias"] = _frozen_array(np.zeros(len(cell.gates) * n_rec), w["w_rec"].dtype)
        object.__setattr__(self, "weights", MappingProxyType(w))
        noise = {}
        for placement, model in dict(self.noise).items():
            if placement not in PLACEMENTS:
                raise ValueError(f"unknown noise placement {placement!r}; use one of {PLACEMENTS}")
            model = make_noise(model)
            if not model.storable:
                raise ValueError(f"a network's training noise cannot be {type(model).__name__} (it holds arrays "
                                 "and is not stored in network files); give it to a phase instead")
            noise[placement] = model
        object.__setattr__(self, "noise", MappingProxyType(noise))
        object.__setattr__(self, "task_arrays", MappingProxyType(
            {k: _frozen_array(v, np.asarray(v).dtype) for k, v in dict(self.task_arrays).items()}))

    # -- sizes and derived quantities --------------------------------------------------------------
    @property
    def n_rec(self) -> int:
        """Number of recurrent units N."""
        return self.weights["w_rec"].shape[1]

    @property
    def n_in(self) -> int:
        """Input dimension."""
        return self.weights["w_in"].shape[1]

    @property
    def n_out(self) -> int:
        """Readout dimension."""
        return self.weights["w_out"].shape[0]

    @property
    def n_init(self) -> int:
        """Dimension of the initial-state code."""
        return self.weights["encoder"].shape[1]

    @property
    def cell_object(self):
        """The :class:`~neurorx.models.cells.Cell` with this network's :attr:`cell_params`."""
        return self.__dict__["_cell"]

    @property
    def alpha(self) -> float:
        """:math:`a = dt/\\tau`."""
        return self.dt / self.tau

    @property
    def tau_quantity(self):
        """``tau`` as a Brian2 quantity."""
        return seconds_to_quantity(self.tau)

    @property
    def dt_quantity(self):
        """The training step as a Brian2 quantity."""
        return seconds_to_quantity(self.dt)

    @property
    def task(self):
        """The task the network was trained on, with its cell centres (``None`` if unknown)."""
        if self.task_card is None:
            return None
        cached = self.__dict__.get("_task")
        if cached is None:
            from neurorx.tasks import TASKS

            cached = TASKS.get(self.task_card["name"]).from_card(self.task_card["params"], dict(self.task_arrays))
            object.__setattr__(self, "_task", cached)
        return cached

    @property
    def recurrent_noise(self) -> NoiseModel:
        """The training noise on the hidden state (``NoNoise`` if none)."""
        return self.noise.get("recurrent", make_noise(None))

    # -- computations shared by every backend -----------------------------------------------------
    def encode_init(self, init_code: np.ndarray) -> np.ndarray:
        """Initial states :math:`h_0 = W_{enc}c_0` for codes of shape (B, n_init)."""
        init_code = np.asarray(init_code, dtype=np.float64)
        if init_code.ndim != 2 or init_code.shape[1] != self.n_init:
            raise ValueError(f"init_code must have shape (trials, {self.n_init}); got {init_code.shape}")
        return init_code @ self.weights["encoder"].astype(np.float64).T

    def readout(self, h: np.ndarray) -> np.ndarray:
        """Outputs :math:`y = W_{out}h` for states of shape (..., N), in float64 for float64 states, else float32.

        One matrix product over all leading axes (numpy would otherwise run one small product per trial).
        """
        h = np.asarray(h)
        if h.shape[-1] != self.n_rec:
            raise ValueError(f"states must end in N={self.n_rec} units; got shape {h.shape}")
        w = self.weights["w_out"].astype(h.dtype if h.dtype == np.float64 else np.float32)
        return (h.reshape(-1, self.n_rec) @ w.T).reshape(*h.shape[:-1], self.n_out)

    def torch_weights(self, dtype=torch.float64, device=None) -> dict[str, torch.Tensor]:
        """The weights as torch tensors."""
        return {k: torch.tensor(np.asarray(v), dtype=dtype, device=device) for k, v in self.weights.items()}

    # -- conversions --------------------------------------------------------------------------------
    def to_torch(self, dtype=torch.float32) -> RecurrentModel:
        """A :class:`~neurorx.models.RecurrentModel` carrying these weights (e.g. to fine-tune)."""
        rnn_config = self.config.get("rnn", {}) if isinstance(self.config.get("rnn"), dict) else {}
        bias = bool(np.any(self.weights["bias"] != 0)) or bool(rnn_config.get("bias", False))
        model = RecurrentModel(self.cell_object, self.n_in, self.n_rec, self.n_out, self.n_init, self.alpha,
                               self.activation, bias=bias).to(dtype)
        with torch.no_grad():
            for name, tensor in model.weights().items():
                tensor.copy_(torch.tensor(np.asarray(self.weights[name])))
        return model

    @classmethod
    def from_torch(cls, model: RecurrentModel, *, tau, dt, noise: Mapping[str, NoiseModel] | None = None,
                   task=None, config: dict | None = None, metrics: dict | None = None,
                   provenance_info: dict | None = None) -> RateNetwork:
        """Freeze a trained torch model into a network (``tau``, ``dt`` as Brian2 quantities or seconds)."""
        tau_s, dt_s = parse_time(tau, "tau", trusted=True), parse_time(dt, "dt", trusted=True)   # floats: seconds
        if abs(dt_s / tau_s - model.alpha) > 1e-9:
            raise ValueError(f"dt/tau = {dt_s / tau_s:g} disagrees with the model's alpha = {model.alpha:g}")
        weights = {k: v.detach().cpu().numpy() for k, v in model.weights().items()}
        return cls._build(model.cell_name, model.activation_name, weights, tau_s, dt_s, noise, task, config,
                          metrics, provenance_info, model.cell.params())

    @classmethod
    def from_arrays(cls, *, encoder, w_in, w_rec, w_out, tau, dt, bias=None, cell: str = "vanilla",
                    activation: str | None = None, noise: Mapping[str, NoiseModel] | None = None, task=None,
                    config: dict | None = None, metrics: dict | None = None,
                    extra_weights: Mapping | None = None, cell_params: Mapping | None = None) -> RateNetwork:
        """Build a network from plain weight arrays in torch's ``[post, pre]`` layout.

        Parameters
        ----------
        encoder, w_in, w_rec, w_out, bias : array_like
            Shapes ``(N, n_init)``, ``(G*N, n_in)``, ``(G*N, N)``, ``(n_out, N)``, ``(G*N,)``; every shape is
            checked against the others (e.g. weights exported from the paper's reference code:
            ``model.w_rec.weight`` etc.).
        tau, dt : brian2.Quantity
            Time constant and training step, e.g. ``tau=100*ms, dt=20*ms``.
        cell, activation : str
        cell_params : dict, optional
            The cell's parameters (e.g. ``{"excitatory_fraction": 0.5}`` for ``dale``); the defaults if omitted.
        noise : dict placement -> NoiseModel
        task : neurorx task, optional
        extra_weights : dict, optional
            The cell's extra weight arrays (:attr:`Cell.extra_weights <neurorx.models.cells.Cell.extra_weights>`,
            e.g. ``{"w_div": U}`` for ``dale_norm``). Those omitted take the cell's start value computed from
            ``w_rec`` (:meth:`Cell.default_extra_weights`), as an omitted ``bias`` is zero.
        """
        weights = {"encoder": encoder, "w_in": w_in, "w_rec": w_rec, "w_out": w_out}
        if bias is not None:
            weights["bias"] = bias
        weights.update(dict(extra_weights or {}))
        for k, v in weights.items():
            if isinstance(v, torch.Tensor):
                weights[k] = v.detach().cpu().numpy()
            try:
                weights[k] = np.asarray(weights[k])
            except ValueError:
                raise ConfigurationError(f"{k} is a ragged nested list (rows of different lengths); give a "
                                         f"rectangular array") from None
            if weights[k].dtype.kind not in "fiu":
                raise TypeError(f"{k} must be a numeric array; got dtype {weights[k].dtype}")
        cell_obj = get_cell(cell, cell_params)
        missing = [k for k in cell_obj.extra_weights if k not in weights]
        if missing:
            defaults = cell_obj.default_extra_weights(weights)
            weights.update({k: defaults[k].detach().cpu().numpy() for k in missing if k in defaults})
        act = activation or cell_obj.default_activation
        return cls._build(cell, act, weights, parse_time(tau, "tau"), parse_time(dt, "dt"), noise, task, config,
                          metrics, None, cell_obj.params())

    @classmethod
    def _build(cls, cell, activation, weights, tau, dt, noise, task, config, metrics, prov,
               cell_params) -> RateNetwork:
        card, arrays = (None, {})
        if task is not None:
            params, arrays = task.to_card()
            card = {"name": task.name, "params": params}
        return cls(cell=cell, activation=activation, weights=weights, tau=tau, dt=dt, noise=dict(noise or {}),
                   cell_params=dict(cell_params), task_card=card, task_arrays=arrays, config=dict(config or {}),
                   metrics=dict(metrics or {}), provenance=dict(prov or provenance()))

    # -- files ----------------------------------------------------------------------------------------
    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Save to one ``.npz`` (plain arrays + JSON metadata), atomically; refuses to overwrite by default."""
        arrays = {f"weights/{k}": np.asarray(v) for k, v in self.weights.items()}
        arrays.update({f"task/{k}": np.asarray(v) for k, v in self.task_arrays.items()})
        meta = {
            "format": FORMAT,
            "cell": self.cell,
            "cell_params": dict(self.cell_params),
            "activation": self.activation,
            "tau": self.tau,
            "dt": self.dt,
            "noise": {p: m.to_dict() for p, m in self.noise.items()},
            "task": self.task_card,
            "config": self.config,
            "metrics": self.metrics,
            "provenance": self.provenance,
        }
        return write_npz(path, arrays, meta, overwrite=overwrite)

    @classmethod
    def load(cls, path: str | Path) -> RateNetwork:
        """Load a network saved by :meth:`save` (never unpickles)."""
        arrays, meta = read_npz(path, "network file")
        if meta.get("format") != FORMAT:
            raise CorruptFileError(f"{path} is not a neurorx network file (format {meta.get('format')!r}, "
                                   f"expected {FORMAT!r})")
        _check_meta(meta, path)
        try:
            weights = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("weights/")}
            task_arrays = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("task/")}
            return cls(cell=meta["cell"], activation=meta["activation"], weights=weights, tau=meta["tau"],
                       dt=meta["dt"], task_card=meta.get("task"), cell_params=meta.get("cell_params", {}),
                       noise={p: noise_from_dict(m, trusted=True) for p, m in meta.get("noise", {}).items()},
                       task_arrays=task_arrays, config=meta.get("config", {}), metrics=meta.get("metrics", {}),
                       provenance=meta.get("provenance", {}))
        except (KeyError, ValueError, TypeError, AttributeError) as err:
            raise CorruptFileError(f"{path}: invalid network file ({err}); re-create it") from None

    def summary(self) -> str:
        """A one-paragraph description (model card style)."""
        noise = ", ".join(f"{p}: {m.to_dict()}" for p, m in self.noise.items()) or "none"
        task = self.task_card["name"] if self.task_card else "unknown"
        return (f"RateNetwork({self.cell}/{self.activation}, N={self.n_rec}, n_in={self.n_in}, "
                f"n_out={self.n_out}, tau={self.tau * 1e3:g} ms, dt={self.dt * 1e3:g} ms, a={self.alpha:g}, "
                f"task={task}, noise={noise})")

    def __repr__(self) -> str:
        return self.summary()

    def with_changes(self, **changes: Any) -> RateNetwork:
        """A copy with some fields replaced (the original is immutable)."""
        names = ("cell", "cell_params", "activation", "weights", "tau", "dt", "noise", "task_card", "task_arrays",
                 "config", "metrics", "provenance")
        fields_ = {k: getattr(self, k) for k in names}
        if changes.get("cell", self.cell) != self.cell:
            fields_["cell_params"] = {}          # another cell: its own defaults unless given
        fields_["weights"] = dict(fields_["weights"])
        fields_["noise"] = dict(fields_["noise"])
        fields_["task_arrays"] = dict(fields_["task_arrays"])
        fields_.update(changes)
        return RateNetwork(**fields_)


#: JSON types of a network file's metadata fields (``None`` allowed where optional).
_META_FIELDS = {"cell": (str,), "cell_params": (dict,), "activation": (str,), "tau": (float, int), "dt": (float, int),
                "task": (dict, type(None)), "noise": (dict,), "config": (dict,), "metrics": (dict,),
                "provenance": (dict,)}
_REQUIRED_META = ("cell", "activation", "tau", "dt")
_JSON_NAMES = {str: "a string", int: "a number", float: "a number", dict: "an object", type(None): "null"}


def _check_meta(meta: dict, path) -> None:
    """Raise :class:`CorruptFileError` naming the first metadata field that is missing or of the wrong type."""
    for key in _REQUIRED_META:
        if key not in meta:
            raise CorruptFileError(f"{path}: invalid network file (no {key!r} in its metadata); re-create it")
    for key, kinds in _META_FIELDS.items():
        value = meta.get(key)
        if key in meta and (isinstance(value, bool) or not isinstance(value, kinds)):
            names = " or ".join(dict.fromkeys(_JSON_NAMES[k] for k in kinds))
            raise CorruptFileError(f"{path}: invalid network file (metadata field {key!r} is {value!r}, not "
                                   f"{names}); re-create it")
    for placement, model in meta.get("noise", {}).items():
        if not isinstance(model, dict):
            raise CorruptFileError(f"{path}: invalid network file (noise {placement!r} is {model!r}, not an "
                                   f"object with a 'name'); re-create it")


def load(path: str | Path) -> RateNetwork:
    """Load a :class:`RateNetwork` from a ``.npz`` file written by :meth:`RateNetwork.save`, or a shipped
    network by name (``"spatial_navigation/noisy_unbiased"``, see :func:`neurorx.zoo.list_networks`).
    """
    from neurorx.zoo import find_network

    return RateNetwork.load(find_network(path))
