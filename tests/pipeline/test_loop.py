from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from conftest import REPO, Script, canned_profile, quotes_of
from jfmfactory.api import DraftOptions, draft
from jfmfactory.errors import BadInput
from jfmfactory.inputs.project import Project
from jfmfactory.inputs.seeds import load_role
from jfmfactory.llm.client import CallFailed
from jfmfactory.pipeline import item_kinds, role_inputs
from jfmfactory.pipeline.drafter import TRIES, Drafter
from jfmfactory.pipeline.loop import Fault, revision_plan
from jfmfactory.pipeline.role_inputs import read_inputs
from jfmfactory.records.evidence import Evidence
from jfmfactory.records.profile import Cited
from jfmfactory.records.runlog import DimensionReview, ReviewIssue
from scripted_answers import ScriptedLLM, round_one_calls
from scripted_server import ScriptedServer, tool_name

#: What the scripted drafter writes for the shipped role (a run's first draft).
PROFILE = canned_profile(load_role(REPO / "seeds", "product-management"))
#: The faulted P3 responsibility: the fourth.
P3_ITEM = PROFILE.responsibilities["P3"][3]
P3_ISSUE = {
    "section": "responsibilities.P3",
    "quote": " ".join(P3_ITEM.text.split()[:4]),
    "problem": "No source says this.",
}
#: An issue that stands in every round: the typical years come from the rubric, never redrafted.
YEARS_ISSUE = {"section": "guidelines.P4", "quote": "years of experience", "problem": "vague"}
#: The first draft's calls: per level five responsibilities and three guideline cells (the years
#: cell is the rubric's), six skills, five tools and the overview (aliases are quoted, no call).
DRAFT_CALLS = round_one_calls()
REVIEWERS = 5


def _quote(evidence: Evidence, item: Cited) -> str:
    quote = evidence.quote(item.evidence[0])
    assert quote is not None
    return quote.text


def test_round_one_fails_round_two_redrafts_only_the_faulted_section_and_passes(
    project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    script.verdicts["Grounding in the sources"] = [(2, [P3_ISSUE]), (4, [])]

    run = draft(project, DraftOptions(role="product-management", model="scripted"), endpoint_env)

    assert run.status == "passed" and run.stop_reason == "passed"
    assert [r.passed for r in run.rounds] == [False, True]
    assert run.rounds[0].min_score == 2 and run.rounds[1].min_score == 4
    assert [d.section for d in run.rounds[1].drafted] == ["responsibilities.P3"]
    assert run.rounds[1].drafted[0].reason == "grounding"
    # Round 2 redrafts the faulted item alone, from another quote (in its words, or by a call);
    # the rest is kept.
    drafting = [r for r in scripted.requests if tool_name(r) != "ReviewDraft"]
    assert len(drafting) - DRAFT_CALLS <= TRIES
    out = project.out_dir("product-management", None)
    profile = json.loads((out / "profile.json").read_text())
    p3 = profile["responsibilities"]["P3"]
    others = [item.text for n, item in enumerate(PROFILE.responsibilities["P3"]) if n != 3]
    assert [item["text"] for item in p3 if item["text"] in others] == others
    # The faulted item is drafted again from another quote, or left out where none passes the gate.
    assert P3_ITEM.text not in [item["text"] for item in p3] and len(p3) >= len(others)
    redrafts = [p.name for p in (out / "transcripts" / "round-2").glob("drafter-*")]
    assert all(name.startswith("drafter-responsibilities.P3.4") for name in redrafts)
    assert run.best_round == 2


def test_outputs_hold_profile_markdown_run_and_every_transcript(
    project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    run = draft(project, DraftOptions(role="product-management", model="scripted"), endpoint_env)

    out = project.out_dir("product-management", None)
    profile = json.loads((out / "profile.json").read_text())
    assert {level: len(items) for level, items in profile["responsibilities"].items()} == {
        f"P{n}": 5 for n in range(2, 8)
    }
    assert profile["provenance"]["passed"] is True
    assert [s["id"] for s in profile["provenance"]["sources"]] == ["S1", "S2"]
    assert "## Level guidelines" in (out / "profile.md").read_text()
    recorded = json.loads((out / "run.json").read_text())
    assert recorded["status"] == "passed" and recorded["best_round"] == 1
    transcripts = sorted(p.name for p in (out / "transcripts" / "round-1").iterdir())
    assert len(transcripts) == DRAFT_CALLS + REVIEWERS == len(run.rounds[0].calls)
    assert "drafter-overview.json" in transcripts
    assert any(name.startswith("drafter-responsibilities.") for name in transcripts)
    assert (out / "evidence.json").is_file() and profile["schema_version"] == 3
    one = json.loads((out / "transcripts" / "round-1" / "reviewer-clarity.json").read_text())
    assert one["attempts"][0]["request"]["messages"][0]["role"] == "system"
    assert one["attempts"][0]["response"]["choices"][0]["message"]["tool_calls"]
    assert run.usage.total_tokens == sum(c.usage.total_tokens for c in run.rounds[0].calls) > 0


def test_round_limit_keeps_the_best_round_and_does_not_pass(
    project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    script.verdicts["Clarity"] = [(2, [YEARS_ISSUE]), (3, [YEARS_ISSUE]), (1, [YEARS_ISSUE])]

    run = draft(
        project, DraftOptions(role="product-management", model="scripted", max_rounds=3), endpoint_env
    )

    assert run.status == "not_passed" and run.stop_reason == "round_limit"
    assert [r.min_score for r in run.rounds] == [2, 3, 1]
    assert run.best_round == 2
    profile = json.loads((project.out_dir("product-management", None) / "profile.json").read_text())
    assert profile["provenance"]["round"] == 2 and profile["provenance"]["passed"] is False
    assert profile["provenance"]["scores"]["clarity"] == 3


def test_a_new_reviewer_file_adds_a_dimension(
    project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    text = (project.panel / "clarity.toml").read_text()
    (project.panel / "tone.toml").write_text(
        text.replace('name = "clarity"', 'name = "tone"').replace('title = "Clarity"', 'title = "Tone"')
    )
    quote = " ".join(PROFILE.description.split()[:4])
    script.verdicts["Tone"] = [(3, [{"section": "overview", "quote": quote, "problem": "curt"}])]

    run = draft(
        project, DraftOptions(role="product-management", model="scripted", max_rounds=1), endpoint_env
    )

    assert "tone" in run.dimensions
    assert run.rounds[0].scores["tone"] == 3
    assert run.status == "not_passed"


def _review(member: str, dimension: str, score: int, *issues: ReviewIssue) -> DimensionReview:
    kind = "check" if member.startswith("check:") else "reviewer"
    return DimensionReview(
        member=member, kind=kind, dimension=dimension, score=score, rationale="r", issues=list(issues)
    )


def test_revision_plan_follows_only_verified_issues_of_failing_dimensions() -> None:
    keys = ["overview", "skills", "tools"]
    reviews = [
        _review("a", "a", 2, ReviewIssue(section="skills", quote="q", problem="p")),
        _review("a", "a", 2, ReviewIssue(section="tools", quote="q", problem="p", verified=False)),
        _review("check:x", "a", 5, ReviewIssue(section="overview", quote="o", problem="dup")),
        _review("b", "b", 5, ReviewIssue(section="tools", quote="q", problem="p")),
    ]
    plan = revision_plan(reviews, {"a": 2, "b": 5}, 4, keys)
    assert plan == {
        "overview": [Fault("a", "o", "check:x: dup")],
        "skills": [Fault("a", "q", "a: p")],
    }
    assert revision_plan(reviews, {"a": 4, "b": 5}, 4, keys) == {}


def test_a_new_run_clears_the_earlier_runs_profile_and_transcripts(
    project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    script.verdicts["Clarity"] = [(3, [P3_ISSUE]), (5, [])]
    draft(project, DraftOptions(role="product-management", model="scripted"), endpoint_env)
    out = project.out_dir("product-management", None)
    assert (out / "transcripts" / "round-2").is_dir()

    failing = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "OPENAI_API_KEY": "k"}
    with pytest.raises(CallFailed):
        draft(project, DraftOptions(role="product-management", model="scripted"), failing)

    assert not (out / "transcripts" / "round-2").exists() and not (out / "profile.json").exists()
    assert json.loads((out / "run.json").read_text())["status"] == "failed"


@pytest.mark.parametrize("mine", ["transcripts/notes.txt", "profile.json", "profile.md"])
def test_an_out_folder_jfm_did_not_write_is_not_cleared(
    project: Project, scripted: ScriptedServer, endpoint_env: dict[str, str], tmp_path: Path, mine: str
) -> None:
    keep = tmp_path / "mine" / mine
    keep.parent.mkdir(parents=True)
    keep.write_text("mine")
    with pytest.raises(BadInput, match="jfm did not write; choose another --out"):
        draft(
            project, DraftOptions(role="product-management", model="m", out=tmp_path / "mine"), endpoint_env
        )
    assert keep.read_text() == "mine" and not scripted.requests


def test_a_check_that_fails_redrafts_what_it_points_to_and_says_which_dimension(
    project: Project,
    script: Script,
    scripted: ScriptedServer,
    endpoint_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from conftest import draft_answer

    # Two P6 responsibilities are drafted, once, as word-for-word copies of P5 ones; every duty
    # is asked of the model and the drafter's own judgment of each item is set aside, so that the
    # loop's is tested.
    monkeypatch.setattr(role_inputs, "passes_alone", lambda item, inputs: True)
    monkeypatch.setattr(item_kinds, "as_duty", lambda text: None)
    inputs = read_inputs(project, "product-management")
    drafter = Drafter(ScriptedLLM(), inputs.prompts, inputs.seeds, inputs.drafting_context(),  # type: ignore[arg-type]
                      inputs.code, inputs.schema_text)  # fmt: skip
    p6_quotes = [drafter.quote(qid) for qid in drafter.assignment["responsibilities.P6"][:2]]
    p5 = asyncio.run(drafter.draft_section("responsibilities.P5", 1))[0]["responsibilities"]
    p5_texts = [item["text"] for item in p5[1:3]]
    copies = {quote.text: text for quote, text in zip(p6_quotes, p5_texts, strict=True)}
    assert len(copies) == 2

    def copy_p5_at_p6_once(request):
        quotes = quotes_of(request)
        if quotes and quotes[0] in copies:
            return {"text": copies.pop(quotes[0])}
        return draft_answer("StatementDraft", quotes)

    script.overrides["StatementDraft"] = copy_p5_at_p6_once
    run = draft(project, DraftOptions(role="product-management", model="m"), endpoint_env)

    first = run.rounds[0]
    assert copies == {}
    duplicates = next(r for r in first.reviews if r.member == "check:duplicates")
    assert [(i.section, i.quote) for i in duplicates.issues] == [("responsibilities.P6", t) for t in p5_texts]
    # The copies are no more grounded in their quotes than they are distinct: both dimensions fail.
    assert first.scores["level-differentiation"] < 4 and first.scores["grounding"] < 4
    redrafted = {d.section: d.reason for d in run.rounds[1].drafted}
    assert "level-differentiation" in redrafted["responsibilities.P6"]
    out = project.out_dir("product-management", None) / "transcripts"
    assert list((out / "round-2").glob("drafter-responsibilities.P6.*"))
    # The reviewers of the dimensions a check failed were not asked in round 1.
    failed = {r.dimension for r in first.reviews if r.kind == "check" and r.score < 4}
    asked = {r.member for r in first.reviews if r.kind == "reviewer"}
    assert "level-differentiation" in failed and asked == set(run.dimensions) - failed
    assert not (out / "round-1" / "reviewer-level-differentiation.json").exists()


def test_round_two_redrafts_one_section_for_under_half_the_completion_tokens(
    project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    script.verdicts["Level differentiation"] = [(3, [P3_ISSUE]), (5, [])]

    run = draft(project, DraftOptions(role="product-management", model="scripted"), endpoint_env)

    first, second = run.rounds
    assert not first.passed and second.passed and run.status == "passed"
    assert [d.section for d in second.drafted] == ["responsibilities.P3"]
    assert second.drafted[0].reason == "level-differentiation"
    assert second.usage.completion_tokens < 0.5 * first.usage.completion_tokens
    out = project.out_dir("product-management", None) / "transcripts" / "round-2"
    assert all(p.name.startswith("drafter-responsibilities.P3.4") for p in out.glob("drafter-*.json"))


def test_two_rounds_without_a_higher_min_score_stop_on_a_plateau(
    project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    script.verdicts["Clarity"] = [(3, [YEARS_ISSUE])]

    run = draft(
        project, DraftOptions(role="product-management", model="scripted", max_rounds=5), endpoint_env
    )

    assert run.stop_reason == "plateau" and run.status == "not_passed"
    assert [r.min_score for r in run.rounds] == [3, 3, 3] and run.best_round == 1


def test_resume_goes_on_after_the_last_completed_round_without_redoing_it(
    project: Project, script: Script, endpoint_env: dict[str, str]
) -> None:
    from scripted_server import Reply

    script.verdicts["Clarity"] = [(3, [YEARS_ISSUE]), (3, [YEARS_ISSUE]), (5, [])]
    script.verdicts["Grounding in the sources"] = [(3, [P3_ISSUE]), (5, [])]
    broken = {"on": True}
    reviewed = {"yet": False}

    def fail_in_round_two(request):
        # Round 1 drafts every section before the panel; a drafter call after a review is round 2's.
        if tool_name(request) == "ReviewDraft":
            reviewed["yet"] = True
        elif broken["on"] and reviewed["yet"]:
            return Reply(status=400, body={"error": {"message": "gone"}})
        return script(request)

    with ScriptedServer(fail_in_round_two).running() as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"}
        options = DraftOptions(role="product-management", model="m", max_rounds=3)
        with pytest.raises(CallFailed):
            draft(project, options, env)
        out = project.out_dir("product-management", None)
        assert json.loads((out / "run.json").read_text())["status"] == "failed"
        first_round_requests = len(server.requests)

        broken["on"] = False
        run = draft(project, DraftOptions(role="product-management", model="m", resume=True), env)

    assert run.status == "passed" and [r.round for r in run.rounds] == [1, 2, 3]
    assert len(run.resumed_at) == 1 and run.error is None
    resumed = server.requests[first_round_requests:]
    assert not any(
        r["tool_choice"]["function"]["name"] == "OverviewDraft" for r in resumed
    )  # round 1 not redone
    assert (out / "transcripts" / "round-1").is_dir() and (out / "drafts" / "round-3.json").is_file()


def test_resume_refuses_changed_inputs_and_returns_a_finished_run(
    project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    finished = draft(project, DraftOptions(role="product-management", model="m"), endpoint_env)
    again = draft(project, DraftOptions(role="product-management", model="m", resume=True), endpoint_env)
    assert again == finished and len(scripted.requests) == DRAFT_CALLS + REVIEWERS

    run_json = project.out_dir("product-management", None) / "run.json"
    data = json.loads(run_json.read_text())
    data["status"] = "interrupted"
    run_json.write_text(json.dumps(data))
    template = project.prompts / "items" / "tool.toml"
    template.write_text(template.read_text().replace('instruction = """\n', 'instruction = """\nBe brief. '))
    with pytest.raises(BadInput, match="--resume: the sources, prompts, panel or models changed"):
        draft(project, DraftOptions(role="product-management", model="m", resume=True), endpoint_env)


def test_resume_without_a_run_is_refused(project: Project, endpoint_env: dict[str, str]) -> None:
    with pytest.raises(BadInput, match="--resume: no run to resume in"):
        draft(project, DraftOptions(role="product-management", model="m", resume=True), endpoint_env)
