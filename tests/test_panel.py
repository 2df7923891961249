from __future__ import annotations

from pathlib import Path

import pytest

from jfmfactory.errors import BadInput
from jfmfactory.panel import load_panel
from jfmfactory.project import Project

REQUIRED_DIMENSIONS = {"grounding", "level-differentiation", "role-boundaries", "completeness", "clarity"}


def test_the_shipped_panel_covers_the_required_dimensions(project: Project) -> None:
    reviewers = load_panel(project.panel)
    assert {r.name for r in reviewers} == REQUIRED_DIMENSIONS
    for reviewer in reviewers:
        assert list(reviewer.anchors) == ["1", "2", "3", "4", "5"]
        assert reviewer.prompt.strip() and reviewer.judges.strip()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('5 = "', '6 = "'), "anchors: Value error, unexpected key(s) 6"),
        (lambda t: t.replace('3 = "', '# 3 = "'), "anchors: Value error, no description for score(s) 3"),
        (lambda t: t.replace('title = "Clarity"\n', ""), "title: Field required"),
        (lambda t: t.replace('name = "clarity"', 'name = "lucidity"'), "must match the file name 'clarity'"),
        (
            lambda t: t.replace('name = "clarity"', 'name = "Clarity Check"'),
            "name: String should match pattern",
        ),
        (lambda t: t.replace('title = "Clarity"', 'title = "Clarity'), "cannot read reviewer file"),
    ],
)
def test_a_malformed_reviewer_file_is_named_with_its_field(project: Project, edit, message: str) -> None:
    path = project.panel / "clarity.toml"
    path.write_text(edit(path.read_text()))
    with pytest.raises(BadInput) as failure:
        load_panel(project.panel)
    assert str(failure.value).startswith(f"{path}: ") and message in str(failure.value)


def test_a_panel_folder_without_reviewers_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="no reviewer files"):
        load_panel(tmp_path)
