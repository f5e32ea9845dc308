"""neurorx.examples: the one command line of the example scripts, their sizes, and copying them out."""

import fnmatch
import re
from pathlib import Path

import pytest

from neurorx.cli import main
from neurorx.examples import (
    SIZE_ENV,
    copy_examples,
    example_parser,
    examples_dir,
    list_examples,
    parse_example_args,
    small,
)

ROOT = Path(__file__).resolve().parents[1]


def parser():
    return example_parser("Title line.\n\nMore.", "demo_script", network="spatial_navigation/noisy_unbiased",
                          backends=True, quiescent=(500, 20, "steps of quiescence"))


def test_full_sizes_are_the_default_and_the_common_options_are_there(monkeypatch):
    monkeypatch.delenv(SIZE_ENV, raising=False)
    args = parse_example_args(parser(), [])
    assert (args.trials, args.quiescent, args.target, args.force) == (100, 500, "auto", False)
    assert args.out == "runs/demo_script" and args.network == "spatial_navigation/noisy_unbiased"
    assert args.backends == ["torch", "brian2"] and args.seed == 0


def test_small_sizes_come_from_the_environment_and_the_command_line_still_wins(monkeypatch):
    monkeypatch.setenv(SIZE_ENV, "small")
    args = parse_example_args(parser(), [])
    assert (args.trials, args.quiescent, args.target, args.force) == (6, 20, "numpy", True)
    assert Path(args.out).is_dir() and "neurorx-example-" in args.out      # a fresh folder, not runs/
    assert parse_example_args(parser(), ["--trials", "9", "--quiescent", "7"]).trials == 9


def test_an_unknown_size_is_one_line_naming_the_choices(monkeypatch):
    monkeypatch.setenv(SIZE_ENV, "tiny")
    with pytest.raises(ValueError, match="NEURORX_EXAMPLE_SIZE='tiny': use one of small, full"):
        small()


def test_a_script_run_without_its_docstring_still_gets_a_parser():
    assert example_parser(None, "gallery_run").parse_args([]).out == "runs/gallery_run"


def test_every_script_builds_its_command_line_with_the_one_helper():
    for script in sorted((ROOT / "protocols").glob("*.py")):
        text = script.read_text()
        assert "example_parser(" in text and "parse_example_args(" in text, script.name
        assert "argparse.ArgumentParser(" not in text and "_common" not in text, script.name


def test_the_examples_are_package_data():
    data = re.search(r'"neurorx._protocols": \[([^\]]*)\]', (ROOT / "setup.py").read_text()).group(1)
    patterns = re.findall(r'"([^"]+)"', data)
    names = list_examples()
    assert "fig1_spatial_reactivation.py" in names and "sweeps/paper_five_seeds.yaml" in names
    for name in names:
        assert any(fnmatch.fnmatch(name, p) for p in patterns), name


def test_copy_refuses_to_overwrite_without_force_and_copies_everything(tmp_path):
    copied = copy_examples(tmp_path / "ex")
    assert sorted(p.relative_to(tmp_path / "ex").as_posix() for p in copied) == list_examples()
    assert (tmp_path / "ex" / "noise_swap.py").read_bytes() == (examples_dir() / "noise_swap.py").read_bytes()
    with pytest.raises(OSError, match="pass --force"):
        copy_examples(tmp_path / "ex")
    assert len(copy_examples(tmp_path / "ex", force=True)) == len(copied)


def test_the_cli_copies_and_lists(tmp_path, capsys):
    assert main(["examples", "copy", str(tmp_path / "ex")]) == 0
    assert "copied" in capsys.readouterr().out
    assert main(["examples", "copy", str(tmp_path / "ex")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--force" in err
    assert main(["examples", "list"]) == 0
    assert "sweeps/paper_five_seeds.yaml" in capsys.readouterr().out
