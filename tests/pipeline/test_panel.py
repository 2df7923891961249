from __future__ import annotations

import json
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from jfmfactory.errors import BadInput, JfmError
from jfmfactory.inputs.project import Project
from jfmfactory.pipeline.panel import Sample, aggregate, check_dimensions, evidence_rule, load_panel
from jfmfactory.records.runlog import ReviewIssue

REQUIRED_DIMENSIONS = {"grounding", "level-differentiation", "role-boundaries", "completeness", "clarity"}


def test_the_shipped_panel_covers_the_required_dimensions(project: Project) -> None:
    reviewers = load_panel(project.panel)
    assert {r.name for r in reviewers} == REQUIRED_DIMENSIONS
    for reviewer in reviewers:
        assert all(reviewer.anchors.values()) and reviewer.prompt.strip() and reviewer.judges.strip()


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
        (
            lambda t: t.replace('prompt = """', 'prompt = """{% if %}'),
            "prompt: line 1: Expected an expression",
        ),
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


VERIFIED = ReviewIssue(section="skills", quote="Roadmapping", problem="vague")
UNVERIFIED = ReviewIssue(section="tools", quote="Approves every budget", problem="overreach", verified=False)


@pytest.mark.parametrize(
    ("score", "issues", "counted", "note"),
    [
        (2, [], 4, "score 2 rested on no verified issue: counted as 4"),
        (2, [UNVERIFIED], 4, "score 2 rested on no verified issue: counted as 4"),
        (2, [UNVERIFIED, VERIFIED], 2, None),
        (4, [], 4, None),
        (5, [UNVERIFIED], 5, None),
    ],
)
def test_a_low_score_counts_only_when_a_verified_issue_supports_it(
    score: int, issues: list[ReviewIssue], counted: int, note: str | None
) -> None:
    assert evidence_rule(score, issues, threshold=4) == (counted, note)


def test_samples_aggregate_into_mean_spread_first_rationale_and_distinct_issues() -> None:
    samples = [
        Sample(score=2, rationale="first", issues=[UNVERIFIED]),
        Sample(score=3, rationale="second", issues=[VERIFIED, UNVERIFIED]),
        Sample(score=5, rationale="third", issues=[VERIFIED]),
    ]
    review = aggregate("clarity", samples, threshold=4)
    assert (review.member, review.dimension, review.kind) == ("clarity", "clarity", "reviewer")
    assert review.samples == [4, 3, 5] and review.score == 4 and review.spread == pytest.approx(0.816)
    assert review.rationale == "first" and review.issues == [UNVERIFIED, VERIFIED]
    assert review.notes == ["score 2 rested on no verified issue: counted as 4"]


def _declare(path: Path, checks: str) -> None:
    text = path.read_text()
    start = text.index("checks = [")
    path.write_text(text[:start] + f"checks = {checks}" + text[text.index("]", start) + 1 :])


@pytest.mark.parametrize(
    ("file", "checks", "where", "message"),
    [
        ("clarity.toml", '["grounding-suport"]', "clarity.toml", "checks: Value error, no check named"),
        ("grounding.toml", "[]", "grounding.toml", "declare at least one check"),
        ("role-boundaries.toml", '["aliases", "aliases"]', "role-boundaries.toml", "is listed twice"),
        ("role-boundaries.toml", '["aliases"]', None, "no reviewer file declares check 'boundaries'"),
    ],
)
def test_a_check_declared_by_no_file_by_two_or_unknown_is_refused(
    project: Project, file: str, checks: str, where: str | None, message: str
) -> None:
    _declare(project.panel / file, checks)
    with pytest.raises(BadInput) as failure:
        load_panel(project.panel)
    named = project.panel / where if where else project.panel
    assert str(failure.value).startswith(f"{named}: ")
    assert message in str(failure.value) and "\n" not in str(failure.value)


# The panel against a scripted endpoint: evidence, samples and what reviewers are shown.

from conftest import REPO, Script, canned_profile, reviewer_title  # noqa: E402
from jfmfactory.api import DraftOptions, draft, review  # noqa: E402
from jfmfactory.inputs.seeds import load_role  # noqa: E402
from jfmfactory.pipeline import panel as panel_module  # noqa: E402
from jfmfactory.pipeline import role_inputs  # noqa: E402
from scripted_server import Reply, ScriptedServer  # noqa: E402

#: The scripted drafter's second P4 responsibility: what a run drafts there.
P4_QUOTE = canned_profile(load_role(REPO / "seeds", "product-management")).responsibilities["P4"][1].text


def _run(project: Project, env: dict[str, str], **options: object):
    return draft(project, DraftOptions(role="product-management", model="m", **options), env)  # type: ignore[arg-type]


def test_a_near_miss_is_reasked_once_then_kept_unverified_and_cannot_fail_the_profile(
    project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    # The P4 item's words, one changed: a quote a re-ask could repair.
    words = P4_QUOTE.split()
    near = " ".join([*words[:-1], "always"])
    missed = {"section": "responsibilities.P4", "quote": near, "problem": "vague"}
    script.verdicts["Clarity"] = [(2, [missed]), (2, [missed])]

    run = _run(project, endpoint_env, max_rounds=1)

    clarity = next(r for r in run.rounds[0].reviews if r.member == "clarity")
    assert [issue.verified for issue in clarity.issues] == [False]
    assert clarity.score == 4 and clarity.notes == ["score 2 rested on no verified issue: counted as 4"]
    assert run.status == "passed"
    asks = [r for r in scripted.requests if reviewer_title(r) == "Clarity"]
    assert len(asks) == 2
    assert f'"{near}"' in asks[1]["messages"][-1]["content"]
    assert asks[1]["messages"][-2]["role"] == "assistant"
    transcript = project.out_dir("product-management", None) / "transcripts/round-1/reviewer-clarity.json"
    assert transcript.read_text().count('"request"') == 2


def test_words_from_nowhere_in_the_profile_are_not_reasked(
    project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    # Copied from the rubric, as the embedded model does: a re-ask would only cost a call.
    invented = {"section": "overview", "quote": "1. The profile is incomplete.", "problem": "thin"}
    script.verdicts["Clarity"] = [(2, [invented])]

    run = _run(project, endpoint_env, max_rounds=1)

    clarity = next(r for r in run.rounds[0].reviews if r.member == "clarity")
    assert [issue.verified for issue in clarity.issues] == [False] and clarity.score == 4
    assert len([r for r in scripted.requests if reviewer_title(r) == "Clarity"]) == 1


def test_a_verified_quote_stands_and_steers_the_redraft(
    project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    issue = {"section": "responsibilities.P4", "quote": P4_QUOTE.lower(), "problem": "generic"}
    script.verdicts["Clarity"] = [(2, [issue]), (5, [])]

    run = _run(project, endpoint_env)

    first = next(r for r in run.rounds[0].reviews if r.member == "clarity")
    assert first.score == 2 and first.issues[0].verified and not first.notes
    assert [d.section for d in run.rounds[1].drafted] == ["responsibilities.P4"]


def test_samples_record_mean_and_spread_and_the_pass_rule_uses_the_mean(
    project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    issue = {"section": "responsibilities.P4", "quote": P4_QUOTE, "problem": "generic"}
    script.verdicts["Clarity"] = [(3, [issue]), (5, []), (5, [])]

    run = _run(project, endpoint_env, max_rounds=1, samples=3)

    clarity = next(r for r in run.rounds[0].reviews if r.member == "clarity")
    assert clarity.samples == [3, 5, 5] and clarity.score == pytest.approx(13 / 3, abs=1e-3)
    assert clarity.spread == pytest.approx(0.943, abs=1e-3)
    assert run.status == "passed" and run.samples == 3
    temperatures = {r["temperature"] for r in scripted.requests if reviewer_title(r)}
    assert temperatures == {0.8}


def test_reviewers_see_neither_the_round_nor_earlier_scores(
    project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    # Round 2 redrafts one P4 responsibility; everything else the panel is shown stays the same.
    issue = {"section": "responsibilities.P4", "quote": P4_QUOTE, "problem": "generic"}
    script.verdicts["Grounding in the sources"] = [(3, [issue]), (5, [])]

    run = _run(project, endpoint_env)

    assert len(run.rounds) == 2

    def outside_p4(prompt: str) -> str:
        start = prompt.index("[responsibilities.P4]")
        return prompt[:start] + prompt[prompt.index("\n[", start) :]

    for title in ("Clarity", "Completeness"):
        first, second = (r["messages"] for r in scripted.requests if reviewer_title(r) == title)
        assert first[0] == second[0] and first[-1] != second[-1]
        assert outside_p4(first[-1]["content"]) == outside_p4(second[-1]["content"])
        for words in ("round", ": scored"):  # the rationales given in round 1 read "TITLE: scored N."
            assert words not in second[-1]["content"].lower(), words


def test_the_panel_can_run_on_another_model_and_endpoint(
    project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    with ScriptedServer(script).running() as judge_server:
        env = {**endpoint_env, "JFM_PANEL_BASE_URL": judge_server.base_url, "JFM_PANEL_API_KEY": "judge-key"}
        run = _run(project, env, max_rounds=1, panel_model="judge")

    assert run.drafter is not None and run.drafter.model == "m" and run.panel.model == "judge"
    assert run.panel.base_url == judge_server.base_url
    assert all(reviewer_title(r) is None for r in scripted.requests)
    assert {r["model"] for r in judge_server.requests} == {"judge"} and len(judge_server.requests) == 5
    assert {h["Authorization"] for h in judge_server.headers} == {"Bearer judge-key"}


def test_the_drafters_key_never_goes_to_the_panels_endpoint(
    project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    with ScriptedServer(script).running() as judge_server:
        _run(project, {**endpoint_env, "JFM_PANEL_BASE_URL": judge_server.base_url}, max_rounds=1)
    assert endpoint_env["OPENAI_API_KEY"] not in str(judge_server.headers)


def test_a_panel_model_alone_uses_the_drafters_endpoint(
    project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    run = _run(project, endpoint_env, max_rounds=1, panel_model="judge")
    assert run.panel.base_url == run.drafter.base_url  # type: ignore[union-attr]
    assert {r["model"] for r in scripted.requests if reviewer_title(r)} == {"judge"}
    assert {r["model"] for r in scripted.requests if not reviewer_title(r)} == {"m"}


def test_a_renamed_reviewer_file_carries_its_checks_along(
    project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    grounding = project.panel / "grounding.toml"
    renamed = project.panel / "evidence.toml"
    renamed.write_text(grounding.read_text().replace('name = "grounding"', 'name = "evidence"'))
    grounding.unlink()
    assert check_dimensions(load_panel(project.panel))["grounding-support"] == ["evidence"]

    run = _run(project, endpoint_env, max_rounds=1)

    check = next(r for r in run.rounds[0].reviews if r.member == "check:grounding-support")
    assert check.dimension == "evidence" and "evidence" in run.rounds[0].scores
    assert "grounding" not in run.dimensions


def test_the_grounding_reviewer_reads_the_least_supported_items_with_their_quotes_and_no_whole_source(
    project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    run = _run(project, endpoint_env, max_rounds=1)

    profile = json.loads((project.out_dir("product-management", None) / "profile.json").read_text())
    evidence = json.loads((project.out_dir("product-management", None) / "evidence.json").read_text())
    quotes = {quote["id"]: quote["text"] for quote in evidence["quotes"]}
    asks = [r for r in scripted.requests if reviewer_title(r)]
    assert len(asks) == 5 and run.status == "passed"
    by_title = {reviewer_title(r): r["messages"][-1]["content"] for r in asks}
    grounding = by_title.pop("Grounding in the sources")
    # As many items as panel/grounding.toml asks for, each beside its quote.
    wanted = tomllib.loads((project.panel / "grounding.toml").read_text())["quoted_items"]
    assert grounding.count("rests on: <quote>") == wanted
    cited = [
        item
        for key, level_items in profile["responsibilities"].items()
        for item in level_items
        if f"[responsibilities.{key}] {item['text']}\n" in grounding
    ]
    assert cited
    for item in cited:
        assert f"{item['text']}\n    rests on: <quote>{quotes[item['evidence'][0]]}</quote>" in grounding
    # The others read the draft alone; every one's prompt starts with the same draft.
    draft_part = grounding[: grounding.index("What the least supported cited items rest on")]
    for other in by_title.values():
        assert "rests on:" not in other and other.startswith(draft_part.rstrip())
    prompt = grounding
    system = asks[0]["messages"][0]["content"]
    sources = [p.read_text() for p in (project.seeds / "product-management").glob("*.txt")]
    for text in sources:
        # No source line longer than a quote reaches a reviewer whole.
        longest = max(text.splitlines(), key=len)
        assert longest not in prompt and longest not in system
    assert "<source" not in prompt and "<source" not in system
    # Every reviewer of a round shares one system message.
    assert len({r["messages"][0]["content"] for r in asks}) == 1


def test_a_review_judges_by_the_evidence_json_beside_the_profile_without_gathering_again(
    project: Project,
    script: Script,
    scripted: ScriptedServer,
    endpoint_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _run(project, endpoint_env, max_rounds=1)
    folder = project.out_dir("product-management", None)
    evidence = json.loads((folder / "evidence.json").read_text())
    profile = json.loads((folder / "profile.json").read_text())
    cited = profile["responsibilities"]["P3"][0]["evidence"][0]
    for quote in evidence["quotes"]:  # the file beside is what the items rest on, edited or not
        if quote["id"] == cited:
            quote["text"] = "Words found only in the evidence file beside the profile."
    (folder / "evidence.json").write_text(json.dumps(evidence))
    asked = len(scripted.requests)

    def gathered(*args: object) -> None:
        raise AssertionError("the evidence was gathered again")

    monkeypatch.setattr(role_inputs, "gather", gathered)
    run = review(project, DraftOptions(role="product-management", model="m"), endpoint_env)

    assert run.stop_reason == "reviewed" and len(scripted.requests) == asked + 5
    grounding = next(
        r["messages"][-1]["content"]
        for r in scripted.requests[asked:]
        if reviewer_title(r) == "Grounding in the sources"
    )
    assert "<quote>Words found only in the evidence file beside the profile.</quote>" in grounding


def test_roles_with_the_same_sections_share_one_review_model_class(project: Project) -> None:
    from jfmfactory.pipeline.panel import _review_model
    from jfmfactory.pipeline.role_inputs import read_project_inputs

    schema_text = read_project_inputs(project).schema_text
    one = _review_model(schema_text, ("overview", "skills"))
    assert _review_model(schema_text, ("overview", "skills")) is one
    other = _review_model(schema_text, ("overview", "tools"))
    assert other is not one
    section = other.model_json_schema()["properties"]["issues"]
    assert "tools" in json.dumps(section) and "skills" not in json.dumps(section)


def test_a_reviews_checks_run_while_its_reviewers_wait_and_are_recorded_first(
    project: Project,
    scripted: ScriptedServer,
    endpoint_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _run(project, endpoint_env, max_rounds=1)
    asked = len(scripted.requests)
    run_checks = panel_module.run_checks
    sent_before_checks: list[bool] = []

    def checks_once_every_reviewer_is_asked(*args: Any) -> Any:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(scripted.requests) < asked + 5:
            time.sleep(0.01)
        sent_before_checks.append(len(scripted.requests) == asked + 5)
        return run_checks(*args)

    monkeypatch.setattr(panel_module, "run_checks", checks_once_every_reviewer_is_asked)
    run = review(project, DraftOptions(role="product-management", model="m"), endpoint_env)

    assert sent_before_checks == [True]
    kinds = [member.kind for member in run.rounds[0].reviews]
    assert kinds == sorted(kinds) and kinds.count("reviewer") == 5 and "check" in kinds


def test_a_review_whose_reviewer_fails_while_the_checks_run_ends_on_that_failure(
    project: Project, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    _run(project, endpoint_env, max_rounds=1)
    answer = scripted.responder
    refused = Reply(status=400, body={"error": {"message": "no such reviewer"}}, delay_s=0.1)
    scripted.responder = lambda request: refused if reviewer_title(request) else answer(request)
    with pytest.raises(JfmError, match="no such reviewer"):
        review(project, DraftOptions(role="product-management", model="m"), endpoint_env)
    run = json.loads((project.out_dir("product-management", None) / "review" / "run.json").read_text())
    assert run["status"] == "failed"
