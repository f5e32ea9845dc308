"""Train the small shipped E/I network ``models/ei/digits_inorm_full.npz`` (about a minute on one core).

64 -> 32 -> 32 -> 10, I-Norm hidden layers (SVD divisive pathway) with ``full`` error normalization, trained
on scikit-learn's digits at luminosity level 0.5. Used by the Brian2 export test and the docs.

    python models/ei/train_shipped.py [--force]
"""

import argparse
import json
from pathlib import Path

import torch

from neurorx.ei.data import load_images
from neurorx.ei.network import EINetwork, EINetworkConfig
from neurorx.ei.network_file import save_network
from neurorx.ei.training import TrainConfig, train

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", default=str(Path(__file__).with_name("digits_inorm_full.npz")))
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--force", action="store_true")
args = parser.parse_args()

torch.set_num_threads(1)
data = load_images("digits", seed=args.seed)
net = EINetwork(EINetworkConfig(n_in=64, hidden=(32, 32), n_out=10, layer="inorm", error_norm="full",
                                seed=args.seed))
cfg = TrainConfig(epochs=30, lr_e=0.05, lr_i=0.1, lam=0.01, epsilon=0.5, seed=args.seed)
result = train(net, data, cfg, progress=True)
print(f"test accuracy at epsilon=0.5: {result.test_acc:.4f}")
save_network(net, args.out, overwrite=args.force, train_config=cfg.__dict__, data="digits",
             test_acc=result.test_acc)
print(json.dumps({"saved": args.out, "test_acc": result.test_acc}))
