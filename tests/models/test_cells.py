"""Cells: one definition of the dynamics, the Euler step and the weight-shape contract."""

import json

import numpy as np
import pytest
import torch

from neurorx.activations import ACTIVATIONS, get_activation
from neurorx.errors import ConfigurationError
from neurorx.models import GRU, RateRNN, get_cell
from neurorx.models.cells import CELLS, check_weights
from neurorx.noise import FrozenNoise


def test_vanilla_step_is_the_reference_update():
    torch.manual_seed(0)
    cell, act = get_cell("vanilla"), get_activation("relu")
    h, u, w = torch.randn(4, 6, dtype=torch.float64), torch.randn(4, 6, dtype=torch.float64), torch.randn(6, 6,
                                                                                                          dtype=torch.float64)
    a = 0.2
    ref = (1 - a) * h + a * torch.relu(h @ w.T + u)  # paper.md §3
    torch.testing.assert_close(cell.step(h, u, w, a, act), ref, rtol=1e-12, atol=1e-12)


def test_gru_step_follows_paper_equations():
    torch.manual_seed(1)
    n = 5
    cell, act = get_cell("gru"), get_activation("tanh")
    h = torch.randn(3, n, dtype=torch.float64)
    u = torch.randn(3, 3 * n, dtype=torch.float64)
    w = torch.randn(3 * n, n, dtype=torch.float64)
    z = torch.sigmoid(u[:, :n] + h @ w[:n].T)
    g = torch.sigmoid(u[:, n : 2 * n] + h @ w[n : 2 * n].T)
    cand = torch.tanh(u[:, 2 * n :] + (g * h) @ w[2 * n :].T)
    ref = h + 0.5 * (1 - z) * (cand - h)
    torch.testing.assert_close(cell.step(h, u, w, 0.5, act), ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ACTIVATIONS.names())
def test_activation_views_agree(name):
    act = get_activation(name)
    u = np.linspace(-30, 30, 101)
    np.testing.assert_allclose(act.torch(torch.tensor(u)).numpy(), act.numpy(u), rtol=1e-12, atol=1e-12)
    assert "{u}" in act.brian2


def test_unknown_activation_suggests():
    with pytest.raises(ValueError, match="Did you mean 'relu'"):
        get_activation("rellu")


def test_models_run_with_frozen_noise_deterministically():
    torch.manual_seed(0)
    for model in (RateRNN(2, 8, 16, 16, 0.2).double(), GRU(2, 8, 16, 16, 0.2).double()):
        x, c = torch.randn(3, 5, 2, dtype=torch.float64), torch.rand(3, 16, dtype=torch.float64)
        noise = {"recurrent": FrozenNoise(np.random.default_rng(0).normal(size=(5, 3, 8)) * 0.01, dt=0.02)}
        h1, y1 = model(x, c, noise, dt=0.02)
        h2, _ = model(x, c, noise, dt=0.02)
        assert h1.shape == (3, 5, 8) and y1.shape == (3, 5, 16)
        torch.testing.assert_close(h1, h2)
        torch.testing.assert_close(y1, h1 @ model.w_out.weight.T)


def test_model_rejects_unstable_alpha():
    with pytest.raises(ValueError, match="alpha"):
        RateRNN(2, 8, 16, 16, alpha=1.5)


def test_check_weights_names_wrong_array():
    cell = get_cell("vanilla")
    good = {"encoder": np.zeros((4, 3)), "w_in": np.zeros((4, 2)), "w_rec": np.zeros((4, 4)), "w_out": np.zeros((5, 4))}
    assert check_weights(cell, good) == (4, 2, 5, 3)
    with pytest.raises(ValueError, match="w_in has shape"):
        check_weights(cell, {**good, "w_in": np.zeros((5, 2))})
    with pytest.raises(ValueError, match="missing"):
        check_weights(cell, {"encoder": good["encoder"]})
    with pytest.raises(ValueError, match=r"\(3\*N, N\)"):
        check_weights(get_cell("gru"), good)


@pytest.mark.parametrize("cell_name", ["vanilla", "gru"])
def test_cell_run_is_the_step_loop_with_substeps(cell_name):
    """Cell.run: each input sample held for `substeps` Euler steps, the state kept at the end of each sample."""
    torch.manual_seed(2)
    cell, act, n, k, t = get_cell(cell_name), get_activation("tanh"), 4, 3, 5
    g = len(cell.gates)
    h0, w = torch.randn(2, n, dtype=torch.float64), 0.5 * torch.randn(g * n, n, dtype=torch.float64)
    u, inc = torch.randn(t, 2, g * n, dtype=torch.float64), 0.1 * torch.randn(t * k, 2, n, dtype=torch.float64)
    h, expected = h0, []
    for i in range(t * k):
        h = cell.step(h, u[i // k], w, 0.1, act, inc[i])
        if (i + 1) % k == 0:
            expected.append(h)
    torch.testing.assert_close(cell.run(h0, u, w, 0.1, act, inc, substeps=k), torch.stack(expected), rtol=0, atol=0)
    out = torch.empty(t, 2, n, dtype=torch.float64)
    assert cell.run(h0, u, w, 0.1, act, inc, substeps=k, out=out) is out
    torch.testing.assert_close(out, torch.stack(expected), rtol=0, atol=0)


@pytest.mark.parametrize("act_name", ACTIVATIONS.names())
@pytest.mark.parametrize("cell_name", CELLS.names())
@pytest.mark.parametrize(("substeps", "noisy"), [(1, True), (3, True), (2, False)])
def test_the_allocation_free_loop_gives_the_step_loops_numbers_exactly(cell_name, act_name, substeps, noisy):
    """Without autograd, Cell.run writes each step straight into ``out`` (Cell.step_into; the torch backend's
    loop): the same numbers as the step loop to the last bit, into a strided view as the backend passes it."""
    torch.manual_seed(3)
    cell, act, n, b, t = get_cell(cell_name), get_activation(act_name), 10, 3, 4
    shapes = cell.weight_shapes(n, 2, 2, 2)
    w = 0.4 * torch.randn(shapes["w_rec"], dtype=torch.float64)
    extra = {k: torch.randn(shapes[k], dtype=torch.float64) for k in cell.extra_weights} or None
    h0, u = torch.randn(b, n, dtype=torch.float64), torch.randn(t, b, shapes["w_in"][0], dtype=torch.float64)
    inc = 0.1 * torch.randn(t * substeps, b, n, dtype=torch.float64) if noisy else None
    expected = cell.run(h0, u, w, 0.2, act, inc, substeps=substeps, extra=extra)           # autograd on: step loop
    chunk = torch.full((b, t, n), float("nan"), dtype=torch.float64)                     # (B, T, N), as the backend
    with torch.inference_mode():
        got = cell.run(h0, u, w, 0.2, act, inc, substeps=substeps, out=chunk.transpose(0, 1), extra=extra)
    assert got.data_ptr() == chunk.data_ptr()
    torch.testing.assert_close(chunk.transpose(0, 1), expected.detach(), rtol=0, atol=0)


@pytest.mark.parametrize("name", ACTIVATIONS.names())
def test_an_activation_in_place_gives_its_numbers(name):
    act, z = get_activation(name), torch.linspace(-30, 30, 101, dtype=torch.float64)
    expected = act.torch(z.clone())
    assert act.apply_(z) is z
    torch.testing.assert_close(z, expected, rtol=0, atol=0)


def test_the_model_forward_is_the_time_major_loop(monkeypatch):
    """forward() is run_time_major() transposed, and its states come from Cell.run (the one step loop)."""
    torch.manual_seed(3)
    model = GRU(2, 6, 4, 4, 0.2).double()
    x, c = torch.randn(3, 7, 2, dtype=torch.float64), torch.randn(3, 4, dtype=torch.float64)
    noise = {"recurrent": FrozenNoise(0.01 * np.random.default_rng(0).normal(size=(7, 3, 6)), dt=0.02)}
    calls = []
    original = type(model.cell).run

    def spy(self, *args, **kwargs):
        calls.append(args[1].shape)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(type(model.cell), "run", spy)
    h, y = model(x, c, noise, dt=0.02)
    h_tm, y_tm = model.run_time_major(x.transpose(0, 1), c, noise, dt=0.02)
    assert calls == [(7, 3, 18), (7, 3, 18)]              # time-major input projections, both times
    torch.testing.assert_close(h, h_tm.transpose(0, 1), rtol=0, atol=0)
    torch.testing.assert_close(y, y_tm.transpose(0, 1), rtol=0, atol=0)


@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid", "softplus", "identity"])
def test_the_built_in_activations_state_their_derivative(name):
    act = get_activation(name)
    z = torch.linspace(-3, 3, 13, dtype=torch.float64)
    numeric = (act.torch(z + 1e-6) - act.torch(z - 1e-6)) / 2e-6
    keep = z.abs() > 1e-3                                   # relu has a kink at 0
    torch.testing.assert_close(act.torch_derivative(z)[keep], numeric[keep], rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("cell_name", sorted(CELLS))
def test_every_cells_parameters_are_its_fields_plain_json_and_round_trip(cell_name):
    cell = get_cell(cell_name)
    params = cell.params()
    assert list(params) == list(type(cell).parameter_names())
    assert set(params) <= set(cell.settings())
    assert json.loads(json.dumps(cell.settings())) == cell.settings()
    assert get_cell(cell_name, params) == cell
    with pytest.raises(ConfigurationError, match=f"the {cell_name} cell has no parameter 'not_a_parameter'"):
        get_cell(cell_name, {"not_a_parameter": 1})
