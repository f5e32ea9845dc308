"""Output a user expects (issue 27, trap 6): progress on long runs, plain lines (no \\r) when not on a terminal."""

import io
import logging

import pytest
from brian2 import ms
from netfactory import make_network

import neurorx as nrx
from neurorx.progress import LogBar, NoBar, progress


@pytest.fixture
def log_lines():
    """Lines written to the neurorx logger while the test runs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("neurorx")
    nrx.progress.get_logger()
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def test_not_a_terminal_gives_plain_log_lines(monkeypatch, log_lines):
    monkeypatch.setattr("sys.stderr.isatty", lambda: False, raising=False)
    bar = progress(100, "torch run", "step")
    assert isinstance(bar, LogBar)
    bar.interval = 0.0
    for _ in range(4):
        bar.update(25)
    bar.close()
    text = log_lines.getvalue()
    assert "\r" not in text
    assert "torch run: 25/100 step (25%)" in text and "torch run: 100/100 step in" in text
    assert isinstance(progress(10, "sweep", "job", tty_only=True), NoBar)    # callers that log their own lines


def test_a_delay_keeps_short_work_silent(monkeypatch, log_lines):
    monkeypatch.setattr("sys.stderr.isatty", lambda: False, raising=False)
    bar = progress(10, "short", "step", delay=60.0)
    bar.update(10)
    bar.close()
    assert log_lines.getvalue() == ""


def test_protocol_run_reports_progress_by_default_once_it_is_slow(monkeypatch, log_lines):
    import neurorx.protocol_run as runner

    monkeypatch.setattr("sys.stderr.isatty", lambda: False, raising=False)
    monkeypatch.setattr(runner, "PROGRESS_DELAY", 0.0)          # "slow" from the first chunk
    net = make_network(noise={"recurrent": nrx.WhiteNoise.from_step_std(0.01, 20 * ms)})
    nrx.Protocol([nrx.Active(steps=5)]).run(net, trials=2, seed=0)
    assert "torch run: 5/5 step" in log_lines.getvalue()
    before = log_lines.getvalue()
    nrx.Protocol([nrx.Active(steps=5)]).run(net, trials=2, seed=0, progress=False)
    assert log_lines.getvalue() == before
