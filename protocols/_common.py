"""Command-line plumbing shared by the figure scripts (argument parsing and output folders)."""

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import neurorx as nrx


def parser(doc: str, out: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    p.add_argument("--models", default="models", help="folder with the shipped networks")
    p.add_argument("--trials", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--backends", nargs="+", default=["torch", "brian2"])
    p.add_argument("--target", default="auto", help="Brian2 code-generation target")
    p.add_argument("--out", default=out)
    p.add_argument("--force", action="store_true", help="overwrite existing figures")
    return p


def setup(args) -> Path:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    nrx.io.atomic_write_bytes(out / "config.json", json.dumps(
        {"args": vars(args), "versions": nrx.provenance.provenance(args.seed)}, indent=2).encode(), overwrite=True)
    return out


def load(args, rel: str):
    path = Path(args.models) / rel
    if not path.exists():
        raise SystemExit(f"{path} is not shipped; train it with `neurorx train {rel.removesuffix('.npz')}`")
    return nrx.load(path)


def run(protocol, net, args, **kwargs):
    return protocol.run_each(net, args.backends, options={"brian2": {"target": args.target}}, trials=args.trials,
                             seed=args.seed, progress=True, **kwargs)
