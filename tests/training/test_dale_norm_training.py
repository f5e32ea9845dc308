"""Training the normalized Dale cells: which loss trains which weights, W_EI frozen, signs kept, the homeostatic
loss logged and reduced."""

import json

import numpy as np
import pytest
import torch

from neurorx.models import get_cell
from neurorx.models.rnn import RecurrentModel
from neurorx.noise import ReferenceUniformNoise
from neurorx.training import apply_overrides, load_card, train
from neurorx.training.fused import forward_time_major
from neurorx.training.trainer import Batch, train_step

B, T, N_IN, N, N_OUT = 6, 12, 2, 20, 5
TINY = ["rnn.n_rec=20", "trainer.n_epochs=6", "trainer.batch_size=8", "trainer.steps=10", "trainer.eval_every=3",
        "trainer.test_batch=8", "task.n_cells=16", "trainer.lr=3e-2", "trainer.threads=1"]


def _setup(cell="dale_norm", seed=0, inhibition="steady", **params):
    torch.manual_seed(seed)
    m = RecurrentModel(get_cell(cell, {"inhibition": inhibition, **params}), N_IN, N, N_OUT, N_OUT, 0.2,
                       bias=True).double()
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(T, B, N_IN, generator=g, dtype=torch.float64)
    c = torch.rand(B, N_OUT, generator=g, dtype=torch.float64)
    y = torch.rand(T, B, N_OUT, generator=g, dtype=torch.float64)
    return m, x, c, y


def _grads(m, which, fused):
    m.zero_grad(set_to_none=True)
    local = {}
    _, _, loss = forward_time_major(m, *which[:2], {"recurrent": ReferenceUniformNoise(0.05)}, 0.02,
                                    torch.Generator().manual_seed(5), fused=fused, targets=which[2],
                                    local_losses=local)
    return loss, local["homeostatic"]


def _rows(m):
    n_e = m.cell.n_excitatory(N)
    return n_e, slice(0, n_e), slice(n_e, N)


@pytest.mark.parametrize("inhibition", ["steady", "integrated"])
@pytest.mark.parametrize("cell", ["dale_norm", "dale_subnorm"])
@pytest.mark.parametrize("fused", [True, False])
def test_the_task_loss_trains_the_e_weights_and_the_homeostatic_loss_the_weights_onto_i_units(cell, fused,
                                                                                             inhibition):
    m, x, c, y = _setup(cell, inhibition=inhibition)
    n_e, e, i = _rows(m)
    task, homeostatic = _grads(m, (x, c, y), fused)
    task.backward()
    g = {k: (torch.zeros_like(p) if p.grad is None else p.grad.clone()) for k, p in m.weights().items()}
    # task: nothing reaches the inhibitory side (inhibitory currents and gamma are constants for it)
    for name, rows in (("w_rec", i), ("w_in", i), ("bias", i), ("encoder", i)):
        assert torch.all(g[name][rows] == 0), f"the task loss trains {name} rows onto I units"
    assert torch.all(g["w_rec"][e, n_e:] == 0), "the task loss trains W_EI"
    if cell == "dale_norm":
        assert torch.all(g["w_div"] == 0)
    for name, rows in (("w_rec", e), ("w_in", e), ("encoder", e)):
        assert g[name][rows].abs().sum() > 0
    assert g["w_rec"][e, :n_e].abs().sum() > 0 and g["w_out"].abs().sum() > 0

    m2, x, c, y = _setup(cell, inhibition=inhibition)
    _, homeostatic = _grads(m2, (x, c, y), fused)
    homeostatic.backward()
    g = {k: (torch.zeros_like(p) if p.grad is None else p.grad.clone()) for k, p in m2.weights().items()}
    # homeostatic: nothing reaches the E rows (W_EE, W_EI, E inputs, E bias, E initial states) or the readout
    for name, rows in (("w_rec", e), ("w_in", e), ("bias", e), ("encoder", e)):
        assert torch.all(g[name][rows] == 0), f"the homeostatic loss trains {name} rows onto E units"
    assert torch.all(g["w_out"] == 0)
    assert g["w_rec"][i, :n_e].abs().sum() > 0, "W_IE untrained"
    if inhibition == "integrated":
        assert g["w_rec"][i, n_e:].abs().sum() > 0, "W_II untrained"
    else:                                          # no I -> I synapses at the steady state (W_II frozen at 0)
        assert torch.all(g["w_rec"][i, n_e:] == 0)
    assert g["w_in"][i].abs().sum() > 0
    if cell == "dale_norm":
        assert g["w_div"].abs().sum() > 0


def test_fused_and_plain_autograd_paths_give_the_same_losses():
    m, x, c, y = _setup()
    a = [float(v.detach()) for v in _grads(m, (x, c, y), True)]
    b = [float(v.detach()) for v in _grads(m, (x, c, y), False)]
    np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("pool_input", ["drive", "rates"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_training_steps_keep_w_ei_and_the_signs_and_reduce_the_homeostatic_loss(weight_decay, pool_input):
    m, x, c, y = _setup(seed=2, pool_input=pool_input)
    n_e, e, i = _rows(m)
    with torch.no_grad():       # the inhibition off its normalizing values, so that the homeostatic loss starts high
        m.w_rec.weight[i, :n_e] *= 3.0
        m.extra["w_div"].mul_(0.3)
    w_ei = m.w_rec.weight[e, n_e:].detach().clone()
    opt = torch.optim.Adam(m.parameters(), lr=1e-2, weight_decay=weight_decay)
    batch = Batch(inputs=x, init_code=c, targets=y, states=np.zeros((B, T, 1)))
    losses = []
    for _ in range(40):
        rec = {}
        train_step(m, opt, batch, None, 0.02, None, homeostatic_weight=0.01, record=rec)
        losses.append(rec["homeostatic_loss"])
    w = m.w_rec.weight.detach()
    assert torch.equal(w[e, n_e:], w_ei), "W_EI changed in training"
    assert torch.all(w[:, :n_e] >= 0) and torch.all(w[:, n_e:] <= 0) and torch.all(m.w_out.weight[:, n_e:] == 0)
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5]), losses


def test_the_trainer_logs_the_homeostatic_loss_next_to_the_task_loss(tmp_path):
    cfg = apply_overrides(load_card("spatial_navigation/noisy_unbiased"), [*TINY, "rnn.cell=dale_norm"])
    net = train(cfg, tmp_path / "run", quiet=True)
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    trains = [r for r in records if r["kind"] == "train"]
    evals = [r for r in records if r["kind"] == "eval"]
    assert len(trains) == 6 and all(np.isfinite(r["homeostatic_loss"]) and np.isfinite(r["loss"]) for r in trains)
    assert all(np.isfinite(r["test_homeostatic_loss"]) for r in evals)
    assert evals[-1]["train_homeostatic_loss"] == pytest.approx(np.mean([r["homeostatic_loss"] for r in trains[3:]]))
    assert net.cell == "dale_norm" and "w_div" in net.weights
    # the vanilla trainer's records are unchanged
    vanilla = train(apply_overrides(load_card("spatial_navigation/noisy_unbiased"), TINY), tmp_path / "v", quiet=True)
    line = (tmp_path / "v" / "metrics.jsonl").read_text().splitlines()[1]
    assert set(json.loads(line)) == {"kind", "batch", "loss"} and vanilla.cell == "vanilla"


def test_resume_is_bit_identical_for_dale_norm(tmp_path):
    cfg = apply_overrides(load_card("spatial_navigation/noisy_unbiased"), [*TINY, "rnn.cell=dale_norm"])
    full = train(cfg, tmp_path / "full", quiet=True)
    half = apply_overrides(cfg, ["trainer.n_epochs=3"])
    train(half, tmp_path / "resumed", quiet=True)
    resumed = train(cfg, tmp_path / "resumed", resume=True, quiet=True)
    for k in full.weights:
        np.testing.assert_array_equal(resumed.weights[k], full.weights[k])
