"""``neurorx nwb analyse FILE [--bin-size 20ms] [--out DIR]``: a lab's NWB recording through the statistics.

Reads the file with :func:`neurorx.io.nwb.read` (tuning curves in the awake epoch, pynapple's Bayesian decoder
in the awake and the sleep epoch), prints every registered statistic of both epochs, the decoding error of the
awake epoch against the measured trajectory and KL(sleep‖wake) of the decoded distributions, and writes the
figures (decoded trajectories and densities per epoch) and the decoded Recording to ``--out``.

``--replay`` also scores replay in the sleep epoch, as labs do (:mod:`neurorx.analysis.replay`): candidate
events are population-rate bursts, each is scored by the line fit of Davidson et al. (2009) on its decoded
posterior against circular cell-identity and time-bin shuffles (``--shuffles`` of each), and the command prints
the number of events, the fraction significant under both shuffles and the replay speeds, and writes
``replay.json`` (every event) and ``replay_events.png`` (the posteriors of the best-scoring events) to ``--out``.
Head direction or another 1-D feature only.
"""

from __future__ import annotations

import argparse

from neurorx.cli import command


@command("nwb", help="analyse an NWB recording (decoded replay statistics)", description=__doc__)
def configure(parser: argparse.ArgumentParser):
    """Declare ``neurorx nwb analyse``."""
    sub = parser.add_subparsers(dest="nwb_command", metavar="SUBCOMMAND", required=True)
    p = sub.add_parser("analyse", help="decode an NWB file's awake and sleep epochs and print the statistics",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", help="an NWB file with units, position or head direction, and epochs")
    p.add_argument("--bin-size", default="20 ms", help="decoding bin, e.g. '20 ms' (default) or '0.1 s'")
    p.add_argument("--bins", type=int, default=None,
                   help="tuning-curve bins (per axis for positions: 20; around the circle: 36)")
    p.add_argument("--wake", default=None, help="name of the awake epoch (default: wake, active, run, ...)")
    p.add_argument("--sleep", default=None, help="name of the sleep epoch (default: sleep, quiescent, rest, ...)")
    p.add_argument("--feature", default=None, help="name of the SpatialSeries to decode")
    p.add_argument("--segment", default=None,
                   help="cut the epochs into segments of this duration (e.g. '10 s') taken as trials")
    p.add_argument("--out", default=None, help="folder for the figures and the decoded recording (decoded.npz)")
    p.add_argument("--force", action="store_true", help="replace files in --out")
    p.add_argument("--replay", action="store_true",
                   help="also score replay events in the sleep epoch (1-D features: head direction, a linear track)")
    p.add_argument("--shuffles", type=int, default=1000, help="shuffles of each kind per event (default 1000)")
    p.add_argument("--event-threshold", type=float, default=3.0,
                   help="peak z-score of the population count an event must reach (default 3)")
    p.add_argument("--event-edge", type=float, default=1.0, help="z-score at an event's edges (default 1)")
    p.add_argument("--event-min", default="50 ms", help="shortest event (default '50 ms')")
    p.add_argument("--event-max", default="500 ms", help="longest event (default '500 ms')")
    p.add_argument("--seed", type=int, default=0, help="seed of the shuffles (default 0)")
    return run


#: What ``--out`` receives; ``decoded.npz`` is moved in last and marks the folder complete.
OUTPUTS = ("decoded.npz", "decoded_trajectories.png", "decoded_density.png")
#: Largest z-score accepted for ``--event-threshold`` and ``--event-edge``.
MAX_Z = 100.0
#: What ``--replay`` adds to ``--out``.
REPLAY_OUTPUTS = ("replay.json", "replay_events.png")


def run(args: argparse.Namespace) -> int:
    """Decode, print the table, write the figures."""
    from neurorx.io import check_output_file
    from neurorx.io.nwb import read
    from neurorx.staging import StagedFolder

    outputs = OUTPUTS + (REPLAY_OUTPUTS if args.replay else ())
    replay_settings = _replay_settings(args)         # checked even without --replay: a bad value is a typo
    folder = None
    if args.out is not None:      # refused before the decoding: an existing output without --force, a file
        folder = StagedFolder(args.out, complete=outputs[0], outputs=outputs, force=args.force,
                              what="decoded recording")
        for name in outputs:
            check_output_file(folder.out / name, overwrite=args.force)
    rec = read(args.file, wake=args.wake, sleep=args.sleep, bin_size=args.bin_size, bins=args.bins,
               feature=args.feature, segment=args.segment)
    print(summary_table(rec))
    result = None
    if args.replay:
        from neurorx.analysis.replay import replay_events

        result = replay_events(rec, **replay_settings)
        print()
        print(replay_table(rec, result))
    if folder is not None:        # the files appear together, or not at all
        with folder as stage:
            rec.save(stage / OUTPUTS[0])
            write_figures(rec, stage)
            if result is not None:
                write_replay(rec, result, stage)
        for name in outputs[1:] + outputs[:1]:
            print(f"wrote {folder.out / name}")
    return 0


def _replay_settings(args) -> dict:
    """The keyword arguments of :func:`~neurorx.analysis.replay.replay_events`, checked before any decoding."""
    import math

    from neurorx.checks import positive_int
    from neurorx.errors import ConfigurationError
    from neurorx.resources import check_count
    from neurorx.units import parse_time

    if args.shuffles < 1:
        raise ConfigurationError(f"--shuffles must be a positive number of shuffles (1000 or more to report p-values);"
                                 f" got {args.shuffles}")
    check_count(args.shuffles, "--shuffles", "ask for fewer (999 resolve p to 0.001)", limit="resamples")
    positive_int(args.seed, "--seed", minimum=0)
    for name, value in (("--event-threshold", args.event_threshold), ("--event-edge", args.event_edge)):
        if not (math.isfinite(value) and 0 <= value <= MAX_Z):
            raise ConfigurationError(f"{name} is a z-score of the population count, outside [0, {MAX_Z:g}]: got "
                                     f"{value}; labs use 3 for events and 0-1 for their edges")
    shortest, longest = parse_time(args.event_min, "--event-min"), parse_time(args.event_max, "--event-max")
    if shortest >= longest:
        raise ConfigurationError(f"--event-min ({args.event_min}) must be shorter than --event-max ({args.event_max})")
    if args.event_edge > args.event_threshold:
        raise ConfigurationError(f"--event-edge ({args.event_edge}) must not exceed --event-threshold "
                                 f"({args.event_threshold})")
    return {"phase": "quiescent", "threshold": args.event_threshold, "edge": args.event_edge,
            "min_duration": shortest, "max_duration": longest, "n_shuffles": args.shuffles, "seed": args.seed}


def replay_table(rec, result) -> str:
    """Candidate events, the fraction significant under both shuffles, and the speeds, as Markdown."""
    import numpy as np

    epochs = rec.meta.get("epochs", {})
    sleep = f"{epochs.get('quiescent', 'quiescent')} (quiescent)"
    unit = "rad/s" if rec.meta.get("circular") else "m/s"
    n = len(result.events)
    sig = [e for e in result.events if e.significant]
    speeds = np.abs(result.speeds)
    lines = ["| epoch | replay | value |", "|---|---|---|",
             f"| {sleep} | candidate events | {n} |",
             f"| {sleep} | significant (both shuffles, p < {result.alpha:g}, {result.n_shuffles} each) | "
             f"{len(sig)} ({'n/a' if not n else f'{result.fraction_significant:.3g}'}) |",
             f"| {sleep} | median speed of significant events [{unit}] | "
             f"{f'{np.median(speeds):.4g}' if speeds.size else 'n/a'} |"]
    return "\n".join(lines)


def write_replay(rec, result, out, *, overwrite: bool = False) -> list:
    """``replay.json`` (every event, the settings) and ``replay_events.png`` (the best events' posteriors)."""
    import json

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import neurorx.plotting as nplt
    from neurorx.io import atomic_write_bytes

    path = out / REPLAY_OUTPUTS[0]
    atomic_write_bytes(path, json.dumps(result.to_dict(), indent=1).encode(), overwrite=overwrite)
    axes = nplt.replay_posteriors(rec, result)
    figure = nplt.save_figure(axes, out / REPLAY_OUTPUTS[1], overwrite=overwrite, dpi=120)
    plt.close(axes.flat[0].figure)
    return [path, figure]


def summary_table(rec) -> str:
    """The statistics of both epochs, the awake decoding error and KL(quiescent‖active) as Markdown."""
    import numpy as np

    from neurorx.analysis import applicable_statistics, circular_error, circular_kl, kl_divergence

    circular = bool(rec.meta.get("circular"))
    epochs = rec.meta.get("epochs", {})
    lines = [f"{rec.meta.get('network')}: {rec.meta.get('n_units')} units, {rec.meta.get('feature')!r} decoded in "
             f"{1000 * rec.meta['dt']:g} ms bins, {rec.trials} trial(s) ({rec.meta.get('trials_from')})", "",
             "| epoch | statistic | value |", "|---|---|---|"]
    has_h = rec.h is not None
    for label in rec.labels:
        sub = rec.select(label)
        name = f"{epochs.get(label, label)} ({label})"
        for stat in applicable_statistics(circular, has_h=has_h):
            lines.append(f"| {name} | {stat.name} [{stat.unit_for(circular)}] | {stat.value(sub, circular):.4g} |")
    if "active" in rec.labels:
        act = rec.select("active")
        measured = np.isfinite(act.states).all(axis=-1)     # the trajectory is NaN where it was not measured
        decoded, states = act.decoded[measured], act.states[measured]
        err = (np.abs(circular_error(decoded[..., 0], states[..., 0])) if circular
               else np.linalg.norm(decoded - states, axis=-1))
        value = f"{np.median(err):.4g}" if err.size else "n/a (no measured trajectory)"
        lines.append(f"| {epochs.get('active', 'active')} (active) | median decoding error "
                     f"[{'rad' if circular else 'm'}] | {value} |")
    if {"active", "quiescent"} <= set(rec.labels):
        q, a = rec.select("quiescent").decoded, rec.select("active").decoded
        kl = circular_kl(q[..., 0], a[..., 0]) if circular else kl_divergence(
            q.reshape(-1, q.shape[-1]), a.reshape(-1, a.shape[-1]), method="corrected")
        lines.append(f"| {epochs.get('quiescent', 'quiescent')} vs {epochs.get('active', 'active')} | "
                     f"KL(quiescent‖active) decoded [nats] | {float(kl):.4g} |")
    return "\n".join(lines)


def write_figures(rec, out, *, overwrite: bool = False) -> list:
    """Decoded trajectories and decoded densities (KDE, or polar histograms for angles) of each epoch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import neurorx.plotting as nplt

    circular = bool(rec.meta.get("circular"))
    paths = []
    phases = tuple(rec.labels)
    panels = {"decoded_trajectories": nplt.decoded_trajectories,
              "decoded_density": nplt.polar_histogram_panel if circular else nplt.kde_panel}
    for name, fn in panels.items():
        kwargs = {} if circular or fn is nplt.decoded_trajectories else {"extent": None}
        fig, axes = plt.subplots(1, len(phases), figsize=(4 * len(phases), 4),
                                 subplot_kw={"projection": "polar"} if circular else {}, squeeze=False)
        for ax, phase in zip(axes[0], phases, strict=True):
            fn(rec, phase=phase, ax=ax, title=f"{rec.meta.get('epochs', {}).get(phase, phase)} ({phase})", **kwargs)
        paths.append(nplt.save_figure(fig, out / f"{name}.png", overwrite=overwrite, dpi=120))
        plt.close(fig)
    return paths
