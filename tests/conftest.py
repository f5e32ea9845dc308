"""Shared fixtures; puts tests/ on sys.path so every test folder can import ``netfactory``."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from netfactory import make_network


@pytest.fixture
def tiny_net():
    return make_network()
