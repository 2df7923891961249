"""From passed to published: `jfm approve`, `jfm reject`, the roles' states and `jfm diff`,
against the scripted loopback server."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from conftest import Script
from jfmfactory.cli import app
from jfmfactory.inputs.project import Project
from jfmfactory.records.profile import Profile
from jfmfactory.records.sections import items
from jfmfactory.records.store import held
from jfmfactory.records.versions import VersionStore
from jfmfactory.views import entry
from scripted_server import ScriptedServer

ROLE = "product-management"
runner = CliRunner()


def jfm(project: Project, monkeypatch: pytest.MonkeyPatch, *args: str, env: dict[str, str] | None = None):
    monkeypatch.chdir(project.root)
    return runner.invoke(app, list(args), env=env or {}, catch_exceptions=False)


def state(project: Project) -> str:
    return {s.role: s.status for s in entry.roles(project)}[ROLE]


def texts(profile: dict[str, object]) -> set[tuple[str, str]]:
    """Every item of a profile.json as (section, words)."""
    return {(item.section, item.text) for item in items(Profile.model_validate(profile))}


def draft_once(project: Project, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], passes: bool = True):
    """Draft the role, one round, against the scripted server."""
    drafted = jfm(project, monkeypatch, "draft", "--role", ROLE, "--model", "m", "--max-rounds", "1", env=env)
    assert drafted.exit_code == (0 if passes else 3), drafted.output
    return drafted


def test_a_role_approved_redrafted_with_a_changed_source_needs_review_and_becomes_v2(
    project: Project, monkeypatch: pytest.MonkeyPatch, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    draft_once(project, monkeypatch, endpoint_env)
    assert state(project) == "passed"
    approved = jfm(project, monkeypatch, "approve", ROLE, "--by", "Ana Díaz", "--note", "read in full")
    assert approved.exit_code == 0 and approved.stdout.startswith(f"approved {ROLE} v1 (")
    assert state(project) == "approved v1"
    first = json.loads((project.root / "out" / ROLE / "profile.json").read_text())

    source = project.seeds / ROLE / "pm-levels-overview.txt"
    source.write_text(
        source.read_text().replace("conducting market research", "conducting competitor research")
    )
    draft_once(project, monkeypatch, endpoint_env)
    assert state(project) == "needs review (v1 approved)"
    second = json.loads((project.root / "out" / ROLE / "profile.json").read_text())

    shown = jfm(project, monkeypatch, "diff", ROLE)
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[0].startswith(f"{ROLE}: the draft (") and "against v1 (approved by Ana Díaz" in lines[0]
    # Exactly the items whose words differ, section by section, counted apart from the diff's code.
    differing = texts(second) ^ texts(first)
    listed = {line.split(": ", 1)[0][2:] for line in lines[1:]}
    assert differing and listed == {section for section, _ in differing}
    assert "~ responsibilities.P2: Conducts [-market-] {+competitor+} research." in lines
    assert jfm(project, monkeypatch, "report", "--role", ROLE).exit_code == 0
    page = (project.root / "out" / ROLE / "report.html").read_text()
    assert "<h2>Against the approved version</h2>" in page
    assert "Conducts <del>market</del> <ins>competitor</ins> research." in page

    again = jfm(project, monkeypatch, "approve", ROLE, "--by", "Bo")
    assert again.exit_code == 0 and f"approved {ROLE} v2 (" in again.stdout
    assert state(project) == "approved v2"
    versions = VersionStore(project.root, ROLE).versions()
    assert [v.version for v in versions] == [1, 2] and versions[0].profile.model_dump(mode="json") == first
    assert versions[0].approval.by == "Ana Díaz" and versions[0].approval.note == "read in full"
    assert versions[1].evidence is not None and versions[0].run_status == "passed"
    assert (project.root / "published" / ROLE / "v1.json").is_file()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["approve", "no-such-role", "--by", "Ana"], "no-such-role"),
        (["approve", ROLE, "--by", "  "], "--by: is blank; name who signs"),
        (["approve", ROLE, "--by", "Ana\x1b[2J"], "--by"),
        (["approve", ROLE, "--by", "Ana"], "no drafted profile of product-management; draft it first"),
        (["reject", ROLE, "--by", "Ana", "--reason", "no"], "no drafted profile of product-management"),
    ],
)
def test_an_approval_that_cannot_be_is_refused_in_one_line_and_writes_nothing(
    project: Project, monkeypatch: pytest.MonkeyPatch, args: list[str], says: str
) -> None:
    result = jfm(project, monkeypatch, *args)
    assert result.exit_code == 2 and result.stderr.startswith("jfm: error: ") and says in result.stderr
    assert result.stderr.count("\n") == 1
    assert not (project.root / "published").exists()


def test_a_profile_that_did_not_pass_is_approved_only_over_a_reason_and_never_twice(
    project: Project,
    monkeypatch: pytest.MonkeyPatch,
    script: Script,
    scripted: ScriptedServer,
    endpoint_env: dict[str, str],
) -> None:
    # An issue no revision mends: the years cell is the rubric's, never redrafted.
    script.verdicts["Clarity"] = [
        (3, [{"section": "guidelines.P4", "quote": "years of experience", "problem": "vague"}])
    ]
    draft_once(project, monkeypatch, endpoint_env, passes=False)
    assert state(project) == "drafted"
    refused = jfm(project, monkeypatch, "approve", ROLE, "--by", "Ana")
    assert (
        refused.exit_code == 2
        and "did not pass the panel (not_passed); approve it only with --override" in (refused.stderr)
    )
    assert VersionStore(project.root, ROLE).versions() == []
    over = jfm(project, monkeypatch, "approve", ROLE, "--by", "Ana", "--override", "clarity reviewed by hand")
    assert over.exit_code == 0 and "over the panel's verdict: clarity reviewed by hand" in over.stdout
    (version,) = VersionStore(project.root, ROLE).versions()
    assert version.approval.override == "clarity reviewed by hand" and version.run_status == "not_passed"
    twice = jfm(project, monkeypatch, "approve", ROLE, "--by", "Bo", "--override", "again")
    assert twice.exit_code == 2 and "this profile is v1 already (approved by Ana)" in twice.stderr
    assert len(VersionStore(project.root, ROLE).versions()) == 1


def test_two_approvals_at_once_one_wins_the_other_exits_2(
    project: Project, monkeypatch: pytest.MonkeyPatch, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    draft_once(project, monkeypatch, endpoint_env)
    folder = project.root / "published" / ROLE
    folder.mkdir(parents=True)
    with held(folder, lambda: None):  # the first approval, holding the role's versions
        second = jfm(project, monkeypatch, "approve", ROLE, "--by", "Bo")
    assert second.exit_code == 2 and f"{folder}: another jfm is approving {ROLE}" in second.stderr
    assert VersionStore(project.root, ROLE).versions() == []


def test_a_rejection_is_recorded_with_its_items_which_join_the_calibration_labels(
    project: Project, monkeypatch: pytest.MonkeyPatch, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    draft_once(project, monkeypatch, endpoint_env)
    bad = jfm(
        project, monkeypatch, "reject", ROLE, "--by", "Ana", "--reason", "x", "--item", "skills.99:repeat"
    )
    assert bad.exit_code == 2 and "--item skills.99:repeat: the profile has no item 'skills.99'" in bad.stderr
    unnamed = jfm(project, monkeypatch, "reject", ROLE, "--by", "Ana", "--reason", "x", "--item", "skills.1")
    assert unnamed.exit_code == 2 and "name the fault after a colon" in unnamed.stderr
    assert VersionStore(project.root, ROLE).rejections() == []
    args = ("--item", "responsibilities.P2.1:distorted:says more than its quote", "--item", "skills.2:repeat")
    result = jfm(
        project, monkeypatch, "reject", ROLE, "--by", "Ana", "--reason", "two items are wrong", *args
    )
    assert result.exit_code == 0 and "2 item(s) labelled struck" in result.stdout
    (rejection,) = VersionStore(project.root, ROLE).rejections()
    assert rejection.reason == "two items are wrong"
    assert [(i.item, i.fault, i.reason) for i in rejection.items] == [
        ("responsibilities.P2.1", "distorted", "says more than its quote"),
        ("skills.2", "repeat", "two items are wrong"),
    ]
    assert state(project) == "rejected"
    (case,) = (project.root / "calibration" / "cases").glob(f"{ROLE}-*")
    labels = (case / "items.toml").read_text()
    assert (
        'item = "responsibilities.P2.1"' in labels
        and 'fault = "distorted"' in labels
        and 'by = "Ana"' in labels
    )


def test_diff_of_a_role_never_approved_says_what_to_do(
    project: Project, monkeypatch: pytest.MonkeyPatch, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    draft_once(project, monkeypatch, endpoint_env)
    result = jfm(project, monkeypatch, "diff", ROLE)
    assert result.exit_code == 2
    assert (
        result.stderr
        == f"jfm: error: {ROLE}: no approved version to compare with yet (jfm approve {ROLE} --by NAME)\n"
    )


def test_what_a_person_types_is_kept_as_typed_and_odd_characters_are_refused(
    project: Project, monkeypatch: pytest.MonkeyPatch, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    draft_once(project, monkeypatch, endpoint_env)
    for flag, value in (("--note", "see \x1b]0;title\x07"), ("--note", "ok\u202eevil"), ("--by", "x" * 121)):
        refused = jfm(project, monkeypatch, "approve", ROLE, "--by", "Ana", flag, value)
        assert (
            refused.exit_code == 2
            and refused.stderr.startswith(f"jfm: error: {flag}: ")
            and "\x1b" not in refused.stderr
        )
    assert VersionStore(project.root, ROLE).versions() == []
    # Square brackets are a name's, not the terminal's markup.
    approved = jfm(
        project, monkeypatch, "approve", ROLE, "--by", "Ana [/x] Ruiz", "--note", "[bold]read[/bold]"
    )
    assert approved.exit_code == 0 and "by Ana [/x] Ruiz" in approved.stdout
    assert VersionStore(project.root, ROLE).versions()[0].approval.note == "[bold]read[/bold]"


def test_a_version_edited_by_hand_is_named_not_passed_off_as_approved(
    project: Project, monkeypatch: pytest.MonkeyPatch, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    draft_once(project, monkeypatch, endpoint_env)
    assert jfm(project, monkeypatch, "approve", ROLE, "--by", "Ana").exit_code == 0
    path = project.root / "published" / ROLE / "v1.json"
    path.write_text(path.read_text().replace("Conducts market research.", "Owns the company."))
    assert state(project).startswith(f"unreadable: {path}: its profile is not the one approved")
    for args in (("approve", ROLE, "--by", "Bo"), ("diff", ROLE)):
        result = jfm(project, monkeypatch, *args)
        assert result.exit_code == 2 and f"{path}: its profile is not the one approved" in result.stderr
    path.rename(path.with_name("v3.json"))
    assert "holds version 1; versions are v1.json, v2.json, … in order" in state(project)


def test_only_a_finished_run_that_passed_is_approved_and_the_later_word_stands(
    project: Project, monkeypatch: pytest.MonkeyPatch, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    draft_once(project, monkeypatch, endpoint_env)
    run = project.root / "out" / ROLE / "run.json"
    finished = run.read_text()
    run.write_text(finished.replace('"status": "passed"', '"status": "running"', 1))
    running = jfm(project, monkeypatch, "approve", ROLE, "--by", "Ana", "--override", "x")
    assert (
        running.exit_code == 2
        and "the run is running; approve the profile of a finished run" in running.stderr
    )
    # What the run says, not only the profile: a run that did not pass is approved only over a reason.
    run.write_text(finished.replace('"status": "passed"', '"status": "not_passed"', 1))
    refused = jfm(project, monkeypatch, "approve", ROLE, "--by", "Ana")
    assert refused.exit_code == 2 and "did not pass the panel (not_passed)" in refused.stderr
    run.write_text(finished)
    assert jfm(project, monkeypatch, "approve", ROLE, "--by", "Ana").exit_code == 0
    refusal = ("reject", ROLE, "--by", "Bo", "--reason", "P2 reads badly")
    assert jfm(project, monkeypatch, *refusal).exit_code == 0
    assert state(project) == "rejected (v1 is published)"
    # Two refusals in one second are both kept; a refusal whose item label is refused is not kept.
    assert jfm(project, monkeypatch, *refusal).exit_code == 0
    item = ("--item", "skills.1:repeat")
    assert jfm(project, monkeypatch, *refusal, *item).exit_code == 0
    again = jfm(project, monkeypatch, *refusal, *item)
    assert again.exit_code == 2 and "judged" in again.stderr
    assert len(VersionStore(project.root, ROLE).rejections()) == 3
