"""Noise models from a card's ``noise`` section.

Each entry maps a placement (``recurrent``, ``input``, ``output``) to ``{name: <registered model>, **fields}``.
Fields listed in :data:`FOLLOWS` follow another card value through OmegaConf interpolation unless given
(``dt_train`` follows ``rnn.dt``); string values are times (``"50 ms"``), parsed by
:func:`neurorx.units.parse_time`; a key ``k`` that is not a field of the model calls its ``from_k`` constructor
with ``rnn.dt`` (``{name: white, step_std: s}`` is :meth:`~neurorx.noise.WhiteNoise.from_step_std`).
"""

from __future__ import annotations

from dataclasses import fields

from brian2 import second
from omegaconf import OmegaConf

from neurorx.errors import ConfigurationError
from neurorx.noise import NOISE_MODELS, PLACEMENTS, NoiseModel, noise_from_dict
from neurorx.registry import suggest
from neurorx.units import parse_time

__all__ = ["FOLLOWS", "build_noise"]

#: Fields of a noise model that follow another card value unless the card gives them (OmegaConf interpolation).
FOLLOWS = {"dt_train": "${rnn.dt}"}


def build_noise(noise: dict, rnn: dict) -> dict[str, NoiseModel]:
    """The noise models of a card's ``noise`` section by placement (``rnn``: the card's ``rnn`` section).

    Raises
    ------
    ConfigurationError
        For an unknown placement, model or field (with close matches suggested) or a bad value.
    """
    node = OmegaConf.create({"rnn": rnn, "noise": {}})
    for placement, spec in noise.items():
        if placement not in PLACEMENTS:
            raise ConfigurationError(f"unknown key 'noise.{placement}': noise placements are {PLACEMENTS}."
                                     + suggest(str(placement), PLACEMENTS))
        spec = {"name": "none"} if spec in (None, "none") else spec
        if not isinstance(spec, dict) or "name" not in spec:
            raise ConfigurationError(f"noise.{placement} must be a mapping with a 'name' (e.g. "
                                     f"{{name: reference_uniform, scale: 0.01}}); got {spec!r}")
        if spec.get("placement", placement) != placement:
            raise ConfigurationError(f"noise.{placement}.placement is {spec['placement']!r}; it must be "
                                     f"{placement!r}")
        names = {f.name for f in fields(_noise_class(spec["name"], placement))}
        node.noise[placement] = {**{k: v for k, v in FOLLOWS.items() if k in names}, **spec}
    resolved = OmegaConf.to_container(node, resolve=True)["noise"]
    dt = parse_time(rnn["dt"], "rnn.dt")
    return {placement: _build(placement, spec, dt) for placement, spec in resolved.items()}


def _noise_class(name, placement: str):
    try:
        return NOISE_MODELS.get(name)
    except ValueError as err:
        raise ConfigurationError(f"noise.{placement}: {err}") from None


def _build(placement: str, spec: dict, dt: float) -> NoiseModel:
    """One noise model from its resolved entry: times parsed, ``from_<key>`` constructors applied."""
    cls, spec = _noise_class(spec["name"], placement), {**spec, "placement": placement}
    names = ["name", *(f.name for f in fields(cls))]
    ctors = [k for k in spec if k not in names and hasattr(cls, f"from_{k}")]
    for k in spec:
        if k not in names and k not in ctors:
            allowed = names + [m[5:] for m in dir(cls) if m.startswith("from_") and m != "from_dict"]
            raise ConfigurationError(
                f"unknown key 'noise.{placement}.{k}' for {spec['name']} noise."
                + suggest(f"noise.{placement}.{k}", [f"noise.{placement}.{a}" for a in allowed])
                + " Valid keys: " + ", ".join(a for a in allowed if a != "placement") + ". To change the noise "
                f"model give the whole entry, e.g. noise.{placement}='{{name: white, step_std: 0.01}}'.")
    others = sorted(set(spec) - {"name", "placement", *ctors[:1]})
    if ctors and others:
        raise ConfigurationError(f"noise.{placement}: give {ctors[0]} alone (it sets the model's parameters at "
                                 f"rnn.dt), not together with {others}")
    try:
        if ctors:
            return getattr(cls, f"from_{ctors[0]}")(spec[ctors[0]], dt, placement=placement)
        times = {k: parse_time(v, f"noise.{placement}.{k}") * second for k, v in spec.items()
                 if isinstance(v, str) and k not in ("name", "placement")}
        return noise_from_dict({**spec, **times})
    except ConfigurationError:
        raise
    except (ValueError, TypeError) as err:
        raise ConfigurationError(f"noise.{placement}: {err}") from None
