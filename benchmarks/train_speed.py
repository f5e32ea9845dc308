"""Training speed: neurorx's trainer step against a straightforward reference-style loop, in one process.

One "epoch" = one batch: forward over T steps, MSE loss, full BPTT, one Adam step (the reference trainer's
unit of work, paper.md §4). Both variants get the same pre-sampled batch, the same weights and the same
reference uniform noise, and run with the same number of torch threads.

(a) reference style (paper.md §3; the reference repo's ``models/rnn.py``): a Python loop over time with one
    ``nn.Linear`` call per step for the input, the recurrence and the readout, ``torch.rand_like`` noise,
    outputs written into preallocated tensors by slice assignment; also (a') the same loop written
    economically (outputs collected with ``torch.stack``, no unused noise draws);
(b) neurorx: :func:`neurorx.training.train_step` (inputs projected for all steps in one product, fused
    recurrence with a hand-written backward, readout of all steps in one product).

The last lines hold the spatial case against the bars (``--peak-bar`` 0.8 of the sgemm peak, ``--speedup-bar``
5 over the reference as it runs), from the best of the interleaved epochs (the peak: the better of one measure
before and one after the cases; ``--quick``: before only), PASS or FAIL each, then ALL PASS or the failures.

Reported: median seconds per epoch over ``--repeats`` timed epochs (after warm-up), with glibc's default
allocator settings and with freed memory kept for reuse (as the trainer runs), the speed-ups (a)/(b) and
(a')/(b), the achieved GFLOP/s (matrix-product FLOPs of forward + backward, ~3x the forward) and the fraction
of a float32 matrix-product peak measured in the same process (a 2048^3 product, torch.mm and oneDNN). Also
the time to sample a batch from the task (not part of the epoch timings).

Usage::

    python benchmarks/train_speed.py [--repeats 7] [--threads 2] [--json OUT.json] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import torch
from torch import nn

from neurorx.linalg import onednn_available
from neurorx.models.rnn import RecurrentModel
from neurorx.noise import ReferenceUniformNoise
from neurorx.training.memory import reuse_freed_memory
from neurorx.training.trainer import batch_generator, batch_rng, make_batch, train_step


class ReferenceRNN(nn.Module):
    """The reference repo's vanilla RNN (``models/rnn.py``, paper.md §3), written the way the reference does.

    Per step: ``torch.rand_like`` input noise, ``w_rec(h) + w_in(x_t + sigma_in*noise_in)``, the leaky ReLU
    update with ``sigma_rec*rand_like(h)``, a ``torch.randn`` output-noise draw and ``w_out(h)``; states and
    outputs are written into preallocated ``(B, T, ·)`` tensors by slice assignment. ``tidy=True`` is the
    same loop written economically (no unused noise draws, outputs collected with ``torch.stack``).
    """

    def __init__(self, n_in, n_rec, n_out, n_init, alpha, sigma_rec, tidy=False):
        super().__init__()
        self.encoder = nn.Linear(n_init, n_rec, bias=False)
        self.w_in = nn.Linear(n_in, n_rec, bias=False)
        self.w_rec = nn.Linear(n_rec, n_rec, bias=False)
        self.w_out = nn.Linear(n_rec, n_out, bias=False)
        self.alpha, self.sigma_rec, self.tidy = alpha, sigma_rec, tidy
        self.sigma_in = self.sigma_out = 0.0

    def forward(self, x, init_state):
        b, steps = x.shape[:2]
        h = self.encoder(init_state)
        if self.tidy:
            outputs = []
            for t in range(steps):
                h = (1 - self.alpha) * h + self.alpha * torch.relu(self.w_rec(h) + self.w_in(x[:, t]))
                h = h + self.sigma_rec * torch.rand_like(h)
                outputs.append(self.w_out(h))
            return torch.stack(outputs, dim=1)
        h_1t = torch.zeros(b, steps, h.shape[1])
        y_1t = torch.zeros(b, steps, self.w_out.out_features)
        for t in range(steps):
            x_t = x[:, t, :].reshape(b, -1)
            noise_in = torch.rand_like(x_t)
            u = self.w_rec(h) + self.w_in(x_t + self.sigma_in * noise_in)
            noise_rec = torch.rand_like(h)
            h = (1 - self.alpha) * h + self.alpha * torch.relu(u) + self.sigma_rec * noise_rec
            noise_out = torch.randn(b, self.w_out.out_features)
            y = self.w_out(h) + self.sigma_out * noise_out
            h_1t[:, t, :] = h
            y_1t[:, t, :] = y
        return y_1t


def sgemm_peak(n=2048, repeats=5):
    """Best GFLOP/s of an ``n x n`` float32 matrix product: torch's default (MKL) and oneDNN."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    out = {"torch.mm": _best(lambda: a @ b, repeats)}
    if onednn_available():
        op = torch.ops.mkldnn._linear_pointwise
        out["oneDNN"] = _best(lambda: op(a, b, None, "none", [], ""), repeats)
    return {k: 2 * n**3 / v / 1e9 for k, v in out.items()}


def _best(fn, repeats):
    for _ in range(2):
        fn()
    return min(_timed(fn) for _ in range(repeats))


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def epoch_flops(b, t, n, n_in, n_out, n_init):
    """Matrix-product FLOPs of one epoch: forward products x3 (forward + two backward products each)."""
    fwd = 2 * b * t * (n * n + n * n_in + n_out * n) + 2 * b * n * n_init
    return 3 * fwd


def bench_case(name, task, n_rec, alpha, scale, batch, steps, repeats, warmup):
    torch.manual_seed(0)
    n_in, n_out = task.n_in, task.n_cells
    t0 = time.perf_counter()
    data = make_batch(task, batch, steps, batch_rng(0, 0))
    t_sample = time.perf_counter() - t0
    sample_times = [t_sample] + [_timed(lambda i=i: make_batch(task, batch, steps, batch_rng(0, i)))
                                 for i in range(1, 3)]
    inputs_bm = data.inputs.transpose(0, 1).contiguous()
    targets_bm = data.targets.transpose(0, 1).contiguous()
    loss_fn = nn.MSELoss()
    epochs = {}
    ref = None
    for variant, tidy in (("reference", False), ("loop", True)):
        ref_model = ReferenceRNN(n_in, n_rec, n_out, n_out, alpha, scale, tidy=tidy)
        if ref is not None:
            ref_model.load_state_dict(ref.state_dict())
        ref = ref_model
        opt_ref = torch.optim.Adam(ref_model.parameters(), lr=1e-3)

        def ref_epoch(m=ref_model, o=opt_ref):
            o.zero_grad()
            loss = loss_fn(m(inputs_bm, data.init_code), targets_bm)
            loss.backward()
            o.step()
            return loss.item()

        epochs[variant] = ref_epoch

    model = RecurrentModel("vanilla", n_in, n_rec, n_out, n_out, alpha, "relu")
    with torch.no_grad():
        for p_ref, p in zip((ref.encoder, ref.w_in, ref.w_rec, ref.w_out),
                            (model.encoder, model.w_in, model.w_rec, model.w_out), strict=True):
            p.weight.copy_(p_ref.weight)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    noise = {"recurrent": ReferenceUniformNoise(scale, dt_train=0.02)}

    def nrx_epoch():
        loss, _ = train_step(model, opt, data, noise, 0.02, batch_generator(0, 0), fused=True)
        return float(loss)

    epochs["neurorx"] = nrx_epoch
    # Interleave the variants so that background load affects them alike. Two passes: glibc's default
    # allocator settings, and the trainer's (freed memory kept for reuse, neurorx.training.memory).
    times = {}
    for mode in ("default", "reuse"):
        with reuse_freed_memory(mode == "reuse"):
            for _ in range(warmup):
                for fn in epochs.values():
                    fn()
            for _ in range(repeats):
                for k, fn in epochs.items():
                    times.setdefault(f"{k}/{mode}", []).append(_timed(fn))
    flops = epoch_flops(batch, steps, n_rec, n_in, n_out, n_out)
    med = {k: statistics.median(v) for k, v in times.items()}
    out = {"case": name, "n_rec": n_rec, "n_out": n_out, "n_in": n_in, "batch": batch, "steps": steps,
           "gflop_per_epoch": flops / 1e9, "sample_s": statistics.median(sample_times),
           "median_s": med, "all_s": times, "gflops": {k: flops / v / 1e9 for k, v in med.items()},
           "min_s": {k: min(v) for k, v in times.items()}}
    out["min_gflops"] = {k: flops / v / 1e9 for k, v in out["min_s"].items()}
    return out


def gru_case(task, batch, steps, repeats, warmup):
    """The GRU (paper Fig. C.2 control): autograd through the Cell.step loop against the fused GRU backward."""
    torch.manual_seed(0)
    data = make_batch(task, batch, steps, batch_rng(0, 0))
    noise = {"recurrent": ReferenceUniformNoise(0.01, dt_train=0.02)}
    epochs = {}
    for variant, fused in (("loop", False), ("neurorx", True)):
        torch.manual_seed(0)
        model = RecurrentModel("gru", task.n_in, 512, task.n_cells, task.n_cells, 0.2, "tanh")
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        epochs[variant] = (lambda m=model, o=opt, f=fused:
                           train_step(m, o, data, noise, 0.02, batch_generator(0, 0), fused=f))
    times = {}
    with reuse_freed_memory(True):
        for _ in range(warmup):
            for fn in epochs.values():
                fn()
        for _ in range(repeats):
            for k, fn in epochs.items():
                times.setdefault(k, []).append(_timed(fn))
    return {k: statistics.median(v) for k, v in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed epochs per variant (median reported)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--quick", action="store_true", help="smaller batch (B=50) for a smoke test")
    parser.add_argument("--peak-bar", type=float, default=0.8, help="smallest fraction of the sgemm peak that passes")
    parser.add_argument("--speedup-bar", type=float, default=5.0, help="smallest speed-up over the reference loop")
    parser.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    from neurorx.tasks import HeadDirection, SpatialNavigation

    batch = 50 if args.quick else 200
    peak = sgemm_peak()
    cases = [
        bench_case("spatial (SP)", SpatialNavigation(seed=0), 512, 0.2, 0.01, batch, 100, args.repeats, args.warmup),
        bench_case("head direction (HD)", HeadDirection(seed=0), 128, 0.5, 0.1, batch, 100, args.repeats,
                   args.warmup),
    ]
    gru = gru_case(SpatialNavigation(seed=0), batch, 100, args.repeats, args.warmup)
    if not args.quick:      # the peak again, after the cases: the better of the two counts (load varies)
        after = sgemm_peak()
        peak = {k: max(v, after[k]) for k, v in peak.items()}
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.machine()}, oneDNN products: "
          f"{onednn_available()}" + (f", load average (1 min) {load[0]:.2f}" if load else ""))
    peaks = ", ".join(f"{k} {v:.0f}" for k, v in peak.items())
    print(f"float32 2048^3 matrix-product peak (GFLOP/s): {peaks}")
    best = max(peak.values())
    head = (f"{'case':<21}{'malloc':>8}{'ref s':>8}{'loop s':>8}{'nrx s':>8}{'ref/nrx':>9}{'loop/nrx':>9}"
            f"{'ref GF/s':>9}{'nrx GF/s':>9}{'%peak':>7}")
    print(head)
    print("-" * len(head))
    for c in cases:
        for mode in ("default", "reuse"):
            m, g = c["median_s"], c["gflops"]
            ref, loop, nrx = m[f"reference/{mode}"], m[f"loop/{mode}"], m[f"neurorx/{mode}"]
            print(f"{c['case'] if mode == 'default' else '':<21}{mode:>8}{ref:>8.3f}{loop:>8.3f}{nrx:>8.3f}"
                  f"{ref / nrx:>8.1f}x{loop / nrx:>8.1f}x{g[f'reference/{mode}']:>9.1f}{g[f'neurorx/{mode}']:>9.1f}"
                  f"{100 * g[f'neurorx/{mode}'] / best:>6.0f}%")
    for c in cases:
        m = c["median_s"]
        print(f"{c['case']}: {c['gflop_per_epoch']:.1f} GFLOP/epoch; headline (reference as the reference runs, "
              f"neurorx as its trainer runs): {m['reference/default']:.3f} s -> {m['neurorx/reuse']:.3f} s = "
              f"{m['reference/default'] / m['neurorx/reuse']:.1f}x; sampling one batch from the task: "
              f"{c['sample_s']:.3f} s (not in the epoch; the trainer draws it ahead in a background thread)")
    print(f"GRU spatial (512 units, 3 gate blocks): autograd loop over Cell.step {gru['loop']:.3f} s -> fused GRU "
          f"backward {gru['neurorx']:.3f} s = {gru['loop'] / gru['neurorx']:.1f}x")
    print(f"epoch = forward + MSE + BPTT + Adam step on one pre-sampled batch (B={batch}, T=100, noise drawn inside),"
          f" median of {args.repeats}.\nref = the reference code's loop (slice assignment into preallocated tensors,"
          f" unused noise draws); loop = the same loop written economically (torch.stack); nrx = "
          f"neurorx.training.train_step.\nmalloc: default glibc settings, or freed memory kept for reuse (as the "
          f"trainer runs). GFLOP/s count matrix-product FLOPs (forward x3); %peak against the best 2048^3 product.")
    sp = cases[0]
    frac = sp["min_gflops"]["neurorx/reuse"] / best
    speedup = sp["min_s"]["reference/default"] / sp["min_s"]["neurorx/reuse"]
    checks = {f"fused epoch at {frac:.0%} of the sgemm peak (bar {args.peak_bar:.0%})": frac >= args.peak_bar,
              f"{speedup:.1f}x the reference-style loop (bar {args.speedup_bar:g}x)": speedup >= args.speedup_bar}
    print(f"{sp['case']}, best of {args.repeats} epochs (interleaved), load {load[0] if load else float('nan'):.1f}:")
    for what, ok in checks.items():
        print(f"  {what}: {'PASS' if ok else 'FAIL'}")
    fails = [what for what, ok in checks.items() if not ok]
    print("ALL PASS" if not fails else "FAIL: " + "; ".join(fails))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"failures": fails, "peak_fraction": frac, "speedup_vs_reference": speedup,
                       "peak_gflops": peak, "threads": torch.get_num_threads(), "load_average": load,
                       "torch": torch.__version__, "cases": cases, "gru_median_s": gru}, fh, indent=2)
    return cases


if __name__ == "__main__":
    main()
