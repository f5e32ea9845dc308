"""Sweep specifications: the YAML file that names a grid of jobs, read into validated dataclasses.

A spec has four sections (see ``docs/sweeps.md`` for the full reference)::

    name: tiny
    retries: 2                        # attempts after the first, per job
    train:                            # cards x overrides x seeds
      seeds: [0, 1]
      overrides: [rnn.n_rec=16, trainer.n_epochs=3]       # for every condition
      conditions:
        Us: {card: spatial_navigation/noisy_unbiased}
        U:  {card: spatial_navigation/no-noise_unbiased, overrides: [trainer.lr=2e-3]}
    runs:                             # networks x protocols x backends x seeds
      reactivation:
        protocol:
          - {phase: active, steps: 100}
          - {phase: quiescent, steps: 1000, start: reset}
        backends: [torch, brian2]
        trials: 200
        seeds: [0]
    statistics:                       # what to collect (one variable of the result Dataset each)
      total_variance: {of: reactivation, phases: [quiescent], burn_in: 0.5}
      kl: {statistic: kl_matrix, of: reactivation}

A statistic is an entry of :data:`neurorx.analysis.STATISTICS`, named by its key, with that entry's
parameters; ``burn_in`` is the fraction of the phase dropped, as everywhere in neurorx. A whole number of
steps (``burn_in: 500``, the syntax of earlier versions) is translated into the fraction that drops exactly
those steps of the phase, or refused when the phases it is computed on differ in length.

Everything is checked by :func:`load_spec` before any job starts: unknown keys (with suggestions), unknown
cards, overrides and statistics, impossible values (a negative seed, zero trials, a burn-in that leaves
fewer than two steps), a statistic that does not fit the task its conditions train (a planar KL matrix of
head direction). Errors are :class:`neurorx.errors.ConfigurationError` naming the key.

The spec's sections are dataclasses in :mod:`neurorx.sweep.spec_sections`, read by
:mod:`neurorx.sweep.spec_parse` and checked across sections by :mod:`neurorx.sweep.spec_checks`; this module
holds :func:`load_spec`, which runs the three, and gathers their public names.
"""

from __future__ import annotations

import copy
from pathlib import Path

from neurorx.sweep.kinds import phase_classes
from neurorx.sweep.spec_checks import PARAMETER_CHECKS, _validate
from neurorx.sweep.spec_parse import _parse, _read_yaml, _translate_burn_in
from neurorx.sweep.spec_sections import (
    TRAIN_DEFAULTS,
    Condition,
    RunSpec,
    SpecError,
    StatisticSpec,
    SweepSpec,
    TrainSpec,
    default_out,
    resolve_training,
)

__all__ = ["PARAMETER_CHECKS", "TRAIN_DEFAULTS", "Condition", "RunSpec", "SpecError", "StatisticSpec", "SweepSpec",
           "TrainSpec", "default_out", "load_spec", "phase_classes", "resolve_training"]


def load_spec(spec, *, check_cards: bool = True) -> SweepSpec:
    """Read and validate a sweep spec.

    Parameters
    ----------
    spec : str, Path, dict or SweepSpec
        A YAML file (read with OmegaConf, so ``${...}`` interpolations resolve) or its contents as a dict.
    check_cards : bool
        Resolve every card and override now (the default), so that a typo fails before any job starts.

    Raises
    ------
    ConfigurationError
        Naming the first problem: an unknown key (with suggestions), an unknown card, override, backend,
        phase or statistic, or an impossible value.
    FileNotFoundError
        If ``spec`` is a path that does not exist.
    """
    if isinstance(spec, SweepSpec):
        return spec
    source = None
    if isinstance(spec, str | Path):
        path = Path(spec)
        if not path.is_file():
            raise FileNotFoundError(f"no sweep spec {str(spec)!r}; give a YAML file, e.g. "
                                    "protocols/sweeps/paper_five_seeds.yaml")
        source = str(path)
        data = _read_yaml(path)
    elif isinstance(spec, dict):
        data = copy.deepcopy(spec)
    else:
        raise TypeError(f"a sweep spec is a YAML path or a dict; got {type(spec).__name__}")
    try:
        parsed = _parse(data, source)
        parsed = _translate_burn_in(parsed)
        _validate(parsed, check_cards=check_cards)
    except SpecError as err:
        if source:
            raise SpecError(f"{source}: {err}") from None
        raise
    return parsed
