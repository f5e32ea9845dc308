"""The busy-machine note: read from the load average, without sampling or sleeping."""

import os

from neurorx.training import machine


def test_a_loaded_machine_gets_one_note_naming_the_fix(monkeypatch):
    monkeypatch.setattr(os, "getloadavg", lambda: (7.5, 7.0, 6.0))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    note = machine.busy_machine_note(2)
    assert "7.5 on 2 cores" in note and "trainer.threads=1" in note and "\n" not in note


def test_a_quiet_machine_or_one_thread_gets_none(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.5, 0.5, 0.5))
    assert machine.busy_machine_note(2) is None
    monkeypatch.setattr(os, "getloadavg", lambda: (30.0, 30.0, 30.0))
    assert machine.busy_machine_note(1) is None


def test_the_note_never_sleeps(monkeypatch):
    import time

    monkeypatch.setattr(time, "sleep", lambda s: (_ for _ in ()).throw(AssertionError("slept")))
    machine.busy_machine_note(4)
