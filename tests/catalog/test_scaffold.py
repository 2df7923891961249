"""`jfm new` underneath: a role attached to a focus the catalog lists without seeds, or a new focus;
every refusal before anything is written."""

from __future__ import annotations

import errno
import shutil
import tomllib
from pathlib import Path

import pytest

from jfmfactory.catalog import scaffold
from jfmfactory.catalog.catalog import load_catalog
from jfmfactory.catalog.scaffold import new_role
from jfmfactory.errors import BadInput
from jfmfactory.inputs.project import Project
from jfmfactory.inputs.seeds import load_role

LEVELS = ["P2", "P3"]


def roles_file(project: Project) -> Path:
    return project.catalog / "roles.toml"


@pytest.mark.parametrize("focus", ["Data Science", "data science"])
def test_a_role_of_a_focus_without_seeds_attaches_to_it_and_leaves_the_catalog_as_it_is(
    project: Project, focus: str
) -> None:
    before = roles_file(project).read_bytes()
    code = next(f for f in load_catalog(project.catalog).foci if f.name == "Data Science").code("P3")
    made = new_role(project.seeds, project.catalog, "data-science", "Data Scientist", "Data", focus, LEVELS)
    assert made.attached and made.suggested_from is None
    assert (made.focus.name, made.focus.entry.seeds) == ("Data Science", "data-science")
    assert made.focus.code("P3") == code
    assert roles_file(project).read_bytes() == before
    # The manifest names the focus as the catalog spells it; the catalog reads the role from it.
    manifest = load_role(project.seeds, "data-science").manifest
    assert (manifest.title, manifest.family, manifest.focus, manifest.levels) == (
        "Data Scientist", "Data", "Data Science", ["P2", "P3"],
    )  # fmt: skip
    attached = load_catalog(project.catalog).for_role("data-science")
    assert attached is not None and attached.name == "Data Science" and attached.code("P3") == code


def test_a_role_named_in_a_focus_whose_folder_is_missing_attaches_to_it(project: Project) -> None:
    before = roles_file(project).read_bytes()
    shutil.rmtree(project.seeds / "product-management")
    made = new_role(
        project.seeds, project.catalog, "product-management", "PM", "Product", "Product Management", ["P4"]
    )
    assert made.attached and made.focus.name == "Product Management"
    assert roles_file(project).read_bytes() == before


def test_a_new_focus_is_appended_with_a_suggested_code(project: Project) -> None:
    made = new_role(project.seeds, project.catalog, "ml-ops", "ML Ops", "Data", "ML Operations", ["P3", "P4"])
    assert not made.attached and made.suggested_from == "Data Science"
    foci = tomllib.loads(roles_file(project).read_text())["foci"]
    added = next(f for f in foci if f.get("seeds") == "ml-ops")
    assert added["name"] == "ML Operations" and added["classification"]["primary"]["suggested"] is True
    assert load_role(project.seeds, "ml-ops").manifest.focus == "ML Operations"


@pytest.mark.parametrize(
    ("role", "title", "family", "focus", "says"),
    [
        # The focus is another family's.
        ("ds", "Data Science", "Product", "Data Science",
         "--family Product: {roles} has the focus Data Science in the family Data"),
        # Another role's seeds draft the focus.
        ("pm-2", "PM", "Product", "Product Management",
         "--focus Product Management: {roles} has that focus already, drafted from "
         "{seeds}/product-management"),
        # A manifest that would not read: nothing of the catalog is touched first.
        ("x", "", "Data", "Data Things", "manifest.toml: title: String should have at least 1 character"),
        # A focus named like another focus's alias: the catalog would not load.
        ("x", "X", "Product", "Product Manager",
         "--focus Product Manager: {roles}: (top level): Value error, titles ['product manager'] belong "
         "to more than one focus"),
    ],
)  # fmt: skip
def test_a_refusal_writes_nothing(
    project: Project, role: str, title: str, family: str, focus: str, says: str
) -> None:
    roles = roles_file(project)
    before, written = roles.read_bytes(), roles.stat().st_mtime_ns  # the repository file's time
    with pytest.raises(BadInput) as refused:
        new_role(project.seeds, project.catalog, role, title, family, focus, ["P2"])
    assert says.format(roles=roles, seeds=project.seeds) in str(refused.value)
    assert "\n" not in str(refused.value)
    # Never written, not even written and put back.
    assert roles.read_bytes() == before and roles.stat().st_mtime_ns == written
    assert not (project.seeds / role).exists()


def test_a_focus_a_role_attached_to_is_refused_to_the_next(project: Project) -> None:
    new_role(project.seeds, project.catalog, "data-science", "Data Science", "Data", "Data Science", ["P2"])
    with pytest.raises(BadInput, match=r"has that focus already, drafted from .*/seeds/data-science$"):
        new_role(project.seeds, project.catalog, "ds-2", "Data Science", "Data", "Data Science", ["P2"])
    assert not (project.seeds / "ds-2").exists()


@pytest.mark.parametrize(
    ("role", "focus"), [("data-science", "Data Science"), ("ml-ops", "ML Operations")], ids=["attach", "new"]
)
def test_a_manifest_that_cannot_be_written_leaves_no_role_behind(
    project: Project, monkeypatch: pytest.MonkeyPatch, role: str, focus: str
) -> None:
    before = roles_file(project).read_bytes()
    real = scaffold.write_atomic

    def disk_full(path: Path, text: str) -> None:
        if path.name != "manifest.toml":
            return real(path, text)
        path.parent.mkdir(parents=True, exist_ok=True)  # as write_atomic does before its write fails
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(scaffold, "write_atomic", disk_full)
    with pytest.raises(OSError, match="No space left"):
        new_role(project.seeds, project.catalog, role, focus, "Data", focus, LEVELS)
    # Neither the role's folder (a retry would be told the role exists) nor its focus stays.
    assert not (project.seeds / role).exists()
    assert roles_file(project).read_bytes() == before
    monkeypatch.setattr(scaffold, "write_atomic", real)
    made = new_role(project.seeds, project.catalog, role, focus, "Data", focus, LEVELS)
    assert made.focus.entry.seeds == role and load_role(project.seeds, role).manifest.focus == focus
