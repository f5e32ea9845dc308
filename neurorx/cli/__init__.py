"""The ``neurorx`` command line: ``neurorx <command> [options]``.

Each command lives in its own module of this package and registers itself with :func:`command`. Adding one
is a two-line change: write ``neurorx/cli/<name>.py`` with a decorated function, and add ``"<name>"`` to
:data:`COMMAND_MODULES`::

    # neurorx/cli/demo.py
    from neurorx.cli import command

    @command("demo", help="run the main job on the shipped default network")
    def demo(parser):                 # called once to declare the arguments ...
        parser.add_argument("--out", required=True)
        return run                    # ... and returns the function that runs the command

    def run(args) -> int:             # gets the parsed arguments; returns the exit status
        ...
        return 0

Modules are imported only to build the parser; keep heavy imports (torch, brian2) inside the run function so
that ``neurorx --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass

from neurorx.registry import Registry

__all__ = ["COMMANDS", "COMMAND_MODULES", "Command", "build_parser", "command", "main"]

#: Modules of ``neurorx.cli`` that define commands, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = ("train", "run", "compare", "demo", "ei")


@dataclass(frozen=True)
class Command:
    """A registered command: ``configure(parser) -> run`` declares arguments and returns ``run(args) -> int``."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], Callable[[argparse.Namespace], int]]
    description: str | None = None


#: Registered commands by name.
COMMANDS: Registry[Command] = Registry("command")


def command(name: str, help: str, description: str | None = None):
    """Decorator registering ``configure(parser) -> run`` as the command ``name``."""

    def deco(configure):
        COMMANDS.add(name, Command(name, help, configure, description or configure.__doc__))
        return configure

    return deco


def _load_commands() -> None:
    for module in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{module}")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per registered command."""
    _load_commands()
    parser = argparse.ArgumentParser(
        prog="neurorx",
        description="Noisy path-integrating rate RNNs: train in torch, run in Brian2, analyse reactivation.",
    )
    from neurorx._version import __version__

    parser.add_argument("--version", action="version", version=f"neurorx {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        cmd = COMMANDS.get(name)
        p = sub.add_parser(name, help=cmd.help, description=cmd.description or cmd.help,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.set_defaults(_run=cmd.configure(p))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``neurorx`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_run", None) is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
