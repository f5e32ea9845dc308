"""A sweep that asks for NWB output (``nwb: true`` in a run) writes one valid NWB file per run into its job folder,
which the store hashes and verifies like every other output; runs without it keep their job ids."""

import numpy as np
import pytest

import neurorx as nrx
from neurorx.sweep import Store, expand, load_spec
from neurorx.sweep.spec import SpecError
from neurorx.sweep.verify import verify

pytest.importorskip("pynwb")

SPEC = {"name": "tiny_nwb", "retries": 0,
        "train": {"seeds": [0], "overrides": ["rnn.n_rec=8", "trainer.n_epochs=2", "trainer.batch_size=4",
                                              "trainer.steps=5", "trainer.test_batch=4", "trainer.eval_every=1"],
                  "conditions": {"Us": {"card": "spatial_navigation/noisy_unbiased"}}},
        "runs": {"reactivation": {"protocol": [{"phase": "active", "steps": 5},
                                               {"phase": "quiescent", "steps": 10, "start": "reset"}],
                                  "trials": 3, "seeds": [0, 1], "record": ["h"], "nwb": True}},
        "statistics": {"total_variance": {"of": "reactivation"}}}


@pytest.fixture(scope="module")
def nwb_sweep(tmp_path_factory, sync_sweep):
    return sync_sweep(SPEC, tmp_path_factory.mktemp("nwb_sweep"))


def _run_jobs(result):
    return [j for j in result.jobs if j.kind == "run"]


def test_each_run_writes_an_nwb_file_that_pynapple_opens_and_nwbinspector_accepts(nwb_sweep):
    import pynapple as nap

    from neurorx.io import nwb

    _, result = nwb_sweep
    store = Store(result.out)
    jobs = _run_jobs(result)
    assert len(jobs) == 2                                # two run seeds
    for job in jobs:
        folder = store.path(job.id)
        path = folder / "recording.nwb"
        assert path.is_file()
        assert not [p for p in folder.iterdir() if p.name.endswith(".tmp.nwb")]    # staged, then renamed
        problems = [f"{m.importance.name} {m.check_function_name}: {m.message}" for m in nwb.inspect(path)]
        assert problems == []
        data = nap.load_file(str(path))
        rates, epochs = data["rates"], data["epochs"]
        assert isinstance(epochs, nap.IntervalSet) and len(epochs) == 3 * 2      # trials x phases
        rec = nrx.Recording.load(folder / "recording.npz")
        np.testing.assert_allclose(rates.values, rec.h.reshape(-1, rec.h.shape[-1]))
        assert isinstance(data["position"], nap.TsdFrame)


def test_the_store_records_and_verifies_the_nwb_file_like_any_output(nwb_sweep):
    spec, result = nwb_sweep
    store = Store(result.out)
    job = _run_jobs(result)[0]
    digest = store.record(job.id)["outputs"]["recording.nwb"]
    assert digest["size"] == (store.path(job.id) / "recording.nwb").stat().st_size and len(digest["sha256"]) == 64
    assert verify(spec, out=result.out).ok
    path = store.path(job.id) / "recording.nwb"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF                                     # damage at the same size: only the hash sees it
    path.write_bytes(bytes(data))
    report = verify(spec, out=result.out)
    assert job.id in report.damaged and "recording.nwb" in report.damaged[job.id]


def test_runs_without_nwb_keep_their_job_ids(tmp_path):
    without = {**SPEC, "runs": {"reactivation": {k: v for k, v in SPEC["runs"]["reactivation"].items()
                                                 if k != "nwb"}}}
    ids = {j.id for j in expand(load_spec(without)) if j.kind == "run"}
    assert all("nwb" not in j.config for j in expand(load_spec(without)))
    assert ids.isdisjoint(j.id for j in expand(load_spec(SPEC)) if j.kind == "run")   # the NWB file is an output
    assert "nwb" not in load_spec(without).to_dict()["runs"]["reactivation"]


def test_nwb_must_be_true_or_false():
    bad = {**SPEC, "runs": {"reactivation": {**SPEC["runs"]["reactivation"], "nwb": "yes"}}}
    with pytest.raises(SpecError, match=r"runs\.reactivation\.nwb must be true .* or false; got 'yes'"):
        load_spec(bad)
