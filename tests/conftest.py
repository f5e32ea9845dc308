"""Shared fixtures; puts tests/ on sys.path so every test folder can import ``netfactory``; groups the tests that
share a module- or session-scoped fixture for pytest-xdist (``scripts/test.sh`` runs ``-n auto --dist loadgroup``)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from netfactory import make_network

from neurorx.backends import all_backends

#: Options that keep each backend fast on tiny test networks (a backend not listed runs with its defaults).
FAST_OPTIONS = {"brian2": {"target": "numpy"}, "brian2-spiking": {"target": "numpy", "per_unit": 2}}


@pytest.fixture(autouse=True)
def brian2_auto_is_numpy(monkeypatch):
    """The brian2 backend's ``target="auto"`` runs numpy in tests (what ``auto`` does after a failed compilation).

    Cython compiles every new network's code into a module (seconds each with a cold cache, as on a fresh
    clone) and tiny test networks run no faster with it; the tests of code generation ask for
    ``target="cython"`` explicitly (that still compiles), and the test of the fallback sets this list itself.
    Subprocesses (the command line, sweep workers, example scripts) are not affected.
    """
    from neurorx.backends.brian2 import run

    monkeypatch.setattr(run, "_CYTHON_FAILED", ["the tests run target='auto' on numpy (tests/conftest.py)"])


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


#: Fixture scopes whose value is built once and shared: tests using one run in the same xdist worker.
_SHARED_SCOPES = ("module", "package", "session")


def _fixture_group(item) -> str | None:
    """The xdist group of ``item``: the widest project fixture it shares with other tests, or None.

    A session- or package-scoped fixture of a ``conftest.py`` groups every test below that conftest's folder
    (the sweep tests share one reference sweep); a module-scoped fixture groups the tests of the item's
    module. Fixtures of pytest and its plugins (``tmp_path_factory``) and cheap ones do not matter here:
    only fixtures defined in this test tree do (their ``baseid`` names a folder or module under it).
    """
    group, rank = None, 0
    for defs in item._fixtureinfo.name2fixturedefs.values():
        fixturedef = defs[-1]
        if fixturedef.scope not in _SHARED_SCOPES or not fixturedef.baseid:
            continue
        if fixturedef.scope == "module":
            candidate, candidate_rank = item.nodeid.split("::")[0], 1
        else:
            candidate, candidate_rank = fixturedef.baseid, 2
        if candidate_rank > rank:
            group, rank = candidate, candidate_rank
    return group


def pytest_configure(config):
    """In a pytest-xdist worker, torch gets this worker's share of the cores (workers x threads = cores).

    Oversubscribed OpenMP threads spin while they wait, so N workers of N torch threads each on N cores are
    slower than one thread each. Outside xdist (and in subprocesses the tests start) nothing changes.
    """
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None:
        return
    import os

    import torch

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    torch.set_num_threads(max(1, cores // int(workerinput["workercount"])))


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist, keep the tests that share a built fixture on one worker and schedule big groups first.

    ``--dist loadgroup`` sends each ``xdist_group`` to one worker and spreads the other tests one by one; so a
    trained network or a reference sweep is built once per run instead of once per worker. Groups go out in
    collection order, so the largest groups are moved to the front (longest first: the last group to start is
    a short one). Without xdist nothing changes, the order included.
    """
    if getattr(config.option, "dist", "no") == "no":
        return
    groups = {}
    for item in items:
        group = _fixture_group(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
        groups.setdefault(group, []).append(item)
    sized = sorted((g for g in groups if g is not None), key=lambda g: -len(groups[g]))
    items[:] = [item for g in sized for item in groups[g]] + groups.get(None, [])
