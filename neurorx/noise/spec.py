"""Noise models from names and dicts (cards, network files, phase arguments)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from neurorx.noise.base import NOISE_MODELS, NoiseModel
from neurorx.noise.none import NoNoise

__all__ = ["make_noise", "noise_from_dict"]


def noise_from_dict(d: dict[str, Any], *, trusted: bool = False) -> NoiseModel:
    """Build a noise model from a dict ``{"name": ..., **params}`` (e.g. :meth:`NoiseModel.to_dict` output).

    ``trusted=True`` for dicts neurorx wrote itself (a network file, a config whose times it parsed): their
    plain-number times are seconds already, so they are read with :meth:`NoiseModel.from_seconds` (no guard
    against bare times of a second or more). Models that hold arrays (``storable = False``, e.g.
    :class:`~neurorx.noise.FrozenNoise`) cannot be built from a dict.
    """
    d = dict(d)
    name = d.pop("name", None)
    if name is None:
        raise ValueError(f"a noise dict needs a 'name', one of {NOISE_MODELS.names()}; got {d!r}")
    cls = NOISE_MODELS.get(name)
    if not cls.storable:
        raise ValueError(f"{cls.__name__} holds arrays and is not stored in network files; pass it to a phase")
    allowed = {f.name for f in fields(cls)}
    unknown = set(d) - allowed
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)} for noise model {name!r}; allowed: {sorted(allowed)}")
    return cls.from_seconds(**d) if trusted else cls(**d)


def _refuse_bare_name(name: str) -> None:
    """Raise unless the model ``name`` is meaningful without parameters (only ``"none"`` is)."""
    cls = NOISE_MODELS.get(name)
    try:
        default = cls()
    except TypeError:
        default = None
    if default is None or not cls.storable:   # a model holding arrays is its arrays
        problem = "incomplete"
    elif default.is_zero and not isinstance(default, NoNoise):
        problem = "silent (zero amplitude)"
    else:
        return
    fields_ = [f.name for f in fields(cls) if f.name != "placement"]
    raise ValueError(
        f"noise {name!r} needs its parameters ({', '.join(fields_)}); a bare name would be {problem}. Pass a "
        f"model, e.g. {cls.__name__}(...), or a dict {{'name': {name!r}, ...}} with them; 'none' means no noise"
    )


def make_noise(spec) -> NoiseModel:
    """Return a noise model from a model, a registry name, or a dict ``{"name": ..., **params}``."""
    if isinstance(spec, NoiseModel):
        return spec
    if spec is None:
        return NoNoise()
    if isinstance(spec, str):
        spec = {"name": spec}
    if isinstance(spec, dict):
        if spec.get("name") is not None and set(spec) <= {"name", "placement"}:
            _refuse_bare_name(spec["name"])
        return noise_from_dict(spec)
    raise TypeError(f"cannot make a noise model from {spec!r}; pass a NoiseModel, a name or a dict")
