"""Torch models: a recurrent cell with a learned initial-state encoder and a linear readout."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional

from neurorx.activations import get_activation
from neurorx.checks import positive_int
from neurorx.models.cells import Cell, get_cell
from neurorx.noise import NoiseModel, add_increments, draw_placed

__all__ = ["GRU", "RateRNN", "RecurrentModel", "simulate_sequence"]


def simulate_sequence(cell: Cell, act, h0: torch.Tensor, u: torch.Tensor, w_rec: torch.Tensor, a: float,
                      increments: torch.Tensor | None) -> torch.Tensor:
    """Batch-major wrapper of :meth:`Cell.run` (the one step loop): ``u (B, T, G*N)``, ``increments (T, B, N)``
    -> states ``(B, T, N)``; kept for existing callers.
    """
    return cell.run(h0, u.transpose(0, 1), w_rec, a, act, increments).transpose(0, 1)


class RecurrentModel(nn.Module):
    """A rate network as a torch module: encoder -> recurrent cell -> linear readout.

    Parameters
    ----------
    cell : str or Cell
        Registered cell name ("vanilla", "gru", "dale", "dale_norm", "dale_subnorm"), with its default
        parameters, or a :class:`~neurorx.models.cells.Cell` (e.g. ``get_cell("dale", {"gamma_shape": 2})``).
    n_in, n_rec, n_out, n_init : int
        Input, recurrent, output and initial-code sizes.
    alpha : float
        :math:`a = \\Delta t/\\tau`, the Euler step in units of the time constant (0 < a <= 1).
    activation : str, optional
        Registered activation; the cell's default if omitted.
    bias : bool
        Learn a recurrent bias (the reference has none).

    Notes
    -----
    All layers have no bias and torch's default initialisation :math:`U(\\pm 1/\\sqrt{\\text{fan\\_in}})`, as in
    the reference. The initial state is :math:`h_0 = W_{enc}\\,c_0` (no nonlinearity); the readout is
    :math:`y_t = W_{out} h_{t+1}` (read after the update, compared with target ``t``).
    """

    def __init__(self, cell: str | Cell, n_in: int, n_rec: int, n_out: int, n_init: int, alpha: float,
                 activation: str | None = None, bias: bool = False):
        super().__init__()
        for name, v in (("n_in", n_in), ("n_rec", n_rec), ("n_out", n_out), ("n_init", n_init)):
            positive_int(v, name)
        if not 0 < alpha <= 1:
            raise ValueError(f"alpha = dt/tau must be in (0, 1] for a stable Euler step; got {alpha!r}")
        self.cell = get_cell(cell)
        self.cell_name = self.cell.name
        self.activation_name = activation or self.cell.default_activation
        self.act = get_activation(self.activation_name)
        self.alpha = float(alpha)
        g = len(self.cell.gates)
        self.encoder = nn.Linear(n_init, n_rec, bias=False)
        self.w_in = nn.Linear(n_in, g * n_rec, bias=False)
        self.w_rec = nn.Linear(n_rec, g * n_rec, bias=False)
        self.w_out = nn.Linear(n_rec, n_out, bias=False)
        self.bias = nn.Parameter(torch.zeros(g * n_rec)) if bias else None
        shapes = self.cell.weight_shapes(n_rec, n_in, n_out, n_init)
        #: The cell's extra weight arrays (:attr:`Cell.extra_weights`, e.g. dale_norm's ``w_div``); set by its init.
        self.extra = nn.ParameterDict({k: nn.Parameter(torch.zeros(shapes[k])) for k in self.cell.extra_weights})
        self.cell.init_weights_(self.weights())   # a constrained cell (dale) sets its own start; others: no-op

    @property
    def n_rec(self) -> int:
        """Number of recurrent units."""
        return self.w_rec.weight.shape[1]

    def weights(self) -> dict[str, torch.Tensor]:
        """The weight tensors by name (torch ``[post, pre]`` layout)."""
        out = {"encoder": self.encoder.weight, "w_in": self.w_in.weight, "w_rec": self.w_rec.weight,
               "w_out": self.w_out.weight}
        if self.bias is not None:
            out["bias"] = self.bias
        out.update(self.extra.items())
        return out

    def extra_weights(self) -> dict[str, torch.Tensor] | None:
        """The cell's extra weight arrays by name (``None`` for cells without any), for :meth:`Cell.run`."""
        return dict(self.extra.items()) or None

    def noise_sizes(self) -> dict[str, int]:
        """Width of each noise placement: inputs, recurrent units, outputs."""
        return {"input": self.w_in.weight.shape[1], "recurrent": self.n_rec, "output": self.w_out.weight.shape[0]}

    def forward(self, inputs: torch.Tensor, init_code: torch.Tensor,
                noise: dict[str, NoiseModel] | None = None, dt: float = 1.0,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the network over a batch (batch-major view of :meth:`run_time_major`).

        Parameters
        ----------
        inputs : tensor (B, T, n_in)
        init_code : tensor (B, n_init)
        noise : dict placement -> NoiseModel, optional
        dt : float
            The step in seconds (noise increments depend on it).
        generator : torch.Generator, optional

        Returns
        -------
        h : tensor (B, T, N)
            States after each step.
        y : tensor (B, T, n_out)
            Readouts :math:`W_{out}h_{t+1}` (plus output noise, if any).
        """
        h, y = self.run_time_major(inputs.transpose(0, 1), init_code, noise, dt, generator)
        return h.transpose(0, 1), y.transpose(0, 1)

    def run_time_major(self, inputs: torch.Tensor, init_code: torch.Tensor,
                       noise: dict[str, NoiseModel] | None = None, dt: float = 1.0,
                       generator: torch.Generator | None = None,
                       increments: dict[str, torch.Tensor] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The model over time-major inputs ``(T, B, n_in)``: the computation training and the backends share.

        The noise increments are drawn from ``generator`` in the order input, recurrent, output
        (:func:`neurorx.noise.draw_placed`) unless given as ``increments`` (placement -> ``(T, B, size)``), and
        added in their places (:func:`neurorx.noise.add_increments`); the states come from :meth:`Cell.run`.

        Returns
        -------
        h : tensor (T, B, N)
        y : tensor (T, B, n_out)
        """
        t, b, _ = inputs.shape
        if increments is None:
            increments = draw_placed(noise, t, self.noise_sizes(), b, dt, generator, inputs.dtype, inputs.device)
        x = add_increments(inputs, increments.get("input"))
        u = self.cell.input_projection(x, self.w_in.weight, self.bias)
        h = self.cell.run(self.encoder(init_code), u, self.w_rec.weight, self.alpha, self.act,
                          increments.get("recurrent"), extra=self.extra_weights())
        y = add_increments(functional.linear(h, self.w_out.weight), increments.get("output"))
        return h, y


class RateRNN(RecurrentModel):
    """Vanilla rate RNN, :math:`h \\leftarrow h + a(-h + \\phi(W_{rec}h + W_{in}x + b)) + \\text{noise}`."""

    def __init__(self, n_in: int, n_rec: int, n_out: int, n_init: int, alpha: float,
                 activation: str = "relu", bias: bool = False):
        super().__init__("vanilla", n_in, n_rec, n_out, n_init, alpha, activation, bias)


class GRU(RecurrentModel):
    """Continuous-time GRU of the paper (see :class:`neurorx.models.cells.GRUCell`)."""

    def __init__(self, n_in: int, n_rec: int, n_out: int, n_init: int, alpha: float,
                 activation: str = "tanh", bias: bool = False):
        super().__init__("gru", n_in, n_rec, n_out, n_init, alpha, activation, bias)
