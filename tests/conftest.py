"""Shared fixtures; puts tests/ on sys.path so every test folder can import ``netfactory``."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from netfactory import make_network

from neurorx.backends import all_backends

#: Options that keep each backend fast on tiny test networks (a backend not listed runs with its defaults).
FAST_OPTIONS = {"brian2": {"target": "numpy"}, "brian2-spiking": {"target": "numpy", "per_unit": 2}}


@pytest.fixture
def one_torch_thread():
    """Tiny tensors: one torch thread is faster and robust to a busy machine (restored afterwards)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def tiny_net():
    return make_network()


@pytest.fixture(params=sorted(all_backends()))
def backend(request):
    """Every registered backend, by name."""
    return request.param


@pytest.fixture
def backend_options(backend):
    """Options of :meth:`Protocol.run` that keep ``backend`` fast in tests."""
    return dict(FAST_OPTIONS.get(backend, {}))
