"""Optional dependencies: import them where they are used, or say in one line how to install them.

The neuro-data packages (pynwb, pynapple, nwbinspector, ratinabox) are the optional extra ``neurorx[data]``;
the core of neurorx never imports them. :func:`require` imports one on demand and, when it is missing, raises
:class:`MissingExtraError` (a :class:`~neurorx.errors.NeurorxError` and an ``ImportError``), which the
command line prints as one line naming ``pip install 'neurorx[data]'``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from neurorx.errors import NeurorxError

__all__ = ["DATA_EXTRA", "MissingExtraError", "require"]

#: The packages of the ``data`` extra (import name -> distribution name on PyPI).
DATA_EXTRA = {"pynwb": "pynwb", "pynapple": "pynapple", "nwbinspector": "nwbinspector", "ratinabox": "ratinabox"}


class MissingExtraError(NeurorxError, ImportError):
    """An optional package that a feature needs is not installed; the message names the install command."""


def require(module: str, purpose: str, extra: str = "data") -> ModuleType:
    """Import ``module`` (e.g. ``"pynwb"``) or raise :class:`MissingExtraError`.

    Parameters
    ----------
    module : str
        Import name; a dotted name imports a submodule.
    purpose : str
        What needs it, for the message (e.g. ``"writing NWB files"``).
    extra : str
        The neurorx extra that installs it.
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        top = module.split(".")[0]
        raise MissingExtraError(
            f"{purpose} needs the optional package {DATA_EXTRA.get(top, top)!r}, which is not installed "
            f"({err}); install neurorx's {extra} extra: pip install 'neurorx[{extra}]'") from None
