"""The one seed derivation: every random stream in neurorx is derived from the user's seed here.

A stream is named by a purpose (an integer constant of the module that uses it) and optional integer keys
(a batch index, a phase index, a block of trials). Streams with different names are independent and each is
reproducible from ``seed`` alone, whatever else the run does.

Notes
-----
A stream is :class:`numpy.random.SeedSequence` ``(seed, spawn_key=(purpose, *key))``; from it come a 32- or
64-bit integer seed (:func:`derive_seed`), a numpy ``Generator`` (:func:`numpy_rng`) or a torch ``Generator``
(:func:`torch_generator`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["derive_seed", "numpy_rng", "torch_generator"]


def _sequence(seed: int | None, purpose: int, key) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed, spawn_key=(int(purpose), *map(int, key)))


def derive_seed(seed: int | None, purpose: int, *key: int, bits: int = 32) -> int:
    """An integer seed for the stream ``(purpose, *key)`` of ``seed``.

    ``bits=64`` for ``torch.Generator.manual_seed``, 32 for Brian2's (numpy's legacy) ``seed``.
    """
    return int(_sequence(seed, purpose, key).generate_state(1, np.uint32 if bits == 32 else np.uint64)[0])


def numpy_rng(seed: int | None, purpose: int, *key: int) -> np.random.Generator:
    """A numpy ``Generator`` for the stream ``(purpose, *key)`` of ``seed``."""
    return np.random.default_rng(_sequence(seed, purpose, key))


def torch_generator(seed: int | None, purpose: int, *key: int, device=None):
    """A torch ``Generator`` (on ``device``) for the stream ``(purpose, *key)`` of ``seed``."""
    import torch

    gen = torch.Generator(device=device) if device is not None else torch.Generator()
    return gen.manual_seed(derive_seed(seed, purpose, *key, bits=64))
