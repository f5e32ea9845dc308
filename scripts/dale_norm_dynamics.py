"""The E/I dynamics of a normalized Dale network (dale_norm, dale_subnorm) on the test batch of its card.

    python scripts/dale_norm_dynamics.py head_direction/noisy_unbiased_dale_norm            # the initial network
    python scripts/dale_norm_dynamics.py head_direction/noisy_unbiased_dale_norm RUN/checkpoint.npz
    python scripts/dale_norm_dynamics.py head_direction/noisy_unbiased_dale_norm --inhibition=integrated
    python scripts/dale_norm_dynamics.py head_direction/noisy_unbiased_dale_norm --w-ii=3

Runs the network (float64, the card's training noise, 100 steps of the card's first test batch, seed 0) and
prints, per step block, the mean E and I rate, the mean over E units of the normalized drive z and its
variance, and the homeostatic loss L_I (unweighted); then the mean-mode numbers of docs/dale.md: the mean row
sum c of W_EE and gamma on the trajectory. Used by docs/dale.md ("Inhibition-mediated normalization").

``--inhibition=steady|integrated`` sets the cell's parameter ``inhibition`` (default: the card's): the E units
receive the I units' steady-state rates phi(W_IE r_E + u_I) of the same step, or their rates [h_I]+ integrated
with tau (docs/dale.md). The rate_I column is [h_I]+ in both modes. ``--w-ii=w`` (a probe, with
``--inhibition=integrated``) adds I->I inhibition to the initial network: every row of W_II sums to w (uniform)
and the rows of W_EI to 1 + w, which keeps the I units' fixed point cancelling the mean of the E drive exactly.
"""
import sys
from dataclasses import replace

import numpy as np
import torch

from neurorx.models.cells import homeostatic_loss
from neurorx.training import load_card
from neurorx.training.checkpoint import load_checkpoint, restore_checkpoint
from neurorx.training.trainer import Trainer, batch_generator, batch_rng

args = [a for a in sys.argv[1:] if not a.startswith("--")]
mode = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--inhibition=")), None)
w_ii = next((float(a.split("=", 1)[1]) for a in sys.argv[1:] if a.startswith("--w-ii=")), None)
card = args[0]
cfg = load_card(card)
tr = Trainer(cfg, None, quiet=True)
batch = 0
if len(args) > 1:
    arrays, meta = load_checkpoint(args[1])
    batch = restore_checkpoint(arrays, meta, tr.params, tr.optimizer)
model = tr.model.double()
if mode is not None:
    model.cell = replace(model.cell, inhibition=mode)
if w_ii is not None:
    n_e_, n_i_ = model.cell.n_excitatory(model.n_rec), model.n_rec - model.cell.n_excitatory(model.n_rec)
    with torch.no_grad():
        model.w_rec.weight[:n_e_, n_e_:] *= 1.0 + w_ii
        model.w_rec.weight[n_e_:, n_e_:] = -w_ii / n_i_
test = tr._batch(cfg.trainer.test_batch, batch_rng(cfg.seed, 0, 2), batch_generator(cfg.seed, 0, 3))
cell, n = model.cell, model.n_rec
n_e = cell.n_excitatory(n)
with torch.no_grad():
    inc = {k: v.double() for k, v in test.increments.items()}
    x = test.inputs.double() + (inc["input"] if "input" in inc else 0)
    u = cell.input_projection(x, model.w_in.weight, model.bias)
    h0 = model.encoder(test.init_code.double())
    h = cell.run(h0, u, model.w_rec.weight, model.alpha, model.act, inc.get("recurrent"),
                 extra=model.extra_weights())
    states = torch.cat([h0[None], h[:-1]])
    z = cell.normalized_drive(states, u, model.w_rec.weight, model.extra_weights(), model.act)
    r = torch.relu(states)
probe = f" (inhibition={cell.inhibition})"
probe += "" if w_ii is None else f" (probe: W_II rows sum to {w_ii:g})"
print(f"{card}{probe} at batch {batch}: N = {n}, N_E = {n_e}, a = {model.alpha:g}")
print(" steps     rate_E  rate_I  |mean_k z|  var_k z   L_I")
for t0 in range(0, states.shape[0], 10):
    sl = slice(t0, t0 + 10)
    zz = z[sl]
    print(f"{t0:3d}-{t0 + 9:<3d}  {r[sl, :, :n_e].mean():7.3f} {r[sl, :, n_e:].mean():7.3f}  "
          f"{zz.mean(-1).abs().mean():9.3g} {zz.var(-1, unbiased=False).mean():9.3g} {homeostatic_loss(zz):9.3g}")
trace = r[:, 0, :n_e].mean(-1).numpy()
print("mean E rate of trial 0, steps 0-39:", np.array2string(trace[:40], precision=2, max_line_width=120))
w_ee = model.w_rec.weight.detach()[:n_e, :n_e]
print(f"mean row sum c of W_EE: {float(w_ee.sum(1).mean()):.3g}")
if "w_div" in model.extra:
    gamma = cell.gamma(r[..., :n_e], model.extra["w_div"].detach())
    print(f"gamma on the trajectory: median {float(gamma.median()):.3g}; c/gamma: median "
          f"{float((w_ee.sum(1).mean() / gamma).median()):.3g}")
print(f"homeostatic loss over all steps: {float(homeostatic_loss(z)):.4g}")
