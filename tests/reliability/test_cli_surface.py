"""Every option of every command, given a bad value, is refused with one line and exit status 2, before any work.

The cases are generated from the argument parsers (:func:`neurorx.cli.build_parser`): a numeric option added
to any command is tried here without editing this file; a new command must add its minimal valid command
line to :data:`BASE` (the test that checks :data:`BASE` covers every command fails until it does).
"""

import math
import time

import pytest

from neurorx.cli import _subparsers, build_parser, classify, main
from neurorx.errors import ConfigurationError, ResourceError, SimulationError

TINY_SPEC = "tests/sweep/tiny.yaml"
#: Values that no numeric option accepts (counts are positive, seeds and sizes non-negative, all finite).
BAD_NUMBERS = {int: ["-1"], float: ["-1", "nan", "inf"]}
#: A value above every count's limit (resources refused before anything is allocated).
HUGE = "1000000000000"
#: Options for which the huge value is valid (seeds, limits raised on purpose, a sampling stride).
HUGE_IS_VALID = {"--seed", "--max-jobs", "--max-resamples", "--every", "--epsilons"}


@pytest.fixture(scope="module")
def base(tmp_path_factory, network_file, recordings, models_dir):
    """The smallest valid command line of each command (the options under test are appended to it)."""
    tmp = tmp_path_factory.mktemp("cli")
    a, b = recordings
    return {
        "train": ["head_direction/noisy_unbiased", "--show"],
        "run": [str(network_file), "--phases", "active:3", "quiescent:3", "--trials", "2", "--out",
                str(tmp / "r.npz"), "--force"],
        "compare": [str(a), str(b), "--n-boot", "20", "--n-perm", "19"],
        "demo": ["--models", str(models_dir), "--out", str(tmp / "demo"), "--trials", "3", "--quiescent", "10",
                 "--backends", "torch", "--no-head-direction", "--quiet", "--force"],
        "sweep": [TINY_SPEC, "--out", str(tmp / "sweep"), "--scheduler", "sync", "--dry-run"],
        "ei": [],
        "ei experiment": ["--quick", "--out", str(tmp / "ei"), "--quiet", "--conditions", "ln_plus", "--epsilons",
                          "0", "--force"],
        "ei check": ["--error-norms", "none"],
        "nwb": [],
        "nwb analyse": [_lab_file(tmp / "lab.nwb"), "--bin-size", "100 ms"],
        "examples": [],
        "examples list": [],
        "examples copy": [str(tmp / "examples"), "--force"],
    }


def _lab_file(path) -> str:
    """A head-direction NWB file in a lab's layout (tests/lab_nwb.py)."""
    from lab_nwb import make_hd_lab_file

    make_hd_lab_file(path)
    return str(path)


def _parsers():
    """``(command words, parser)`` of every command and subcommand."""
    return [(sp.prog.split()[1:], sp) for sp in _subparsers(build_parser())]


def _numeric_options():
    cases = []
    for words, parser in _parsers():
        for action in parser._actions:
            if action.option_strings and action.type in BAD_NUMBERS:
                cases.append((words, action.option_strings[-1], action.type))
    return cases


NUMERIC = _numeric_options()


def _call(capsys, argv, limit: float = 20.0):
    """Exit status and stderr lines of ``neurorx ARGV`` run in this process; asserts it answered quickly."""
    t0 = time.perf_counter()
    try:
        code = main(argv)
    except SystemExit as exit_:          # argparse's own refusals
        code = exit_.code
    took = time.perf_counter() - t0
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert took < limit, f"neurorx {' '.join(argv)} took {took:.0f} s before answering"
    return code, err


def test_every_command_has_a_base_command_line(base):
    assert {" ".join(words) for words, _ in _parsers()} == set(base)


def test_the_surface_is_not_empty():
    # every command with numbers is covered; a parser change that hides its options would empty this table
    assert len(NUMERIC) >= 20 and {w[0] for w, _, _ in NUMERIC} >= {"run", "compare", "demo", "sweep", "ei"}


@pytest.mark.parametrize("words,option,kind", NUMERIC, ids=[f"{' '.join(w)} {o}" for w, o, _ in NUMERIC])
def test_a_negative_or_non_finite_number_is_one_line_and_exit_2(capsys, base, words, option, kind):
    for value in BAD_NUMBERS[kind]:
        code, err = _call(capsys, [*words, *base[" ".join(words)], option, value])
        assert code == 2, (value, err)
        assert len(err) == 1, err
        assert "Traceback" not in "\n".join(err)


@pytest.mark.parametrize("words,option,kind", NUMERIC, ids=[f"{' '.join(w)} {o}" for w, o, _ in NUMERIC])
def test_a_number_that_is_not_a_number_is_one_line_naming_the_option(capsys, base, words, option, kind):
    # argparse's own refusal, one line (not the command's whole usage) naming the option and where help is
    bad = "abc" if kind is float else "1.5"
    code, err = _call(capsys, [*words, *base[" ".join(words)], option, bad])
    assert code == 2 and len(err) == 1 and option in err[0] and "--help" in err[0], err


HUGE_CASES = [c for c in NUMERIC if c[1] not in HUGE_IS_VALID]


@pytest.mark.parametrize("words,option,kind", HUGE_CASES, ids=[f"{' '.join(w)} {o}" for w, o, _ in HUGE_CASES])
def test_a_count_beyond_this_machine_is_refused_with_the_estimate(capsys, base, words, option, kind):
    argv = [*words, *base[" ".join(words)], option, HUGE]
    if words == ["sweep"]:
        argv.remove("--dry-run")        # --workers is checked when a cluster would start
    code, err = _call(capsys, argv)
    assert code == 2 and len(err) == 1, err
    assert any(w in err[0] for w in ("memory", "hours", "limit", "outside", "cores")), err[0]


@pytest.mark.parametrize("key", ["rnn.n_rec", "trainer.batch_size", "trainer.steps", "trainer.lr", "seed",
                                 "noise.recurrent.scale", "rnn.tau", "rnn.dt"])
@pytest.mark.parametrize("value", ["nan", "-1", "1e400", "abc"])
def test_train_refuses_a_bad_number_for_a_card_key(capsys, key, value):
    code, err = _call(capsys, ["train", "head_direction/noisy_unbiased", f"{key}={value}", "--show"])
    assert code == 2 and len(err) == 1, err


@pytest.mark.parametrize("err,code,words", [
    (ConfigurationError("x"), 2, "error: x"),
    (ResourceError("x"), 2, "error: x"),
    (SimulationError("x"), 2, "error: x"),
    (FileNotFoundError(2, "No such file or directory", "/nope/a.npz"), 2,
     "could not open /nope/a.npz: No such file or directory; check the path"),
    (PermissionError(13, "Permission denied", "/ro/x"), 2, "could not write /ro/x: Permission denied; choose a folder"),
    (OSError(30, "Read-only file system", "/ro/x"), 2, "could not write /ro/x: Read-only file system"),
    (OSError(28, "No space left on device", "/full/x"), 1, "free some space"),
    (MemoryError(), 1, "out of memory"),
    (OverflowError("math range error"), 1, "numeric failure"),
    (RuntimeError("boom"), 1, "internal error: RuntimeError: boom"),
    (KeyboardInterrupt(), 130, "interrupted"),
])
def test_each_kind_of_failure_has_its_exit_status_and_one_line(err, code, words):
    status, line = classify(err)
    assert status == code and words in line and "\n" not in line


@pytest.mark.parametrize("error,code", [(RuntimeError("boom"), 1), (KeyboardInterrupt(), 130)])
def test_an_unexpected_error_is_one_line_and_v_adds_the_traceback(capsys, monkeypatch, recordings, error, code):
    import neurorx

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(neurorx, "compare", fail)
    a, b = map(str, recordings)
    status, err = _call(capsys, ["compare", a, b])
    assert status == code and len(err) == 1 and err[0].startswith("neurorx compare: " if code == 1 else "neurorx: ")
    status, err = _call(capsys, ["compare", a, b, "-v"])
    assert status == code
    if code == 1:
        assert "Traceback" in "\n".join(err) and err[-1].startswith("neurorx compare: internal error")


def test_the_sigterm_exit_status_is_143(capsys, monkeypatch, recordings):
    import neurorx
    from neurorx.cli import Terminated

    def stop(*args, **kwargs):
        raise Terminated

    monkeypatch.setattr(neurorx, "compare", stop)
    status, err = _call(capsys, ["compare", *map(str, recordings)])
    assert status == 143 and err == ["neurorx: terminated (SIGTERM)"]


def test_limits_are_finite_numbers():
    from neurorx.resources import LIMITS

    assert all(isinstance(v, int) and 0 < v < math.inf for v in LIMITS.values())
