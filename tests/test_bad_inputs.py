"""Every failure is one clear line that names the problem and the fix, raised before any work (issue #11).

API cases go through ``pytest.raises(..., match=...)``; command-line cases through ``neurorx.cli.main`` with
their exit code (2: the user's input) and the first line they print.
"""

import warnings

import numpy as np
import pytest
from netfactory import make_network

import neurorx as nrx
from neurorx.cli import main
from neurorx.errors import ConfigurationError, ResourceError, StateRangeWarning

PROTOCOL = nrx.Protocol([nrx.Active(steps=5), nrx.Quiescent(steps=5)])


@pytest.fixture(scope="module")
def net():
    return make_network()


@pytest.mark.parametrize("budget", [0, -1, float("nan"), "lots"])
def test_memory_budget_must_be_a_positive_number(net, budget):
    with pytest.raises(ConfigurationError, match="memory_budget must be a positive number of bytes"):
        PROTOCOL.run(net, trials=2, seed=0, memory_budget=budget)


def test_a_dt_factor_that_would_take_days_is_refused_up_front(net):
    with pytest.raises(ResourceError, match=r"would take at least .* hours .*lower dt_factor"):
        PROTOCOL.run(net, backend="brian2", trials=2, seed=0, dt_factor=10**9)


@pytest.mark.parametrize("trials,steps", [(10**7, 1000), (10**5, 10**6)])
def test_a_protocol_too_large_for_memory_is_refused_before_allocating(net, trials, steps):
    with pytest.raises(ResourceError, match=r"needs at least .* of memory, but .* is available; use fewer trials"):
        nrx.Protocol([nrx.Quiescent(steps=steps)]).run(net, trials=trials, seed=0)


def test_exploding_states_give_one_warning(net):
    wild = net.with_changes(weights={**net.weights, "w_rec": np.eye(net.n_rec) * 40.0})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        PROTOCOL.run(wild, trials=2, seed=0)
    exploding = [w for w in caught if issubclass(w.category, StateRangeWarning)]
    assert len(exploding) == 1 and "the network is unstable (exploding)" in str(exploding[0].message)


def test_a_network_path_is_loaded(net, tmp_path):
    net.save(tmp_path / "n.npz")
    rec = PROTOCOL.run(str(tmp_path / "n.npz"), trials=2, seed=0)
    np.testing.assert_array_equal(rec.decoded, PROTOCOL.run(net, trials=2, seed=0).decoded)


def test_a_noise_amplitude_that_is_not_a_number():
    with pytest.raises(ConfigurationError, match=r"WhiteNoise.sigma must be a number .*; got 'abc'"):
        nrx.WhiteNoise("abc")


def test_cuda_without_cuda_names_the_fix(net):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ConfigurationError, match=r"device='cuda', but .* has no CUDA; use device='cpu'"):
        PROTOCOL.run(net, trials=2, seed=0, device="cuda")


def test_compare_names_a_phase_it_could_not_compare(net):
    a = PROTOCOL.run(net, trials=3, seed=0)
    b = nrx.Protocol([nrx.Active(steps=5)]).run(net, trials=3, seed=0)
    table = str(nrx.compare(a, b, n_boot=99, n_perm=99))
    assert "Not compared: phase 'quiescent' of torch (a) (absent from the other recording)." in table


def test_compare_refuses_hidden_states_of_different_sizes(net):
    a = PROTOCOL.run(net, trials=3, seed=0, record=("h",))
    c = PROTOCOL.run(make_network(n_rec=12), trials=3, seed=0, record=("h",))
    with pytest.raises(ValueError, match=r"hidden states have different sizes \(8 vs 12 units\)"):
        nrx.compare(a, c)


def _cli(capsys, argv):
    code = main(argv)
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    return code, err


def test_an_empty_card_is_refused(tmp_path, capsys):
    (tmp_path / "empty.yml").write_text("")
    code, err = _cli(capsys, ["train", str(tmp_path / "empty.yml"), "--out", str(tmp_path / "run"), "--quiet"])
    assert code == 2 and "is an empty card" in err[0] and len(err) == 1
    assert not (tmp_path / "run").exists()


def test_zero_training_batches_is_refused(tmp_path, capsys):
    code, err = _cli(capsys, ["train", "head_direction/noisy_unbiased", "trainer.n_epochs=0", "--out",
                              str(tmp_path / "run"), "--quiet"])
    assert code == 2 and "trainer.n_epochs must be an integer >= 1" in err[0]
    assert not (tmp_path / "run").exists()


def test_run_refuses_an_output_under_a_file_before_simulating(net, tmp_path, capsys):
    net.save(tmp_path / "net.npz")
    (tmp_path / "afile.txt").write_text("x")
    code, err = _cli(capsys, ["run", str(tmp_path / "net.npz"), "--phases", "active:5", "--trials", "2", "--out",
                              str(tmp_path / "afile.txt" / "x.npz")])
    assert code == 2 and err == [f"neurorx run: error: cannot write the file {tmp_path / 'afile.txt' / 'x.npz'}: "
                                 f"{tmp_path / 'afile.txt'} is a file, not a folder; choose a path under a folder"]


@pytest.mark.parametrize("args,first", [
    (["--trials", "0"], "demo trials must be an integer >= 1"),
    (["--quiescent", "-5"], "demo quiescent_steps must be an integer >= 1"),
])
def test_demo_settings_are_checked_before_any_work(tmp_path, capsys, args, first):
    code, err = _cli(capsys, ["demo", "--out", str(tmp_path / "d"), *args])
    assert code == 2 and first in err[0] and len(err) == 1
    assert not (tmp_path / "d").exists()


def test_demo_target_is_a_choice(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--out", str(tmp_path / "d"), "--target", "cpython"])
    assert exc.value.code == 2 and "invalid choice: 'cpython'" in capsys.readouterr().err


def test_demo_out_that_is_a_file(tmp_path, capsys):
    (tmp_path / "afile.txt").write_text("x")
    code, err = _cli(capsys, ["demo", "--out", str(tmp_path / "afile.txt")])
    assert code == 2 and "is an existing file; give a folder" in err[0] and len(err) == 1
