"""The torch device a training runs on: ``trainer.device`` of a model card.

``"auto"`` is CUDA when torch sees a GPU and the CPU otherwise; ``"cpu"``, ``"cuda"`` and ``"cuda:N"`` name one.
Batches and their noise are drawn on the CPU from the same seeded streams on every device and then moved to
the training device, so a run's data do not depend on where it trains (its weights agree up to rounding).
"""

from __future__ import annotations

import re

import torch

from neurorx.errors import ConfigurationError

__all__ = ["DEVICES", "check_device_name", "resolve_device"]

#: The accepted forms of ``trainer.device``.
DEVICES = ("auto", "cpu", "cuda", "cuda:N")

_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def check_device_name(name: str, key: str = "trainer.device") -> None:
    """Refuse a ``trainer.device`` value that is not one of :data:`DEVICES` (the GPU is not looked for)."""
    if not isinstance(name, str) or not _PATTERN.match(name):
        raise ConfigurationError(f"{key} must be one of {', '.join(DEVICES)}; got {name!r}")


def resolve_device(name: str = "auto", key: str = "trainer.device") -> torch.device:
    """The :class:`torch.device` that ``name`` stands for on this machine.

    Parameters
    ----------
    name : str
        ``"auto"`` (CUDA if ``torch.cuda.is_available()``, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    key : str
        The setting's name, for the error message.

    Raises
    ------
    ConfigurationError
        ``name`` is not a device, or asks for a GPU this torch build or machine does not have.
    """
    check_device_name(name, key)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            build = "has no CUDA support" if torch.version.cuda is None else "sees no GPU"
            raise ConfigurationError(f"{key} = {name!r}, but this torch ({torch.__version__}) {build}; set "
                                     f"{key}=cpu or {key}=auto (CUDA when available, else CPU)")
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise ConfigurationError(f"{key} = {name!r}, but torch sees {count} GPU(s) (cuda:0 to cuda:{count - 1});"
                                     f" choose one of them or {key}=auto")
    return device
