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

__all__ = ["COMMANDS", "COMMAND_MODULES", "Command", "build_parser", "classify", "command", "main"]

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


class _OneLineParser(argparse.ArgumentParser):
    """An argument parser whose refusals are one line (what is wrong, and where the options are listed).

    argparse's own ``error`` prints the whole usage first: a dozen lines for ``neurorx run``.
    """

    def error(self, message: str):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}; `{self.prog} --help` lists the options\n")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per registered command."""
    _load_commands()
    parser = _OneLineParser(
        prog="neurorx",
        description="Noisy path-integrating rate RNNs: train in torch, run in Brian2, analyse reactivation.",
    )
    from neurorx._version import __version__

    parser.add_argument("--version", action="version", version=f"neurorx {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="on an error, also show the traceback")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="more detail: on an error the traceback; for train, the full resolved configuration")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        cmd = COMMANDS.get(name)
        p = sub.add_parser(name, help=cmd.help, description=cmd.description or cmd.help, parents=[common],
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.set_defaults(_run=cmd.configure(p))
        for nested in _subparsers(p):
            nested.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                                help="on an error, also show the traceback")
    return parser


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The parsers of ``parser``'s subcommands, at every depth (``neurorx ei experiment``)."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                found += [child, *_subparsers(child)]
    return found


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
        _quiet_shutdown_noise()     # Dask's workers and scheduler log tracebacks while they shut down
        raise KeyboardInterrupt

    def on_sigterm(signum, frame):
        _quiet_shutdown_noise()
        raise Terminated

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, on_sigint)
    signal.signal(signal.SIGTERM, on_sigterm)
    return previous


#: Exit statuses of the command line.
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``neurorx`` console script; returns the exit status.

    Exit codes: 0 success; 2 a usage or input error (a :class:`~neurorx.errors.NeurorxError`, a missing,
    existing or unwritable path); 1 work that failed (a full disk, an unexpected error); 130 interrupted
    (SIGINT), 143 terminated (SIGTERM). Each failure prints one line (what went wrong, and the fix); ``-v``
    adds the traceback.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_run", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    verbose = bool(getattr(args, "verbose", False))
    previous = _install_signal_handlers()
    try:
        return int(args._run(args) or 0)
    except BaseException as err:   # every outcome is one line and an exit status
        if isinstance(err, SystemExit):
            raise
        code, line = classify(err)
        _quiet_shutdown_noise()
        if verbose and code not in (EXIT_INTERRUPTED, EXIT_TERMINATED):
            import traceback

            traceback.print_exception(err, file=sys.stderr)
        signalled = code in (EXIT_INTERRUPTED, EXIT_TERMINATED)
        print(f"neurorx: {line}" if signalled else f"neurorx {args.command}: {line}", file=sys.stderr)
        return code
    finally:
        import signal

        for sig, handler in previous.items():
            signal.signal(sig, handler)


def classify(err: BaseException) -> tuple[int, str]:
    """The exit status and the one line the command line prints for ``err``.

    A :class:`~neurorx.errors.NeurorxError` or a path the user gave (missing, existing, a folder, not
    writable) is bad input (2); SIGINT/SIGTERM are 130/143; a full disk, a memory error or anything else is
    failed work (1).
    """
    import errno

    from neurorx.errors import NeurorxError

    if isinstance(err, Terminated):
        return EXIT_TERMINATED, "terminated (SIGTERM)"
    if isinstance(err, KeyboardInterrupt):
        return EXIT_INTERRUPTED, "interrupted"
    if isinstance(err, NeurorxError):
        return EXIT_BAD_INPUT, f"error: {_one_line(err)}"
    user_path = (FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError, PermissionError)
    if isinstance(err, OSError):
        from neurorx.staging import os_error_message

        if err.filename is not None and err.strerror:
            writing = err.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT)
            line = os_error_message(err, err.filename, "write" if writing else "open")
        else:
            line = _one_line(err)
        bad_input = isinstance(err, user_path) or err.errno in (errno.EROFS, errno.EACCES, errno.EPERM)
        return (EXIT_BAD_INPUT if bad_input else EXIT_FAILED), f"error: {line}"
    if isinstance(err, MemoryError):
        return EXIT_FAILED, ("error: out of memory; ask for less (fewer trials, steps, units or jobs) or run on a "
                             "larger machine (-v shows where)")
    if isinstance(err, RecursionError | OverflowError | FloatingPointError):
        return EXIT_FAILED, f"error: numeric failure ({type(err).__name__}: {_one_line(err)}); -v shows where"
    return EXIT_FAILED, (f"internal error: {type(err).__name__}: {_one_line(err)} (a bug in neurorx; run again "
                         f"with -v for the traceback and report it)")


def _quiet_shutdown_noise() -> None:
    """Silence the loggers of libraries that print tracebacks while they shut down (Dask on Ctrl+C)."""
    import logging

    for name in ("distributed", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


def _one_line(err: BaseException) -> str:
    """The error's message on one line."""
    return " ".join(str(err).split()) or type(err).__name__
