"""The Brian2 equations of a rate network, generated from its cell, activation and noise models.

Nothing here is written by hand per model: the drift, the gates and the recurrent currents come from
:meth:`neurorx.models.cells.Cell.brian2`, the nonlinearity from :meth:`neurorx.activations.Activation.brian2_expr`
and the noise terms from :meth:`neurorx.noise.NoiseModel.brian2_terms`. This module only assembles them into
one equation string for a ``NeuronGroup`` of ``B*N`` units (``B`` trials of ``N`` units, trial-major:
neuron ``i = trial*N + unit``) and says which names the backend must provide.
"""

from __future__ import annotations

from dataclasses import dataclass

from brian2.equations.equations import Equations

from neurorx.activations import get_activation
from neurorx.models.cells import get_cell
from neurorx.noise import NoiseModel

__all__ = ["INPUT_ARRAY", "POOL_SOURCE", "Current", "InputCurrent", "NeuronModel", "neuron_model", "noise_prefix"]

#: Name of the 2-D ``TimedArray`` ``(T, B*n_in)`` holding every trial's inputs, one row per training step.
INPUT_ARRAY = "x_in"
#: The variable holding a pool's presynaptic signal when it is none of the cell's current expressions.
POOL_SOURCE = "src_pool"


def noise_prefix(model: NoiseModel) -> str:
    """The name prefix of a noise model's Brian2 terms: its registry name, e.g. ``"white_"``.

    One prefix per noise *type*: phases that use the same type with other parameters share the terms and
    change the ``(shared)`` parameters between runs.
    """
    return f"{model.name}_"


@dataclass(frozen=True)
class Current:
    """A recurrent current :math:`I_c = W_c\\,s` with presynaptic signal :math:`s` (one gate block of ``w_rec``).

    Attributes
    ----------
    name : str
        The current's variable in the neuron group, e.g. ``"I_rec"``, ``"I_hrec"``.
    block : int
        Gate block ``k``: the weights are rows ``k*N .. (k+1)*N`` of ``w_rec`` (torch ``[post, pre]``).
    expression : str
        The presynaptic expression (``"h"``, or ``"g*h"`` for the GRU candidate).
    source : str
        The neuron variable holding the presynaptic signal: ``"h"``, or ``"src_<name>"`` when the
        expression is not a plain variable (then the backend evaluates it into that variable, per neuron,
        right before the current is summed).
    """

    name: str
    block: int
    expression: str
    source: str

    @property
    def needs_source(self) -> bool:
        """Whether :attr:`source` is an auxiliary variable the backend must fill from :attr:`expression`."""
        return self.source != self.expression


@dataclass(frozen=True)
class InputCurrent:
    """An input current :math:`u_k = b_k + \\sum_j w_{k,j}\\,x_j(t)` of gate block ``block``.

    The per-unit parameters are ``b_<tag>`` and ``w_<tag>_<j>`` (``j < n_in``), e.g. ``b_in``, ``w_in_0``
    for the vanilla cell and ``b_zin``, ``w_zin_0`` for the GRU's update gate.
    """

    name: str
    block: int
    tag: str

    @property
    def bias(self) -> str:
        """Name of the per-unit bias parameter."""
        return f"b_{self.tag}"

    def weight(self, j: int) -> str:
        """Name of the per-unit weight of input ``j``."""
        return f"w_{self.tag}_{j}"


@dataclass(frozen=True)
class NeuronModel:
    """A network's equations for one ``NeuronGroup``, and the names the backend fills in.

    Attributes
    ----------
    equations : str
        The full equation string (``method='euler'``).
    currents : tuple of Current
        Recurrent currents, in the order they must be computed within a time step.
    inputs : tuple of InputCurrent
        Input currents, one per gate block.
    noise_prefixes : dict
        ``noise type name -> prefix`` for every noise type the equations contain.
    noise_states : dict
        ``noise type name -> state variable`` for stateful noise (Ornstein–Uhlenbeck: ``"ou_eta"``).
    n_in : int
        Input dimension (the ``TimedArray`` :data:`INPUT_ARRAY` has ``B*n_in`` columns).
    """

    equations: str
    currents: tuple[Current, ...]
    inputs: tuple[InputCurrent, ...]
    noise_prefixes: dict[str, str]
    noise_states: dict[str, str]
    n_in: int


def _input_tag(name: str) -> str:
    # "I_in" -> "in", "I_zin" -> "zin"
    return name[2:] if name.startswith("I_") else name


def neuron_model(cell, activation: str, n_in: int, noise_models=(), population: str | None = None) -> NeuronModel:
    """Assemble the equations of a ``B*N``-unit group for a cell, an activation and some noise models.

    Parameters
    ----------
    cell : str or Cell
        Registered cell name ("vanilla", "gru", ...) or a cell with its parameters
        (:attr:`neurorx.RateNetwork.cell_object`).
    activation : str
        Registered activation name.
    n_in : int
        Input dimension.
    noise_models : iterable of NoiseModel
        Recurrent noise models whose terms the equations must contain (one set of terms per noise type;
        zero models and :class:`~neurorx.noise.NoNoise` add nothing).
    population : str, optional
        For a cell with populations: the group's population, whose drift may differ
        (:attr:`Brian2Cell.population_drift`) and which may receive a pool's current (:attr:`Brian2Cell.pool`,
        declared as a parameter ``I_div : 1`` written by the coupling).

    Returns
    -------
    NeuronModel

    Notes
    -----
    For a cell with drift :math:`F` and recurrent noise terms :math:`\\nu_m` (units 1/second) the state
    equation is

    .. math:: \\frac{dh}{dt} = \\frac{F(h, u)}{\\tau} + \\sum_m \\nu_m ,

    with the input currents :math:`u_k(t) = b_k + \\sum_j w_{k,j}\\,x(t, \\text{trial}\\cdot n_{in} + j)`
    read from the 2-D ``TimedArray`` ``x_in`` (one row per training step, held over the step), and the
    recurrent currents ``I_c`` declared as parameters, written by the coupling (summed synapses or a
    matrix product) before each state update. For example, a vanilla ReLU cell with white noise reads::

        dh/dt = (-h + clip((I_rec + I_in), 0, inf))/tau + white_sigma*xi_white_ : 1
        I_in = b_in + w_in_0*x_in(t, trial*2 + 0) + w_in_1*x_in(t, trial*2 + 1) : 1
    """
    c = get_cell(cell)
    bcell = c.brian2(get_activation(activation))
    n_in = int(n_in)

    # Noise: one set of terms per noise type, in order of first appearance.
    noise_terms, prefixes = {}, {}
    for model in noise_models:
        if model is None or model.is_zero or model.name in noise_terms:
            continue
        prefixes[model.name] = noise_prefix(model)
        noise_terms[model.name] = model.brian2_terms(prefixes[model.name])
    noise_rhs = " + ".join(t.rhs for t in noise_terms.values()) or "0*Hz"

    drift = bcell.population_drift.get(population, bcell.drift) if population is not None else bcell.drift
    lines = [f"dh/dt = ({drift})/tau + {noise_rhs} : 1"]
    if bcell.subexpressions.strip():
        lines.append(bcell.subexpressions.strip())

    inputs = tuple(InputCurrent(name, k, _input_tag(name)) for k, name in enumerate(bcell.inputs))
    for inp in inputs:
        terms = [inp.bias] + [f"{inp.weight(j)}*{INPUT_ARRAY}(t, trial*{n_in} + {j})" for j in range(n_in)]
        lines.append(f"{inp.name} = {' + '.join(terms)} : 1")
        lines.append(f"{inp.bias} : 1 (constant)")
        lines.extend(f"{inp.weight(j)} : 1 (constant)" for j in range(n_in))

    currents, sources = [], {}
    for k, (name, expr) in enumerate(bcell.currents.items()):
        expr = expr.strip()
        # Currents with the same presynaptic expression share one source variable (dale: I_rec_E, I_rec_I).
        source = expr if expr.isidentifier() else sources.get(expr, f"src_{name}")
        currents.append(Current(name, k, expr, source))
        lines.append(f"{name} : 1")
        if source != expr and expr not in sources:
            sources[expr] = source
            lines.append(f"{source} : 1")

    if bcell.pool is not None and population is not None and bcell.pool.target == population:
        lines.append(f"{bcell.pool.current} : 1")
    if (bcell.pool is not None and population is not None and bcell.pool.presynaptic == population
            and not bcell.pool.source.strip().isidentifier() and bcell.pool.source.strip() not in sources):
        lines.append(f"{POOL_SOURCE} : 1")      # the pool's own presynaptic signal (dale_norm: I_rec_E + I_in)
    lines += ["tau : second (shared, constant)", "trial : integer (constant)", "unit : integer (constant)"]

    noise_states = {}
    for kind, terms in noise_terms.items():
        lines.extend(f"{p} : {unit} (shared)" for p, (_, unit) in terms.parameters.items())
        if terms.equations.strip():
            lines.append(terms.equations.strip())
            states = Equations(terms.equations).diff_eq_names
            if len(states) != 1:
                raise ValueError(f"noise model {kind!r}: expected one state variable in its Brian2 equations, "
                                 f"got {sorted(states)}")
            noise_states[kind] = next(iter(states))

    return NeuronModel(
        equations="\n".join(lines),
        currents=tuple(currents),
        inputs=inputs,
        noise_prefixes=prefixes,
        noise_states=noise_states,
        n_in=n_in,
    )
