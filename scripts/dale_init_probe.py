"""Probe: does a heavier-tailed Dale initialisation (smaller gamma shape) let a Dale card learn?

The Dale cell draws its initial weight magnitudes from Gamma(k) (``rnn.gamma_shape``, default 0.1). With
balanced rows, the column signs leave a rank-one component of size ~ mean magnitude x N whose singular value
(16 at N = 512, k = 2) the spectral radius does not see; its ratio to the bulk scales as sqrt(k). This script
trains a card with another shape and prints the initial spectrum and the learning curve.

    python scripts/dale_init_probe.py head_direction/noisy_unbiased_white_dale --gamma-shape 0.1 \\
        --batches 3000 --out runs/probe/hd_white_dale_k0.1
"""

import argparse

import numpy as np
import torch

from neurorx.training import apply_overrides, load_card, train


def spectrum(w: np.ndarray) -> tuple[float, float]:
    """Largest singular value and normalised SVD entropy of ``w``."""
    s = np.linalg.svd(w, compute_uv=False)
    p = s / s.sum()
    return float(s.max()), float(-(p * np.log(p)).sum() / np.log(len(s)))


parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("card")
parser.add_argument("--gamma-shape", type=float, required=True)
parser.add_argument("--batches", type=int, default=3000)
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--out", required=True)
args = parser.parse_args()

cfg = apply_overrides(load_card(args.card), [f"trainer.n_epochs={args.batches}", f"trainer.threads={args.threads}",
                                             f"rnn.gamma_shape={args.gamma_shape}"])
torch.manual_seed(cfg.seed)
w0 = cfg.build_model(cfg.build_task()).w_rec.weight.detach().double().numpy()
print(f"gamma shape {args.gamma_shape}: initial largest singular value {spectrum(w0)[0]:.2f}, "
      f"normalised SVD entropy {spectrum(w0)[1]:.3f}", flush=True)
net = train(cfg, args.out, force=True)
curve = net.metrics["curve"]
pairs = zip(curve["batch"], curve["test_error"], strict=True)
print("test error along training:", [(b, round(float(e), 3)) for b, e in pairs][::5])
