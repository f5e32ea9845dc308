"""Small runs written to NWB, shared by the NWB tests (they need the ``data`` extra)."""

import pytest
from netfactory import make_network

import neurorx as nrx

pytest.importorskip("pynwb", reason="the NWB tests need neurorx[data]")
pytest.importorskip("pynapple", reason="the NWB tests need neurorx[data]")


@pytest.fixture(autouse=True)
def one_thread(one_torch_thread):
    """Tiny networks: one torch thread."""


@pytest.fixture(scope="module")
def spatial_rec():
    """A 3-trial spatial run, active then quiescent, with h and y recorded."""
    net = make_network(n_rec=8, n_cells=16)
    protocol = nrx.Protocol([nrx.Active(steps=20), nrx.Quiescent(steps=30)])
    return protocol.run(net, backend="torch", trials=3, seed=0, record=("h", "y"))


@pytest.fixture(scope="module")
def hd_rec():
    """A 2-trial head-direction run."""
    net = make_network(n_rec=8, task=nrx.HeadDirection(n_cells=16))
    protocol = nrx.Protocol([nrx.Active(steps=15), nrx.Quiescent(steps=10)])
    return protocol.run(net, backend="torch", trials=2, seed=1, record=("h",))

