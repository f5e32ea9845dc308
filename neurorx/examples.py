"""The example scripts in ``protocols/``: where they are installed, and what they share (command line, output
folder, networks, runs).

:func:`examples_dir` finds the scripts and sweep specs (installed with the package, or ``protocols/`` of a
checkout); :func:`copy_examples` (``neurorx examples copy DIR``) copies them into a folder of your own.

Every script builds its command line with :func:`example_parser` and reads it with :func:`parse_example_args`,
so the common options (``--trials``, ``--seed``, ``--target``, ``--out``, ``--force``, and where a script uses
them ``--network``, ``--models``, ``--backends``) are spelled and documented once.

Sizes. Run from the command line, a script uses its full sizes. With the environment variable
``NEURORX_EXAMPLE_SIZE=small`` (what the docs build sets, so that the executed gallery stays fast) every
option falls back to its small default instead (few trials and steps, the ``numpy`` code-generation target,
and a fresh temporary output folder); options given on the command line still win.

>>> parser = example_parser(__doc__, "aqa", network="spatial_navigation/noisy_unbiased",
...                         quiescent=(500, 20, "steps of quiescence"))            # doctest: +SKIP
>>> args = parse_example_args(parser)                                               # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from neurorx.zoo import package_data_dir

__all__ = ["SIZE_ENV", "SMALL", "copy_examples", "example_parser", "examples_dir", "list_examples",
           "load_example_network", "output_folder", "parse_example_args", "run_backends", "small"]

#: The environment variable that selects the sizes: ``small`` (the docs gallery) or ``full`` (the default).
SIZE_ENV = "NEURORX_EXAMPLE_SIZE"
#: The small defaults of the common options.
SMALL = {"trials": 6, "target": "numpy", "force": True}
_SIZES = ("small", "full")


def examples_dir() -> Path:
    """The folder holding the example scripts and sweep specs: the installed package data, else ``protocols/``."""
    return package_data_dir("_protocols", "protocols")


def list_examples() -> list[str]:
    """The examples by relative path: the scripts (``*.py``), the gallery header and the sweep specs."""
    root = examples_dir()
    files = [p for pattern in ("*.py", "*.md", "sweeps/*.py", "sweeps/*.yaml") for p in root.glob(pattern)]
    return sorted(p.relative_to(root).as_posix() for p in files if p.name != "__init__.py")


def copy_examples(dest: str | Path, *, force: bool = False) -> list[Path]:
    """Copy every example (:func:`list_examples`) into ``dest``, keeping their layout; return the copies.

    An example already in ``dest`` is an error naming it unless ``force`` (then it is replaced); nothing is
    copied when any would be refused.
    """
    from neurorx.errors import OutputPathError

    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise OutputPathError(f"{dest} is a file; give a folder to copy the examples into")
    names = list_examples()
    existing = [n for n in names if (dest / n).exists()]
    if existing and not force:
        raise OutputPathError(f"{dest} already holds {len(existing)} of the examples (e.g. {existing[0]}); "
                              f"pass --force to replace them, or choose another folder")
    out = []
    for name in names:
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(examples_dir() / name, target)
        out.append(target)
    return out


def small() -> bool:
    """Whether examples run at their small sizes (:data:`SIZE_ENV` is ``small``)."""
    value = os.environ.get(SIZE_ENV, "full").strip().lower() or "full"
    if value not in _SIZES:
        raise ValueError(f"{SIZE_ENV}={value!r}: use one of {', '.join(_SIZES)}")
    return value == "small"


def example_parser(doc: str | None, name: str, *, network: str | None = None, models: bool = False,
                   backends: bool = False, runs: bool = True, trials: int = 100,
                   **options: tuple) -> argparse.ArgumentParser:
    """The command line of the example script ``name``, described by its docstring ``doc``.

    Parameters
    ----------
    doc : str or None
        The script's docstring: its first line describes the command.
    name : str
        Default output folder ``runs/<name>``.
    network : str, optional
        Add ``--network`` with this default (a shipped network's name, or a path).
    models : bool
        Add ``--models DIR``, the folder the script finds its networks in (default: the shipped networks).
    backends : bool
        Add ``--backends`` (default: torch and brian2).
    runs : bool
        Add ``--trials`` and ``--target`` (scripts that run protocols); ``--seed``, ``--out`` and ``--force``
        are always there.
    trials : int
        Default of ``--trials``.
    **options : (default, small, help)
        The script's own integer options: ``quiescent=(1000, 30, "steps of quiescence")`` adds
        ``--quiescent`` with default 1000, or 30 at the small size.
    """
    from neurorx.zoo import models_dir

    lines = (doc or "").strip().splitlines()     # a gallery runs the script without its docstring
    p = argparse.ArgumentParser(description=lines[0] if lines else name)
    p.small_defaults = dict(SMALL)
    if network is not None:
        p.add_argument("--network", default=network, help="a shipped network's name or a network file")
    if models:
        p.add_argument("--models", default=str(models_dir()), help="folder with the networks (default: shipped)")
    if backends:
        p.add_argument("--backends", nargs="+", default=["torch", "brian2"])
    if runs:
        p.add_argument("--trials", type=int, default=trials, help="trials run in parallel")
        p.add_argument("--target", default="auto", help="Brian2 code-generation target: auto, cython or numpy")
    p.add_argument("--seed", type=int, default=0, help="seeds every random draw")
    p.add_argument("--out", default=f"runs/{name}", help="output folder (created if missing)")
    p.add_argument("--force", action="store_true", help="overwrite existing results")
    for key, (default, small_value, text) in options.items():
        p.add_argument(f"--{key.replace('_', '-')}", type=type(default), default=default, help=text)
        p.small_defaults[key] = small_value
    return p


def parse_example_args(parser: argparse.ArgumentParser, argv=None) -> argparse.Namespace:
    """Parse the command line; at the small size (:func:`small`) the defaults are the small ones."""
    if small():
        defaults: dict[str, Any] = dict(getattr(parser, "small_defaults", SMALL))
        defaults["out"] = tempfile.mkdtemp(prefix="neurorx-example-")
        known = {a.dest for a in parser._actions}
        parser.set_defaults(**{k: v for k, v in defaults.items() if k in known})
    return parser.parse_args(argv)


def output_folder(args: argparse.Namespace) -> Path:
    """Create ``args.out`` and write the arguments and the versions into its ``config.json``."""
    from neurorx.io import atomic_write_bytes
    from neurorx.provenance import provenance

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "config.json", json.dumps(
        {"args": vars(args), "versions": provenance(getattr(args, "seed", None))}, indent=2).encode(), overwrite=True)
    return out


def load_example_network(args: argparse.Namespace, name: str):
    """The network ``name`` (a path relative to ``args.models``, or a shipped network's name)."""
    import neurorx as nrx

    root = getattr(args, "models", None)
    path = Path(root) / name if root is not None else Path(name)
    if path.exists():
        return nrx.load(path)
    try:
        return nrx.load(name.removesuffix(".npz"))
    except FileNotFoundError:
        raise SystemExit(f"{path} is not there; train it with `neurorx train {name.removesuffix('.npz')}`") from None


def run_backends(protocol, net, args: argparse.Namespace, **kwargs) -> dict:
    """Run ``protocol`` on every backend of ``args.backends`` (``{backend: Recording}``)."""
    return protocol.run_each(net, args.backends, options={"brian2": {"target": args.target}}, trials=args.trials,
                             seed=args.seed, progress=True, **kwargs)
