"""Shared fixtures; puts tests/ on sys.path so every test folder can import ``netfactory``."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from netfactory import make_network

from neurorx.backends import all_backends


@pytest.fixture
def tiny_net():
    return make_network()


@pytest.fixture(params=sorted(all_backends()))
def backend(request):
    """Every registered backend (:func:`neurorx.backends.all_backends`), one test per backend: the backend object
    (``backend.name`` is its registry name)."""
    return all_backends()[request.param]
