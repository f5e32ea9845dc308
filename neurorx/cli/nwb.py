"""``neurorx nwb analyse FILE [--bin-size 20ms] [--out DIR]``: a lab's NWB recording through the statistics.

Reads the file with :func:`neurorx.io.nwb.read` (tuning curves in the awake epoch, pynapple's Bayesian decoder
in the awake and the sleep epoch), prints every registered statistic of both epochs, the decoding error of the
awake epoch against the measured trajectory and KL(sleep‖wake) of the decoded distributions, and writes the
figures (decoded trajectories and densities per epoch) and the decoded Recording to ``--out``.
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
    return run


#: What ``--out`` receives; ``decoded.npz`` is moved in last and marks the folder complete.
OUTPUTS = ("decoded.npz", "decoded_trajectories.png", "decoded_density.png")


def run(args: argparse.Namespace) -> int:
    """Decode, print the table, write the figures."""
    from neurorx.io import check_output_file
    from neurorx.io.nwb import read
    from neurorx.staging import StagedFolder

    folder = None
    if args.out is not None:      # refused before the decoding: an existing output without --force, a file
        folder = StagedFolder(args.out, complete=OUTPUTS[0], outputs=OUTPUTS, force=args.force,
                              what="decoded recording")
        for name in OUTPUTS:
            check_output_file(folder.out / name, overwrite=args.force)
    rec = read(args.file, wake=args.wake, sleep=args.sleep, bin_size=args.bin_size, bins=args.bins,
               feature=args.feature, segment=args.segment)
    print(summary_table(rec))
    if folder is not None:        # the three files appear together, or not at all
        with folder as stage:
            rec.save(stage / OUTPUTS[0])
            write_figures(rec, stage)
        for name in OUTPUTS[1:] + OUTPUTS[:1]:
            print(f"wrote {folder.out / name}")
    return 0


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
