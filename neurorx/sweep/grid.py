"""Expanding a sweep spec into its jobs: every training, run and statistic, each after the jobs it reads."""

from __future__ import annotations

from neurorx.sweep import kinds  # noqa: F401  (registers the job kinds whose ids are computed here)
from neurorx.sweep.job import Job, make_job
from neurorx.sweep.spec import SweepSpec, resolve_training

__all__ = ["expand"]


def expand(spec: SweepSpec, *, unique: bool = True, scheme: int | None = None) -> list[Job]:
    """All jobs of a :class:`~neurorx.sweep.spec.SweepSpec`, each after the jobs it reads (train, run, statistic).

    Parameters
    ----------
    spec : SweepSpec
    unique : bool, default True
        Identical jobs (same resolved config and inputs, hence the same id) appear once, with the labels of the
        first. ``False`` lists every grid cell with its own labels, so two cells served by one job both appear
        (what :func:`neurorx.sweep.gather.gather` needs to fill both).
    scheme : int, optional
        The job-id scheme (:data:`neurorx.sweep.job.ID_SCHEME` by default; an older one to find the folders
        of a store written before, see :func:`neurorx.sweep.migrate.migrate`). The list and its order are the
        same under every scheme.
    """
    jobs: dict[str, Job] = {}
    listed: list[Job] = []

    def add(job: Job) -> Job:
        jobs.setdefault(job.id, job)
        listed.append(job)
        return job

    trained = {}
    for cond in spec.train.conditions:
        for seed in spec.train.seeds:
            cfg = resolve_training(spec.train, cond, seed)
            trained[cond.name, seed] = add(make_job("train", {"config": cfg}, (),
                                                    {"condition": cond.name, "seed": seed}, scheme=scheme))
    ran = {}
    for run in spec.runs:
        conds = list(run.conditions) or spec.train.names
        for cond in conds:
            for seed in spec.train.seeds:
                for backend in run.backends:
                    for run_seed in run.seeds:
                        config = {"protocol": [dict(p) for p in run.protocol], "backend": backend,
                                  "trials": run.trials, "seed": run_seed, "record": list(run.record),
                                  "every": run.every, "dt_factor": run.dt_factor,
                                  "options": dict(run.options.get(backend, {})),
                                  **({"nwb": True} if run.nwb else {})}   # job ids of runs without it unchanged
                        labels = {"run": run.name, "condition": cond, "seed": seed, "backend": backend,
                                  "run_seed": run_seed}
                        ran[run.name, cond, seed, backend, run_seed] = add(
                            make_job("run", config, (trained[cond, seed].id,), labels, scheme=scheme))
    for st in spec.statistics:
        stat = st.entry(spec.imports)
        base = st.job_config(spec.imports)
        if stat.scope == "training":
            for (cond, seed), tj in trained.items():
                add(make_job("statistic", base, (tj.id,), {"statistic": st.name, "condition": cond, "seed": seed},
                             scheme=scheme))
            continue
        run = spec.run(st.of)
        conds = list(run.conditions) or spec.train.names
        for seed in spec.train.seeds:
            for backend in run.backends:
                for run_seed in run.seeds:
                    where = {"seed": seed, "backend": backend, "run_seed": run_seed}
                    if stat.scope == "conditions":
                        inputs = [ran[run.name, c, seed, backend, run_seed].id for c in conds]
                        add(make_job("statistic", {**base, "conditions": conds}, inputs,
                                     {"statistic": st.name, "run": run.name, **where}, scheme=scheme))
                        continue
                    for cond in conds:
                        rj = ran[run.name, cond, seed, backend, run_seed]
                        inputs = (rj.id, trained[cond, seed].id) if stat.needs_network else (rj.id,)
                        add(make_job("statistic", base, inputs,
                                     {"statistic": st.name, "run": run.name, "condition": cond, **where},
                                     scheme=scheme))
    return list(jobs.values()) if unique else listed
