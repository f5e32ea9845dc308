"""Recurrent cells: the one definition of each network's dynamics.

A cell defines the drift :math:`F` of the continuous-time rate equation

.. math:: \\tau\\,\\frac{dh}{dt} = F(h, u),\\qquad u = W_{in}x + b,

and everything else follows from it: the discrete Euler–Maruyama step used by training and by the torch
backend (:meth:`Cell.step`, :math:`h \\leftarrow h + a F(h,u) + \\text{noise}`, :math:`a = \\Delta t/\\tau`), the one
loop over time that applies it (:meth:`Cell.run`), and
the Brian2 equations (:meth:`Cell.brian2`), which state the same :math:`F` as an expression.

Weight layout (torch ``[post, pre]``): ``w_in`` is ``(G*N, n_in)``, ``w_rec`` is ``(G*N, N)`` and ``bias`` is
``(G*N,)``, with ``G`` gate blocks of ``N`` rows stacked in the order of :attr:`Cell.gates`.

The cells live in modules by family: :mod:`neurorx.models.cell_base` (:class:`Cell`, the registry
:data:`CELLS`, :class:`Brian2Cell`), :mod:`neurorx.models.rate_cells` (vanilla, GRU) and
:mod:`neurorx.models.dale_cells` (the E/I cells under Dale's law); this module registers them and holds
:func:`get_cell` and :func:`check_weights`.
"""

from __future__ import annotations

from collections.abc import Mapping

from neurorx.models import ei_primitives as ei
from neurorx.models.cell_base import CELLS, Brian2Cell, Brian2Pool, Cell
from neurorx.models.dale_cells import DaleCell, DaleNormCell, DaleSubNormCell
from neurorx.models.rate_cells import GRUCell, VanillaCell

__all__ = ["CELLS", "Brian2Cell", "Brian2Pool", "Cell", "DaleCell", "DaleNormCell", "DaleSubNormCell", "GRUCell",
           "VanillaCell", "get_cell", "homeostatic_loss"]

#: The homeostatic loss (defined once, in :mod:`neurorx.models.ei_primitives`).
homeostatic_loss = ei.homeostatic_loss


CELLS.add("vanilla", VanillaCell())
CELLS.add("gru", GRUCell())
CELLS.add("dale", DaleCell())
CELLS.add("dale_norm", DaleNormCell())
CELLS.add("dale_subnorm", DaleSubNormCell())


def get_cell(name: str | Cell, params: Mapping[str, object] | None = None) -> Cell:
    """The registered cell ``name`` ("vanilla", "gru", "dale", "dale_norm", "dale_subnorm") with ``params``.

    Parameters
    ----------
    name : str or Cell
        A registered name, or a cell (returned with ``params`` applied).
    params : mapping, optional
        Cell parameters (:meth:`Cell.parameter_names`); those omitted keep the cell's defaults.

    Raises
    ------
    ConfigurationError
        For an unknown parameter or a value the cell refuses.
    """
    cell = name if isinstance(name, Cell) else CELLS.get(name)
    return cell.with_params(params)


def check_weights(cell: Cell, weights: Mapping[str, object]) -> tuple[int, int, int, int]:
    """Validate the weight shapes against each other; return ``(n_rec, n_in, n_out, n_init)``.

    Raises
    ------
    ValueError
        Naming the array whose shape does not fit and the shape it should have.
    """
    missing = [k for k in ("encoder", "w_in", "w_rec", "w_out") if k not in weights]
    if missing:
        raise ValueError(f"missing weight arrays {missing}; a {cell.name} network needs encoder, w_in, w_rec, "
                         f"w_out (and optionally bias)")
    shapes = {k: tuple(getattr(v, "shape", ())) for k, v in weights.items()}
    w_rec = shapes["w_rec"]
    g = len(cell.gates)
    if len(w_rec) != 2 or w_rec[0] != g * w_rec[1]:
        raise ValueError(
            f"w_rec has shape {w_rec}; a {cell.name} cell needs ({g}*N, N) in torch [post, pre] layout"
            + (" (did you pass the transpose?)" if len(w_rec) == 2 and w_rec[1] == g * w_rec[0] else "")
        )
    n_rec = w_rec[1]
    n_in = shapes["w_in"][1] if len(shapes["w_in"]) == 2 else -1
    n_out = shapes["w_out"][0] if len(shapes["w_out"]) == 2 else -1
    n_init = shapes["encoder"][1] if len(shapes["encoder"]) == 2 else -1
    expected = cell.weight_shapes(n_rec, n_in, n_out, n_init)
    for key, shape in shapes.items():
        if key not in expected:
            raise ValueError(f"unexpected weight array {key!r}; allowed: {sorted(expected)}")
        if shape != expected[key]:
            raise ValueError(
                f"{key} has shape {shape}, but with N={n_rec} recurrent units it must be {expected[key]} "
                f"(torch [post, pre] layout: transpose Brian2-style [pre, post] matrices)"
            )
    cell.validate_weights(weights, n_rec)
    return n_rec, n_in, n_out, n_init
