from __future__ import annotations

from pathlib import Path

import pytest

from jfmfactory.errors import BadInput
from jfmfactory.inputs.project import Project
from jfmfactory.inputs.seeds import list_roles, load_role

ROLE = "product-management"


def test_the_shipped_role_loads_with_its_two_sources(project: Project) -> None:
    seeds = load_role(project.seeds, ROLE)
    assert seeds.manifest.levels == ["P2", "P3", "P4", "P5", "P6", "P7"]
    assert seeds.source_ids == ["S1", "S2"]
    assert "Associate PM" in seeds.sources[0].text
    assert "Chief Product Officer" in seeds.sources[1].text
    assert list_roles(project.seeds) == [ROLE]


def _manifest(project: Project) -> Path:
    return project.seeds / ROLE / "manifest.toml"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: t.replace('focus = "Product Management"', 'focus = "PM"\nfocal = "x"'),
            "focal: Extra inputs",
        ),
        (lambda t: t.replace('"P2", "P3"', '"P2", "Q3"'), "levels: Value error, unknown level"),
        (lambda t: t.replace('id = "S2"', 'id = "S1"'), "sources: Value error, source ids repeat"),
        (lambda t: t.replace('date = "2026-11-22"', 'date = "someday"', 1), "sources.0.date"),
        (lambda t: t.replace("title =", "title", 1), "cannot read manifest"),
        (
            lambda t: t.replace('file = "pm-levels-overview.txt"', 'file = "../../panel/clarity.toml"'),
            "must name a file in",
        ),
    ],
)
def test_a_malformed_manifest_is_named_with_its_field(project: Project, edit, message: str) -> None:
    path = _manifest(project)
    path.write_text(edit(path.read_text()))
    with pytest.raises(BadInput) as failure:
        load_role(project.seeds, ROLE)
    assert str(failure.value).startswith(str(path)) and message in str(failure.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "source is empty"),
        (b" \n\t", "source is empty"),
        (b"PK\x03\x04\x00\x00", "binary"),
        (b"caf\xe9", "not UTF-8"),
    ],
)
def test_an_unusable_source_file_is_refused(project: Project, content: bytes, message: str) -> None:
    path = project.seeds / ROLE / "pm-levels-overview.txt"
    path.write_bytes(content)
    with pytest.raises(BadInput, match=message) as failure:
        load_role(project.seeds, ROLE)
    assert str(path) in str(failure.value)


def test_a_missing_source_file_is_named(project: Project) -> None:
    path = project.seeds / ROLE / "pm-levels-overview.txt"
    path.unlink()
    with pytest.raises(BadInput, match="cannot read source") as failure:
        load_role(project.seeds, ROLE)
    assert str(path) in str(failure.value)


def test_an_empty_seeds_folder_has_no_roles(tmp_path: Path) -> None:
    assert list_roles(tmp_path) == []
    with pytest.raises(BadInput, match=r"roles in .*: none"):
        load_role(tmp_path, ROLE)
