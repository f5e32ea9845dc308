"""The numbers of docs/data.md: decoding error of a neurorx run read back from NWB, and replay scores.

Run from the repository root (needs neurorx[data]): ``python docs/scripts/data_bridge_numbers.py OUT_DIR``.
"""

import json
import sys
from pathlib import Path

import numpy as np

import neurorx as nrx
from neurorx.analysis.replay import replay_events
from neurorx.io import nwb

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
results = {}

# 1. A spatial run written to NWB (Poisson spikes from the rates) and decoded back with pynapple.
net = nrx.load("models/spatial_navigation/noisy_unbiased.npz")
rec = nrx.Protocol([nrx.Active(steps=100), nrx.Quiescent(steps=200)]).run(
    net, backend="torch", trials=20, seed=0, record=("h",))
path = nwb.write(rec, out / "spatial.nwb", spikes=nwb.poisson_spikes(rec, peak_rate=50.0, seed=0), overwrite=True)
back = nwb.read(path, bin_size=0.02, bins=20)
act = back.select("active")
err = np.linalg.norm(act.decoded - act.states, axis=-1)
results["spatial"] = {
    "bayes_median_error_m": float(np.nanmedian(err)), "bins_without_error": int(np.isnan(err).sum()),
    "bins": int(err.size),
    "network_decoder_median_error_m": float(np.median(np.linalg.norm(
        rec.select("active").decoded - rec.select("active").states, axis=-1))),
    "inspector_messages": len(nwb.inspect(path))}
print(json.dumps(results["spatial"]), flush=True)

# 2. Replay in head-direction quiescence: the noisy network's quiescent noise on (sqrt 2) and off.
net = nrx.load("models/head_direction/noisy_unbiased.npz")
for name, scale in (("quiescent noise on", 2 ** 0.5), ("quiescent noise off", 0.0)):
    rec = nrx.Protocol([nrx.Active(steps=200), nrx.Quiescent(steps=500, noise_scale=scale)]).run(
        net, backend="torch", trials=10, seed=0, record=("h",))
    path = nwb.write(rec, out / f"hd_{scale:.2f}.nwb", spikes=nwb.poisson_spikes(rec, peak_rate=50.0, seed=0),
                     overwrite=True)
    back = nwb.read(path, bin_size=0.02, bins=36)
    act = back.select("active")
    err = np.abs(nrx.analysis.circular_error(act.decoded[..., 0], act.states[..., 0]))
    res = replay_events(back, threshold=2.0, edge=0.5, min_duration=0.06, max_duration=0.5, n_shuffles=1000)
    results[name] = {"bayes_median_error_rad": float(np.median(err)), "events": len(res.events),
                     "fraction_significant": res.fraction_significant,
                     "median_abs_speed_rad_s": float(np.median(np.abs(res.speeds))) if len(res.speeds) else None}
    print(name, json.dumps(results[name]), flush=True)
(out / "data_bridge_numbers.json").write_text(json.dumps(results, indent=1))
