"""The cell base class, the cell registry :data:`CELLS`, and the Brian2 form of a cell's drift.

Every name here is also importable from :mod:`neurorx.models.cells`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import ClassVar

import torch

from neurorx.activations import Activation
from neurorx.errors import ConfigurationError
from neurorx.registry import Registry, suggest

__all__ = ["CELLS", "Brian2Cell", "Brian2Pool", "Cell"]


@dataclass(frozen=True)
class Brian2Pool:
    """An instantaneous auxiliary population of a cell (no state, no noise): the divisive pool of ``dale_norm``.

    Per trial it has ``k`` units (the rows of the network's weight array :attr:`weight`) with

    .. math:: p_k = \\sum_j U_{kj}\\, s_j, \\qquad I_{target,i} = \\sum_k \tfrac{1}{k}\\, p_k^2 ,

    where :math:`s_j` is the presynaptic expression :attr:`source` of the :attr:`presynaptic` population and the
    sum over the pool is written into the current :attr:`current` of every unit of the :attr:`target` population.

    Attributes
    ----------
    weight : str
        Network weight array ``(k, n_pre)`` (torch ``[post, pre]``) onto the pool units, e.g. ``"w_div"``.
    presynaptic, target : str
        Populations (:meth:`Cell.populations`) feeding the pool and receiving its output.
    source : str
        Presynaptic expression (one of the cell's current expressions, e.g. ``"clip(h, 0, inf)"``).
    current : str
        The target's variable receiving :math:`\\frac1k\\sum_k p_k^2`, e.g. ``"I_div"``.
    """

    weight: str
    presynaptic: str
    target: str
    source: str
    current: str


@dataclass(frozen=True)
class Brian2Cell:
    r"""A cell's dynamics as Brian2 expressions.

    Attributes
    ----------
    drift : str
        Expression of :math:`F(h, u)`; the equation is ``dh/dt = drift/tau + noise``.
    subexpressions : str
        Equation lines for subexpressions (gates), possibly empty.
    currents : dict
        Recurrent currents, in the order they must be computed: ``name -> presynaptic expression``. The
        current for gate block ``k`` is ``sum_j w_rec[k*N + i, j] * expr_j``.
    inputs : tuple of str
        Names of the input currents (one per gate block; each is ``(W_in x + b)`` of that block).
    presynaptic : dict
        For a cell with populations (:meth:`Cell.populations`): ``current name -> presynaptic population``;
        the current sums over that population's columns of ``w_rec`` only. Empty for one population.
    population_drift : dict
        For a cell with populations: ``population -> drift`` where a population's drift differs from
        :attr:`drift` (``dale_norm``: the E units divide their drive by the pool's :math:`\gamma`).
    pool : Brian2Pool or None
        An instantaneous auxiliary population (``dale_norm``'s divisive pool), or ``None``.
    """

    drift: str
    subexpressions: str
    currents: dict[str, str]
    inputs: tuple[str, ...]
    presynaptic: dict[str, str] = field(default_factory=dict)
    population_drift: dict[str, str] = field(default_factory=dict)
    pool: Brian2Pool | None = None


@dataclass(frozen=True)
class Cell:
    """Base class of the cells: subclasses define :meth:`drift` and :meth:`brian2`.

    A cell is a frozen dataclass whose fields are its parameters (e.g. ``gamma_shape`` of ``dale``): they are
    part of a training's configuration (the ``rnn`` section of a card, :class:`neurorx.training.RNNConfig`),
    saved in the network file (:attr:`neurorx.RateNetwork.cell_params`) and read back. :data:`CELLS` holds each
    cell with its default parameters; :func:`get_cell` returns one with given parameters.

    A cell may have weight arrays beyond the five every network has (:attr:`extra_weights`, e.g. the
    divisive pool ``w_div`` of ``dale_norm``); they are handed to :meth:`drift`, :meth:`step` and :meth:`run` as
    ``extra`` (name -> tensor) and saved in the network file like the others.
    """

    name: ClassVar[str]
    gates: ClassVar[tuple[str, ...]]
    default_activation: ClassVar[str]
    #: Names of the cell's weight arrays beyond encoder, w_in, w_rec, w_out and bias (shapes: :meth:`weight_shapes`).
    extra_weights: ClassVar[tuple[str, ...]] = ()
    #: Whether the cell has a local loss (:meth:`local_loss`) that the trainer adds to the task loss.
    has_local_loss: ClassVar[bool] = False
    #: The cell's whole time loop as one autograd function with a hand-written backward, called as
    #: ``fused_recurrence(h0, u, w_rec, increments, a, act, onednn)`` and returning the states of :meth:`run`
    #: (:mod:`neurorx.models.recurrences`); the trainer uses it when the activation states its derivative.
    #: None: the trainer runs :meth:`run` under autograd.
    fused_recurrence: ClassVar[Callable | None] = None

    @classmethod
    def parameter_names(cls) -> tuple[str, ...]:
        """The parameters a configuration may set (the dataclass fields given to the constructor)."""
        return tuple(f.name for f in fields(cls) if f.init)

    def params(self) -> dict[str, float | int | bool | None]:
        """The cell's parameters and their values (what a network file and a card's ``rnn`` section hold)."""
        return {name: getattr(self, name) for name in self.parameter_names()}

    def settings(self) -> dict[str, float | int | bool | None]:
        """Every field of the cell (its :meth:`params` and fixed properties such as ``divisive``), by name.

        A sweep's training job id takes these in (:mod:`neurorx.sweep.jobs`), so a card that leaves a parameter
        to its default names the default's value.
        """
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def with_params(self, params: Mapping[str, object] | None, *, prefix: str = "") -> Cell:
        """The same cell with some parameters replaced (``prefix`` names them in errors, e.g. ``"rnn."``).

        Raises
        ------
        ConfigurationError
            For a name that is not one of :meth:`parameter_names`, or a value the cell refuses.
        """
        params = dict(params or {})
        if not params:
            return self
        names = self.parameter_names()
        for key in params:
            if key not in names:
                choices = ", ".join(f"{prefix}{n}" for n in names) or "none"
                raise ConfigurationError(f"{prefix}{key}: the {self.name} cell has no parameter {key!r} (its "
                                         f"parameters: {choices})" + suggest(key, names))
        return replace(self, **params)

    def weight_shapes(self, n_rec: int, n_in: int, n_out: int, n_init: int) -> dict[str, tuple[int, ...]]:
        """Shapes of every weight array, torch ``[post, pre]`` layout."""
        g = len(self.gates)
        return {
            "encoder": (n_rec, n_init),
            "w_in": (g * n_rec, n_in),
            "w_rec": (g * n_rec, n_rec),
            "w_out": (n_out, n_rec),
            "bias": (g * n_rec,),
        }

    @staticmethod
    def input_projection(x: torch.Tensor, w_in: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        """:math:`u = W_{in}x + b` for inputs of any leading shape (one matrix product for all steps)."""
        u = x @ w_in.T
        return u if bias is None else u + bias

    def drift(self, h: torch.Tensor, u: torch.Tensor, w_rec: torch.Tensor, act: Activation,
              extra: Mapping[str, torch.Tensor] | None = None) -> torch.Tensor:
        """:math:`F(h, u)` for a batch ``h (B, N)`` and input projection ``u (B, G*N)``; ``extra``: the cell's
        :attr:`extra_weights` by name (unused by cells without any).
        """
        raise NotImplementedError

    def step(self, h: torch.Tensor, u: torch.Tensor, w_rec: torch.Tensor, a: float, act: Activation,
             increment: torch.Tensor | None = None, extra: Mapping[str, torch.Tensor] | None = None) -> torch.Tensor:
        """One Euler–Maruyama step: :math:`h + a\\,F(h,u) + \\text{increment}`."""
        drift = self.drift(h, u, w_rec, act) if extra is None else self.drift(h, u, w_rec, act, extra)
        h_new = torch.addcmul(h, drift, torch.as_tensor(a, dtype=h.dtype))
        return h_new if increment is None else h_new.add_(increment)   # in place: one temporary fewer per step

    def step_into(self, out: torch.Tensor, h: torch.Tensor, u: torch.Tensor, w_rec: torch.Tensor, a: float,
                  act: Activation, increment: torch.Tensor | None = None,
                  extra: Mapping[str, torch.Tensor] | None = None, scratch: dict | None = None) -> torch.Tensor:
        """:meth:`step` written into ``out`` (a ``(B, N)`` tensor, possibly a strided view; not ``h``), the same
        numbers; returns ``out``. Without autograd only (the torch backend's loop).

        ``scratch`` is a dict the caller keeps over the steps of a run, where a cell may keep buffers so that a
        step allocates nothing. This default computes :meth:`step` and copies it; cells whose step can be done
        in place override it (:class:`~neurorx.models.rate_cells.VanillaCell`,
        :class:`~neurorx.models.dale_cells.DaleCell`).
        """
        return out.copy_(self.step(h, u, w_rec, a, act, increment, extra))

    @staticmethod
    def _buffer(scratch: dict, name: str, like: torch.Tensor) -> torch.Tensor:
        """The buffer ``name`` of a run's ``scratch`` (see :meth:`step_into`), made like ``like`` on first use."""
        buf = scratch.get(name)
        if buf is None:
            buf = scratch[name] = torch.empty_like(like)
        return buf

    @staticmethod
    def _euler_into(out: torch.Tensor, h: torch.Tensor, target: torch.Tensor, a: float,
                    increment: torch.Tensor | None) -> torch.Tensor:
        """``out = h + a (target - h) + increment`` for a leaky cell whose drift is ``target - h``, with the
        operations of :meth:`step` in its order (so the same rounding), ``target`` overwritten by the drift.
        """
        drift = target.sub_(h)
        torch.addcmul(h, drift, torch.as_tensor(a, dtype=h.dtype), out=out)
        return out if increment is None else out.add_(increment)

    def run(self, h0: torch.Tensor, u: torch.Tensor, w_rec: torch.Tensor, a: float, act: Activation,
            increments: torch.Tensor | None = None, *, substeps: int = 1,
            out: torch.Tensor | None = None, extra: Mapping[str, torch.Tensor] | None = None) -> torch.Tensor:
        """The one step loop: :meth:`step` over time-major inputs, ``substeps`` steps per input sample.

        Used by the torch model and the trainer (``substeps=1``) and by the torch backend (``substeps=k`` at
        ``dt_factor=k``).

        Parameters
        ----------
        h0 : tensor (B, N)
        u : tensor (T, B, G*N)
            Input projections :math:`W_{in}x_t + b`, each held for ``substeps`` steps.
        a : float
            :math:`\\Delta t/\\tau` of one (sub)step.
        increments : tensor (T*substeps, B, N) or None
            Recurrent noise increments, one per (sub)step.
        out : tensor (T, B, N), optional
            Where to write the states (no autograd graph through it); a new tensor if omitted.
        extra : dict, optional
            The cell's :attr:`extra_weights` by name.

        Returns
        -------
        tensor (T, B, N)
            The state at the end of each input sample, :math:`h_1 \\dots h_T`.
        """
        h = h0
        if out is not None and not torch.is_grad_enabled():
            return self._run_into(h, u, w_rec, a, act, increments, substeps, out, extra)
        states = []
        for t in range(u.shape[0]):
            u_t = u[t]
            for s in range(substeps):
                h = self.step(h, u_t, w_rec, a, act, None if increments is None else increments[t * substeps + s],
                              extra)
            if out is None:
                states.append(h)
            else:
                out[t] = h
        return torch.stack(states) if out is None else out

    def _run_into(self, h, u, w_rec, a, act, increments, substeps, out, extra):
        """:meth:`run` without autograd, each step written by :meth:`step_into` straight into ``out`` (the last
        substep of a sample) or one of two state buffers (the others), so a step allocates nothing.
        """
        scratch: dict = {}
        between = [torch.empty_like(h), torch.empty_like(h)] if substeps > 1 else []
        for t in range(u.shape[0]):
            u_t = u[t]
            for s in range(substeps):
                dst = out[t] if s == substeps - 1 else between[s % 2]
                h = self.step_into(dst, h, u_t, w_rec, a, act,
                                   None if increments is None else increments[t * substeps + s], extra, scratch)
        return out

    def brian2(self, act: Activation) -> Brian2Cell:
        """The drift as Brian2 expressions (see :class:`Brian2Cell`)."""
        raise NotImplementedError

    # -- hooks for constrained cells (no-ops here) -------------------------------------------------------
    def populations(self, n_rec: int) -> dict[str, slice]:
        """Named populations of units (``name -> slice`` of unit indices); empty: one homogeneous population.

        The Brian2 backend builds one ``NeuronGroup`` per population.
        """
        return {}

    def init_weights_(self, weights: Mapping[str, torch.Tensor]) -> None:
        """Initialise a freshly built model's weights in place (default: keep torch's default init)."""

    def project_(self, weights: Mapping[str, torch.Tensor]) -> None:
        """Project the weights onto the cell's constraints in place; the trainer calls it after every step."""

    def validate_weights(self, weights: Mapping[str, object], n_rec: int) -> None:
        """Raise :class:`~neurorx.errors.ConfigurationError` if ``weights`` break the cell's constraints."""

    def default_extra_weights(self, weights: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Values of the :attr:`extra_weights` for a network given without them (computed from ``weights``).

        :meth:`RateNetwork.from_arrays <neurorx.network.RateNetwork.from_arrays>` uses them, as it uses a zero
        ``bias``; a network file must hold them. Empty for cells without extra weights.
        """
        return {}

    def frozen_masks(self, weights: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``name -> boolean mask`` of weight entries that training must leave unchanged (restored after every
        optimizer step by the trainer, whatever the optimizer's weight decay); empty by default.
        """
        return {}

    def local_loss(self, states: torch.Tensor, u: torch.Tensor, w_rec: torch.Tensor,
                   extra: Mapping[str, torch.Tensor] | None = None, act: Activation | None = None
                   ) -> torch.Tensor | None:
        """A local loss over the states ``(T, B, N)`` that drove the steps (``h_0 .. h_{T-1}``) and their input
        projections ``u (T, B, G*N)``, with the network's activation ``act``; ``None`` for cells without one
        (:attr:`has_local_loss`).
        """
        return None


CELLS: Registry[Cell] = Registry("cell type")


def _choice(cell: Cell, name: str, choices) -> None:
    """Check the cell parameter ``name`` is one of ``choices``, naming them, the card key and the default."""
    value = getattr(cell, name)
    if value not in choices:
        default = next(f.default for f in fields(cell) if f.name == name)
        raise ConfigurationError(
            f"the {cell.name} cell's parameter {name} must be one of {', '.join(map(repr, choices))}; got {value!r} "
            f"(set rnn.{name} in the card, or leave it out for {default!r})" + suggest(str(value), choices))


def _number(cell: Cell, name: str, *, low: float, high: float | None = None) -> None:
    """Check the cell parameter ``name`` is a finite number in ``(low, high)``; store it as a float."""
    value = getattr(cell, name)
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value <= low or (high is not None and value >= high):
        bounds = f"in ({low:g}, {high:g})" if high is not None else f"> {low:g}"
        raise ConfigurationError(f"the {cell.name} cell's parameter {name} must be a number {bounds}; got {value!r} "
                                 f"(set rnn.{name} in the card, or leave it out for the default)")
    object.__setattr__(cell, name, float(value))
