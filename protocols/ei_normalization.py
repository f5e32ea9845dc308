"""Inhibitory normalization of error signals (Eyono et al.): the luminosity experiment on digits, with figures.

Runs (or resumes) the paired experiment -- EI without normalization, LN+, I-Norm (forward only) and I-Norm with
`full` error normalization, at several luminosity levels, on shared random configurations and seeds -- and
draws accuracy against epsilon, the paired scatter against LN+, the gradient/output cosines with exact
LayerNorm and the layer moments. Then it runs the gradient-alignment check of every error normalization and
compares the Brian2 export of the shipped network with the torch forward pass.

    python protocols/ei_normalization.py --out runs/ei --workers 2          # the documented run (minutes)
    python protocols/ei_normalization.py --quick --out runs/ei_quick         # seconds
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from neurorx.ei.brian2_export import to_brian2
from neurorx.ei.data import load_images
from neurorx.ei.diagnostics import alignment_check
from neurorx.ei.error_norm import ERROR_NORMS
from neurorx.ei.experiment import ExperimentConfig, run_experiment
from neurorx.ei.figures import draw_all, format_summary
from neurorx.ei.network_file import load_network
from neurorx.ei.training import jittered_test_images
from neurorx.examples import example_parser, parse_example_args
from neurorx.io import atomic_write_bytes
from neurorx.zoo import models_dir

parser = example_parser(__doc__, "ei_normalization", runs=False,
                        network=str(models_dir() / "ei" / "digits_inorm_full.npz"),
                        workers=(1, 1, "worker processes of the experiment"),
                        images=(100, 20, "test images for the Brian2 comparison"))
parser.add_argument("--quick", action="store_true", help="a few seconds instead of the full design")
parser.small_defaults["quick"] = True
args = parse_example_args(parser)

torch.set_num_threads(1)
out = Path(args.out)
report = out / "checks.json"
if report.exists() and not args.force:
    sys.exit(f"{report} exists; pass --force to replace it (or give another --out)")

cfg = (ExperimentConfig.quick if args.quick else ExperimentConfig.full)(seed=args.seed)
t0 = time.perf_counter()
summary = run_experiment(cfg, out, workers=args.workers, force=args.force)
print(format_summary(summary))
print(f"experiment wall time this call: {time.perf_counter() - t0:.0f} s")
for path in draw_all(out, overwrite=True):
    print("figure:", path)

checks = {name: alignment_check(name, seed=args.seed).__dict__ for name in ERROR_NORMS}
print("\ngradient alignment with exact LayerNorm after 300 homeostatic steps (ei_norm.md §8.3):")
for name, c in checks.items():
    print(f"  {name:12s} cosine {c['grad_cosine']:.3f} (perturbed {c['grad_cosine_perturbed']:.3f}), output "
          f"{c['output_cosine']:.4f}, mean {c['mean']:+.3f}, var {c['var']:.3f}")

net = load_network(args.network)
x = jittered_test_images(load_images("digits", seed=0), 0.5, seed=args.seed)[:args.images]
logits = net(x).detach().double().numpy()
t0 = time.perf_counter()
b2 = to_brian2(net, x).steady_state()
brian = {"images": len(x), "argmax_equal": int((b2.argmax(1) == logits.argmax(1)).sum()),
         "max_abs_diff": float(np.abs(b2 - logits).max()), "seconds": time.perf_counter() - t0}
print(f"\nBrian2 steady state vs torch on {brian['images']} images: argmax equal on {brian['argmax_equal']}, "
      f"max |logit difference| {brian['max_abs_diff']:.2e} ({brian['seconds']:.1f} s)")
atomic_write_bytes(report, json.dumps({"alignment": checks, "brian2": brian}, indent=1).encode(), overwrite=True)
