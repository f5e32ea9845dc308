r"""Jobs: plain functions of a resolved, JSON-serialisable config, and the grid a spec expands into.

Three job kinds are registered in :data:`JOB_KINDS` (:class:`JobKind`), each ``fn(config, inputs, out, work)``
writing its files into the fresh folder ``out`` (``inputs`` are the folders of the jobs it depends on; ``work``
is a scratch folder kept across the job's attempts until it is done, see :mod:`neurorx.sweep.store`):

- ``train``: train a resolved card (:func:`neurorx.training.train`) -> ``network.npz``, ``metrics.jsonl``, ...;
  it trains in ``work`` and an interrupted attempt's checkpoint is resumed by the next (the same weights as
  an uninterrupted training, as ``neurorx train --resume``).
- ``run``: run a protocol on the trained network with one backend and seed -> ``recording.npz``.
- ``statistic``: a statistic of recordings (or of the training) -> ``result.npz``.
- ``ei``: one training of the E/I luminosity experiment (:mod:`neurorx.ei.jobs`) -> ``result.json``.

The statistics a spec may collect are in :data:`SWEEP_STATISTICS`; each calls :mod:`neurorx.analysis` directly and
returns named :class:`Output` arrays with their dimensions and units.

Notes
-----
Dependencies are ``train -> run -> statistic``: a run reads one network; a statistic of scope
``"recording"`` reads one recording, of scope ``"conditions"`` the recordings of every condition for one
(training seed, backend, run seed), of scope ``"training"`` one trained network.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import math
import numbers
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neurorx.errors import ConfigurationError, SimulationError
from neurorx.progress import get_logger
from neurorx.registry import Registry

__all__ = ["JOB_KINDS", "SWEEP_STATISTICS", "Job", "JobKind", "Output", "SweepStatistic", "expand",
           "job_kind", "run_recording", "worker_environment"]



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
    """

    fn: Callable
    code_version: int = 1
    identity: Callable[[dict], dict] | None = None

    def identity_of(self, config: dict) -> dict:
        """The JSON-able part of ``config`` (and the code) that names the job's results."""
        return {"config": config} if self.identity is None else self.identity(config)


#: Job kinds: name -> :class:`JobKind` (a plain ``fn`` registered here counts as ``JobKind(fn)``).
JOB_KINDS: Registry[JobKind] = Registry("job kind")


def job_kind(name: str) -> JobKind:
    """The registered :class:`JobKind` called ``name``."""
    entry = JOB_KINDS.get(name)
    return entry if isinstance(entry, JobKind) else JobKind(entry)


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
        ``<kind>-<hash>`` of kind, config, input ids and the neurorx version (:func:`neurorx.sweep.store.job_id`).
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
    """A :class:`Job` with its id computed from kind, config and inputs (:func:`neurorx.sweep.store.job_id`)."""
    from neurorx.sweep.store import ID_SCHEME, job_id

    inputs = tuple(inputs)
    return Job(kind, config, inputs, dict(labels or {}), job_id(kind, config, inputs, scheme=scheme or ID_SCHEME))


# ----------------------------------------------------------------------------------------------------------
# the worker environment


_WORKER_CACHE: dict[str, str] = {}


def worker_name() -> str:
    """The Dask worker's name (``pid<N>`` outside a worker), safe as a folder name."""
    try:
        from distributed import get_worker

        name = str(get_worker().name)
    except (ImportError, ValueError):
        name = f"pid{os.getpid()}"
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def brian2_cache_dir() -> str:
    """The Cython cache folder of this worker for Brian2 (workers never compile into one folder at once)."""
    name = worker_name()
    if name not in _WORKER_CACHE:
        path = Path(tempfile.gettempdir()) / "neurorx-brian2-cache" / f"{name}-{os.getpid()}"
        path.mkdir(parents=True, exist_ok=True)
        _WORKER_CACHE[name] = str(path)
    return _WORKER_CACHE[name]


@contextlib.contextmanager
def worker_environment():
    """One torch thread and one BLAS/OpenMP thread while a job runs (restored afterwards).

    A worker runs one job per core, so threads inside a job would only compete; and with one thread a
    job's numbers do not depend on the machine it runs on.
    """
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(before)


# ----------------------------------------------------------------------------------------------------------
# job kinds


def _train(config: dict, inputs: list[Path], out: Path, work: Path) -> None:
    """Train in ``work`` (resuming its checkpoint if an earlier attempt left one), then copy the outputs.

    An attempt killed before its first checkpoint leaves only ``config.yaml`` and metric lines: they are
    cleared and training starts afresh in ``work`` itself, so the next kill leaves a checkpoint there. A
    checkpoint that cannot be continued (corrupt, or written with other cell parameters) is reported in the
    ``neurorx.sweep`` log and training starts afresh: the job's id already fixes its configuration.
    """
    import shutil

    from neurorx.io import CorruptFileError
    from neurorx.training import CheckpointMismatch, Config, train
    from neurorx.training.trainer import OUTPUT_FILES, resumable_checkpoint

    cfg = Config.from_dict(config["config"])
    trained = False
    if resumable_checkpoint(work) is not None:
        try:
            train(cfg, work, quiet=True, resume=True)
            trained = True
        except (CheckpointMismatch, CorruptFileError) as err:
            get_logger("sweep").warning(f"{work.name}: the checkpoint cannot be continued ({err}); training afresh")
    if not trained:
        _clear(work)
        train(cfg, work, quiet=True)
    for name in OUTPUT_FILES:
        if name != "checkpoint.npz" and (work / name).exists():
            shutil.copy2(work / name, out / name)


def _clear(work: Path) -> None:
    """Empty a job's scratch folder, keeping its lock file."""
    import shutil

    work.mkdir(parents=True, exist_ok=True)
    for p in work.iterdir():
        if p.name != ".lock":
            shutil.rmtree(p) if p.is_dir() else p.unlink()


def _protocol(phases: list[dict]):
    from neurorx.protocols import Protocol
    from neurorx.sweep.spec import phase_classes

    kinds = phase_classes()
    return Protocol([kinds[p["phase"]](**{k: v for k, v in p.items() if k != "phase"}) for p in phases])


def run_recording(config: dict, inputs: list[Path], hooks=()):
    """The recording of a ``run`` job's config on the trained network in ``inputs[0]``.

    ``hooks`` (:mod:`neurorx.hooks`) are added to the run, e.g. to re-run a finished job and measure what it
    did not keep: the same config and seed give the same trials on the torch backend.
    """
    from neurorx.backends import get_backend
    from neurorx.network import load

    net = load(inputs[0] / "network.npz")
    options = dict(config["options"])
    accepted = getattr(get_backend(config["backend"]), "options", None) or ()
    if "cache_dir" in accepted and "cache_dir" not in options:
        options["cache_dir"] = brian2_cache_dir()
    rec = _protocol(config["protocol"]).run(net, backend=config["backend"], trials=config["trials"],
                                            seed=config["seed"], record=tuple(config["record"]),
                                            every=config["every"], dt_factor=config["dt_factor"],
                                            hooks=list(hooks), **options)
    rec.meta.get("backend_options", {}).pop("cache_dir", None)
    return rec


def _run(config: dict, inputs: list[Path], out: Path, work: Path) -> None:
    run_recording(config, inputs).save(out / "recording.npz")


def _statistic(config: dict, inputs: list[Path], out: Path, work: Path) -> None:
    from neurorx.io import write_npz

    stat = SWEEP_STATISTICS.get(config["statistic"])
    outputs = stat.evaluate(config, inputs)
    arrays = {f"out/{k}": np.asarray(o.values, dtype=np.float64) for k, o in outputs.items()}
    meta = {"format": "neurorx.sweep.Result/1",
            "outputs": {k: {"dims": list(o.dims), "unit": o.unit, "coords": o.coords} for k, o in outputs.items()}}
    write_npz(out / "result.npz", arrays, meta)


def _train_identity(config: dict) -> dict:
    """A training's card without the keys that change no result (its prose, ...:
    :data:`neurorx.training.config.RESULT_FREE_KEYS`), with its cell's parameters resolved apart
    (``cell_settings``: :meth:`neurorx.models.cells.Cell.settings`, the defaults filled in), so that a card
    stating a default names the same training as one that leaves it out.
    """
    from neurorx.training.config import RESULT_FREE_KEYS, RNNConfig

    card = json.loads(json.dumps(config["config"]))
    for key in RESULT_FREE_KEYS:
        *parents, leaf = key.split(".")
        section = card
        for name in parents:
            section = section.get(name) if isinstance(section, dict) else None
        if isinstance(section, dict):
            section.pop(leaf, None)
    rnn = RNNConfig.from_dict(card.get("rnn") or {})
    if "rnn" in card:
        card["rnn"] = {k: v for k, v in card["rnn"].items() if k not in rnn.params}
    return {"config": {**config, "config": card}, "cell_settings": rnn.cell_object().settings()}


def _statistic_identity(config: dict) -> dict:
    """The config, and for a ``custom`` statistic the source text of the user's function where it can be read."""
    import hashlib
    import inspect

    out = {"config": config}
    if config.get("function"):
        try:
            source = inspect.getsource(_import(config["function"]))
        except (ImportError, AttributeError, OSError, TypeError):
            source = None                         # not importable here (only on the workers): its name only
        if source is not None:
            out["function_source"] = hashlib.sha256(source.encode()).hexdigest()
    return out


def _ei(config: dict, inputs: list[Path], out: Path, work: Path) -> None:
    """One training of the E/I luminosity experiment (:func:`neurorx.ei.jobs.run_ei_config`)."""
    from neurorx.ei.jobs import ei_job  # the E/I line: imported when a worker runs such a job

    ei_job(config, inputs, out, work)


JOB_KINDS.add("train", JobKind(_train, identity=_train_identity))
JOB_KINDS.add("run", JobKind(_run))
JOB_KINDS.add("statistic", JobKind(_statistic, identity=_statistic_identity))
JOB_KINDS.add("ei", JobKind(_ei))


def read_result(folder: Path) -> dict[str, Output]:
    """The outputs a ``statistic`` job saved in ``folder``."""
    from neurorx.io import read_npz

    arrays, meta = read_npz(Path(folder) / "result.npz", "sweep result")
    return {k: Output(tuple(m["dims"]), arrays[f"out/{k}"], m["unit"], m["coords"])
            for k, m in meta["outputs"].items()}


# ----------------------------------------------------------------------------------------------------------
# statistics


@dataclass
class Output:
    """One named output of a statistic: values with labelled dimensions and a unit.

    ``coords`` gives the labels of the statistic's own dimensions (e.g. ``component: [1, 2, ...]``).
    """

    dims: tuple[str, ...]
    values: np.ndarray
    unit: str
    coords: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SweepStatistic:
    """A statistic a sweep can collect.

    Attributes
    ----------
    compute : callable
        Scope ``"recording"``: ``compute(rec, **params)`` on one phase of one recording; ``"conditions"``:
        ``compute(recs: dict condition -> Recording, phases, **params)``; ``"training"``:
        ``compute(network, **params)``. Returns ``dict name -> Output`` (name ``""`` is the main output).
    scope : {"recording", "conditions", "training"}
    default_phases : tuple of str
        Phases used when a spec names none.
    needs : tuple of str
        Recorded arrays it needs (``"h"``).
    """

    compute: Callable
    scope: str = "recording"
    default_phases: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()

    def parameters(self) -> list[str] | None:
        """Keyword parameters a spec may give (``None``: any, for custom statistics)."""
        if self.compute is _custom:
            return None
        from neurorx.sweep.spec import statistic_parameters

        return statistic_parameters(self.compute)

    def resolve_phases(self, phases) -> tuple[str, ...]:
        """The spec's phases, or the default ones."""
        return tuple(phases) or self.default_phases

    def check(self, st, run, where: str) -> None:
        """Spec-time checks against the run ``st`` reads (recorded arrays, burn-in within the phase)."""
        from neurorx.sweep.spec import SpecError

        for name in self.needs:
            if name not in run.record:
                raise SpecError(f"{where}: {st.statistic} needs the hidden states; add 'record: [{name}]' to "
                                f"runs.{run.name}")
        for name, value in st.params.items() if self.compute is not _custom else ():
            accepts, what = PARAMETER_CHECKS.get(name, (None, ""))
            if accepts is not None and not accepts(value):
                raise SpecError(f"{where}.{name} must be {what}; got {value!r}")
        steps = run.phase_steps()
        burn_in = st.params.get("burn_in")
        if burn_in is not None:
            for ph in self.resolve_phases(st.phases):
                if burn_in > steps[ph] - 2:
                    raise SpecError(f"{where}.burn_in={burn_in} leaves fewer than 2 of the {steps[ph]} steps of "
                                    f"phase {ph!r} of run {run.name!r}; use a burn-in below {steps[ph] - 1}")
        if self.scope == "conditions" and len(self.resolve_phases(st.phases)) != 2:
            raise SpecError(f"{where}.phases: {st.statistic} takes two phases [active_phase, quiescent_phase]")

    def evaluate(self, config: dict, inputs: list[Path]) -> dict[str, Output]:
        """Run the statistic on the inputs of a ``statistic`` job."""
        from neurorx.recording import Recording

        params = dict(config["params"])
        phases = self.resolve_phases(config["phases"])
        if self.scope == "training":
            from neurorx.network import load

            return self.compute(load(inputs[0] / "network.npz"), **params)
        if self.scope == "conditions":
            recs = {c: Recording.load(p / "recording.npz") for c, p in zip(config["conditions"], inputs, strict=True)}
            return self.compute(recs, phases, **params)
        rec = Recording.load(inputs[0] / "recording.npz")
        compute = self.compute
        if compute is _custom:
            fn = _import(config["function"])
            params = {"fn": fn, **params}
        per_phase = [compute(rec.select(ph), **params) for ph in phases]
        if len(phases) == 1:
            return per_phase[0]
        return {k: Output(("phase", *o.dims), np.stack([p[k].values for p in per_phase]), o.unit, o.coords)
                for k, o in per_phase[0].items()}


def _import(ref: str):
    mod, _, attr = ref.partition(":")
    return getattr(importlib.import_module(mod), attr)


def _circular(rec) -> bool:
    return bool(rec.meta.get("circular", False))


def _space_unit(rec) -> str:
    return "rad" if _circular(rec) else "m"


def _total_variance(rec, *, burn_in: int = 0) -> dict[str, Output]:
    r"""Total variance of the decoded trajectories (Fig. 2f).

    Notes
    -----
    Per trajectory :math:`b`, after dropping the first ``burn_in`` steps,
    :math:`V_b = \sum_k \operatorname{Var}_t[\hat x_{b,t,k}]`; the main output is :math:`\frac1B\sum_b V_b`,
    ``per_trajectory`` keeps every :math:`V_b`.
    """
    from neurorx.analysis import total_variance

    per = np.asarray(total_variance(rec.decoded, burn_in=burn_in, per_trajectory=True, circular=_circular(rec)))
    unit = f"{_space_unit(rec)}^2"
    return {"": Output((), per.mean(), unit),
            "per_trajectory": Output(("trajectory",), per, unit, {"trajectory": list(range(len(per)))})}


def _explained_variance(rec, *, n_components: int = 10) -> dict[str, Output]:
    r"""Cumulative explained-variance ratio of the hidden states' leading principal components (Fig. 1c).

    Notes
    -----
    PCA of the hidden states of the phase (all trials and recorded steps as samples):
    :math:`r_k = \sum_{i\le k}\lambda_i / \sum_i \lambda_i` for :math:`k = 1..n`.
    """
    from neurorx.analysis import explained_variance

    ratios = np.asarray(explained_variance(rec.require("h"), n_components=n_components))
    return {"": Output(("component",), ratios, "1", {"component": list(range(1, len(ratios) + 1))})}


def _stepwise_distance(rec) -> dict[str, Output]:
    r"""Mean distance between consecutive decoded positions, :math:`\langle\|\hat x_{t+1}-\hat x_t\|\rangle`."""
    from neurorx.analysis import stepwise_distance

    return {"": Output((), float(np.mean(stepwise_distance(rec.decoded, circular=_circular(rec)))),
                       f"{_space_unit(rec)}/step")}


#: KL estimators of :func:`neurorx.analysis.kl_divergence`; "reference" also uses the reference code's
#: per-axis uniform density for the uniform column (its log 2.2 inflation).
ESTIMATORS = ("corrected", "reference")


def _is_int(value, minimum: int) -> bool:
    from neurorx.checks import positive_int

    try:
        positive_int(value, "value", minimum=minimum)
    except (ConfigurationError, TypeError):
        return False
    return True


def _is_positive_number(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(value) and value > 0


#: Spec-time checks of the built-in statistics' parameters: name -> (accepts the value?, what it must be).
PARAMETER_CHECKS: dict[str, tuple[Callable, str]] = {
    "burn_in": (lambda v: _is_int(v, 0), "a non-negative integer number of steps"),
    "n_components": (lambda v: _is_int(v, 1), "a positive integer"),
    "n_mc": (lambda v: _is_int(v, 2), "an integer >= 2"),
    "mc_seed": (lambda v: _is_int(v, 0), "a non-negative integer seed"),
    "box": (_is_positive_number, "a positive number of metres (the half-width of the uniform box)"),
    "estimators": (lambda v: isinstance(v, (list, tuple)) and len(v) > 0 and all(e in ESTIMATORS for e in v),
                   f"a non-empty list of estimators from {list(ESTIMATORS)}"),
}


def _kl_matrix(recs: dict, phases, *, estimators=ESTIMATORS, n_mc: int = 2500, mc_seed: int = 0,
               box: float = 1.1) -> dict[str, Output]:
    r"""The KL matrix of Fig. 2e: :math:`\mathrm{KL}(Q_j \,\|\, A_i)` between the conditions' networks.

    Rows :math:`i`: the active decoded distribution of each condition; columns :math:`j`: the quiescent one
    of each condition, plus the uniform distribution on the box :math:`[-b, b]^2`. One value per estimator.

    Notes
    -----
    ``corrected``: :func:`neurorx.analysis.kl_divergence` without clipping, and
    :math:`\mathrm{KL}(\mathcal U\|A)` with the 2-D uniform density. ``reference``: the reference code's
    clipped ratio and, for the uniform column, its per-axis density (``reference_quirk=True``), which adds
    :math:`\log 2.2` nats.
    """
    from neurorx.analysis import kl_divergence, kl_uniform_vs

    active_phase, quiescent_phase = phases
    names = list(recs)
    if any(_circular(r) for r in recs.values()):
        raise SimulationError("kl_matrix compares planar positions; for head direction use a circular statistic")
    act = {c: r.select(active_phase).decoded.reshape(-1, r.decoded.shape[-1]) for c, r in recs.items()}
    qui = {c: r.select(quiescent_phase).decoded.reshape(-1, r.decoded.shape[-1]) for c, r in recs.items()}
    cols = [*names, "uniform"]
    out = np.empty((len(names), len(cols), len(estimators)))
    for k, est in enumerate(estimators):
        for i, a in enumerate(names):
            for j, q in enumerate(names):
                out[i, j, k] = kl_divergence(qui[q], act[a], method=est, n_mc=n_mc, seed=mc_seed)
            out[i, -1, k] = kl_uniform_vs(act[a], box=(-box, box), method=est, n_mc=n_mc, seed=mc_seed,
                                          reference_quirk=est == "reference")
    return {"": Output(("active", "quiescent", "estimator"), out, "nat",
                       {"active": names, "quiescent": cols, "estimator": list(estimators)})}


def _learning_curve(net) -> dict[str, Output]:
    """Test loss and test decoding error over training (Fig. 1b), and their final values."""
    m = net.metrics or {}
    curve = m.get("curve") or {}
    if not curve.get("batch"):
        raise SimulationError("the trained network carries no learning curve (metrics.curve is empty)")
    batch = [int(b) for b in curve["batch"]]
    unit = "rad" if m.get("error_unit") == "deg" else "m"
    loss = np.asarray(curve["test_loss"], dtype=float)
    err = np.asarray(curve["test_error"], dtype=float)
    return {"test_loss": Output(("eval_batch",), loss, "1", {"eval_batch": batch}),
            "test_error": Output(("eval_batch",), err, unit, {"eval_batch": batch}),
            "final_test_loss": Output((), loss[-1], "1"),
            "final_test_error": Output((), err[-1], unit)}


def _custom(rec, *, fn, **params) -> dict[str, Output]:
    """A user's statistic ``fn(recording, **params) -> dict name -> float`` (dimensionless scalars)."""
    result = fn(rec, **params)
    if not isinstance(result, dict):
        raise ConfigurationError(f"custom statistic {fn.__name__} must return a dict name -> number; got "
                                 f"{type(result).__name__}")
    return {str(k): Output((), float(v), "") for k, v in result.items()}


#: Statistics a spec's ``statistics`` section may name.
SWEEP_STATISTICS: Registry[SweepStatistic] = Registry("statistic")
SWEEP_STATISTICS.add("total_variance", SweepStatistic(_total_variance, default_phases=("quiescent",)))
SWEEP_STATISTICS.add("explained_variance", SweepStatistic(_explained_variance,
                                                         default_phases=("active", "quiescent"), needs=("h",)))
SWEEP_STATISTICS.add("stepwise_distance", SweepStatistic(_stepwise_distance, default_phases=("quiescent",)))
SWEEP_STATISTICS.add("kl_matrix", SweepStatistic(_kl_matrix, scope="conditions",
                                                default_phases=("active", "quiescent")))
SWEEP_STATISTICS.add("learning_curve", SweepStatistic(_learning_curve, scope="training"))
SWEEP_STATISTICS.add("custom", SweepStatistic(_custom, default_phases=("quiescent",)))


# ----------------------------------------------------------------------------------------------------------
# expanding a spec into jobs


def expand(spec, *, unique: bool = True, scheme: int | None = None) -> list[Job]:
    """All jobs of a :class:`~neurorx.sweep.spec.SweepSpec`, each after the jobs it reads (train, run, statistic).

    Parameters
    ----------
    spec : SweepSpec
    unique : bool, default True
        Identical jobs (same resolved config and inputs, hence the same id) appear once, with the labels of the
        first. ``False`` lists every grid cell with its own labels, so two cells served by one job both appear
        (what :func:`neurorx.sweep.gather.gather` needs to fill both).
    scheme : int, optional
        The job-id scheme (:data:`neurorx.sweep.store.ID_SCHEME` by default; an older one to find the folders
        of a store written before, see :func:`neurorx.sweep.migrate.migrate`). The list and its order are the
        same under every scheme.
    """
    from neurorx.sweep.spec import resolve_training

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
                                  "options": dict(run.options.get(backend, {}))}
                        labels = {"run": run.name, "condition": cond, "seed": seed, "backend": backend,
                                  "run_seed": run_seed}
                        ran[run.name, cond, seed, backend, run_seed] = add(
                            make_job("run", config, (trained[cond, seed].id,), labels, scheme=scheme))
    for st in spec.statistics:
        stat = SWEEP_STATISTICS.get(st.statistic)
        base = {"statistic": st.statistic, "phases": list(st.phases), "params": dict(st.params),
                "function": st.function}
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
                        add(make_job("statistic", base, (rj.id,),
                                     {"statistic": st.name, "run": run.name, "condition": cond, **where},
                                     scheme=scheme))
    return list(jobs.values()) if unique else listed
