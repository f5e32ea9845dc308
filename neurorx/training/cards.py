"""Model cards on disk and ``key=value`` overrides: the two ways a :class:`~neurorx.training.Config` is made.

>>> cfg = apply_overrides(load_card("spatial_navigation/noisy_unbiased"), ["rnn.n_rec=64", "seed=1"])
"""

from __future__ import annotations

import copy
from dataclasses import fields
from pathlib import Path

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from neurorx.errors import ConfigurationError
from neurorx.noise import NOISE_MODELS, PLACEMENTS
from neurorx.registry import suggest
from neurorx.training.config import Config
from neurorx.yamlfile import parse_yaml_value, read_yaml
from neurorx.zoo import find_card

__all__ = ["apply_overrides", "load_card"]


def apply_overrides(cfg: Config, overrides) -> Config:
    """Return a copy of ``cfg`` with dotted ``key=value`` overrides applied (left to right), validated.

    Parameters
    ----------
    cfg : Config
    overrides : iterable of str, or dict
        E.g. ``["trainer.n_epochs=300", "rnn.n_rec=64", "seed=1", "task.biased=true",
        "noise.recurrent.scale=0.02", "noise.recurrent=null"]``. Values are read as YAML by OmegaConf's
        dot-list parser (``{name: white, sigma: 0.1}`` is a mapping, ``null`` removes a noise entry).

    Raises
    ------
    ConfigurationError
        For a malformed item, an unknown key (with close matches suggested) or a value of the wrong type.
    """
    items = list(overrides.items()) if isinstance(overrides, dict) else [_split(o) for o in overrides]
    data = cfg.to_dict()
    for key, value in items:
        key = key.strip()
        parts = key.split(".")
        if not _settable(cfg, key, parts):
            # the keys an override may set follow task.name, rnn.cell and the noise: rebuild after such changes
            cfg = Config.from_dict(data, validate=False)
            if not _settable(cfg, key, parts):
                raise ConfigurationError(f"unknown key '{key}'." + suggest(key, cfg.valid_keys())
                                         + " Run `neurorx train CARD --show` to see every key.")
        if isinstance(value, str):
            value = parse_yaml_value(value, f"override {key}={value}")
        if key == "task.name" and value != data["task"].get("name"):
            data["task"] = {"name": value}           # another task: its own parameters
        elif parts[0] == "noise" and len(parts) == 3:
            spec = data["noise"].setdefault(parts[1], {"name": "none"})
            if parts[2] == "name" and value != spec.get("name") and value in NOISE_MODELS:
                keep = {f.name for f in fields(NOISE_MODELS.get(value))}   # another model: drop the old one's keys
                spec = data["noise"][parts[1]] = {k: v for k, v in spec.items() if k in keep}
            spec[parts[2]] = value
        else:
            node = OmegaConf.create(data)
            OmegaConf.update(node, key, value, merge=False)
            data = OmegaConf.to_container(node)
    cfg = Config.from_dict(data, validate=False)   # one typed build for all the overrides
    cfg.validate()
    return cfg


def _settable(cfg: Config, key: str, parts: list[str]) -> bool:
    return key in cfg.valid_keys() or (len(parts) == 3 and parts[0] == "noise" and parts[1] in PLACEMENTS)


def _split(item: str) -> tuple[str, str]:
    if not isinstance(item, str) or "=" not in item:
        raise ConfigurationError(f"override {item!r} must have the form key=value, e.g. trainer.n_epochs=300")
    key, value = item.split("=", 1)
    if not key.strip():
        raise ConfigurationError(f"override {item!r} has no key")
    return key, value


#: Cards read in this process: (path, mtime, size) -> Config (a sweep's conditions and seeds read each card often).
_CARDS: dict[tuple, Config] = {}


def load_card(path_or_name) -> Config:
    """Read a model card (a path or a name under ``models/``) into a validated :class:`Config`.

    A card read before in this process, unchanged on disk (same modification time and size), is not parsed again;
    each call returns its own copy.
    """
    path = find_card(path_or_name)
    try:
        st = Path(path).stat()
        key = (str(Path(path).resolve()), st.st_mtime_ns, st.st_size)
    except OSError:
        key = None
    if key in _CARDS:
        return copy.deepcopy(_CARDS[key])
    cfg = _read_card(path)
    if key is not None:
        _CARDS[key] = copy.deepcopy(cfg)
    return cfg


def _read_card(path) -> Config:
    data = read_yaml(path, "model card", resolve=False)    # Config.from_dict resolves and names a bad key
    if not data:
        raise ConfigurationError(f"{path} is an empty card; a card needs at least a task (e.g. copy "
                                 f"models/spatial_navigation/noisy_unbiased.yml and edit it)")
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path}: a model card is a mapping of sections (task, rnn, noise, trainer); "
                                 f"got {type(data).__name__} {data!r:.40}")
    try:
        return Config.from_dict(data)
    except ConfigurationError as err:
        raise ConfigurationError(f"{path}: {err}") from None
    except OmegaConfBaseException as err:   # YAML syntax
        raise ConfigurationError(f"{path} is not a valid card: {err}") from None
