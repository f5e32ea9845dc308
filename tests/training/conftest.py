import pytest


@pytest.fixture(autouse=True)
def one_thread(one_torch_thread):
    """Every training test runs with one torch thread (see ``one_torch_thread`` in tests/conftest.py)."""


@pytest.fixture
def always_onednn(monkeypatch):
    """Route even tiny float32 products through oneDNN (normally only large ones are)."""
    from neurorx import linalg

    monkeypatch.setattr(linalg, "ONEDNN_MIN_MACS", 0)
    return linalg.onednn_available()
