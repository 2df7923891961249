"""A derived value is made once and kept; a kept file that is not whole is made again."""

from __future__ import annotations

from pathlib import Path

import pytest

from jfmfactory.inputs.disk_cache import KEPT_PER_NAME, cache_folder, kept


class Maker:
    def __init__(self, value: object) -> None:
        self.value, self.calls = value, 0

    def __call__(self) -> object:
        self.calls += 1
        return self.value


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JFM_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


VALUE = {"lemmas": ("lead", "leads"), "needs": frozenset({"model"}), "code": [17, 4, 0]}


def test_a_value_is_made_once_then_read(folder: Path) -> None:
    make = Maker(VALUE)
    assert kept("table", b"v1", make) == VALUE
    assert kept("table", b"v1", make) == VALUE
    assert make.calls == 1
    assert [path.name.startswith("table-") for path in folder.iterdir()] == [True]


def test_another_key_makes_the_value_again(folder: Path) -> None:
    kept("table", b"v1", Maker(VALUE))
    edited = Maker({"lemmas": ("own",)})
    assert kept("table", b"v2", edited) == {"lemmas": ("own",)}
    assert kept("table", b"v1", Maker(None)) == VALUE  # each key its own file
    assert edited.calls == 1


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "other"])
def test_a_file_not_whole_is_made_again_and_replaced(folder: Path, damage: str) -> None:
    kept("table", b"v1", Maker(VALUE))
    (path,) = folder.iterdir()
    data = path.read_bytes()
    damaged = {
        "flip": data[:-3] + bytes([data[-3] ^ 0xFF]) + data[-2:],
        "truncate": data[: len(data) // 2],
        "empty": b"",
        "other": data.replace(data[12:20], b"0" * 8, 1),  # the header of another key
    }[damage]
    path.write_bytes(damaged)
    make = Maker(VALUE)
    assert kept("table", b"v1", make) == VALUE
    assert make.calls == 1
    assert path.read_bytes() == data


def test_a_folder_that_cannot_be_written_only_costs_the_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("JFM_CACHE_DIR", str(tmp_path / "a-file" / "cache"))
    make = Maker(VALUE)
    assert kept("table", b"v1", make) == kept("table", b"v1", make) == VALUE
    assert make.calls == 2
    assert [path.name for path in tmp_path.iterdir()] == ["a-file"]


def test_the_folder_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JFM_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_folder() == tmp_path / "xdg" / "jfmfactory"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/xdg")  # ignored, as the XDG spec says
    assert cache_folder() == tmp_path / "home" / ".cache" / "jfmfactory"


def test_with_no_home_known_nothing_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JFM_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr("os.path.expanduser", lambda path: path)  # no $HOME, no account entry
    monkeypatch.chdir(tmp_path)
    assert cache_folder() is None
    make = Maker(VALUE)
    assert kept("table", b"v1", make) == kept("table", b"v1", make) == VALUE
    assert make.calls == 2
    assert list(tmp_path.iterdir()) == []  # no folder named "~" here


def test_a_write_cut_short_leaves_no_scratch_file(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(source: str, target: Path) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("os.replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        kept("table", b"v1", Maker(VALUE))
    assert list(folder.iterdir()) == []


def test_only_the_newest_files_of_a_name_are_kept(folder: Path) -> None:
    kept("table-other", b"v0", Maker("other"))  # a name that starts like another, kept first
    for version in range(KEPT_PER_NAME + 2):
        kept("table", b"v%d" % version, Maker(version))
    assert len(list(folder.glob("table-*"))) == KEPT_PER_NAME + 1
    assert len(list(folder.glob("table-other-*"))) == 1
    newest = Maker(None)
    assert kept("table", b"v%d" % (KEPT_PER_NAME + 1), newest) == KEPT_PER_NAME + 1
    assert newest.calls == 0
    assert kept("table", b"v0", Maker("made again")) == "made again"  # the oldest was deleted
