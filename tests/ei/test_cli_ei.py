"""`neurorx ei experiment` and `neurorx ei check` from the command line."""

import json

from neurorx.cli import COMMANDS, build_parser, main


def test_ei_is_a_registered_command():
    build_parser()
    assert "ei" in COMMANDS


def test_quick_experiment_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "ei"
    args = ["ei", "experiment", "--quick", "--out", str(out), "--conditions", "inorm", "inorm_full",
            "--epochs", "1", "--epsilons", "0", "0.5", "--quiet"]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_runs"] == 4 and summary["paired"]["inorm_full-inorm"]["n_pairs"] == 2


def test_bad_input_is_one_line_and_exit_status_2(tmp_path, capsys):
    assert main(["ei", "experiment", "--quick", "--out", str(tmp_path / "x"), "--epsilons", "1.5"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("neurorx ei:") and "outside [0, 1]" in err and "\n" not in err
    assert main(["ei", "experiment", "--quick", "--out", str(tmp_path / "y"), "--conditions", "fulll"]) == 2
    assert "unknown experimental condition 'fulll'" in capsys.readouterr().err


def test_check_prints_the_alignment_per_variant(capsys):
    assert main(["ei", "check", "--error-norms", "none", "full"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["error_norm"] for x in lines] == ["none", "full"]
    assert lines[0]["grad_cosine"] < 0.5 < 0.98 < lines[1]["grad_cosine"]
