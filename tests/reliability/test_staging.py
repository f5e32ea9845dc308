"""neurorx.staging: a file or folder of outputs appears complete or not at all; nothing saved before is lost."""

import os
import subprocess
import sys

import pytest

from neurorx.cli import Terminated
from neurorx.errors import OutputPathError
from neurorx.io import atomic_write_bytes
from neurorx.staging import StagedFolder, staged_file


def _files(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_new_folder_appears_only_when_its_block_succeeds(tmp_path):
    out = tmp_path / "a" / "b" / "report"
    with StagedFolder(out, complete="report.md", outputs=("x.png",)) as stage:
        (stage / "x.png").write_text("x")
        assert not out.exists()
        (stage / "report.md").write_text("done")
    assert _files(out) == ["report.md", "x.png"] and _files(out.parent) == ["report"]


@pytest.mark.parametrize("error", [ValueError("bad"), Terminated(), KeyboardInterrupt()])
def test_a_failed_new_folder_leaves_nothing_not_even_its_parents(tmp_path, error):
    out = tmp_path / "a" / "b" / "report"
    with pytest.raises(type(error)), StagedFolder(out, complete="report.md") as stage:
        (stage / "x.png").write_text("x")
        raise error
    assert _files(tmp_path) == []


def test_a_forced_replacement_keeps_the_old_outputs_until_it_is_complete(tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    for name in ("report.md", "old.png", "notes.txt"):
        (out / name).write_text("old")
    folder = StagedFolder(out, complete="report.md", outputs=("old.png", "new.png"), force=True)
    with pytest.raises(Terminated), folder as stage:
        (stage / "new.png").write_text("new")
        raise Terminated
    assert _files(out) == ["notes.txt", "old.png", "report.md"]
    with folder as stage:
        (stage / "new.png").write_text("new")
        (stage / "report.md").write_text("new")
    # the old run's output with no counterpart is gone (no mixed folder); the user's own file stays
    assert _files(out) == ["new.png", "notes.txt", "report.md"] and (out / "report.md").read_text() == "new"


def test_an_existing_report_is_refused_without_force_before_any_work(tmp_path):
    (tmp_path / "report.md").write_text("old")
    with pytest.raises(FileExistsError, match="--force"):
        StagedFolder(tmp_path, complete="report.md")


def test_an_output_folder_that_is_a_file_is_refused_up_front(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputPathError, match="is an existing file"):
        StagedFolder(tmp_path / "f", complete="report.md")


def test_staging_left_by_a_killed_process_is_removed_by_the_next_writer(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".staging-{int(dead.stdout)}-abc"
    stale.mkdir()
    (stale / "half.png").write_text("x")
    with StagedFolder(tmp_path, complete="report.md", force=True) as stage:
        (stage / "report.md").write_text("new")
    assert _files(tmp_path) == ["report.md"]


def test_a_staged_file_replaces_the_old_one_only_when_complete(tmp_path):
    path = tmp_path / "r.json"
    path.write_text("old")
    with pytest.raises(Terminated), staged_file(path, overwrite=True) as tmp:
        tmp.write_text("half")
        raise Terminated
    assert path.read_text() == "old" and _files(tmp_path) == ["r.json"]
    with staged_file(path, overwrite=True) as tmp:
        tmp.write_text("new")
    assert path.read_text() == "new" and oct(path.stat().st_mode & 0o777) != oct(0o600)


def test_a_write_that_fails_names_the_path_and_the_cause_and_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "r.bin"
    path.write_bytes(b"old")

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputPathError, match=r"could not write .*r\.bin: No space left on device; free some space"):
        atomic_write_bytes(path, b"new", overwrite=True)
    assert path.read_bytes() == b"old" and _files(tmp_path) == ["r.bin"]
