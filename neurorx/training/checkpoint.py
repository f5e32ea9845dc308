"""Training checkpoints: weights, Adam state and progress in one ``.npz`` of plain arrays (never a pickle).

Layout of ``checkpoint.npz`` (see :mod:`neurorx.io`): arrays ``param/<name>`` (the weights, training dtype),
``adam/<name>/exp_avg``, ``adam/<name>/exp_avg_sq``, ``adam/<name>/step`` (Adam's first and second moment
estimates and step count per parameter), and JSON metadata with the format tag, the number of completed
batches, the resolved configuration and the learning curve so far.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from neurorx.io import CorruptFileError, read_npz, write_npz

__all__ = ["CHECKPOINT_FORMAT", "load_checkpoint", "restore_checkpoint", "save_checkpoint"]

CHECKPOINT_FORMAT = "neurorx.TrainingCheckpoint/1"
_ADAM_KEYS = ("exp_avg", "exp_avg_sq", "step")


def save_checkpoint(path: str | Path, params: dict[str, torch.Tensor], optimizer: torch.optim.Optimizer,
                    batch: int, meta: dict) -> Path:
    """Write a checkpoint atomically (replacing an older one).

    Parameters
    ----------
    path : path
    params : dict name -> parameter
        In the order they were given to ``optimizer``.
    optimizer : torch.optim.Adam
    batch : int
        Number of completed training batches.
    meta : dict
        JSON-able extras (configuration, learning curve, elapsed time).
    """
    names = list(params)
    arrays = {f"param/{n}": p.detach().cpu().numpy().copy() for n, p in params.items()}
    state = optimizer.state_dict()["state"]
    for idx, name in enumerate(names):
        for key in _ADAM_KEYS:
            if idx in state and key in state[idx]:
                arrays[f"adam/{name}/{key}"] = np.asarray(state[idx][key].detach().cpu().numpy()).copy()
    groups = [{k: v for k, v in g.items() if k != "params"} for g in optimizer.state_dict()["param_groups"]]
    full = {"format": CHECKPOINT_FORMAT, "batch": int(batch), "param_names": names,
            "param_groups": _jsonable(groups), **meta}
    return write_npz(path, arrays, full, overwrite=True)


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, torch.Tensor):
        return obj.item() if obj.numel() == 1 else obj.tolist()
    if isinstance(obj, bool | int | float | str) or obj is None:
        return obj
    return repr(obj)


def load_checkpoint(path: str | Path) -> tuple[dict[str, np.ndarray], dict]:
    """Read a checkpoint: ``(arrays, meta)``; a clear :class:`CorruptFileError` if it is not one."""
    arrays, meta = read_npz(path, "training checkpoint")
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise CorruptFileError(f"{path} is not a neurorx training checkpoint (format {meta.get('format')!r})")
    return arrays, meta


def restore_checkpoint(arrays: dict[str, np.ndarray], meta: dict, params: dict[str, torch.Tensor],
                       optimizer: torch.optim.Optimizer) -> int:
    """Copy weights and Adam state from a loaded checkpoint into ``params``/``optimizer``; return the batch."""
    names = list(params)
    if meta.get("param_names") != names:
        raise CorruptFileError(f"checkpoint holds parameters {meta.get('param_names')}, the model has {names}")
    with torch.no_grad():
        for name, p in params.items():
            arr = arrays[f"param/{name}"]
            if tuple(arr.shape) != tuple(p.shape):
                raise CorruptFileError(f"checkpoint parameter {name} has shape {arr.shape}, the model needs "
                                       f"{tuple(p.shape)}")
            p.copy_(torch.from_numpy(arr))
    sd = optimizer.state_dict()
    state = {}
    for idx, (name, p) in enumerate(params.items()):
        keys = [f"adam/{name}/{k}" for k in _ADAM_KEYS]
        if all(k in arrays for k in keys):
            state[idx] = {
                "step": torch.from_numpy(arrays[keys[2]].copy()),
                "exp_avg": torch.from_numpy(arrays[keys[0]].copy()).to(p.dtype),
                "exp_avg_sq": torch.from_numpy(arrays[keys[1]].copy()).to(p.dtype),
            }
    optimizer.load_state_dict({"state": state, "param_groups": sd["param_groups"]})
    return int(meta["batch"])
