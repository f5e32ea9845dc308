r"""The job kinds of a sweep, registered in :data:`neurorx.sweep.job.JOB_KINDS`.

Each is ``fn(config, inputs, out, work)`` writing its files into the fresh folder ``out`` (``inputs`` are the
folders of the jobs it depends on; ``work`` is a scratch folder kept across the job's attempts until it is
done, see :mod:`neurorx.sweep.store`):

- ``train``: train a resolved card (:func:`neurorx.training.train`) -> ``network.npz``, ``metrics.jsonl``, ...;
  it trains in ``work`` and an interrupted attempt's checkpoint is resumed by the next (the same weights as
  an uninterrupted training, as ``neurorx train --resume``).
- ``run``: run a protocol on the trained network with one backend and seed -> ``recording.npz`` (and
  ``recording.nwb`` when the run asks for it, ``nwb: true``).
- ``statistic``: an entry of :data:`neurorx.analysis.STATISTICS` applied to the job's inputs -> ``result.npz``.

Notes
-----
Dependencies are ``train -> run -> statistic``: a run reads one network; a statistic of scope ``"phase"`` or
``"run"`` reads one recording (and the network of its training, its second input, when the statistic
``needs_network``), of scope ``"conditions"`` the recordings of every condition for one (training
seed, backend, run seed), of scope ``"training"`` one trained network.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import shutil
from pathlib import Path

import numpy as np

from neurorx.analysis import Output, Statistic, get_statistic
from neurorx.backends import get_backend
from neurorx.errors import ConfigurationError
from neurorx.io import CorruptFileError, read_npz, write_npz
from neurorx.network import load
from neurorx.progress import get_logger
from neurorx.protocols import PHASES, Protocol
from neurorx.recording import Recording
from neurorx.sweep.job import JOB_KINDS, JobKind
from neurorx.sweep.worker import brian2_cache_dir
from neurorx.training import CheckpointMismatch, Config, train
from neurorx.training.config import RESULT_FREE_KEYS, RNNConfig
from neurorx.training.trainer import OUTPUT_FILES, SNAPSHOT_DIR, resumable_checkpoint

__all__ = ["CUSTOM", "evaluate", "import_callable", "phase_classes", "read_result", "run_recording",
           "statistic_of"]

#: The name of a spec's custom statistic (``statistic: custom, function: module:callable``).
CUSTOM = "custom"


def phase_classes() -> dict:
    """Phase kinds a spec's ``protocol`` may name (:data:`neurorx.protocols.PHASES`)."""
    return {name: PHASES.get(name) for name in PHASES}


def import_callable(ref: str):
    """The object ``module:attribute`` names."""
    mod, _, attr = ref.partition(":")
    return getattr(importlib.import_module(mod), attr)


# ----------------------------------------------------------------------------------------------------------
# train


def _clear(work: Path) -> None:
    """Empty a job's scratch folder, keeping its lock file."""
    work.mkdir(parents=True, exist_ok=True)
    for p in work.iterdir():
        if p.name != ".lock":
            shutil.rmtree(p) if p.is_dir() else p.unlink()


def _train(config: dict, inputs: list[Path], out: Path, work: Path) -> None:
    """Train in ``work`` (resuming its checkpoint if an earlier attempt left one), then copy the outputs.

    An attempt killed before its first checkpoint leaves only ``config.yaml`` and metric lines: they are
    cleared and training starts afresh in ``work`` itself, so the next kill leaves a checkpoint there. A
    checkpoint that cannot be continued (corrupt, or written with other cell settings) is reported in the
    ``neurorx.sweep`` log and training starts afresh: the job's id already fixes its configuration.
    """
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
    if (work / SNAPSHOT_DIR).is_dir():      # trainer.snapshot_every: the intermediate networks
        shutil.copytree(work / SNAPSHOT_DIR, out / SNAPSHOT_DIR, dirs_exist_ok=True)


def _ei(config: dict, inputs: list[Path], out: Path, work: Path) -> None:
    """One training of the E/I luminosity experiment (:func:`neurorx.ei.jobs.run_ei_config`)."""
    from neurorx.ei.jobs import ei_job  # the E/I line, an application of sweeps: imported when a worker runs one

    ei_job(config, inputs, out, work)


def _train_identity(config: dict) -> dict:
    """A training's card without the keys that change no result (its prose, ...:
    :data:`neurorx.training.config.RESULT_FREE_KEYS`), with its cell's parameters resolved apart
    (``cell_settings``: :meth:`neurorx.models.cells.Cell.settings`, the defaults filled in), so that a card
    stating a default names the same training as one that leaves it out.
    """
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


# ----------------------------------------------------------------------------------------------------------
# run


def _protocol(phases: list[dict]) -> Protocol:
    kinds = phase_classes()
    return Protocol([kinds[p["phase"]](**{k: v for k, v in p.items() if k != "phase"}) for p in phases])


def run_recording(config: dict, inputs: list[Path], hooks=()) -> Recording:
    """The recording of a ``run`` job's config on the trained network in ``inputs[0]``.

    ``hooks`` (:mod:`neurorx.hooks`) are added to the run, e.g. to re-run a finished job and measure what it
    did not keep: the same config and seed give the same trials on the torch backend.
    """
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
    rec = run_recording(config, inputs)
    rec.save(out / "recording.npz")
    if config.get("nwb"):
        rec.to_nwb(out / "recording.nwb")


# ----------------------------------------------------------------------------------------------------------
# statistic


def _custom(fn, scope: str) -> Statistic:
    """The :class:`~neurorx.analysis.Statistic` of a spec's custom function.

    Scope ``"phase"``: ``fn(recording_of_one_phase, **params)``; ``"run"``: ``fn(recording, **params)`` on the
    whole recording (every phase: ``rec.select("quiescent")`` ...). Either returns ``dict name -> number``
    (dimensionless outputs).
    """
    def outputs(result) -> dict[str, Output]:
        if not isinstance(result, dict):
            raise ConfigurationError(f"custom statistic {getattr(fn, '__name__', fn)} must return a dict name -> "
                                     f"number; got {type(result).__name__}")
        return {str(k): Output((), np.float64(v), "") for k, v in result.items()}

    if scope == "run":
        return Statistic(CUSTOM, lambda rec, phases, **params: outputs(fn(rec, **params)), "", scope="run")
    return _PhaseCustom(CUSTOM, fn, "", outputs_of=outputs)


class _PhaseCustom(Statistic):
    """A custom phase statistic: the user's function gets the phase's Recording, not an array."""

    def __init__(self, name, fn, unit, *, outputs_of):
        super().__init__(name, fn, unit, per_trial=False)
        object.__setattr__(self, "_outputs_of", outputs_of)

    def outputs(self, data, *, circular=None, phases=(), **params):
        return self._outputs_of(self.function(data, **params))


def statistic_of(config: dict) -> Statistic:
    """The statistic a ``statistic`` job's config names: a registered one (after importing the config's
    ``imports``), or the custom function of ``function``.
    """
    for module in config.get("imports", ()):
        importlib.import_module(module)
    if config["statistic"] == CUSTOM:
        return _custom(import_callable(config["function"]), config.get("scope", "phase"))
    return get_statistic(config["statistic"])


def evaluate(config: dict, inputs: list[Path]) -> dict[str, Output]:
    """The outputs of a ``statistic`` job: its statistic on the job's inputs.

    Several phases of a phase statistic give a leading ``phase`` dimension. A statistic that
    :attr:`~neurorx.analysis.Statistic.needs_network` gets the trained network of ``inputs[1]``.
    """
    stat = statistic_of(config)
    params = dict(config["params"])
    phases = tuple(config["phases"]) or stat.phases
    if stat.scope == "training":
        return stat.outputs(load(inputs[0] / "network.npz"), **params)
    if stat.scope == "conditions":
        recs = {c: Recording.load(p / "recording.npz") for c, p in zip(config["conditions"], inputs, strict=True)}
        return stat.outputs(recs, phases=phases, **params)
    rec = Recording.load(inputs[0] / "recording.npz")
    if stat.needs_network:                      # the run's training, its second input (neurorx.sweep.grid)
        params["network"] = load(inputs[1] / "network.npz")
    if stat.scope == "run":
        return stat.outputs(rec, phases=phases, **params)
    per_phase = [stat.outputs(rec.select(ph), **params) for ph in phases]
    if len(phases) == 1:
        return per_phase[0]
    return {k: Output(("phase", *o.dims), np.stack([p[k].values for p in per_phase]), o.unit, o.coords)
            for k, o in per_phase[0].items()}


def _statistic(config: dict, inputs: list[Path], out: Path, work: Path) -> None:
    outputs = evaluate(config, inputs)
    arrays = {f"out/{k}": np.asarray(o.values, dtype=np.float64) for k, o in outputs.items()}
    meta = {"format": "neurorx.sweep.Result/1",
            "outputs": {k: {"dims": list(o.dims), "unit": o.unit, "coords": o.coords} for k, o in outputs.items()}}
    write_npz(out / "result.npz", arrays, meta)


def read_result(folder: Path) -> dict[str, Output]:
    """The outputs a ``statistic`` job saved in ``folder``."""
    arrays, meta = read_npz(Path(folder) / "result.npz", "sweep result")
    return {k: Output(tuple(m["dims"]), arrays[f"out/{k}"], m["unit"], m["coords"])
            for k, m in meta["outputs"].items()}


def _statistic_identity(config: dict) -> dict:
    """The config; a registered statistic's version when above 1; a custom statistic's function source text."""
    out = {"config": config}
    if config.get("function"):
        try:
            source = inspect.getsource(import_callable(config["function"]))
        except (ImportError, AttributeError, OSError, TypeError):
            source = None                         # not importable here (only on the workers): its name only
        if source is not None:
            out["function_source"] = hashlib.sha256(source.encode()).hexdigest()
    elif config.get("statistic") not in (None, CUSTOM):
        try:
            version = statistic_of(config).version
        except (ImportError, ValueError):
            version = 1                           # a user's statistic not importable here: its name only
        if version != 1:
            out["statistic_version"] = version
    return out


JOB_KINDS.add("train", JobKind(_train, identity=_train_identity, outputs=("network.npz",)))
JOB_KINDS.add("run", JobKind(_run, outputs=("recording.npz",)))
JOB_KINDS.add("statistic", JobKind(_statistic, identity=_statistic_identity, outputs=("result.npz",)))
JOB_KINDS.add("ei", JobKind(_ei, outputs=("result.json",)))
