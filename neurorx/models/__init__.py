"""Torch models and the cells that define their dynamics."""

from neurorx.models.cells import CELLS, Cell, GRUCell, VanillaCell, get_cell
from neurorx.models.rnn import GRU, RateRNN, RecurrentModel, simulate_sequence

__all__ = ["CELLS", "GRU", "Cell", "GRUCell", "RateRNN", "RecurrentModel", "VanillaCell", "get_cell",
           "simulate_sequence"]
