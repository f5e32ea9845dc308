"""Checking a whole store: every job of a spec sound, damaged (named, with why) or not done.

``neurorx sweep SPEC --verify`` runs :func:`verify`: it reads every finished job's completion record and
checks each output it lists against its recorded size and sha256 content hash. A record written before
records held hashes (its files counted by their existence) gets their hashes now, so that later checks see
any change to them. A damaged job is marked as such in its folder (``damaged.json``); nothing is recomputed or
deleted: the next run of the sweep recomputes the damaged jobs and the jobs that read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from neurorx.sweep.grid import expand
from neurorx.sweep.spec import default_out, load_spec
from neurorx.sweep.store import NOT_DONE, Store

__all__ = ["VerifyReport", "verify"]


@dataclass
class VerifyReport:
    """What :func:`verify` found.

    Attributes
    ----------
    sound : list of str
        Finished jobs whose outputs match their record.
    damaged : dict of str -> str
        Finished jobs to recompute, with why (``"result.npz damaged"``, ``"reads the damaged job ..."``).
    not_done : list of str
        Jobs without a completion record.
    hashed : list of str
        Sound jobs whose records had no hashes and got them now.
    """

    sound: list[str] = field(default_factory=list)
    damaged: dict[str, str] = field(default_factory=dict)
    not_done: list[str] = field(default_factory=list)
    hashed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No job is damaged."""
        return not self.damaged

    def summary(self) -> str:
        """One line of counts, then one line per damaged job."""
        lines = [f"{len(self.sound)} job(s) sound, {len(self.damaged)} damaged, {len(self.not_done)} not done"
                 + (f"; hashes added to {len(self.hashed)} older record(s)" if self.hashed else "")]
        lines += [f"  job {i}: {why}" for i, why in self.damaged.items()]
        if self.damaged:
            lines.append("the next run of the sweep recomputes the damaged jobs and the jobs that read them")
        return "\n".join(lines)


def verify(spec, out=None) -> VerifyReport:
    """Check every job of ``spec`` in its store (sizes and sha256 hashes of every output).

    Parameters
    ----------
    spec : str, Path, dict or SweepSpec
    out : path, optional
        The sweep's output folder (default: the spec's, as :func:`neurorx.sweep.sweep`).

    Raises
    ------
    OutputPathError
        If the store's ``store.json`` is unreadable or names an unknown id scheme.
    """
    spec = load_spec(spec)
    store = Store(out if out is not None else default_out(spec))
    store.scheme()                                    # refuses an unreadable store record in one line
    report = VerifyReport()
    for job in expand(spec):                          # a job after the jobs it reads
        why = store.problem(job.id, verify=True)
        bad = next((i for i in job.inputs if i in report.damaged), None)
        if why == NOT_DONE:
            report.not_done.append(job.id)
        elif why is not None:
            report.damaged[job.id] = why
            store.mark_damaged(job.id, why)
        elif bad is not None:
            report.damaged[job.id] = f"reads the damaged job {bad}"
        else:
            report.sound.append(job.id)
            if store.add_digests(job.id):
                report.hashed.append(job.id)
    return report
