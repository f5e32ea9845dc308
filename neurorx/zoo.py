"""The model zoo: model cards (``<task>/<name>.yml``) and shipped networks (``<task>/<name>.npz``).

They live in the top-level ``models/`` folder of a source checkout; an installed package (``pip install .``)
carries the same files as package data, ``neurorx/_models`` (see ``setup.py``). :func:`models_dir` finds
whichever is there, so cards and networks are reachable by name (``"spatial_navigation/noisy_unbiased"``)
from any working directory.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from neurorx.registry import suggest

__all__ = ["CARD_SUFFIXES", "find_card", "find_network", "list_cards", "list_networks", "models_dir"]

CARD_SUFFIXES = (".yml", ".yaml")


def package_data_dir(installed: str, checkout: str) -> Path:
    """A folder of package data: ``neurorx/<installed>`` when installed, else ``<checkout>/`` of a source checkout."""
    folder = Path(str(resources.files("neurorx").joinpath(installed)))
    if folder.is_dir():
        return folder
    return Path(__file__).resolve().parents[1] / checkout   # a source checkout (or an editable install)


def models_dir() -> Path:
    """The folder holding the cards and shipped networks: the installed package data, else ``models/``."""
    return package_data_dir("_models", "models")


def _names(root: Path | None, suffixes) -> list[str]:
    root = Path(root) if root else models_dir()
    if not root.is_dir():
        return []
    return sorted({p.relative_to(root).with_suffix("").as_posix() for s in suffixes for p in root.rglob(f"*{s}")})


def list_cards(root: str | Path | None = None) -> list[str]:
    """Names (``"<task>/<name>"``) of every card under ``root`` (default :func:`models_dir`)."""
    return _names(root, CARD_SUFFIXES)


def list_networks(root: str | Path | None = None) -> list[str]:
    """Names (``"<task>/<name>"``) of every shipped network (``.npz``) under ``root`` (default :func:`models_dir`)."""
    return _names(root, (".npz",))


def _find(path_or_name, suffixes, what: str, names) -> Path:
    p = Path(path_or_name)
    if p.exists():   # an existing path is used as given (a folder then fails with the reader's message)
        return p
    candidates = [p] + [p.with_name(p.name + s) for s in suffixes if p.suffix != s]
    root = models_dir()
    candidates += [root / c for c in candidates if not c.is_absolute()]
    for c in candidates:
        if c.is_file():
            return c
    raise FileNotFoundError(f"no {what} {str(path_or_name)!r} (looked for a file and under {root})."
                            + suggest(str(path_or_name), names)
                            + (f" Available: {', '.join(names)}." if names else ""))


def find_card(path_or_name: str | Path) -> Path:
    """Resolve a card path (``models/x/y.yml``) or name (``spatial_navigation/noisy_unbiased``) to a file.

    Raises
    ------
    FileNotFoundError
        Listing close matches among the shipped cards.
    """
    return _find(path_or_name, CARD_SUFFIXES, "model card", list_cards())


def find_network(path_or_name: str | Path) -> Path:
    """Resolve a network file, or the name of a shipped network (``spatial_navigation/noisy_unbiased``).

    Raises
    ------
    FileNotFoundError
        Listing close matches among the shipped networks.
    """
    return _find(path_or_name, (".npz",), "network file", list_networks())
