import numpy as np
import pytest
import torch
from torch.nn import functional

from neurorx.activations import ACTIVATIONS
from neurorx.linalg import linear, linear_add
from neurorx.models.cells import CELLS
from neurorx.models.rnn import RecurrentModel
from neurorx.noise import FrozenNoise, ReferenceUniformNoise
from neurorx.training.fused import (
    FUSED_RECURRENCES,
    ReadoutMSE,
    can_fuse,
    dale_recurrence,
    forward_time_major,
    gru_recurrence,
    vanilla_recurrence,
)
from neurorx.training.trainer import Batch, train_step

B, T, N_IN, N, N_OUT = 5, 9, 2, 12, 10
#: Every registered activation that states its derivative (the fused kernels' backward uses it).
DIFFERENTIABLE = sorted(name for name, act in ACTIVATIONS.items() if act.derivative is not None)


def _model(cell, act, dtype=torch.float64, bias=True, seed=0):
    torch.manual_seed(seed)
    m = RecurrentModel(cell, N_IN, N, N_OUT, N_OUT, 0.2, act, bias=bias).to(dtype)
    if bias:
        with torch.no_grad():
            m.bias.normal_(0, 0.5)
    return m


def _data(dtype=torch.float64, seed=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, T, N_IN, generator=g, dtype=dtype)
    c = torch.randn(B, N_OUT, generator=g, dtype=dtype)
    y = torch.randn(B, T, N_OUT, generator=g, dtype=dtype)
    inc = np.random.default_rng(seed).normal(0, 0.05, (T, B, N)) + 0.01
    return x, c, y, {"recurrent": FrozenNoise(inc, dt=0.02)}


def _grads(loss, model):
    return dict(zip([n for n, _ in model.named_parameters()],
                    torch.autograd.grad(loss, list(model.parameters())), strict=True))


@pytest.mark.parametrize("cell,act", [("vanilla", "relu"), ("vanilla", "tanh"), ("vanilla", "sigmoid"),
                                      ("vanilla", "softplus"), ("vanilla", "identity"), ("gru", "tanh"),
                                      ("gru", "relu"), ("dale", "relu"), ("dale", "tanh")])
def test_fast_path_gradients_equal_straightforward_loop(cell, act):
    """Fused recurrence (hand-written BPTT) + fused readout/loss == autograd through the Cell.step loop."""
    model = _model(cell, act)
    x, c, y, noise = _data()
    _, y_ref = model(x, c, noise, 0.02)                      # RecurrentModel.forward: loop over Cell.step
    loss_ref = functional.mse_loss(y_ref, y)
    g_ref = _grads(loss_ref, model)
    _, y_fast, loss = forward_time_major(model, x.transpose(0, 1).contiguous(), c, noise, 0.02, fused=True,
                                         targets=y.transpose(0, 1).contiguous())
    g_fast = _grads(loss, model)
    torch.testing.assert_close(y_fast.transpose(0, 1), y_ref, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(loss, loss_ref, rtol=1e-12, atol=0)
    for name in g_ref:
        torch.testing.assert_close(g_fast[name], g_ref[name], rtol=1e-10, atol=1e-10 * float(g_ref[name].abs().max()))


def test_every_cell_type_has_a_fused_recurrence():
    # Except the cells trained with a local loss through stop-gradients (dale_norm, dale_subnorm): they train
    # through Cell.run, whose autograd graph carries both losses.
    fusable = {name for name in CELLS if not CELLS.get(name).has_local_loss}
    assert fusable >= {"vanilla", "gru", "dale"}
    assert set(FUSED_RECURRENCES) == fusable
    for cell in CELLS:
        assert can_fuse(_model(cell, CELLS.get(cell).default_activation)) == (cell in fusable)
        assert FUSED_RECURRENCES.get(cell) is CELLS.get(cell).fused_recurrence


@pytest.mark.parametrize("cell", [name for name in CELLS if CELLS.get(name).fused_recurrence is not None])
def test_every_registered_fused_recurrence_gives_the_states_of_its_cells_step_loop(cell, always_onednn):
    """The cell registry's fused recurrence against the cell's own Cell.run (float64 to rounding, float32 to
    float32 rounding, with torch and with oneDNN products), noise driving states below zero."""
    entry = CELLS.get(cell)
    for dtype, tol in ((torch.float64, 1e-13), (torch.float32, 1e-5)):
        model, h0, u, inc = _recurrence_inputs(cell, entry.default_activation, dtype)
        inc = inc - 0.05
        with torch.no_grad():
            loop = model.cell.run(h0, u, model.w_rec.weight, model.alpha, model.act, inc,
                                  extra=model.extra_weights())
            for onednn in (False, True):
                fused = entry.fused_recurrence(h0, u, model.w_rec.weight, inc, model.alpha, model.act, onednn)
                torch.testing.assert_close(fused, loop, rtol=tol, atol=tol)


def test_a_cell_registered_with_a_fused_recurrence_is_trained_through_it():
    """Registering a cell is the one extension point: its fused recurrence is what the trainer runs."""
    from dataclasses import dataclass

    from neurorx.models.cells import VanillaCell

    calls = []

    def counted(*args):
        calls.append(1)
        return vanilla_recurrence(*args)

    @dataclass(frozen=True)
    class CountedCell(VanillaCell):
        name = "counted_vanilla"
        fused_recurrence = staticmethod(counted)

    CELLS.add("counted_vanilla", CountedCell())
    try:
        assert FUSED_RECURRENCES["counted_vanilla"] is counted
        model = _model("counted_vanilla", "relu")
        x, c, y, noise = _data()
        forward_time_major(model, x.transpose(0, 1).contiguous(), c, noise, 0.02, targets=y.transpose(0, 1))
    finally:
        CELLS.remove("counted_vanilla")
    assert calls == [1]


def test_fused_dale_forward_is_the_cell_step_formula(always_onednn):
    """The Dale recurrence (presynaptic rates [h]+) gives the states of the DaleCell.step loop: bitwise with
    torch products, to float32 rounding with oneDNN products; zero-mean noise drives states below zero."""
    for dtype in (torch.float32, torch.float64):
        model, h0, u, inc = _recurrence_inputs("dale", "relu", dtype)
        inc = inc - 0.05
        with torch.no_grad():
            loop = model.cell.run(h0, u, model.w_rec.weight, model.alpha, model.act, inc)
            assert (loop < 0).any()
            fused = dale_recurrence(h0, u, model.w_rec.weight, inc, model.alpha, model.act, onednn=False)
            assert torch.equal(fused, loop)
            fast = dale_recurrence(h0, u, model.w_rec.weight, inc, model.alpha, model.act, onednn=True)
            torch.testing.assert_close(fast, loop, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cell,act", [("vanilla", "relu"), ("gru", "tanh")])
@pytest.mark.parametrize("onednn", [True, False])
def test_fast_path_float32(cell, act, onednn, always_onednn):
    """In float32 (oneDNN or MKL products) the gradients agree with the plain loop to float32 rounding."""
    model = _model(cell, act, torch.float32)
    x, c, y, noise = _data(torch.float32)
    g_ref = _grads(functional.mse_loss(model(x, c, noise, 0.02)[1], y), model)
    *_, loss = forward_time_major(model, x.transpose(0, 1).contiguous(), c, noise, 0.02, targets=y.transpose(0, 1),
                                  onednn=onednn)
    g_fast = _grads(loss, model)
    for name in g_ref:
        torch.testing.assert_close(g_fast[name], g_ref[name], rtol=1e-4, atol=1e-5 * float(g_ref[name].abs().max()))


def _recurrence_inputs(cell, act, dtype):
    """A model and what its recurrence takes: start states, time-major input projections, noise increments."""
    model = _model(cell, act, dtype)
    x, c, _, noise = _data(dtype)
    u = model.cell.input_projection(x.transpose(0, 1).contiguous(), model.w_in.weight, model.bias)
    inc = torch.tensor(np.array(noise["recurrent"].increments), dtype=dtype)
    return model, model.encoder(c), u, inc


@pytest.mark.parametrize("act", ["relu", "tanh"])
def test_fused_forward_is_the_cell_step_formula(act, always_onednn):
    """Bitwise the states of the Cell.step loop on the same input projections (torch products), and equal to
    float32 rounding with oneDNN products."""
    for dtype in (torch.float32, torch.float64):
        model, h0, u, inc = _recurrence_inputs("vanilla", act, dtype)
        with torch.no_grad():
            loop = model.cell.run(h0, u, model.w_rec.weight, model.alpha, model.act, inc)
            fused = vanilla_recurrence(h0, u, model.w_rec.weight, inc, model.alpha, model.act, onednn=False)
            assert torch.equal(fused, loop)
            fast = vanilla_recurrence(h0, u, model.w_rec.weight, inc, model.alpha, model.act, onednn=True)
            torch.testing.assert_close(fast, loop, rtol=1e-5, atol=1e-5)


def test_fused_gru_forward_is_the_cell_step_formula(always_onednn):
    """The GRU's states equal those of the Cell.step loop (float64 to rounding; float32 with oneDNN products)."""
    for dtype, tol in ((torch.float64, 1e-13), (torch.float32, 1e-5)):
        model, h0, u, inc = _recurrence_inputs("gru", "tanh", dtype)
        with torch.no_grad():
            loop = model.cell.run(h0, u, model.w_rec.weight, model.alpha, model.act, inc)
            for onednn in (False, True):
                fused = gru_recurrence(h0, u, model.w_rec.weight, inc, model.alpha, model.act, onednn=onednn)
                torch.testing.assert_close(fused, loop, rtol=tol, atol=tol)


def test_readout_mse_gradcheck():
    torch.manual_seed(4)
    h = torch.randn(12, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(7, 5, dtype=torch.float64, requires_grad=True)
    t = torch.randn(12, 7, dtype=torch.float64)
    off = torch.randn(12, 7, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda a, b: ReadoutMSE.apply(a, b, t, off, True)[0], (h, w))


@pytest.mark.parametrize("cell", sorted(FUSED_RECURRENCES))
@pytest.mark.parametrize("act", DIFFERENTIABLE)
def test_fused_backward_gradcheck(cell, act):
    """Each cell's hand-written BPTT against finite differences, for every nonlinearity."""
    from neurorx.activations import get_activation

    gates = len(CELLS.get(cell).gates)
    torch.manual_seed(3)
    h0 = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    u = torch.randn(6, 3, 4 * gates, dtype=torch.float64, requires_grad=True)
    w = (0.5 * torch.randn(4 * gates, 4, dtype=torch.float64)).requires_grad_()
    inc = 0.1 * torch.randn(6, 3, 4, dtype=torch.float64)
    fn = get_activation(act)
    run = FUSED_RECURRENCES[cell]
    assert torch.autograd.gradcheck(lambda a, b, c: run(a, b, c, inc, 0.3, fn), (h0, u, w))


def test_onednn_products_agree_with_torch(always_onednn):
    g = torch.Generator().manual_seed(0)
    x, w, c = torch.randn(40, 30, generator=g), torch.randn(20, 30, generator=g), torch.randn(40, 20, generator=g)
    torch.testing.assert_close(linear(x, w), x @ w.T, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(linear_add(x, w, c), torch.addmm(c, x, w.T), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(linear(x.T, x.T), x.T @ x, rtol=1e-5, atol=1e-4)
    assert torch.equal(linear(x.double(), w.double()), x.double() @ w.double().T)   # float64: torch path


def test_train_step_matches_straightforward_step():
    """One Adam step of the trainer == one step of the reference-style loop with the same noise."""
    x, c, y, _ = _data()
    a, b = _model("vanilla", "relu", bias=False), _model("vanilla", "relu", bias=False)
    noise = {"recurrent": ReferenceUniformNoise(0.05)}
    opt_a, opt_b = torch.optim.Adam(a.parameters(), lr=1e-2), torch.optim.Adam(b.parameters(), lr=1e-2)
    batch = Batch(x.transpose(0, 1).contiguous(), c, y.transpose(0, 1).contiguous(), np.zeros((B, T, 2)))
    loss_a, _ = train_step(a, opt_a, batch, noise, 0.02, torch.Generator().manual_seed(7))
    opt_b.zero_grad()
    _, y_b = b(x, c, noise, 0.02, torch.Generator().manual_seed(7))
    loss_b = functional.mse_loss(y_b, y)
    loss_b.backward()
    opt_b.step()
    torch.testing.assert_close(loss_a, loss_b.detach(), rtol=1e-12, atol=0)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(pa, pb, rtol=1e-9, atol=1e-12)


def test_fused_flag_gives_the_same_states():
    model = _model("vanilla", "relu")
    x, c, _, noise = _data()
    h1, _ = forward_time_major(model, x.transpose(0, 1).contiguous(), c, noise, 0.02, fused=False)
    h2, _ = forward_time_major(model, x.transpose(0, 1).contiguous(), c, noise, 0.02, fused=True)
    torch.testing.assert_close(h1, h2, rtol=0, atol=0)


@pytest.mark.parametrize("act", DIFFERENTIABLE)
def test_activation_derivatives_match_autograd(act):
    from neurorx.activations import get_activation

    fn = get_activation(act).torch
    z = torch.linspace(-30, 30, 2001, dtype=torch.float64).requires_grad_()
    (auto,) = torch.autograd.grad(fn(z).sum(), z)
    with torch.no_grad():
        mine = get_activation(act).torch_derivative(z.detach())
    torch.testing.assert_close(mine, auto, rtol=1e-15, atol=1e-16)   # the same formulas, to the last ulp


def test_an_activation_without_a_derivative_trains_through_the_step_loop():
    """No stated derivative: no fused kernel (can_fuse is false), the plain Cell.run loop, the same states."""
    from dataclasses import replace

    model = _model("vanilla", "tanh")
    x, c, _, noise = _data()
    ref, _ = forward_time_major(model, x.transpose(0, 1).contiguous(), c, noise, 0.02, fused=True)
    model.act = replace(model.act, derivative=None)
    assert not can_fuse(model)
    h, _ = forward_time_major(model, x.transpose(0, 1).contiguous(), c, noise, 0.02, fused=True)
    torch.testing.assert_close(h, ref, rtol=0, atol=0)
    with pytest.raises(ValueError, match="states no derivative"):
        vanilla_recurrence(torch.zeros(B, N, dtype=torch.float64), torch.zeros(T, B, N, dtype=torch.float64),
                           model.w_rec.weight, None,
                           0.2, model.act)


def test_the_import_path_neurorx_training_linalg_is_the_linalg_module_itself():
    import neurorx.linalg
    import neurorx.training.linalg

    assert neurorx.training.linalg is neurorx.linalg
