import json

import numpy as np
import pytest
import torch

import neurorx as nrx
from neurorx.training import Trainer, TrainingDiverged, apply_overrides, load_card, train
from neurorx.training.checkpoint import load_checkpoint

TINY = ["rnn.n_rec=32", "trainer.n_epochs=30", "trainer.batch_size=16", "trainer.steps=20",
        "trainer.eval_every=10", "trainer.test_batch=16", "task.n_cells=64", "trainer.lr=1e-2",
        "trainer.threads=1"]


def tiny(card="spatial_navigation/noisy_unbiased", *extra):
    return apply_overrides(load_card(card), TINY + list(extra))


def weights(net):
    return {k: np.asarray(v) for k, v in net.weights.items()}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    cfg = tiny()
    return cfg, out, train(cfg, out, quiet=True)


def test_tiny_run_learns_and_writes_everything(tiny_run):
    cfg, out, net = tiny_run
    for name in ("network.npz", "metrics.jsonl", "checkpoint.npz", "config.yaml", "learning_curve.png"):
        assert (out / name).is_file(), name
    assert (out / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    curve = net.metrics["curve"]
    assert curve["batch"] == [0, 10, 20, 30]
    assert curve["test_loss"][-1] < 0.7 * curve["test_loss"][0]
    assert curve["test_error"][-1] < 0.6 * curve["test_error"][0]
    assert net.metrics["final"]["test_error"] == curve["test_error"][-1]
    assert net.metrics["chance_error"] == pytest.approx(1.147, abs=1e-3)
    assert net.metrics["fused_recurrence"] is True
    # the saved network: float32 weights, config, task with its centres, provenance
    loaded = nrx.load(out / "network.npz")
    assert all(v.dtype == np.float32 for v in loaded.weights.values())
    assert loaded.n_rec == 32 and loaded.n_out == 64 and loaded.alpha == pytest.approx(0.2)
    assert loaded.config == cfg.to_dict() and loaded.metrics["curve"] == curve
    assert loaded.provenance["seed"] == 0 and "torch" in loaded.provenance
    assert loaded.recurrent_noise.to_dict() == {"name": "reference_uniform", "placement": "recurrent",
                                                "scale": 0.01, "dt_train": 0.02, "exact_uniform": True}
    assert np.array_equal(loaded.task.centres, cfg.build_task().centres)
    # the resolved config is saved as a card
    assert load_card(out / "config.yaml") == cfg
    # metrics.jsonl: one line per batch and per evaluation
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["batch"] for r in lines if r["kind"] == "train"] == list(range(1, 31))
    assert [r["batch"] for r in lines if r["kind"] == "eval"] == [0, 10, 20, 30]
    # the checkpoint: weights + Adam state + batch index + config, no pickle
    arrays, meta = load_checkpoint(out / "checkpoint.npz")
    assert meta["batch"] == 30 and meta["config"] == cfg.to_dict()
    assert {"param/w_rec", "adam/w_rec/exp_avg", "adam/w_rec/exp_avg_sq", "adam/w_rec/step"} <= set(arrays)
    assert float(arrays["adam/w_rec/step"]) == 30.0
    assert np.array_equal(arrays["param/w_rec"], weights(loaded)["w_rec"])


def test_same_seed_same_weights_and_seed_matters(tiny_run):
    cfg, _, net = tiny_run
    again = train(cfg, None, quiet=True)
    assert all(np.array_equal(a, b) for a, b in zip(weights(net).values(), weights(again).values(), strict=True))
    other = train(apply_overrides(cfg, ["seed=1", "trainer.n_epochs=2"]), None, quiet=True)
    assert not np.array_equal(weights(other)["w_rec"], weights(net)["w_rec"])


class Interrupt(Exception):
    pass


@pytest.mark.parametrize("products", ["default", "onednn"])
def test_resume_is_bit_identical(tiny_run, tmp_path, products, request):
    cfg, _, full = tiny_run
    if products == "onednn":
        request.getfixturevalue("always_onednn")
        full = train(cfg, None, quiet=True)

    def stop_at_15(trainer, batch, rec):
        if batch == 15:
            raise Interrupt

    with pytest.raises(Interrupt):
        train(cfg, tmp_path, quiet=True, callback=stop_at_15)
    assert load_checkpoint(tmp_path / "checkpoint.npz")[1]["batch"] == 10
    resumed = train(cfg, tmp_path, resume=True, quiet=True)
    for k, v in weights(full).items():
        assert np.array_equal(weights(resumed)[k], v), k
    assert resumed.metrics["curve"] == full.metrics["curve"]
    lines = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["batch"] for r in lines if r["kind"] == "train"] == list(range(1, 31))   # no duplicates


def test_resume_can_extend_training_but_not_change_it(tiny_run, tmp_path):
    cfg, _, full = tiny_run
    train(apply_overrides(cfg, ["trainer.n_epochs=20"]), tmp_path, quiet=True)
    extended = train(cfg, tmp_path, resume=True, quiet=True)
    assert all(np.array_equal(a, b) for a, b in zip(weights(full).values(), weights(extended).values(), strict=True))
    with pytest.raises(ValueError, match=r"trainer\.lr"):
        train(apply_overrides(cfg, ["trainer.lr=0.02"]), tmp_path, resume=True, quiet=True)


def test_refuses_to_overwrite_without_force(tiny_run, tmp_path):
    cfg = apply_overrides(tiny_run[0], ["trainer.n_epochs=2"])
    train(cfg, tmp_path, quiet=True)
    with pytest.raises(FileExistsError, match="force"):
        train(cfg, tmp_path, quiet=True)
    before = (tmp_path / "network.npz").stat().st_mtime_ns
    train(cfg, tmp_path, force=True, quiet=True)
    assert (tmp_path / "network.npz").stat().st_mtime_ns >= before
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        train(cfg, tmp_path / "fresh", resume=True, quiet=True)


def test_divergence_stops_with_clear_error_and_keeps_checkpoint(tmp_path):
    cfg = tiny("spatial_navigation/noisy_unbiased", "trainer.lr=1e6", "trainer.eval_every=1")
    with pytest.raises(TrainingDiverged, match=r"diverged at batch \d+ of 30") as err:
        train(cfg, tmp_path, quiet=True)
    assert "last good checkpoint" in str(err.value) and err.value.checkpoint == tmp_path / "checkpoint.npz"
    arrays, meta = load_checkpoint(tmp_path / "checkpoint.npz")
    assert meta["batch"] == err.value.batch - 1
    assert all(np.all(np.isfinite(v)) for v in arrays.values())
    assert not (tmp_path / "network.npz").exists()
    last = json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["kind"] == "diverged" and last["batch"] == err.value.batch


def test_injected_nan_names_the_batch(tmp_path):
    cfg = tiny("spatial_navigation/noisy_unbiased", "trainer.eval_every=5")

    def poison(trainer, batch, rec):
        if batch == 7:
            with torch.no_grad():
                trainer.model.w_rec.weight[0, 0] = float("nan")

    with pytest.raises(TrainingDiverged, match=r"at batch 8 of 30.*loss is nan.*checkpoint \(batch 5\)"):
        train(cfg, tmp_path, quiet=True, callback=poison)
    assert load_checkpoint(tmp_path / "checkpoint.npz")[1]["batch"] == 5


def test_head_direction_and_gru_train(tmp_path):
    hd = Trainer(tiny("head_direction/noisy_biased", "trainer.n_epochs=10", "trainer.lr=3e-3"), None, quiet=True)
    net = hd.run()
    assert net.metrics["chance_error"] == pytest.approx(np.pi / 2)
    assert net.metrics["error_unit"] == "deg"
    assert net.metrics["curve"]["test_loss"][-1] < net.metrics["curve"]["test_loss"][0]
    gru = Trainer(tiny("spatial_navigation/noisy_unbiased_gru_white", "trainer.n_epochs=3"), None, quiet=True)
    net = gru.run()
    assert net.cell == "gru" and net.metrics["fused_recurrence"] is True   # the fused GRU backward


def test_float64_training(tmp_path):
    net = train(tiny("spatial_navigation/no-noise_unbiased", "trainer.n_epochs=3", "trainer.dtype=float64"),
                None, quiet=True)
    assert all(v.dtype == np.float32 for v in net.weights.values())


def test_log_lines_go_through_logging_and_can_be_silenced():
    import logging

    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("neurorx")
    cfg = tiny("spatial_navigation/noisy_unbiased", "trainer.n_epochs=10")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        train(cfg)
        assert [r.name for r in records] == ["neurorx.training"] * 2          # batch 0 and batch 10
        assert records[-1].getMessage().startswith("batch     10/10")
        records.clear()
        train(cfg, quiet=True)
        assert records == []
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_a_metrics_line_cut_short_by_a_kill_is_dropped_on_resume_but_a_torn_line_inside_is_refused(tiny_run, tmp_path):
    cfg, _, full = tiny_run

    def stop_at_15(trainer, batch, rec):
        if batch == 15:
            raise Interrupt

    with pytest.raises(Interrupt):
        train(cfg, tmp_path, quiet=True, callback=stop_at_15)
    metrics = tmp_path / "metrics.jsonl"
    intact = metrics.read_text()
    metrics.write_text(intact + '{"kind": "train", "bat')          # killed while appending a line
    resumed = train(cfg, tmp_path, resume=True, quiet=True)
    assert all(np.array_equal(weights(resumed)[k], v) for k, v in weights(full).items())
    lines = [json.loads(x) for x in metrics.read_text().splitlines()]
    assert [r["batch"] for r in lines if r["kind"] == "train"] == list(range(1, 31))

    torn = tmp_path / "torn"
    with pytest.raises(Interrupt):
        train(cfg, torn, quiet=True, callback=stop_at_15)
    first, rest = (torn / "metrics.jsonl").read_text().split("\n", 1)
    (torn / "metrics.jsonl").write_text(first[:10] + "\n" + rest)
    with pytest.raises(nrx.io.CorruptFileError, match="not a JSON record"):
        train(cfg, torn, resume=True, quiet=True)


def test_a_resume_the_checkpoint_cannot_serve_raises_checkpoint_mismatch(tiny_run, tmp_path):
    from neurorx.training import CheckpointMismatch

    train(apply_overrides(tiny_run[0], ["trainer.n_epochs=20"]), tmp_path, quiet=True)
    with pytest.raises(CheckpointMismatch, match=r"trainer\.lr"):
        train(apply_overrides(tiny_run[0], ["trainer.lr=0.02"]), tmp_path, resume=True, quiet=True)
    with pytest.raises(CheckpointMismatch, match=r"beyond trainer\.n_epochs"):
        train(apply_overrides(tiny_run[0], ["trainer.n_epochs=10"]), tmp_path, resume=True, quiet=True)


def test_snapshots_keep_the_intermediate_networks_as_network_files(tiny_run, tmp_path):
    cfg = apply_overrides(tiny_run[0], ["trainer.n_epochs=5", "trainer.snapshot_every=2"])
    final = train(cfg, tmp_path, quiet=True)
    names = sorted(p.name for p in (tmp_path / "snapshots").iterdir())
    assert names == ["batch_000000.npz", "batch_000002.npz", "batch_000004.npz", "batch_000005.npz"]
    last = nrx.load(tmp_path / "snapshots" / "batch_000005.npz")
    assert all(np.array_equal(a, b) for a, b in zip(weights(final).values(), weights(last).values(), strict=True))
    first = nrx.load(tmp_path / "snapshots" / "batch_000000.npz")
    assert not np.array_equal(weights(first)["w_rec"], weights(last)["w_rec"])
    train(apply_overrides(cfg, ["trainer.snapshot_every=4"]), tmp_path, force=True, quiet=True)
    assert sorted(p.name for p in (tmp_path / "snapshots").iterdir()) == [
        "batch_000000.npz", "batch_000004.npz", "batch_000005.npz"]     # the replaced run's snapshots go with it


def test_snapshot_every_is_written_only_when_set_and_must_be_positive(tiny_run):
    assert "snapshot_every" not in tiny_run[0].to_dict()["trainer"]
    assert apply_overrides(tiny_run[0], ["trainer.snapshot_every=3"]).to_dict()["trainer"]["snapshot_every"] == 3
    with pytest.raises(ValueError, match="snapshot_every"):
        apply_overrides(tiny_run[0], ["trainer.snapshot_every=0"]).validate()
