"""Export the network held by a training checkpoint (its weights at the checkpoint's batch) as a RateNetwork file.

    python scripts/dale_checkpoint_network.py RUN/checkpoint.npz OUT.npz

Used by docs/dale.md to analyse a training that is still running (the run itself is not touched).
"""
import sys

from neurorx.training import Trainer
from neurorx.training.checkpoint import load_checkpoint, restore_checkpoint
from neurorx.training.config import Config

src, dst = sys.argv[1], sys.argv[2]
arrays, meta = load_checkpoint(src)
tr = Trainer(Config.from_dict(meta["config"]), None, quiet=True)
tr.batch = restore_checkpoint(arrays, meta, tr.params, tr.optimizer)
tr.curve = {k: list(v) for k, v in meta["curve"].items()}
net = tr.network()
net.save(dst)
print(dst, "batch", tr.batch, "test error", tr.curve["test_error"][-1])
