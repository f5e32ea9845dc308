"""The E/I cells under Dale's law: ``dale``, ``dale_norm`` and ``dale_subnorm`` (registered in
:data:`neurorx.models.cells.CELLS`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

from neurorx.activations import Activation, get_activation
from neurorx.checks import positive_int
from neurorx.ei.error_norm import ERROR_NORMS, apply_error_norm
from neurorx.errors import ConfigurationError
from neurorx.models import ei_primitives as ei
from neurorx.models.cell_base import Brian2Cell, Brian2Pool, Cell, _choice, _number
from neurorx.models.recurrences import dale_recurrence

__all__ = ["INHIBITION_MODES", "POOL_INPUTS", "DaleCell", "DaleNormCell", "DaleSubNormCell"]

#: The values of :attr:`DaleNormCell.inhibition`.
INHIBITION_MODES = ("steady", "integrated")
#: The values of :attr:`DaleNormCell.pool_input`.
POOL_INPUTS = ("drive", "rates")


@dataclass(frozen=True)
class DaleCell(Cell):
    """A rate network that obeys Dale's law: ``N_E`` excitatory and ``N_I`` inhibitory units.

    Units ``0 .. N_E-1`` are excitatory (E), units ``N_E .. N-1`` inhibitory (I), with
    :math:`N_E` = round(:attr:`excitatory_fraction` :math:`\\cdot N`) (80/20 by default). Every unit's
    outgoing weights have the sign of its population: column :math:`j` of ``w_rec`` (torch ``[post, pre]``)
    is :math:`\\ge 0` for an E unit and :math:`\\le 0` for an I unit, i.e.
    :math:`W_{rec} = |W|\\,\\mathrm{diag}(s)`, :math:`s_j = \\pm 1`. Units communicate through their rates
    :math:`r = [h]_+ \\ge 0`, so a negative state (from the initial state or zero-mean noise) cannot flip the
    sign of a synapse. The readout uses the E units only (the I columns of ``w_out`` are zero).

    Notes
    -----
    .. math:: \\tau\\frac{dh}{dt} = -h + \\phi\\big(W_{rec}[h]_+ + W_{in}x + b\\big),\\qquad
              W_{rec} = |W|\\,\\mathrm{diag}(s)

    In the non-negative orthant this is the vanilla cell with a sign-constrained :math:`W_{rec}`.

    *Constraint*: :meth:`project_` (called by the trainer after every optimizer step) clamps wrong-signed
    recurrent weights to zero (projected gradient descent, as for the DANN weights of Cornford et al. 2021)
    and zeroes the readout's I columns. :meth:`validate_weights` refuses weights that break either rule, so a
    network file with a violation does not load.

    *Initialisation* (after Song, Yang & Wang 2016, PLoS Comput. Biol. 12:e1004792, with a heavier tail):
    magnitudes :math:`|W_{ij}| \\sim \\mathrm{Gamma}(k)`, :math:`k` = :attr:`gamma_shape` = 0.1, no
    self-connections; in every row the inhibitory weights are
    rescaled so that their sum equals the excitatory sum (exact E/I balance: each row of :math:`W_{rec}` sums to
    zero, removing the large outlier eigenvalue a non-negative matrix has); then the matrix is scaled to the
    spectral radius :attr:`init_radius`. Its default :math:`1/\\sqrt 3` is the radius of the unconstrained
    reference initialisation :math:`U(\\pm 1/\\sqrt N)`, so the two networks start from the same radius
    (Li et al. 2023, "Learning better with Dale's law: a spectral perspective", show that the spectrum at
    initialisation, more than the sign constraint, decides how well such networks learn). The shape sets the
    size of the rank-one part the column signs leave in a row-balanced matrix (mean/SD of the magnitudes is
    :math:`\\sqrt k`), which the spectral radius does not see: at N = 512 the largest singular value is 15.9
    for k = 2 and 4.1 for k = 0.1 (1.15 for the unconstrained initialisation). With k = 2 the spatial and the
    Gaussian-noise head-direction cards did not learn in 2500/3000 batches; with k = 0.1 both learn as the
    unconstrained networks do (docs/dale.md). The input weights,
    the initial-state encoder and the readout's E columns keep the torch default initialisation.
    """

    name = "dale"
    gates = ("h",)
    default_activation = "relu"
    fused_recurrence = staticmethod(dale_recurrence)
    #: Fraction of excitatory units.
    excitatory_fraction: float = 0.8
    #: Spectral radius of ``w_rec`` at initialisation.
    init_radius: float = 1.0 / math.sqrt(3.0)
    #: Shape of the gamma distribution of the initial weight magnitudes (heavy-tailed; see the class notes).
    gamma_shape: float = 0.1

    def __post_init__(self):
        _number(self, "excitatory_fraction", low=0.0, high=1.0)
        _number(self, "init_radius", low=0.0)
        _number(self, "gamma_shape", low=0.0)

    def n_excitatory(self, n_rec: int) -> int:
        """:math:`N_E` of a network of ``n_rec`` units (at least one E and one I unit)."""
        return ei.n_excitatory(n_rec, self.excitatory_fraction)

    def populations(self, n_rec: int) -> dict[str, slice]:
        n_e = self.n_excitatory(n_rec)
        return {"E": slice(0, n_e), "I": slice(n_e, n_rec)}

    def signs(self, n_rec: int, dtype=torch.float64) -> torch.Tensor:
        """The presynaptic signs :math:`s` (+1 for E, -1 for I units)."""
        s = torch.ones(n_rec, dtype=dtype)
        s[self.n_excitatory(n_rec):] = -1.0
        return s

    def drift(self, h, u, w_rec, act, extra=None):
        return act.torch(torch.addmm(u, torch.relu(h), w_rec.T)) - h

    def step_into(self, out, h, u, w_rec, a, act, increment=None, extra=None, scratch=None):
        scratch = {} if scratch is None else scratch
        r = torch.clamp_min(h, 0.0, out=self._buffer(scratch, "r", h))
        z = act.apply_(torch.addmm(u, r, w_rec.T, out=self._buffer(scratch, "z", h)))
        return self._euler_into(out, h, z, a, increment)

    def brian2(self, act: Activation) -> Brian2Cell:
        rate = "clip(h, 0, inf)"
        return Brian2Cell(
            drift=f"-h + {act.brian2_expr('I_rec_E + I_rec_I + I_in')}",
            subexpressions="",
            currents={"I_rec_E": rate, "I_rec_I": rate},
            inputs=("I_in",),
            presynaptic={"I_rec_E": "E", "I_rec_I": "I"},
        )

    def init_weights_(self, weights: Mapping[str, torch.Tensor]) -> None:
        w_rec = weights["w_rec"]
        n = w_rec.shape[1]
        n_e = self.n_excitatory(n)
        with torch.no_grad():
            mag = torch.distributions.Gamma(torch.tensor(self.gamma_shape, dtype=torch.float64),
                                            torch.tensor(1.0, dtype=torch.float64)).sample((n, n))
            mag.fill_diagonal_(0.0)
            e_sum = mag[:, :n_e].sum(dim=1, keepdim=True)
            i_sum = mag[:, n_e:].sum(dim=1, keepdim=True).clamp_min(1e-12)
            mag[:, n_e:] *= e_sum / i_sum
            w = mag * self.signs(n)
            radius = torch.linalg.eigvals(w).abs().max().real
            w *= self.init_radius / float(radius) if float(radius) > 0 else 1.0
            w_rec.copy_(w.to(w_rec.dtype))
        self.project_(weights)

    def project_(self, weights: Mapping[str, torch.Tensor]) -> None:
        w_rec = weights["w_rec"]
        n_e = self.n_excitatory(w_rec.shape[1])
        ei.project_dale_(w_rec, n_e)
        if "w_out" in weights:
            with torch.no_grad():
                weights["w_out"][:, n_e:] = 0.0

    def validate_weights(self, weights: Mapping[str, object], n_rec: int) -> None:
        n_e = self.n_excitatory(n_rec)
        fix = (f"; a {self.name} network's w_rec is |W| diag(signs) with units 0..N_E-1 excitatory (columns >= 0) and "
               "N_E..N-1 inhibitory (columns <= 0), and its readout reads the E units only. Project the weights "
               f"with neurorx.models.cells.CELLS.get({self.name!r}).project_(weights), or use cell='vanilla'")
        w_rec = np.asarray(weights["w_rec"])
        bad_e = np.flatnonzero((w_rec[:, :n_e] < 0).any(axis=0))
        if bad_e.size:
            raise ConfigurationError(
                f"w_rec breaks Dale's law: excitatory column(s) {bad_e[:5].tolist()} (N_E = {n_e} of N = {n_rec}) "
                f"hold negative weights (min {w_rec[:, :n_e].min():.3g})" + fix)
        bad_i = n_e + np.flatnonzero((w_rec[:, n_e:] > 0).any(axis=0))
        if bad_i.size:
            raise ConfigurationError(
                f"w_rec breaks Dale's law: inhibitory column(s) {bad_i[:5].tolist()} (N_E = {n_e} of N = {n_rec}) "
                f"hold positive weights (max {w_rec[:, n_e:].max():.3g})" + fix)
        w_out = np.asarray(weights["w_out"])
        if np.any(w_out[:, n_e:] != 0):
            raise ConfigurationError(
                f"w_out reads inhibitory units: its columns {n_e}..{n_rec - 1} (the I units) must be zero "
                f"(max |w| {np.abs(w_out[:, n_e:]).max():.3g})" + fix)


@dataclass(frozen=True)
class DaleNormCell(DaleCell):
    """The Dale E/I cell with inhibition-mediated normalization of the E units' recurrent drive (``dale_norm``).

    The I-Norm layer of Eyono et al. (``ei_norm.md`` §2, :class:`neurorx.ei.layers.INormLayer`) made recurrent:
    the inhibitory population subtracts the mean of the E units' drive and a divisive pool of ``k`` instantaneous
    units divides it by its standard deviation, and a local homeostatic loss trains the weights onto the
    inhibitory units to keep the E drive centred and of unit variance. ``dale_subnorm``
    (:class:`DaleSubNormCell`) is the subtractive-only ablation ("I-Norm (sub)", :math:`\\gamma \\equiv 1`).

    Notes
    -----
    With rates :math:`r = [h]_+` split into :math:`r_E` (units ``0..N_E-1``) and :math:`r_I`, the blocks of
    :math:`W_{rec}` (torch ``[post, pre]``) :math:`W_{EE} \\ge 0`, :math:`-W_{EI} \\le 0` (I→E),
    :math:`W_{IE} \\ge 0` (E→I), :math:`-W_{II} \\le 0`, and :math:`u = W_{in}x + b`:

    .. math::
        \\tilde z_E = \\frac{d_E - W_{EI} \\rho_I}{\\gamma}, \\qquad d_E = W_{EE} r_E + u_E, \\qquad
        \\gamma = \\sqrt{\\tfrac{1}{k}\\textstyle\\sum_k (U q)_k^2 + \\epsilon},

        \\tau\\frac{dh_E}{dt} = -h_E + \\phi(\\tilde z_E), \\qquad
        \\tau\\frac{dh_I}{dt} = -h_I + \\phi(W_{IE} r_E - W_{II} r_I + u_I),

    with the pool weights :math:`U` = ``w_div`` (``k x N_E``, signed: the E→pool synapses are not Dale, as the
    paper's :math:`U_{IE}`), :math:`U_{EI} = 1/k` fixed, :math:`k = N_E` (or :attr:`max_pool` if smaller),
    :math:`\\epsilon` = :attr:`eps` = 1e-5, the pool's input :math:`q` given by :attr:`pool_input` (``"drive"``,
    the default: :math:`q = d_E`, the E units' whole excitatory drive, recurrent and external, as the
    feed-forward layer's pool reads the layer's whole input; ``"rates"``: :math:`q = r_E`, the recurrent rates
    only, so that :math:`\\gamma \\to \\sqrt\\epsilon` when the E units are silent and the input is divided
    by it),
    and :math:`\\rho_I`, the inhibitory rates the E units receive, given by :attr:`inhibition`:

    - ``"steady"`` (default): the I units at their steady state within the step,
      :math:`\\rho_I = \\phi(W_{IE} r_E + u_I)` (the limit :math:`\\tau_I \\to 0`; as in the feed-forward I-Norm
      layer, where :math:`z_I = W_{IE} h`). There are no I→I synapses (:math:`W_{II} = 0`, frozen and checked),
      so :math:`\\rho_I` is explicit. The state :math:`h_I` follows :math:`\\rho_I` with :math:`\\tau` (the
      equation above); it records the I population's rates and no unit reads it.
    - ``"integrated"``: :math:`\\rho_I = r_I = [h_I]_+`, the I units' rates integrated with :math:`\\tau` as the
      E units' are.

    *Stability of the population-mean mode* (docs/dale.md). Let all E units carry rate :math:`m`, let :math:`c`
    be the mean row sum of :math:`W_{EE}`, and let the I units' steady rates cancel it,
    :math:`W_{EI} W_{IE} r_E = c\\,m` (the initialisation), with :math:`\\gamma` held. The loop gain is
    :math:`G = c/\\gamma`. Integrated, with :math:`i` the inhibitory current in units of :math:`c` and
    :math:`a = \\Delta t/\\tau`, the Euler map linearised in the ReLU's linear range is

    .. math:: \\begin{pmatrix} m \\\\ i \\end{pmatrix} \\leftarrow
              \\begin{pmatrix} 1 - a + aG & -aG \\\\ a & 1 - a \\end{pmatrix}
              \\begin{pmatrix} m \\\\ i \\end{pmatrix},
              \\qquad \\det = (1-a)^2 + aG, \\quad \\operatorname{tr} = 2 - 2a + aG.

    Jury's conditions: :math:`1 - \\operatorname{tr} + \\det = a^2 > 0` and :math:`1 + \\operatorname{tr} +
    \\det > 0` always hold, and :math:`\\det < 1` iff :math:`G < 2 - a`. Above that bound the mean mode grows
    as an oscillation of modulus :math:`\\sqrt{(1-a)^2 + aG}` per step (in continuous time, :math:`a \\to 0`,
    the bound is :math:`G < 2`). Steady, the inhibition cancels :math:`c\\,m` within the step, so
    :math:`m \\leftarrow (1 - a)\\,m`: stable for :math:`0 < a < 2` whatever :math:`G`. The normalized drive
    divides by :math:`\\gamma`, the spread of the centred drive, much smaller than the mean of a non-negative
    :math:`W_{EE} r_E`, so :math:`G` is large (:math:`\\approx 2.7` on the initial head-direction network,
    :math:`\\approx 25` with the earlier initialisation) and only the steady form settles.

    *Which loss trains which weights* (``ei_norm.md`` §2). In :meth:`drift` the inhibitory current
    :math:`W_{EI} r_I` and :math:`\\gamma` are detached, and the I units see a detached :math:`r_E`: the values
    are the dynamics above, but backpropagation of the task loss reaches only :math:`W_{EE}`, the E rows of
    ``w_in``, ``bias`` and ``encoder``, and the readout, and the I units' graph depends on no E weight. The
    homeostatic loss (:meth:`local_loss`, weighted by ``trainer.homeostatic_weight`` :math:`\\lambda`)

    .. math:: L_I = \\lambda\\,\\operatorname{mean}_{t,b}\\big[(\\operatorname{mean}_k \\tilde z_k)^2
              + (\\operatorname{Var}_k \\tilde z_k - 1)^2\\big]

    recomputes :math:`\\tilde z_E` with stop-gradients on :math:`r_E`, on :math:`W_{EE} r_E + u_E` and on
    :math:`W_{EI}`; its gradient flows through :math:`\\rho_I` (steady: into :math:`W_{IE}` and the I rows of
    ``w_in`` and ``bias`` within the step; integrated: through the I units' own dynamics, their states over
    time) and :math:`U`, so it trains the weights onto the inhibitory units: :math:`W_{IE}`, :math:`W_{II}`
    (integrated only), :math:`U`, and the I rows of ``w_in``, ``bias`` and ``encoder`` (weights onto I units
    the task loss cannot reach; steady: the encoder's I rows set only the recorded :math:`h_I(0)`).
    :math:`W_{EI}` is frozen at its initial value (:meth:`frozen_masks`). Because of
    the stop-gradients, autograd through :meth:`drift` gives this training gradient, not the derivative of
    the dynamics.

    *Initialisation*, after ``ei_norm.md`` §2 (LayerNorm at the start): the magnitudes of :class:`DaleCell`
    (gamma, no self-connections, spectral radius), then every row of :math:`W_{EI}` normalised to sum 1, every
    row of :math:`W_{IE}` the column mean of :math:`W_{EE}`, :math:`W_{II} = 0`, the I rows of ``w_in`` and
    ``bias`` zero, and the pool (:meth:`pool_weights`): ``"drive"``, :math:`U = \\sqrt{k/N_E}\\,L_k^\\top`, the
    left singular vectors of the centred :math:`[W_{EE}\\; W_{in,E}\\; b_E]`, so that
    :math:`\\frac1k\\sum_k (U d_E)_k^2 = \\operatorname{Var}_i d_{E,i}` for ``k = N_E`` (LayerNorm's denominator
    at every state and input); ``"rates"``, :math:`U = \\sqrt{k/N_E}\\,\\mathrm{diag}(S_k)V_k^\\top` from the SVD
    :math:`W_{EE} - W_{EI}W_{IE} = U_s S V^\\top` (the top ``k`` singular values). What differs because the I
    units are recurrent: :math:`W_{EI} \\rho_I` equals :math:`\\operatorname{mean}_k (W_{EE} r_E)_k` when
    :math:`\\rho_I = W_{IE} r_E` (no input to the I units): in every step for ``"steady"``, and for
    ``"integrated"`` only at the I units' fixed point (reached with time constant :math:`\\tau` when :math:`r_E`
    is held, and exactly there with :math:`W_{II} = 0`). There, with ``"drive"``, :math:`\\tilde z_E` has mean
    :math:`\\bar u_E/\\gamma` and variance :math:`s^2/(s^2 + \\epsilon)`, :math:`s^2 = \\operatorname{Var}_i d_{E,i}`;
    with ``"rates"`` and :math:`u_E = 0`, mean 0 and variance :math:`\\|W r_E\\|^2 / (\\|W r_E\\|^2 + N_E\\epsilon)`
    (:math:`W = W_{EE} - W_{EI}W_{IE}`): the layer is LayerNorm. The input's mean :math:`\\bar u_E` is not
    cancelled by the I units at the start (their input weights start at zero; the homeostatic loss trains them)
    and the initial state :math:`h_I(0)` is the encoder's.
    """

    name = "dale_norm"
    #: :math:`\\epsilon` of :math:`\\gamma`.
    eps: float = 1e-5
    #: Upper bound on the pool size ``k`` (``None``: ``k = N_E``).
    max_pool: int | None = None
    #: How the inhibitory units act on the E units: ``"steady"`` (at their steady state within each step, as in
    #: the feed-forward I-Norm layer) or ``"integrated"`` (their rates integrated with :math:`\tau`, as the E
    #: units'). See the class notes.
    inhibition: str = "steady"
    #: What the divisive pool reads: ``"drive"`` (the E units' whole excitatory drive :math:`W_{EE} r_E + u_E`) or
    #: ``"rates"`` (the E rates :math:`r_E` only). See the class notes.
    pool_input: str = "drive"
    #: How the task's errors are normalized on their way back through the E units' normalized drive
    #: (:data:`neurorx.ei.error_norm.ERROR_NORMS`: ``"none"``, the paper's plain I-Norm; ``"full"``, the LayerNorm
    #: Jacobian, "GradNorm"; ...). Training only: the forward dynamics do not depend on it.
    error_norm: str = "none"
    #: Divisive normalization by the pool (``False``: the subtractive-only ablation); fixed by the cell type.
    divisive: bool = field(default=True, init=False)
    extra_weights = ("w_div",)

    def __post_init__(self):
        super().__post_init__()
        _number(self, "eps", low=0.0)
        _choice(self, "inhibition", INHIBITION_MODES)
        _choice(self, "error_norm", [n for n in ERROR_NORMS if not ERROR_NORMS.get(n).needs_weights])
        if self.divisive:
            _choice(self, "pool_input", POOL_INPUTS)
        if self.max_pool is not None:
            object.__setattr__(self, "max_pool", positive_int(self.max_pool, f"{self.name} cell parameter max_pool"))
    has_local_loss = True
    #: None: trained through :meth:`run`, whose autograd graph carries the task loss and the local loss.
    fused_recurrence = None
    #: Its drift is not DaleCell's: the generic copy of :meth:`step`.
    step_into = Cell.step_into

    def pool_size(self, n_rec: int) -> int:
        """The number ``k`` of divisive pool units of a network of ``n_rec`` units."""
        return ei.pool_size(self.n_excitatory(n_rec), self.max_pool)

    def weight_shapes(self, n_rec, n_in, n_out, n_init):
        shapes = super().weight_shapes(n_rec, n_in, n_out, n_init)
        if self.divisive:
            shapes["w_div"] = (self.pool_size(n_rec), self.n_excitatory(n_rec))
        return shapes

    def _w_div(self, extra):
        if not self.divisive:
            return None
        if extra is None or "w_div" not in extra:
            raise ConfigurationError(f"the {self.name} cell needs its divisive pool weights: pass "
                                     f"extra={{'w_div': U}} with U of shape (k, N_E)")
        return extra["w_div"]

    def gamma(self, q: torch.Tensor, w_div: torch.Tensor | None) -> torch.Tensor | None:
        """:math:`\\gamma = \\sqrt{\\operatorname{mean}_k (U q)_k^2 + \\epsilon}` of the pool's input ``q (..., N_E)``
        (:meth:`pool_signal`), with a trailing axis of 1; ``None`` for the subtractive-only cell.
        """
        if w_div is None:
            return None
        return torch.sqrt(torch.matmul(q, w_div.T).square().mean(dim=-1, keepdim=True) + self.eps)

    def pool_signal(self, r_e: torch.Tensor, drive_e: torch.Tensor) -> torch.Tensor:
        """The pool's input :math:`q`: the excitatory drive ``drive_e`` :math:`= W_{EE} r_E + u_E` for
        ``pool_input="drive"``, the E rates ``r_e`` for ``"rates"``.
        """
        return drive_e if self.pool_input == "drive" else r_e

    def inhibitory_rates(self, r_e: torch.Tensor, r_i: torch.Tensor, u_i: torch.Tensor, w_rec: torch.Tensor,
                         act: Activation) -> torch.Tensor:
        """The rates the inhibitory units send to the E units, from E rates ``r_e``, I rates ``r_i = [h_I]_+`` and
        the I units' input ``u_i``.

        ``"steady"``: their steady state :math:`\\rho_I = \\phi(W_{IE} r_E + u_I)` (no :math:`W_{II}`, which is
        zero in this mode); ``"integrated"``: ``r_i`` itself.
        """
        if self.inhibition == "integrated":
            return r_i
        n_e = r_e.shape[-1]
        return act.torch(torch.matmul(r_e, w_rec[n_e:, :n_e].T) + u_i)

    def drift(self, h, u, w_rec, act, extra=None):
        n_e = self.n_excitatory(h.shape[-1])
        w_div = self._w_div(extra)
        r = torch.relu(h)
        r_e, r_i = r[..., :n_e], r[..., n_e:]
        r_e_const = r_e.detach()
        drive_e = torch.matmul(r_e, w_rec[:n_e, :n_e].T) + u[..., :n_e]          # W_EE r_E + u_E (task graph)
        if self.inhibition == "steady":
            rho_i = self.inhibitory_rates(r_e_const, r_i, u[..., n_e:], w_rec, act)   # phi(W_IE r_E + u_I)
            target_i = rho_i
        else:
            rho_i = r_i
            target_i = act.torch(torch.matmul(r_e_const, w_rec[n_e:, :n_e].T) + torch.matmul(r_i, w_rec[n_e:, n_e:].T)
                                 + u[..., n_e:])                                   # phi(W_IE r_E - W_II r_I + u_I)
        gamma = self.gamma(self.pool_signal(r_e_const, drive_e.detach()), w_div)
        drive_e = drive_e + torch.matmul(rho_i, w_rec[:n_e, n_e:].T).detach()     # - W_EI rho_I (constant)
        if gamma is not None:
            drive_e = drive_e / gamma.detach()                                    # / gamma (constant)
        drive_e = apply_error_norm(drive_e, self.error_norm)                      # identity; normalizes the errors
        return torch.cat([act.torch(drive_e), target_i], dim=-1) - h

    def normalized_drive(self, states: torch.Tensor, u: torch.Tensor, w_rec: torch.Tensor,
                         extra: Mapping[str, torch.Tensor] | None = None, act: Activation | None = None
                         ) -> torch.Tensor:
        """:math:`\\tilde z_E` of states ``(..., N)`` as the homeostatic loss sees it: stop-gradients on
        :math:`r_E`, :math:`W_{EE} r_E + u_E` and :math:`W_{EI}`; gradients through the inhibitory rates
        (:meth:`inhibitory_rates`: ``"steady"``, :math:`W_{IE}` and :math:`u_I` directly; ``"integrated"``, the I
        units' states) and :math:`U`. ``act``: the network's activation (ReLU if omitted).
        """
        n_e = self.n_excitatory(states.shape[-1])
        r = torch.relu(states)
        r_e, r_i = r[..., :n_e].detach(), r[..., n_e:]
        rho_i = self.inhibitory_rates(r_e, r_i, u[..., n_e:], w_rec, act if act is not None else get_activation("relu"))
        drive_e = (torch.matmul(r_e, w_rec[:n_e, :n_e].T) + u[..., :n_e]).detach()
        z = drive_e + torch.matmul(rho_i, w_rec[:n_e, n_e:].detach().T)
        gamma = self.gamma(self.pool_signal(r_e, drive_e), self._w_div(extra))
        return z if gamma is None else z / gamma

    def local_loss(self, states, u, w_rec, extra=None, act=None):
        """The homeostatic loss (:func:`~neurorx.models.ei_primitives.homeostatic_loss`, without
        :math:`\\lambda`) of :meth:`normalized_drive`.
        """
        return ei.homeostatic_loss(self.normalized_drive(states, u, w_rec, extra, act))

    def brian2(self, act: Activation) -> Brian2Cell:
        base = super().brian2(act)
        rate = base.currents["I_rec_E"]
        currents, population_drift = dict(base.currents), {}
        if self.inhibition == "steady":
            # The I units' steady-state rate, filled after I_rec_E is summed (currents are computed in order).
            steady = act.brian2_expr("I_rec_E + I_in")
            currents["I_rec_I"] = steady
            population_drift["I"] = f"-h + {steady}"
        if self.divisive:
            population_drift["E"] = f"-h + {act.brian2_expr(f'(I_rec_E + I_rec_I + I_in)/sqrt(I_div + {self.eps!r})')}"
        return Brian2Cell(
            drift=base.drift,
            subexpressions=base.subexpressions,
            currents=currents,
            inputs=base.inputs,
            presynaptic=base.presynaptic,
            population_drift=population_drift,
            pool=Brian2Pool(weight="w_div", presynaptic="E", target="E",
                            source="I_rec_E + I_in" if self.pool_input == "drive" else rate, current="I_div")
            if self.divisive else None,
        )

    def pool_weights(self, w_rec: torch.Tensor, w_in: torch.Tensor | None = None,
                     bias: torch.Tensor | None = None) -> torch.Tensor:
        """The initial pool weights :math:`U` (``k x N_E``) from the blocks of ``w_rec`` (and, for
        ``pool_input="drive"``, the E rows of ``w_in`` and ``bias``; omitted: zero).

        ``"drive"``: :math:`U = \\sqrt{k/N_E}\\,L_k^\\top` (:func:`~neurorx.models.ei_primitives.centred_pool`
        of :math:`[W_{EE}\\; W_{in,E}\\; b_E]`), so that
        :math:`\\operatorname{mean}_k (U d)_k^2 = \\operatorname{Var}_i d_i`
        for every drive :math:`d = W_{EE} r + W_{in,E} x + b_E` when ``k = N_E``. ``"rates"``:
        :math:`U = \\sqrt{k/N_E}\\,\\mathrm{diag}(S_k)V_k^\\top` from the SVD of :math:`W_{EE} - W_{EI}W_{IE}`, so
        that :math:`\\operatorname{mean}_k (U r)_k^2 = \\|W r\\|^2/N_E` for ``k = N_E``.
        """
        n = w_rec.shape[1]
        n_e, k = self.n_excitatory(n), self.pool_size(n)
        w = w_rec.detach().to(torch.float64)                      # the I->E block is -W_EI
        scale = math.sqrt(k / n_e)
        if self.pool_input == "rates":
            return ei.svd_pool(w[:n_e, :n_e], -w[:n_e, n_e:], w[n_e:, :n_e], k, scale=scale).to(w_rec.dtype)
        blocks = [w[:n_e, :n_e]]
        if w_in is not None:
            blocks.append(w_in.detach().to(torch.float64)[:n_e])
        if bias is not None:
            blocks.append(bias.detach().to(torch.float64)[:n_e, None])
        return ei.centred_pool(torch.cat(blocks, dim=1), k, scale=scale).to(w_rec.dtype)

    def default_extra_weights(self, weights):
        w_rec = np.asarray(weights["w_rec"], dtype=np.float64)
        if not self.divisive or w_rec.ndim != 2 or w_rec.shape[0] != w_rec.shape[1] or w_rec.shape[0] < 2:
            return {}          # a w_rec of the wrong shape: check_weights names it
        optional = {}
        for name, ndim in (("w_in", 2), ("bias", 1)):
            value = weights.get(name)
            if value is not None and np.ndim(value) == ndim and np.shape(value)[0] == w_rec.shape[0]:
                optional[name] = torch.tensor(np.asarray(value, dtype=np.float64))
        return {"w_div": self.pool_weights(torch.tensor(w_rec), **optional)}

    def init_weights_(self, weights: Mapping[str, torch.Tensor]) -> None:
        super().init_weights_(weights)       # DaleCell: signed gamma magnitudes, balanced rows, radius
        w_rec = weights["w_rec"]
        n = w_rec.shape[1]
        n_e = self.n_excitatory(n)
        with torch.no_grad():
            w = w_rec.detach().to(torch.float64).clone()
            w_ie, w_ei = ei.balanced_inhibition(w[:n_e, :n_e], -w[:n_e, n_e:], n - n_e)
            w[:n_e, n_e:] = -w_ei                                           # rows of W_EI sum to 1
            w[n_e:, :n_e] = w_ie                                            # rows of W_IE: column mean of W_EE
            w[n_e:, n_e:] = 0.0                                             # W_II = 0
            w_rec.copy_(w.to(w_rec.dtype))
            weights["w_in"][n_e:] = 0.0                                     # the I units see the E units only
            if weights.get("bias") is not None:
                weights["bias"][n_e:] = 0.0
            if self.divisive:
                weights["w_div"].copy_(self.pool_weights(w_rec, weights["w_in"], weights.get("bias")))
        self.project_(weights)

    def project_(self, weights: Mapping[str, torch.Tensor]) -> None:
        """:meth:`DaleCell.project_`, and for ``inhibition="steady"`` :math:`W_{II} = 0` (no I→I synapses)."""
        super().project_(weights)
        if self.inhibition == "steady":
            w_rec = weights["w_rec"]
            n_e = self.n_excitatory(w_rec.shape[1])
            with torch.no_grad():
                w_rec[n_e:, n_e:] = 0.0

    def frozen_masks(self, weights):
        w_rec = weights["w_rec"]
        n_e = self.n_excitatory(w_rec.shape[1])
        mask = torch.zeros(w_rec.shape, dtype=torch.bool, device=w_rec.device)
        mask[:n_e, n_e:] = True                                             # W_EI (I -> E)
        if self.inhibition == "steady":
            mask[n_e:, n_e:] = True                                         # W_II = 0: no I -> I at steady state
        return {"w_rec": mask}

    def validate_weights(self, weights, n_rec):
        super().validate_weights(weights, n_rec)
        n_e = self.n_excitatory(n_rec)
        w_ii = np.asarray(weights["w_rec"])[n_e:, n_e:]
        if self.inhibition == "steady" and np.any(w_ii != 0):
            raise ConfigurationError(
                f"a {self.name} network with inhibition='steady' has no I->I synapses, but its w_rec block "
                f"[{n_e}:, {n_e}:] (W_II) holds nonzero weights (max |w| {np.abs(w_ii).max():.3g}); set those "
                f"entries to zero (neurorx.models.get_cell({self.name!r}).project_(weights) does), or use "
                "inhibition='integrated' (rnn.inhibition)")
        if self.divisive and "w_div" not in weights:
            k, n_e = self.pool_size(n_rec), self.n_excitatory(n_rec)
            raise ConfigurationError(
                f"a {self.name} network needs the weights of its divisive pool, w_div of shape ({k}, {n_e}) = "
                f"(k, N_E); save the network from a trained {self.name} model, or give w_div (RateNetwork."
                f"from_arrays computes its initial value from w_rec when it is omitted)")


@dataclass(frozen=True)
class DaleSubNormCell(DaleNormCell):
    """The subtractive-only ablation of :class:`DaleNormCell` (``dale_subnorm``, the paper's "I-Norm (sub)").

    Notes
    -----
    :math:`\\gamma \\equiv 1`: :math:`\\tau\\,dh_E/dt = -h_E + \\phi(W_{EE} r_E + u_E - W_{EI} r_I)`; no pool and
    no ``w_div``. The dynamics are those of :class:`DaleCell` (same Brian2 equations); what differs is the
    initialisation (:class:`DaleNormCell`'s, without :math:`U`) and the training: the inhibitory weights are
    trained by the homeostatic loss (with :math:`\\gamma = 1`), the rest by the task, :math:`W_{EI}` frozen.
    """

    name = "dale_subnorm"
    divisive: bool = field(default=False, init=False)
    #: No pool, so nothing to read.
    pool_input: str | None = field(default=None, init=False)
    extra_weights = ()
