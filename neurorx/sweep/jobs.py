"""Old home of the sweep's jobs; the names now live in one module each (this module re-exports them).

:mod:`neurorx.sweep.job` (:class:`Job`, its id), :mod:`neurorx.sweep.kinds` (the job kinds),
:mod:`neurorx.sweep.grid` (:func:`expand`), :mod:`neurorx.sweep.worker` (the worker's environment). The
statistics a sweep collects are the entries of :data:`neurorx.analysis.STATISTICS`.
"""

from neurorx.analysis import Output
from neurorx.moved import moved_names
from neurorx.sweep.grid import expand
from neurorx.sweep.job import JOB_KINDS, Job, JobKind, job_kind, make_job
from neurorx.sweep.kinds import read_result, run_recording
from neurorx.sweep.worker import worker_environment

__all__ = ["JOB_KINDS", "Job", "JobKind", "Output", "expand", "job_kind", "make_job", "read_result",
           "run_recording", "worker_environment"]

__getattr__ = moved_names(__name__, gone={
    "SWEEP_STATISTICS": "neurorx.sweep.jobs.SWEEP_STATISTICS is gone: the one statistics registry is "
                        "neurorx.analysis.STATISTICS (a sweep's statistic is an entry of it, named by its key)",
    "SweepStatistic": "neurorx.sweep.jobs.SweepStatistic is gone: the one statistics registry is "
                      "neurorx.analysis.Statistic"})
