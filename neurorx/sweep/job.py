r"""A sweep's unit of work, :class:`Job`, and the id that names its folder in the store.

Notes
-----
The id (scheme 2, :data:`ID_SCHEME`) is

.. math:: \mathrm{kind}\text{-}\mathrm{sha256}(\mathrm{json}(kind, identity, inputs, version, code, 2))[:20]

with ``identity`` what of the resolved configuration names the results
(:meth:`JobKind.identity_of`: the config itself, except that a training's card is taken without its ``label``
and ``description`` and with its cell's settings, and a statistic adds its version and, for a custom
statistic, the source text of its function), ``inputs`` the ids of the jobs it reads (themselves hashes of
their own identities and inputs), ``version`` the neurorx version and ``code`` the kind's
:attr:`JobKind.code_version`. JSON with sorted keys. Changing what a card trains, an override, a protocol, a
cell setting, the package version or a kind's code version gives new ids and nothing stale is reused;
rewording a card's label or description does not retrain.

Scheme 1 (neurorx before scheme 2) hashed ``(kind, config, inputs, version)`` with the whole card;
:func:`neurorx.sweep.migrate.migrate` (``neurorx sweep SPEC --migrate``) renames a scheme-1 store's folders.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from neurorx import _version
from neurorx.registry import Registry

__all__ = ["ID_SCHEME", "JOB_KINDS", "Job", "JobKind", "job_id", "job_kind", "make_job"]

#: The job-id scheme of this version (see the module notes; 1 is still computed, to migrate old stores).
ID_SCHEME = 2


@dataclass(frozen=True)
class JobKind:
    """A kind of job: the function that does it, and what of its config names its results.

    Attributes
    ----------
    fn : callable
        ``fn(config: dict, inputs: list[Path], out: Path, work: Path) -> None`` writes the job's files into
        ``out``.
    code_version : int
        Bumped when the kind's results change within one neurorx version, so that a store does not reuse
        results the code would no longer make (it is part of every job id of the kind).
    identity : callable, optional
        ``identity(config) -> dict``: what of ``config`` (and of the code it runs) determines the results, when
        that is not the config itself (e.g. a training's card without its prose, plus the cell's settings).
    outputs : tuple of str
        The files a finished job of this kind holds (besides its records).
    """

    fn: Callable
    code_version: int = 1
    identity: Callable[[dict], dict] | None = None
    outputs: tuple[str, ...] = ()

    def identity_of(self, config: dict) -> dict:
        """The JSON-able part of ``config`` (and the code) that names the job's results."""
        return {"config": config} if self.identity is None else self.identity(config)


#: Job kinds: name -> :class:`JobKind` (a plain ``fn`` registered here counts as ``JobKind(fn)``); the
#: built-in ones are registered by :mod:`neurorx.sweep.kinds`.
JOB_KINDS: Registry[JobKind] = Registry("job kind")


def job_kind(name: str) -> JobKind:
    """The registered :class:`JobKind` called ``name``."""
    entry = JOB_KINDS.get(name)
    return entry if isinstance(entry, JobKind) else JobKind(entry)


def job_id(kind: str, config: dict, inputs=(), *, scheme: int = ID_SCHEME) -> str:
    """The content hash naming a job's folder (see the module notes); ``scheme`` 1 or 2."""
    if scheme == 1:
        named = {"kind": kind, "config": config, "inputs": list(inputs), "neurorx": _version.__version__}
    elif scheme == 2:
        entry = job_kind(kind)
        named = {"kind": kind, **entry.identity_of(config), "inputs": list(inputs), "neurorx": _version.__version__,
                 "code": entry.code_version, "scheme": 2}
    else:
        raise ValueError(f"unknown job-id scheme {scheme!r}; the schemes are 1 and 2")
    blob = json.dumps(named, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return f"{kind}-{hashlib.sha256(blob.encode()).hexdigest()[:20]}"


@dataclass(frozen=True)
class Job:
    """One unit of work of a sweep.

    Attributes
    ----------
    kind : str
        A name in :data:`JOB_KINDS`.
    config : dict
        The resolved, JSON-serialisable configuration the job function gets.
    inputs : tuple of str
        Ids of the jobs whose outputs it reads.
    labels : dict
        Where its results go (condition, seed, backend, run, run_seed, statistic); not part of its identity.
    id : str
        ``<kind>-<hash>`` of kind, config, input ids and the neurorx version (:func:`job_id`).
    """

    kind: str
    config: dict
    inputs: tuple[str, ...]
    labels: dict
    id: str

    def to_dict(self) -> dict:
        """JSON-able form (what a worker receives)."""
        return {"kind": self.kind, "config": self.config, "inputs": list(self.inputs), "labels": self.labels,
                "id": self.id}

    @classmethod
    def from_dict(cls, d: dict) -> Job:
        """Inverse of :meth:`to_dict`."""
        return cls(d["kind"], d["config"], tuple(d["inputs"]), d["labels"], d["id"])

    def describe(self) -> str:
        """One line: kind and labels."""
        lab = " ".join(f"{k}={v}" for k, v in self.labels.items())
        return f"{self.kind:<9} {lab}"


def make_job(kind: str, config: dict, inputs=(), labels=None, *, scheme: int | None = None) -> Job:
    """A :class:`Job` with its id computed from kind, config and inputs (:func:`job_id`)."""
    inputs = tuple(inputs)
    return Job(kind, config, inputs, dict(labels or {}), job_id(kind, config, inputs, scheme=scheme or ID_SCHEME))
