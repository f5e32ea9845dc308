"""Torch models: a recurrent cell with a learned initial-state encoder and a linear readout."""

from __future__ import annotations

import torch
from torch import nn

from neurorx.activations import get_activation
from neurorx.models.cells import Cell, get_cell
from neurorx.noise import NoiseModel, NoNoise, sample_steps

__all__ = ["GRU", "RateRNN", "RecurrentModel", "simulate_sequence"]


def simulate_sequence(cell: Cell, act, h0: torch.Tensor, u: torch.Tensor, w_rec: torch.Tensor, a: float,
                      increments: torch.Tensor | None) -> torch.Tensor:
    """Run ``T`` Euler–Maruyama steps of ``cell`` from ``h0``.

    Parameters
    ----------
    h0 : tensor (B, N)
    u : tensor (B, T, G*N)
        Input projections :math:`W_{in}x_t + b` for every step.
    increments : tensor (T, B, N) or None
        Recurrent noise increments.

    Returns
    -------
    tensor (B, T, N)
        The state after each step, :math:`h_1 \\dots h_T`.
    """
    h = h0
    states = []
    for t in range(u.shape[1]):
        h = cell.step(h, u[:, t], w_rec, a, act, None if increments is None else increments[t])
        states.append(h)
    return torch.stack(states, dim=1)


class RecurrentModel(nn.Module):
    """A rate network as a torch module: encoder -> recurrent cell -> linear readout.

    Parameters
    ----------
    cell : str
        Registered cell name ("vanilla" or "gru").
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

    def __init__(self, cell: str, n_in: int, n_rec: int, n_out: int, n_init: int, alpha: float,
                 activation: str | None = None, bias: bool = False):
        super().__init__()
        for name, v in (("n_in", n_in), ("n_rec", n_rec), ("n_out", n_out), ("n_init", n_init)):
            if not isinstance(v, int) or v <= 0:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not 0 < alpha <= 1:
            raise ValueError(f"alpha = dt/tau must be in (0, 1] for a stable Euler step; got {alpha!r}")
        self.cell = get_cell(cell)
        self.cell_name = cell
        self.activation_name = activation or self.cell.default_activation
        self.act = get_activation(self.activation_name)
        self.alpha = float(alpha)
        g = len(self.cell.gates)
        self.encoder = nn.Linear(n_init, n_rec, bias=False)
        self.w_in = nn.Linear(n_in, g * n_rec, bias=False)
        self.w_rec = nn.Linear(n_rec, g * n_rec, bias=False)
        self.w_out = nn.Linear(n_rec, n_out, bias=False)
        self.bias = nn.Parameter(torch.zeros(g * n_rec)) if bias else None

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
        return out

    def forward(self, inputs: torch.Tensor, init_code: torch.Tensor,
                noise: dict[str, NoiseModel] | None = None, dt: float = 1.0,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the network over a batch.

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
        noise = noise or {}
        b, t, _ = inputs.shape
        dtype, device = inputs.dtype, inputs.device
        x = inputs
        inp = noise.get("input", NoNoise())
        if not inp.is_zero:
            inc, _ = sample_steps(inp, t, (b, inputs.shape[-1]), dt, generator, None, dtype, device)
            x = x + inc.transpose(0, 1)
        u = self.cell.input_projection(x, self.w_in.weight, self.bias)
        h0 = self.encoder(init_code)
        rec = noise.get("recurrent", NoNoise())
        increments, _ = sample_steps(rec, t, (b, self.n_rec), dt, generator, None, dtype, device)
        h = simulate_sequence(self.cell, self.act, h0, u, self.w_rec.weight, self.alpha, increments)
        y = self.w_out(h)
        out = noise.get("output", NoNoise())
        if not out.is_zero:
            inc, _ = sample_steps(out, t, (b, y.shape[-1]), dt, generator, None, dtype, device)
            y = y + inc.transpose(0, 1)
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
