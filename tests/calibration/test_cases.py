"""The calibration set as data: cases load, labels name panel dimensions, `jfm label` adds to it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import REPO
from jfmfactory.api import label
from jfmfactory.calibration.cases import Case, case_toml, load_case, load_cases
from jfmfactory.calibration.run import summarise, trials_of
from jfmfactory.cli import app
from jfmfactory.errors import BadInput
from jfmfactory.inputs.guard import screen
from jfmfactory.inputs.project import Project
from jfmfactory.inputs.seeds import load_role
from jfmfactory.pipeline.checks import Finding, check_grounding_support
from jfmfactory.pipeline.role_inputs import read_inputs
from jfmfactory.records.sections import items

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
    # Only the handwritten case says what its items rest on; the others are judged by no quote.
    assert cases["handwritten"].evidence is not None
    for name in ("published-p5", "published-p6", "embedded-draft"):
        assert cases[name].evidence is None and not cases[name].quotes.quotes


def test_every_handwritten_quote_stands_word_for_word_in_its_source() -> None:
    case = load_case(REPO / "calibration" / "cases" / "handwritten")
    evidence = case.evidence
    assert evidence is not None and evidence.role == case.spec.role
    seeds, _ = screen(load_role(REPO / "seeds", case.spec.role))
    texts = {source.id: source.text for source in seeds.sources}
    assert len(evidence.quotes) >= 60
    for quote in evidence.quotes:
        assert texts[quote.source][quote.start : quote.end] == quote.text, quote.id
    # Every cited item rests on quotes of its own sources, and every quote holds up an item or the
    # description (the overview's quotes).
    cited = [item for item in items(case.profile) if item.sources is not None]
    named = {quote_id for item in cited for quote_id in item.evidence}
    assert all(item.evidence for item in cited if item.sources)
    for item in cited:
        for quote_id in item.evidence:
            quote = evidence.quote(quote_id)
            assert quote is not None and quote.source in item.sources, (item.text, quote_id)
    assert named | set(evidence.sections["overview"]) == {quote.id for quote in evidence.quotes}


def test_the_handwritten_case_passes_grounding_on_its_evidence_and_fails_without(tmp_path: Path) -> None:
    folder = REPO / "calibration" / "cases" / "handwritten"
    inputs = read_inputs(Project.find(REPO), "product-management")
    bare = tmp_path / "handwritten"
    shutil.copytree(folder, bare)
    (bare / "evidence.json").unlink()

    def grounding(case: Case) -> Finding:
        checks = inputs.with_evidence(case.quotes).checks
        return check_grounding_support(case.profile, checks, checks.messages["grounding-support"])

    grounded = grounding(load_case(folder))
    assert grounded.score == 5 and not grounded.issues, grounded.issues
    # Without its quotes no cited item rests on anything: grounding fails closed, item by item.
    ungrounded = grounding(load_case(bare))
    cited = [item for item in items(load_case(bare).profile) if item.sources]
    assert ungrounded.score == 1 and len(ungrounded.issues) == len(cited) >= 60


def test_a_label_of_a_dimension_no_reviewer_judges_is_refused(project: Project) -> None:
    case = project.calibration / "cases" / "handwritten" / "case.toml"
    case.write_text(case.read_text() + '\n[labels.tone]\nverdict = "pass"\nby = "x"\nwhy = "y"\n')
    with pytest.raises(BadInput, match=r"case.toml: no reviewer judges tone"):
        load_cases(project.calibration / "cases", DIMENSIONS)


def test_evidence_of_another_role_is_refused(project: Project) -> None:
    path = project.calibration / "cases" / "handwritten" / "evidence.json"
    path.write_text(path.read_text().replace('"role": "product-management"', '"role": "design"', 1))
    with pytest.raises(BadInput, match=r"evidence.json: is evidence of 'design', not 'product-management'"):
        load_cases(project.calibration / "cases", DIMENSIONS)


def _drafted(project: Project, evidence: bool = True) -> Path:
    """A drafted profile in out/, as `jfm draft` leaves it (the handwritten case's, with the
    evidence.json its items name unless `evidence` is false)."""
    out = project.out_dir("product-management", None)
    out.mkdir(parents=True, exist_ok=True)
    case = project.calibration / "cases" / "handwritten"
    shutil.copy(case / "profile.json", out / "profile.json")
    if evidence:
        shutil.copy(case / "evidence.json", out / "evidence.json")
    else:
        (out / "evidence.json").unlink(missing_ok=True)
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
    # The case keeps the quotes the profile's items name.
    handwritten = load_case(project.calibration / "cases" / "handwritten")
    assert case.evidence == handwritten.evidence is not None


def test_a_label_keeps_the_profile_with_its_evidence_or_with_none(project: Project) -> None:
    _drafted(project, evidence=False)
    bare = label(project, "product-management", "clarity", "pass", "clear", "ana")
    assert not (bare / "evidence.json").exists() and load_case(bare).evidence is None
    # The same profile resting on quotes is another case; it cannot join the one that has none.
    _drafted(project)
    grounded = label(project, "product-management", "clarity", "pass", "clear", "ana")
    assert grounded != bare and (grounded / "evidence.json").is_file()
    with pytest.raises(BadInput, match=r"holds the profile with other evidence; name a new case"):
        label(project, "product-management", "grounding", "pass", "cited", "bo", case_name=bare.name)


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


PM = "product-management"


def test_a_second_persons_verdict_is_kept_beside_the_first_and_a_disagreement_is_no_trial(
    project: Project,
) -> None:
    _drafted(project)
    folder = label(project, PM, "clarity", "pass", "clear at every level", "ana")
    said: list[str] = []
    assert label(project, PM, "clarity", "fail", "vague at P5", "bo", tell=said.append) == folder
    case = load_case(folder)
    assert [(lb.verdict, lb.by, lb.why) for lb in case.spec.verdicts["clarity"]] == [
        ("pass", "ana", "clear at every level"),
        ("fail", "bo", "vague at P5"),
    ]
    # They disagree: as with items, nobody's verdict stands, so the panel is measured on no
    # trial of it (and the summary lists no label of it) until a verdict by "settled" decides.
    assert said == [
        f"{folder / 'case.toml'}: clarity: bo says fail, ana said pass; the readers disagree, so it is "
        'left out of calibration until a verdict by "settled" decides'
    ]
    assert "clarity" not in case.spec.labels and "clarity" not in summarise(case).labels
    scores = dict.fromkeys(DIMENSIONS, 5.0)
    assert [t.dimension for t in trials_of(case, None, scores, [], 4)] == []
    label(project, PM, "grounding", "pass", "every item cites a sentence", "bo")
    label(project, PM, "clarity", "fail", "P5 is vague", "settled")
    case = load_case(folder)
    assert {d: (lb.verdict, lb.by) for d, lb in case.spec.labels.items()} == {
        "clarity": ("fail", "settled"),
        "grounding": ("pass", "bo"),
    }
    assert [(t.dimension, t.label) for t in trials_of(case, None, scores, [], 4)] == [
        ("clarity", "fail"),
        ("grounding", "pass"),
    ]
    # One verdict stays a table as before; several are an array of tables, first come first.
    text = (folder / "case.toml").read_text()
    assert text.count("[[labels.clarity]]") == 3 and text.count("[labels.grounding]") == 1


def test_the_same_person_labelling_again_replaces_their_own_verdict_and_says_so(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    _drafted(project)
    monkeypatch.chdir(project.root)

    def jfm_label(verdict: str, note: str, user: str) -> list[str]:
        args = ["label", "--role", PM, "--dimension", "clarity", verdict, "--note", note]
        result = CliRunner().invoke(app, args, env={"USER": user, "COLUMNS": "400"})
        assert result.exit_code == 0 and not result.stderr, result.output
        return result.stdout.splitlines()

    jfm_label("--pass", "clear", "ana")
    jfm_label("--fail", "vague at P5", "bo")
    *said, where = jfm_label("--fail", "on a second reading, vague at P5", "ana")
    folder = Path(where.removeprefix("labelled: "))
    assert said == [f"{folder / 'case.toml'}: clarity: ana's earlier verdict (pass: clear) replaced by fail"]
    spec = load_case(folder).spec
    assert [(lb.verdict, lb.by, lb.why) for lb in spec.verdicts["clarity"]] == [
        ("fail", "ana", "on a second reading, vague at P5"),
        ("fail", "bo", "vague at P5"),
    ]
    # Now they agree: the verdict stands.
    assert spec.labels["clarity"].verdict == "fail"


def test_a_person_twice_on_one_dimension_is_refused_and_the_shipped_cases_are_written_as_they_are(
    project: Project,
) -> None:
    for folder in sorted((project.calibration / "cases").iterdir()):
        assert case_toml(load_case(folder).spec) == (folder / "case.toml").read_text(), folder.name
    path = project.calibration / "cases" / "handwritten" / "case.toml"
    # The case's own clarity verdict made an array, and the same person's second verdict after it.
    by = "jfm developers (written from the role's sources)"
    text = path.read_text().replace("[labels.clarity]", "[[labels.clarity]]", 1)
    path.write_text(f'{text}\n[[labels.clarity]]\nverdict = "fail"\nby = "{by}"\nwhy = "second reading"\n')
    with pytest.raises(BadInput, match=r"case.toml: labels.clarity: jfm developers .* labelled it twice"):
        load_case(path.parent)
