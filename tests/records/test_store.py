from __future__ import annotations

import os
from pathlib import Path

import pytest

from jfmfactory.errors import BadInput
from jfmfactory.records.evidence import Evidence, Quote
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


def test_evidence_is_written_and_read_back_as_it_was(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "out")
    assert store.read_evidence() is None
    quote = Quote(id="E1", source="S1", start=0, end=14, text="Owns the plan.", levels=["P3"])
    evidence = Evidence(role="r", level_titles={"P3": []}, quotes=[quote], sections={"skills": ["E1"]})
    store.write_evidence(evidence)
    read = store.read_evidence()
    assert read is not None and read.model_dump() == evidence.model_dump()
    assert read.quote("E1") == quote and read.quote("E2") is None


def test_an_evidence_file_jfm_did_not_write_is_named(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    (tmp_path / "evidence.json").write_text('{"role": "r", "quotes": []}')
    with pytest.raises(BadInput, match=r"evidence\.json: not an evidence file jfm wrote \(level_titles"):
        store.read_evidence()


def test_write_atomic_writes_pieces_in_turn(tmp_path: Path) -> None:
    path = tmp_path / "lines.jsonl"
    write_atomic(path, (f"{n}\n" for n in range(3)))
    assert path.read_text() == "0\n1\n2\n"
