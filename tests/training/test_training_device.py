"""``trainer.device``: where a training runs (``auto``: CUDA when torch sees a GPU, else the CPU)."""

import numpy as np
import pytest
import torch

from neurorx.cli import main
from neurorx.errors import ConfigurationError
from neurorx.training import Trainer, apply_overrides, load_card, train
from neurorx.training.config import RESULT_FREE_KEYS, RESUME_FREE_KEYS
from neurorx.training.device import resolve_device

TINY = ["rnn.n_rec=16", "trainer.n_epochs=4", "trainer.batch_size=8", "trainer.steps=10", "trainer.eval_every=2",
        "trainer.test_batch=8", "task.n_cells=32", "trainer.threads=1"]


def tiny(*extra):
    return apply_overrides(load_card("head_direction/noisy_unbiased"), TINY + list(extra))


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_auto_is_cuda_when_torch_sees_a_gpu_and_cpu_otherwise(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")
    assert resolve_device("cpu") == torch.device("cpu")


def test_the_default_device_is_auto():
    assert load_card("spatial_navigation/noisy_unbiased").trainer.device == "auto"


@pytest.mark.parametrize("name", ["tpu", "gpu", "cuda:x", "CPU"])
def test_a_device_that_is_not_one_is_refused_with_the_choices(name):
    with pytest.raises(ConfigurationError, match=r"trainer\.device must be one of auto, cpu, cuda, cuda:N"):
        tiny(f"trainer.device={name}")


@pytest.mark.parametrize("name", ["cuda", "cuda:1"])
def test_a_cuda_request_without_a_gpu_is_one_line_naming_the_fix(no_gpu, name):
    with pytest.raises(ConfigurationError) as err:
        Trainer(tiny(f"trainer.device={name}"))
    message = str(err.value)
    assert "\n" not in message
    assert f"trainer.device = '{name}'" in message and "trainer.device=cpu" in message


def test_the_cli_refuses_an_unavailable_gpu_with_one_line_and_writes_nothing(no_gpu, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "head_direction/noisy_unbiased", *TINY, "trainer.device=cuda", "--out", str(out),
                 "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "trainer.device=cpu" in err
    assert not (out / "network.npz").exists()


def test_cpu_and_auto_train_the_same_network_here(no_gpu):
    auto = train(tiny(), quiet=True)
    cpu = train(tiny("trainer.device=cpu"), quiet=True)
    assert auto.metrics["device"] == cpu.metrics["device"] == "cpu"
    assert auto.provenance["train_device"] == "cpu"
    for name, w in auto.weights.items():
        assert np.array_equal(np.asarray(w), np.asarray(cpu.weights[name])), name


def test_the_device_changes_neither_a_sweep_job_id_nor_what_may_resume(no_gpu, tmp_path):
    assert "trainer.device" in RESULT_FREE_KEYS and "trainer.device" in RESUME_FREE_KEYS
    out = tmp_path / "run"
    train(tiny("trainer.device=auto"), out, quiet=True)
    net = train(tiny("trainer.device=cpu", "trainer.n_epochs=6"), out, resume=True, quiet=True)
    assert net.metrics["curve"]["batch"] == [0, 2, 4, 6]


def test_a_card_names_its_device_only_when_it_is_not_auto():
    assert "device" not in tiny().to_dict()["trainer"]          # a default card reads as it did before
    cpu = tiny("trainer.device=cpu")
    assert cpu.to_dict()["trainer"]["device"] == "cpu"
    assert type(cpu).from_dict(cpu.to_dict()) == cpu
