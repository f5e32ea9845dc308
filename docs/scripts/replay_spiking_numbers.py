"""Replay on the spiking backend, and the spike score against the network's own decoder (docs/data.md).

The shipped noisy head-direction network, 10 trials of 200 active and 500 quiescent steps, quiescent noise on
(sqrt 2 x training) and off; spikes written to NWB, decoded back at 20 ms in 36 bins, candidate events scored
with 1000 shuffles of each kind (as docs/scripts/data_bridge_numbers.py); then every event's path in the
network's own decoded output (its readout of h) tested for a line with
:func:`neurorx.analysis.replay.compare_with_decoder`.

Run from the repository root (needs neurorx[data] and brian2)::

    python docs/scripts/replay_spiking_numbers.py OUT_DIR --part rate       # Poisson spikes from the torch rates
    python docs/scripts/replay_spiking_numbers.py OUT_DIR --part spiking    # the brian2-spiking run's own spikes

Each part writes ``OUT_DIR/replay_<part>.json``.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

import neurorx as nrx
from neurorx.analysis.circular import circular_error
from neurorx.analysis.replay import DecoderAgreement, compare_with_decoder, replay_events
from neurorx.io import nwb

parser = argparse.ArgumentParser()
parser.add_argument("out", type=Path)
parser.add_argument("--part", choices=("rate", "spiking"), required=True)
parser.add_argument("--neuron", default="poisson")
parser.add_argument("--per-unit", type=int, default=16)
parser.add_argument("--trials", type=int, default=10)
parser.add_argument("--active", type=int, default=200)
parser.add_argument("--quiescent", type=int, default=500)
parser.add_argument("--shuffles", type=int, default=1000)
args = parser.parse_args()
args.out.mkdir(parents=True, exist_ok=True)
out_json = args.out / f"replay_{args.part}.json"
results = {"settings": vars(args) | {"out": str(args.out)}}

net = nrx.load("models/head_direction/noisy_unbiased.npz")
for name, scale in (("quiescent noise on", 2 ** 0.5), ("quiescent noise off", 0.0)):
    clock, cpu = time.time(), time.process_time()
    protocol = nrx.Protocol([nrx.Active(steps=args.active), nrx.Quiescent(steps=args.quiescent, noise_scale=scale)])
    if args.part == "rate":
        rec = protocol.run(net, backend="torch", trials=args.trials, seed=0, record=("h",))
        spikes = nwb.poisson_spikes(rec, peak_rate=50.0, seed=0)
    else:
        rec = protocol.run(net, backend="brian2-spiking", trials=args.trials, seed=0, neuron=args.neuron,
                           per_unit=args.per_unit, record=("h", "spikes"), spike_trials=args.trials)
        spikes = rec.spikes
    run_s = time.time() - clock
    path = nwb.write(rec, args.out / f"hd_{args.part}_{scale:.2f}.nwb", spikes=spikes, overwrite=True)
    back = nwb.read(path, bin_size=0.02, bins=36)
    act = back.select("active")
    err = circular_error(act.decoded[..., 0], act.states[..., 0])
    res = replay_events(back, threshold=2.0, edge=0.5, min_duration=0.06, max_duration=0.5,
                        n_shuffles=args.shuffles)
    # the network's own decoded bearing on the same bins (one NWB bin per network step of 20 ms)
    own = rec.select("quiescent").decoded[..., 0]
    bayes = back.select("quiescent").decoded[..., 0]
    if own.shape != bayes.shape:
        raise SystemExit(f"bins do not match the network's steps: {bayes.shape} vs {own.shape}")
    lag_err = {lag: float(np.nanmedian(circular_error(bayes[:, max(lag, 0):own.shape[1] + min(lag, 0)],
                                                   own[:, max(-lag, 0):own.shape[1] - max(lag, 0)])))
               for lag in (-1, 0, 1)}
    agree = compare_with_decoder(res, own, 0.02, circular=True, n_shuffles=args.shuffles)
    # a line must also cover one bin of the decoding grid (10 degrees): a slower drift is invisible to the score
    agree_bin = compare_with_decoder(res, own, 0.02, circular=True, n_shuffles=args.shuffles, min_sweep=2 * np.pi / 36)
    n_spikes = int(np.asarray(spikes.count).sum()) if hasattr(spikes, "count") else int(np.asarray(spikes.t).size)
    results[name] = {
        "bayes_median_error_rad": float(np.nanmedian(err)), "events": len(res.events),
        "significant": int(sum(e.significant for e in res.events)),
        "fraction_significant": res.fraction_significant,
        "median_abs_speed_rad_s": float(np.median(np.abs(res.speeds))) if len(res.speeds) else None,
        "event_bins": [int(e.stop - e.start) for e in res.events],
        "quiescent_bayes_vs_own_median_error_rad_by_lag": lag_err,
        "decoder": agree.to_dict() | {
            "lines": int(sum(e.path_is_line for e in agree.events)),
            # events shorter than 5 bins can be neither a line nor significant at 5% (p >= 2/T!)
            "table_5_bins_or_more": DecoderAgreement(
                [e for e in agree.events if e.stop - e.start >= 5]).table.tolist()},
        "decoder_sweeping_one_bin": agree_bin.to_dict() | {
            "lines": int(sum(e.path_is_line for e in agree_bin.events))},
        "spikes": n_spikes, "run_wall_s": run_s, "total_wall_s": time.time() - clock,
        "cpu_s": time.process_time() - cpu}
    summary = {k: v for k, v in results[name].items() if k not in ("decoder", "decoder_sweeping_one_bin", "event_bins")}
    print(name, json.dumps(summary), "table", agree.table.tolist(), "one bin", agree_bin.table.tolist(), flush=True)
    out_json.write_text(json.dumps(results, indent=1))
