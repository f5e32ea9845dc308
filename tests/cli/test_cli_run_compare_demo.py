"""`neurorx run`, `neurorx compare` and `neurorx demo` from the command line."""

import json

import pytest
from brian2 import ms
from netfactory import make_network

import neurorx as nrx
from neurorx.cli import main
from neurorx.cli.run import parse_phase


@pytest.fixture
def net_path(tmp_path):
    return make_network(noise={"recurrent": nrx.WhiteNoise.from_step_std(0.02, 20 * ms)}).save(tmp_path / "n.npz")


def test_run_then_compare(net_path, tmp_path, capsys):
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    common = ["--phases", "active:10", "quiescent:20:start=reset", "--trials", "4"]
    assert main(["run", str(net_path), *common, "--out", str(a)]) == 0
    assert main(["run", str(net_path), *common, "--backend", "brian2", "--out", str(b), "--record", "h"]) == 0
    rec = nrx.Recording.load(b)
    assert rec.meta["backend"] == "brian2" and rec.h.shape == (4, 30, 8)
    assert main(["compare", str(a), str(b), "--json", str(tmp_path / "c.json")]) == 0
    out = capsys.readouterr().out
    assert "| quiescent | stepwise distance" in out
    # 4 paired trials: all 2^4 pair swaps are enumerated, so p cannot fall below 1/16, and the table says so
    assert "Smallest reportable permutation p: 0.062" in out
    assert json.loads((tmp_path / "c.json").read_text())["names"] == ["torch", "brian2"]


def test_run_refuses_to_overwrite(net_path, tmp_path, capsys):
    out = tmp_path / "a.npz"
    out.write_bytes(b"keep me")
    assert main(["run", str(net_path), "--phases", "active:3", "--trials", "2", "--out", str(out)]) == 2
    assert out.read_bytes() == b"keep me"
    assert "--force" in capsys.readouterr().err


def test_run_and_compare_name_directories_given_for_files(net_path, tmp_path, capsys):
    folder = tmp_path / "results"
    folder.mkdir()
    args = ["--phases", "active:3", "--trials", "2", "--force"]
    assert main(["run", str(net_path), *args, "--out", str(folder)]) == 2
    assert "is a directory; give a file name" in capsys.readouterr().err
    assert main(["run", str(tmp_path), *args, "--out", str(tmp_path / "r.npz")]) == 2   # network path: a folder
    assert "is a directory" in capsys.readouterr().err
    assert main(["compare", str(folder), str(folder)]) == 2
    assert "is a directory" in capsys.readouterr().err and list(folder.iterdir()) == []


@pytest.mark.parametrize(("spec", "match"), [("sleep:10", "KIND"), ("active:ten", "integer"),
                                             ("quiescent:5:colour=red", "bad phase option")])
def test_bad_phase_specs(spec, match):
    with pytest.raises(ValueError, match=match):
        parse_phase(spec)


def test_phase_spec_options():
    q = parse_phase("quiescent:50:start=reset,noise_scale=1,label=sleep")
    assert (q.steps, q.start, q.noise_scale, q.name) == (50, "reset", 1.0, "sleep")


def test_demo_missing_models_is_a_clear_error(tmp_path, capsys):
    assert main(["demo", "--models", str(tmp_path), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "neurorx train" in capsys.readouterr().err
