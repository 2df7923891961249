"""The calibration set as data: cases load, labels name panel dimensions, `jfm label` adds to it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import REPO
from jfmfactory.api import label
from jfmfactory.calibration.cases import load_cases
from jfmfactory.errors import BadInput
from jfmfactory.inputs.project import Project

DIMENSIONS = ["clarity", "completeness", "grounding", "level-differentiation", "role-boundaries"]


def test_the_shipped_set_has_published_handwritten_and_drafted_cases() -> None:
    cases = {case.name: case for case in load_cases(REPO / "calibration" / "cases", DIMENSIONS)}
    assert set(cases) >= {"published-p5", "published-p6", "handwritten", "embedded-draft"}
    # Published profiles rest on sources we do not hold: their grounding is labelled by no one.
    for name in ("published-p5", "published-p6"):
        assert "grounding" in cases[name].spec.unlabelled and "grounding" not in cases[name].spec.labels
    assert {label.verdict for label in cases["handwritten"].spec.labels.values()} == {"pass"}
    assert {label.verdict for label in cases["embedded-draft"].spec.labels.values()} == {"fail"}
    assert not cases["embedded-draft"].spec.gold


def test_every_handwritten_quote_stands_word_for_word_in_its_source() -> None:
    support = json.loads((REPO / "calibration" / "cases" / "handwritten" / "support.json").read_text())
    manifest = {"S1": "pm-skills-by-level-qa.txt", "S2": "pm-levels-overview.txt"}
    texts = {
        sid: " ".join((REPO / "seeds" / "product-management" / f).read_text().split())
        for sid, f in manifest.items()
    }
    assert len(support) >= 60
    for entry in support:
        assert " ".join(entry["quote"].split()) in texts[entry["source"]], entry["quote"]


def test_a_label_of_a_dimension_no_reviewer_judges_is_refused(project: Project) -> None:
    case = project.calibration / "cases" / "handwritten" / "case.toml"
    case.write_text(case.read_text() + '\n[labels.tone]\nverdict = "pass"\nby = "x"\nwhy = "y"\n')
    with pytest.raises(BadInput, match=r"case.toml: no reviewer judges tone"):
        load_cases(project.calibration / "cases", DIMENSIONS)


def _drafted(project: Project) -> Path:
    """A drafted profile in out/, as `jfm draft` leaves it (the handwritten case's, with provenance)."""
    out = project.out_dir("product-management", None)
    out.mkdir(parents=True)
    text = (project.calibration / "cases" / "handwritten" / "profile.json").read_text()
    (out / "profile.json").write_text(text)
    return out / "profile.json"


def test_labels_of_one_profile_gather_in_one_case_and_feed_the_set(project: Project) -> None:
    _drafted(project)
    first = label(project, "product-management", "clarity", "fail", "vague at P5", "ana")
    second = label(project, "product-management", "grounding", "pass", "every item cites a sentence", "bo")
    assert first == second and first.name.startswith("product-management-")
    (case,) = [c for c in load_cases(project.calibration / "cases", DIMENSIONS) if c.name == first.name]
    assert {d: (lb.verdict, lb.by, lb.why) for d, lb in case.spec.labels.items()} == {
        "clarity": ("fail", "ana", "vague at P5"),
        "grounding": ("pass", "bo", "every item cites a sentence"),
    }
    assert not case.spec.gold and case.profile.provenance is None
    assert case.spec.origin == "jfm label: out/product-management/profile.json"


@pytest.mark.parametrize(
    ("dimension", "note", "message"),
    [("tone", "why", "--dimension tone: the panel's dimensions are clarity"), ("clarity", " ", "--note")],
)
def test_a_label_names_a_panel_dimension_and_says_why(
    project: Project, dimension: str, note: str, message: str
) -> None:
    _drafted(project)
    with pytest.raises(BadInput, match=message):
        label(project, "product-management", dimension, "pass", note, "ana")


def test_a_label_for_an_undrafted_role_names_the_missing_profile(project: Project) -> None:
    with pytest.raises(
        BadInput, match=r"profile.json \(draft the role first, or pass --profile\): no such profile"
    ):
        label(project, "product-management", "clarity", "pass", "fine", "ana")
