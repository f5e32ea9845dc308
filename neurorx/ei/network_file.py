"""Saving and loading E/I networks: plain arrays + JSON metadata with a format tag, never a pickle.

One ``.npz`` file (:func:`neurorx.io.write_npz`) holds every weight under its module path (torch layout
``[post, pre]``, e.g. ``hidden.0.W_EE``) and ``__meta__`` JSON with the format tag :data:`FORMAT`, the
:class:`~neurorx.ei.network.EINetworkConfig`, each layer's :class:`~neurorx.ei.layers.LayerSpec`, the names of
the Dale-constrained arrays and provenance. Loading checks the tag, the array names and shapes, finiteness
and Dale's law.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from neurorx.ei.network import EINetwork, EINetworkConfig
from neurorx.errors import ConfigurationError, FileFormatError
from neurorx.io import read_npz, write_npz

__all__ = ["FORMAT", "FORMAT_VERSION", "load_network", "save_network"]

#: Format tag of E/I network files.
FORMAT = "neurorx.ei-network"
FORMAT_VERSION = 1


def save_network(net: EINetwork, path: str | Path, *, overwrite: bool = False, **extra) -> Path:
    """Save ``net`` to ``path`` (``.npz``); ``extra`` JSON-able entries go into the metadata.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is false.
    """
    from neurorx.provenance import provenance

    arrays = {k: v.detach().cpu().numpy() for k, v in net.state_dict().items()}
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "config": net.config.to_dict(),
            "layers": [asdict(layer.spec) for layer in net.layers], "dale": sorted(net.dale_parameters()),
            "provenance": provenance(net.config.seed), **extra}
    return write_npz(path, arrays, meta, overwrite=overwrite)


def load_network(path: str | Path) -> EINetwork:
    """Load a network written by :func:`save_network`.

    Raises
    ------
    FileFormatError
        Not an E/I network file, missing or mis-shaped arrays, non-finite weights, or a Dale-constrained weight
        below zero.
    """
    arrays, meta = read_npz(path, kind="E/I network file")
    if meta.get("format") != FORMAT:
        raise FileFormatError(f"{path} is not an E/I network file (format {meta.get('format')!r}, expected "
                              f"{FORMAT!r}); E/I networks are saved with neurorx.ei.save_network")
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise FileFormatError(f"{path} has E/I format version {meta['format_version']}; this neurorx reads up to "
                              f"{FORMAT_VERSION}: upgrade neurorx")
    try:
        net = EINetwork(EINetworkConfig(**meta["config"]))
    except (KeyError, TypeError, ConfigurationError) as err:
        raise FileFormatError(f"{path}: the network configuration in the metadata is invalid ({err})") from None
    state = net.state_dict()
    missing = sorted(set(state) - set(arrays))
    unexpected = sorted(set(arrays) - set(state))
    if missing or unexpected:
        raise FileFormatError(f"{path}: arrays do not match the network in its metadata (missing {missing}, "
                              f"unexpected {unexpected}); the file is corrupt or was edited")
    for name, arr in arrays.items():
        if arr.shape != tuple(state[name].shape):
            raise FileFormatError(f"{path}: array {name!r} has shape {arr.shape}, the network needs "
                                  f"{tuple(state[name].shape)}")
        if not np.all(np.isfinite(arr)):
            raise FileFormatError(f"{path}: array {name!r} holds NaN or infinite values; retrain or re-export")
    for name in net.dale_parameters():
        if arrays[name].min() < 0:
            raise FileFormatError(
                f"{path}: Dale's law is violated: {name} has negative entries (min {arrays[name].min():.3g}), but "
                "excitatory and inhibitory weights must be >= 0. Re-export the network after net.project_() "
                "(the trainer clamps after every step), or fix the file.")
    net.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in arrays.items()})
    return net
