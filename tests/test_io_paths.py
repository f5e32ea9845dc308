"""Saving never loses what was saved before, and a path that cannot be written is named before any work."""

import errno
import os

import pytest

from neurorx.errors import OutputPathError
from neurorx.io import atomic_write_bytes, check_output_dir, check_output_file


def test_a_file_under_a_file_is_named(tmp_path):
    (tmp_path / "afile.txt").write_text("x")
    with pytest.raises(OutputPathError, match=r"afile.txt is a file, not a folder"):
        atomic_write_bytes(tmp_path / "afile.txt" / "x.npz", b"data")
    with pytest.raises(OutputPathError, match=r"afile.txt is a file, not a folder"):
        check_output_file(tmp_path / "afile.txt" / "x.npz")
    with pytest.raises(OutputPathError, match=r"is an existing file; give a folder"):
        check_output_dir(tmp_path / "afile.txt")


def test_a_directory_given_for_a_file_is_named(tmp_path):
    with pytest.raises(OutputPathError, match=r"is a directory; give a file name inside it"):
        check_output_file(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to read-only folders")
def test_a_read_only_folder_is_named(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    with pytest.raises(OutputPathError, match="not writable"):
        check_output_file(ro / "x.npz")


def test_a_full_disk_keeps_the_previous_file(tmp_path, monkeypatch):
    target = tmp_path / "result.npz"
    target.write_bytes(b"old")

    def full(fd):      # the data reach the disk at fsync: a full disk fails there
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputPathError, match=r"No space left on device; free some space or choose another folder "
                                              r"\(any previous result.npz is unchanged\)"):
        atomic_write_bytes(target, b"new" * 10000, overwrite=True)
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["result.npz"]     # no temporary file left behind


def test_existing_file_is_not_replaced_without_overwrite(tmp_path):
    target = tmp_path / "r.npz"
    target.write_bytes(b"old")
    with pytest.raises(FileExistsError, match="--force"):
        check_output_file(target)
    assert check_output_file(target, overwrite=True) == target
