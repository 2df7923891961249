from __future__ import annotations

import json
from pathlib import Path

from conftest import Script
from jfmfactory.app import DraftOptions, draft
from jfmfactory.loop import revision_plan
from jfmfactory.project import Project
from jfmfactory.runlog import DimensionReview, ReviewIssue
from scripted_server import ScriptedServer

P3_ISSUE = {
    "section": "responsibilities.P3",
    "quote": "Does duty 2 at P3 with rising scope.",
    "problem": "No source says this.",
}


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
    # The redraft was asked with the current text and the reviewer's issue.
    redraft = [
        r for r in scripted.calls("ResponsibilitiesDraft") if "Faults to fix" in r["messages"][-1]["content"]
    ]
    assert len(redraft) == 1 and "No source says this." in redraft[0]["messages"][-1]["content"]
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
    assert len(transcripts) == 15 + 5 == len(run.rounds[0].calls)
    one = json.loads((out / "transcripts" / "round-1" / "reviewer-clarity.json").read_text())
    assert one["attempts"][0]["request"]["messages"][0]["role"] == "system"
    assert one["attempts"][0]["response"]["choices"][0]["message"]["tool_calls"]
    assert run.usage.total_tokens == sum(c.usage.total_tokens for c in run.rounds[0].calls) > 0


def test_round_limit_keeps_the_best_round_and_does_not_pass(
    project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    issue = {**P3_ISSUE, "section": "skills", "quote": "Skill 1"}
    script.verdicts["Clarity"] = [(2, [issue]), (3, [issue]), (1, [issue])]

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
    script.verdicts["Tone"] = [(3, [])]

    run = draft(
        project, DraftOptions(role="product-management", model="scripted", max_rounds=1), endpoint_env
    )

    assert "tone" in run.dimensions
    assert {r.dimension: r.score for r in run.rounds[0].reviews}["tone"] == 3
    assert run.status == "not_passed"


def test_revision_plan_targets_issue_sections_and_falls_back_to_every_section() -> None:
    keys = ["overview", "skills", "tools"]
    reviews = [
        DimensionReview(
            dimension="a",
            score=2,
            rationale="r",
            issues=[ReviewIssue(section="skills", quote="q", problem="p")],
        ),
        DimensionReview(
            dimension="b",
            score=5,
            rationale="fine",
            issues=[ReviewIssue(section="tools", quote="q", problem="p")],
        ),
    ]
    assert list(revision_plan(reviews, 4, keys)) == ["skills"]
    vague = [DimensionReview(dimension="c", score=1, rationale="all bad", issues=[])]
    assert revision_plan(vague, 4, keys) == {key: ["c: all bad"] for key in keys}


def test_transcripts_of_an_earlier_run_are_cleared(
    project: Project, scripted: ScriptedServer, endpoint_env: dict[str, str], tmp_path: Path
) -> None:
    out = project.out_dir("product-management", None)
    stale = out / "transcripts" / "round-9" / "old.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    draft(project, DraftOptions(role="product-management", model="scripted", max_rounds=1), endpoint_env)
    assert not stale.exists()
