"""Both backends in one sweep on the default local cluster (each worker compiles into its own Brian2 cache)."""

import numpy as np
import pytest
import yaml

import neurorx as nrx
from neurorx.recording import Recording
from neurorx.sweep import Store


@pytest.mark.slow
def test_a_sweep_runs_both_backends_on_a_local_cluster(reference, tiny_spec, tmp_path):
    spec = yaml.safe_load(tiny_spec.read_text())
    spec["runs"]["reactivation"]["backends"] = ["torch", "brian2"]
    result = nrx.sweep(spec, out=tmp_path / "sweep", workers=2, show_progress=False)
    assert result.ok, result.summary()
    ds = result.dataset()
    assert list(ds.backend.values) == ["torch", "brian2"]
    # the torch half is the reference sweep's (same job ids, same numbers)
    torch_half = ds["total_variance"].sel(backend=["torch"])
    np.testing.assert_array_equal(torch_half.values, reference[1]["total_variance"].values)
    # Brian2 at dt = the training step reproduces the noiseless network U exactly, up to rounding
    u = ds["total_variance"].sel(condition="U")
    np.testing.assert_allclose(u.sel(backend="brian2").values, u.sel(backend="torch").values, rtol=1e-9)
    store = Store(result.out)
    runs = [j for j in result.jobs if j.kind == "run" and j.labels["backend"] == "brian2"]
    rec = Recording.load(store.path(runs[0].id) / "recording.npz")
    assert rec.meta["backend"] == "brian2" and "cache_dir" not in rec.meta["backend_options"]
