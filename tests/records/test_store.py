from __future__ import annotations

import os
from pathlib import Path

import pytest

from jfmfactory.errors import BadInput
from jfmfactory.records.store import RunStore, write_atomic


def test_an_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "run.json"
    write_atomic(path, "old")
    write_atomic(path, "new")
    assert path.read_text() == "new"
    assert sorted(p.name for p in path.parent.iterdir()) == ["run.json"]


def test_a_write_that_fails_midway_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "profile.json"
    write_atomic(path, "good")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        write_atomic(path, "half")
    assert path.read_text() == "good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["profile.json"]


def test_an_out_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "out"
    blocker.write_text("a file, not a folder")
    with pytest.raises(BadInput, match=f"--out {blocker}/role: not writable"):
        RunStore(blocker / "role").prepare()
