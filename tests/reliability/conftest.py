"""Fixtures of the reliability suite: tiny networks, recordings and a tiny models folder, built once per module."""

import pytest
from brian2 import ms
from netfactory import make_network

import neurorx as nrx


@pytest.fixture(scope="module")
def network_file(tmp_path_factory):
    """A small spatial network saved as ``.npz``."""
    path = tmp_path_factory.mktemp("net") / "net.npz"
    make_network(noise={"recurrent": nrx.WhiteNoise(0.05)}).save(path)
    return path


@pytest.fixture(scope="module")
def recordings(tmp_path_factory, network_file):
    """Two short recordings of the same protocol (seeds 0 and 1), saved as ``.npz``."""
    root = tmp_path_factory.mktemp("rec")
    protocol = nrx.Protocol([nrx.Active(steps=10), nrx.Quiescent(steps=10)])
    paths = []
    for seed in (0, 1):
        rec = protocol.run(str(network_file), trials=4, seed=seed, record=("h",), progress=False)
        paths.append(rec.save(root / f"rec{seed}.npz"))
    return paths


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    """A models folder with the two spatial networks the demo needs (16 units)."""
    root = tmp_path_factory.mktemp("models")
    noise = {"recurrent": nrx.ReferenceUniformNoise(0.01, 20 * ms)}
    for name, biased, seed in (("noisy_unbiased", False, 0), ("noisy_biased", True, 1)):
        task = nrx.SpatialNavigation(n_cells=32, seed=0, biased=biased)
        make_network(n_rec=16, task=task, noise=noise, seed=seed).save(root / f"spatial_navigation/{name}.npz")
    return root
