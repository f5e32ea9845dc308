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
COMMAND_MODULES: tuple[str, ...] = ("train", "run", "compare", "demo", "sweep", "ei", "nwb", "examples")


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


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl+C so that runs stop the same way (exit code 143 instead of 130)."""


def _install_signal_handlers() -> dict:
    """SIGINT and SIGTERM raise in the main thread, in the foreground and in the background.

    A job started in the background by a non-interactive shell has SIGINT ignored, and Brian2 wraps the
    handler at import: both would make Ctrl+C / ``kill -INT`` crash or do nothing. Training and runs catch the
    interruption, keep their last checkpoint and name the command that resumes them. Returns the previous
    handlers (restored when the command returns).
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return {}

    def on_sigint(signum, frame):
        raise KeyboardInterrupt

    def on_sigterm(signum, frame):
        raise Terminated

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, on_sigint)
    signal.signal(signal.SIGTERM, on_sigterm)
    return previous


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``neurorx`` console script; returns the exit status.

    Exit codes: 0 success; 2 a usage or input error (printed as one line: what went wrong and the fix);
    130 interrupted (SIGINT), 143 terminated (SIGTERM); 1 an unexpected error (a bug: the traceback is shown).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_run", None) is None:
        parser.print_help(sys.stderr)
        return 2
    previous = _install_signal_handlers()
    from neurorx.errors import NeurorxError

    try:
        return int(args._run(args) or 0)
    except Terminated:
        print("neurorx: terminated (SIGTERM)", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("neurorx: interrupted", file=sys.stderr)
        return 130
    except NeurorxError as err:
        print(f"neurorx {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return 2
    finally:
        import signal

        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _one_line(err: BaseException) -> str:
    """The error's message on one line."""
    return " ".join(str(err).split()) or type(err).__name__
