import pytest


@pytest.fixture(autouse=True)
def one_thread(one_torch_thread):
    """Every CLI test runs with one torch thread (see ``one_torch_thread`` in tests/conftest.py)."""
