"""Fixtures for the plotting tests: the Agg backend, synthetic Recordings, no figure left open."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from synthetic import synthetic_recording


@pytest.fixture
def make_recording():
    return synthetic_recording


@pytest.fixture
def sp_pair():
    return synthetic_recording("torch", seed=0), synthetic_recording("brian2", seed=1)


@pytest.fixture
def hd_pair():
    return synthetic_recording("torch", circular=True, seed=0), synthetic_recording("brian2", circular=True, seed=1)


@pytest.fixture(autouse=True)
def _no_show_and_close(monkeypatch):
    def _fail(*args, **kwargs):
        raise AssertionError("plotting functions must never call plt.show()")

    monkeypatch.setattr(plt, "show", _fail)
    yield
    plt.close("all")
