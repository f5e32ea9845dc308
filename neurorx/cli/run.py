"""``neurorx run NETWORK --phases active:100 quiescent:1000 --backend brian2 --out rec.npz``: run a protocol."""

from __future__ import annotations

import argparse
import sys

from neurorx.cli import command

PHASES_HELP = ("phases as KIND:STEPS[:key=value,...], KIND a registered phase (neurorx.PHASES: active, "
               "quiescent, ...); keys: start (continue|reset), noise_scale, label. "
               "E.g. active:100 quiescent:1000:start=reset,noise_scale=1")


def parse_phase(spec: str):
    """Build a phase of :data:`neurorx.PHASES` from ``KIND:STEPS[:key=value,...]``."""
    from neurorx.phases import PHASES, phase_from_spec

    parts = spec.split(":")
    if len(parts) < 2 or parts[0] not in PHASES:
        raise ValueError(f"bad phase {spec!r}: {PHASES_HELP}; registered kinds: {', '.join(PHASES.names())}")
    try:
        steps = int(parts[1])
    except ValueError:
        raise ValueError(f"bad phase {spec!r}: STEPS must be an integer") from None
    kwargs = {}
    for item in (parts[2].split(",") if len(parts) > 2 and parts[2] else []):
        key, _, value = item.partition("=")
        if key not in ("start", "noise_scale", "label"):
            raise ValueError(f"bad phase option {key!r} in {spec!r}; use start, noise_scale or label")
        kwargs[key] = float(value) if key == "noise_scale" else value
    return phase_from_spec(parts[0], steps, **kwargs)


#: Options of the spiking backend: flag, type, help (given only when set).
SPIKING_FLAGS = (
    ("--neuron", str, "neuron model: poisson (default) or lif"),
    ("--per-unit", int, "neurons per rate unit M (default 16)"),
    ("--max-rate", float, "rate in Hz of a neuron whose unit's activation is r_scale (default 20)"),
    ("--r-scale", float, "activation value that fires at max_rate (default 1)"),
    ("--spiking-noise", str, "injected noise: keep (default), mean or off"),
    ("--spike-trials", int, "record spikes of the first K trials only (with --record spikes)"),
)


def spiking_options(args: argparse.Namespace) -> dict:
    """The spiking backend's options given on the command line (flag ``--per-unit`` -> ``per_unit``)."""
    out = {}
    for flag, _, _ in SPIKING_FLAGS:
        key = flag[2:].replace("-", "_")
        value = getattr(args, key)
        if value is not None:
            out["noise" if key == "spiking_noise" else key] = value
    return out


@command("run", help="run a protocol on a network and save the recording", description=__doc__)
def configure(parser: argparse.ArgumentParser):
    """Declare the arguments of ``neurorx run``."""
    parser.add_argument("network", help="a network .npz file")
    parser.add_argument("--phases", nargs="+", default=["active:100", "quiescent:1000"], help=PHASES_HELP)
    parser.add_argument("--backend", default="torch", help="a registered backend: torch, brian2, ...")
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dt-factor", type=int, default=1, help="simulate at dt = training step / k")
    parser.add_argument("--record", nargs="*", default=[], choices=["h", "y", "spikes"])
    parser.add_argument("--every", type=int, default=1, help="record h/y every k steps")
    spiking = parser.add_argument_group("spiking backend (--backend brian2-spiking)")
    for flag, kind, text in SPIKING_FLAGS:
        spiking.add_argument(flag, type=kind, default=None, help=text)
    parser.add_argument("--out", required=True, help="recording .npz to write")
    parser.add_argument("--nwb", default=None, metavar="FILE",
                        help="also write the run as an NWB file (needs neurorx[data]; record h to include the rates)")
    parser.add_argument("--force", action="store_true")
    return run


def run(args: argparse.Namespace) -> int:
    """Run the protocol and save the recording."""
    from pathlib import Path

    import neurorx as nrx
    from neurorx.io import check_output_file

    if Path(args.out).is_dir():
        print(f"neurorx run: --out {args.out} is a directory; give a file name, e.g. {Path(args.out) / 'run.npz'}",
              file=sys.stderr)
        return 2
    if Path(args.out).exists() and not args.force:
        print(f"neurorx run: {args.out} exists; pass --force to overwrite", file=sys.stderr)
        return 2
    check_output_file(args.out, overwrite=args.force)     # before any work: a path under a file, unwritable, ...
    if args.nwb is not None:
        from neurorx.io.extras import require

        check_output_file(args.nwb, overwrite=args.force)
        if Path(args.nwb).resolve() == Path(args.out).resolve():
            print(f"neurorx run: --nwb and --out are both {args.out}: the NWB file would overwrite the recording; "
                  f"give them two names, e.g. --nwb {Path(args.out).with_suffix('.nwb')} --out "
                  f"{Path(args.out).with_suffix('.npz')}", file=sys.stderr)
            return 2
        require("pynwb", "neurorx run --nwb")
    try:
        protocol = nrx.Protocol([parse_phase(s) for s in args.phases])
        net = nrx.load(args.network)
        rec = protocol.run(net, backend=args.backend, trials=args.trials, seed=args.seed, dt_factor=args.dt_factor,
                           record=tuple(args.record), every=args.every, progress=True, **spiking_options(args))
    except (ValueError, OSError) as err:   # OSError: missing file, a directory where a file should be
        print(f"neurorx run: {err}", file=sys.stderr)
        return 2
    rec.save(args.out, overwrite=args.force)
    print(rec)
    print(f"saved {args.out}")
    if args.nwb is not None:
        rec.to_nwb(args.nwb, overwrite=args.force)
        print(f"saved {args.nwb}")
    return 0
