"""The neurorx error hierarchy: every error a user can cause is a :class:`NeurorxError`.

The command line prints a :class:`NeurorxError` as one line (what went wrong, and the fix) and exits with
code 2; any other exception is a bug and keeps its traceback (exit code 1). Each family also derives from the
built-in exception a caller would expect (``ValueError`` for bad values, ``OSError`` for files, ...), so
``except ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = [
    "ArgumentTypeError",
    "ConfigurationError",
    "DirectoryGivenError",
    "FileFormatError",
    "InterruptedRun",
    "NeurorxError",
    "OutputPathError",
    "ResourceError",
    "SimulationError",
    "StateRangeWarning",
]


class NeurorxError(Exception):
    """Base class: an error caused by the user's input or environment, with a message that names the fix."""


class ConfigurationError(NeurorxError, ValueError):
    """An invalid setting: unknown key, value of the wrong type or range, inconsistent options."""


class ArgumentTypeError(ConfigurationError, TypeError):
    """A value of the wrong type (a float or a string where an integer is expected, ...)."""


class FileFormatError(NeurorxError, ValueError):
    """A file neurorx cannot read: wrong format, truncated, corrupt, or inconsistent contents."""


class OutputPathError(NeurorxError, OSError):
    """An output path that cannot be written (missing parent, a file where a directory is needed, ...)."""


class DirectoryGivenError(OutputPathError, IsADirectoryError):
    """A directory given where a file is to be written."""


class SimulationError(NeurorxError, RuntimeError):
    """A simulation or training run that diverged (NaN/inf) or could not run; names the phase and time."""


class ResourceError(NeurorxError, MemoryError):
    """A request too large for this machine (memory, time); names the estimate and how to lower it."""


class InterruptedRun(NeurorxError, KeyboardInterrupt):
    """A run stopped by SIGINT/SIGTERM after saving what it had; names the command that resumes it."""


class StateRangeWarning(UserWarning):
    """States left the range a rate network can sensibly reach (exploding, but still finite)."""
