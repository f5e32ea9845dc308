"""Every registered statistic runs on the recordings of a tiny sweep and returns labelled outputs with units."""

import numpy as np
import pytest

from neurorx.sweep import SWEEP_STATISTICS, Store
from neurorx.sweep.jobs import Output

PARAMS = {"custom": {"function": "sweep_flaky:mean_abs_decoded"}, "kl_matrix": {"n_mc": 100}}


def _inputs(reference, scope):
    result, _ = reference
    store = Store(result.out)
    runs = [j for j in result.jobs if j.kind == "run" and j.labels["seed"] == 0]
    if scope == "training":
        return {}, [store.path(next(j for j in result.jobs if j.kind == "train").id)]
    if scope == "conditions":
        return {"conditions": [j.labels["condition"] for j in runs]}, [store.path(j.id) for j in runs]
    return {}, [store.path(runs[0].id)]


@pytest.mark.parametrize("name", SWEEP_STATISTICS.names())
def test_every_statistic_gives_labelled_outputs_with_units(reference, name):
    stat = SWEEP_STATISTICS.get(name)
    extra, inputs = _inputs(reference, stat.scope)
    params = dict(PARAMS.get(name, {}))
    config = {"statistic": name, "phases": [], "function": params.pop("function", None), "params": params, **extra}
    outputs = stat.evaluate(config, inputs)
    assert outputs
    for key, out in outputs.items():
        assert isinstance(out, Output)
        values = np.asarray(out.values)
        assert values.ndim == len(out.dims), key
        assert np.isfinite(values).all(), key
        for axis, dim in enumerate(out.dims):
            if dim != "phase":
                assert len(out.coords[dim]) == values.shape[axis], (key, dim)
        assert isinstance(out.unit, str) and (out.unit or name == "custom")


def test_the_kl_matrix_is_kl_of_quiescent_against_active_with_a_uniform_column(reference):
    from neurorx.analysis import kl_divergence, kl_uniform_vs
    from neurorx.recording import Recording

    result, ds = reference
    kl = ds["kl"]
    assert list(kl.quiescent.values) == ["Us", "U", "uniform"]
    assert list(kl.estimator.values) == ["corrected", "reference"]
    assert kl.attrs["units"] == "nat"
    store = Store(result.out)
    recs = {j.labels["condition"]: Recording.load(store.path(j.id) / "recording.npz")
            for j in result.jobs if j.kind == "run" and j.labels["seed"] == 1}
    q = recs["U"].select("quiescent").decoded.reshape(-1, 2)
    a = recs["Us"].select("active").decoded.reshape(-1, 2)
    cell = kl.sel(seed=1, backend="torch", run_seed=0, active="Us")
    assert cell.sel(quiescent="U", estimator="corrected") == kl_divergence(q, a, n_mc=200, seed=0)
    assert cell.sel(quiescent="U", estimator="reference") == kl_divergence(q, a, method="reference", n_mc=200, seed=0)
    assert cell.sel(quiescent="uniform", estimator="reference") == kl_uniform_vs(
        a, box=(-1.1, 1.1), method="reference", n_mc=200, seed=0, reference_quirk=True)
