"""What the endpoint can do to a run, each against the scripted loopback server.

Transient failures (429, 5xx, timeouts, refused connections) are retried by the openai client
with bounded exponential backoff, honouring Retry-After; instructor retries only invalid output.
What still fails ends the run with exit 1 and one line naming the endpoint, the call and the
cause, every completed round kept on disk.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import REPO, Script, canned_profile, draft_answer, quotes_of
from jfmfactory.cli import app
from jfmfactory.inputs.project import Project
from jfmfactory.inputs.seeds import load_role
from jfmfactory.pipeline import item_kinds
from jfmfactory.views import entry
from scripted_answers import round_one_calls
from scripted_server import Reply, ScriptedServer, tool_name

runner = CliRunner()
#: The fourth P3 responsibility of the first draft, which a reviewer faults.
P3_ITEM = canned_profile(load_role(REPO / "seeds", "product-management")).responsibilities["P3"][3]
P3_ISSUE = {
    "section": "responsibilities.P3",
    "quote": " ".join(P3_ITEM.text.split()[:4]),
    "problem": "No source says this.",
}
#: Requests of a first round: per level five responsibilities and three guideline cells (the
#: years cell is the rubric's), six skills, five tools and the overview; then five reviewers.
ROUND_ONE_REQUESTS = round_one_calls() + 5


def fail_first(
    times: int, reply: Reply, then: Callable[[dict[str, Any]], Any]
) -> Callable[[dict[str, Any]], Any]:
    """Answer `reply` to the first `times` requests, then as `then` does."""
    count = {"n": 0}

    def responder(request: dict[str, Any]) -> Any:
        count["n"] += 1
        return reply if count["n"] <= times else then(request)

    return responder


def draft_cli(project: Project, monkeypatch: pytest.MonkeyPatch, server: ScriptedServer, *args: str):
    monkeypatch.chdir(project.root)
    env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"}
    argv = ["draft", "--role", "product-management", "--model", "m", *args]
    return runner.invoke(app, argv, env=env, catch_exceptions=False)


def error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("jfm: error: ")]
    assert len(lines) == 1 and "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_a_transient_status_is_retried_and_the_run_goes_on(
    project: Project, monkeypatch: pytest.MonkeyPatch, script: Script, status: int
) -> None:
    reply = Reply(status=status, body={"error": {"message": "busy"}}, headers={"Retry-After": "0"})
    with ScriptedServer(fail_first(2, reply, script)).running() as server:
        result = draft_cli(project, monkeypatch, server, "--max-rounds", "1")
    assert result.exit_code == 0, result.stderr
    assert len(server.requests) == 2 + ROUND_ONE_REQUESTS


def test_retry_after_is_honoured(project: Project, monkeypatch: pytest.MonkeyPatch, script: Script) -> None:
    reply = Reply(status=429, body={"error": {"message": "slow down"}}, headers={"Retry-After": "2"})
    with ScriptedServer(fail_first(1, reply, script)).running() as server:
        started = time.monotonic()
        result = draft_cli(project, monkeypatch, server, "--max-rounds", "1")
        waited = time.monotonic() - started
    assert result.exit_code == 0 and waited >= 2


@pytest.mark.parametrize(
    ("reply", "cause"),
    [
        (
            Reply(status=503, body={"error": {"message": "overloaded"}}, headers={"Retry-After": "0"}),
            "HTTP 503",
        ),
        (Reply(status=200, body="<html>maintenance</html>"), "the response is not JSON"),
    ],
)
def test_a_failure_that_persists_ends_the_run_with_exit_1_and_keeps_the_completed_rounds(
    project: Project, monkeypatch: pytest.MonkeyPatch, script: Script, reply: Reply, cause: str
) -> None:
    script.verdicts["Clarity"] = [(3, [P3_ISSUE]), (5, [])]
    reviewed = {"yet": False}

    def round_two_fails(request: dict[str, Any]) -> Any:
        # Round 1 drafts every section before the panel; a drafter call after a review is round 2's.
        if tool_name(request) == "ReviewDraft":
            reviewed["yet"] = True
        elif reviewed["yet"]:
            return reply
        return script(request)

    with ScriptedServer(round_two_fails).running() as server:
        result = draft_cli(project, monkeypatch, server)
    assert result.exit_code == 1
    line = error_line(result)
    assert line.startswith(
        f"jfm: error: {server.base_url}: drafter:responsibilities.P3.4 (model m) failed: {cause}"
    )
    out = project.root / "out" / "product-management"
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "failed" and len(run["rounds"]) == 1 and cause in run["error"]
    assert json.loads((out / "profile.json").read_text())["provenance"]["round"] == 1
    assert (out / "transcripts" / "round-2" / "drafter-responsibilities.P3.4.json").is_file()


def test_a_read_timeout_is_retried_then_named(
    project: Project, monkeypatch: pytest.MonkeyPatch, script: Script
) -> None:
    slow = Reply(delay_s=3, body={})
    with ScriptedServer(fail_first(99, slow, script)).running() as server:
        result = draft_cli(project, monkeypatch, server, "--timeout", "0.5", "--concurrency", "1")
    assert result.exit_code == 1
    assert error_line(result).endswith("drafter:overview (model m) failed: timed out")
    assert len(server.requests) == 3  # the first try and two retries


def test_an_answer_cut_off_by_the_token_limit_is_named(
    project: Project, monkeypatch: pytest.MonkeyPatch, script: Script
) -> None:
    def cut_off(request: dict[str, Any]) -> Reply:
        arguments = json.dumps(draft_answer("StatementDraft", quotes_of(request)))[:10]
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c",
                    "type": "function",
                    "function": {"name": "StatementDraft", "arguments": arguments},
                }
            ],
        }
        usage = {"prompt_tokens": 10, "completion_tokens": 700, "total_tokens": 710}
        body = {"id": "x", "object": "chat.completion", "created": 0, "model": "m", "usage": usage}
        body["choices"] = [{"index": 0, "finish_reason": "length", "message": message}]
        return Reply(body=body)

    script.overrides["StatementDraft"] = cut_off
    with ScriptedServer(script).running() as server:
        result = draft_cli(project, monkeypatch, server)
    assert result.exit_code == 1
    assert re.search(
        r"drafter:responsibilities\.P\d\.\d \(model m\) failed: "
        r"the answer was cut off by the token limit \(finish_reason length\)$",
        error_line(result),
    )  # the first duty the drafter asks the model for (others are written in their quotes' words)


def test_a_structured_answer_that_stays_invalid_is_named_with_its_field(
    project: Project, monkeypatch: pytest.MonkeyPatch, script: Script
) -> None:
    # Every skill asked of the model, none written in its quote's own words.
    monkeypatch.setattr(item_kinds, "as_skill", lambda text: None)

    script.overrides["SkillDraft"] = lambda request: {"name": "SQL", "description": ""}
    with ScriptedServer(script).running() as server:
        result = draft_cli(project, monkeypatch, server)
    assert result.exit_code == 1
    assert error_line(result).endswith(
        "drafter:skills.1 (model m) failed: no valid answer after 3 attempt(s): "
        "description: String should have at least 8 characters"
    )
    assert len(server.calls("SkillDraft")) == 3


@pytest.mark.parametrize("timeout", ["0", "nan", "inf", "-inf"])
def test_a_bad_timeout_is_refused(
    project: Project, monkeypatch: pytest.MonkeyPatch, script: Script, timeout: str
) -> None:
    with ScriptedServer(script).running() as server:
        result = draft_cli(project, monkeypatch, server, "--timeout", timeout)
    assert result.exit_code == 2 and server.requests == []
    assert error_line(result) == (
        f"jfm: error: --timeout {float(timeout):g}: must be more than 0 seconds, and finite"
    )


MAINTENANCE = "<html><body>Down for maintenance</body></html>"


@pytest.mark.parametrize(
    ("reply", "said"),
    [
        (
            Reply(body=MAINTENANCE, headers={"Content-Type": "text/html"}),
            f"the endpoint answered HTTP 200 with text/html, not JSON: {MAINTENANCE}",
        ),
        (
            Reply(body={"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": []}),
            "the endpoint answered HTTP 200 with no choices (an empty choices list)",
        ),
    ],
    ids=["text/html", "no choices"],
)
def test_an_answer_that_is_no_chat_completion_says_what_the_endpoint_did(
    project: Project, monkeypatch: pytest.MonkeyPatch, reply: Reply, said: str
) -> None:
    with ScriptedServer(lambda request: reply).running() as server:
        result = draft_cli(project, monkeypatch, server, "--concurrency", "1")
    assert result.exit_code == 1
    assert error_line(result) == f"jfm: error: {server.base_url}: drafter:overview (model m) failed: {said}"
    assert len(server.requests) == 1  # named at once: neither retried nor re-asked
    out = project.root / "out" / "product-management"
    assert said in json.loads((out / "run.json").read_text())["error"]
    transcript = json.loads((out / "transcripts" / "round-1" / "drafter-overview.json").read_text())
    assert [attempt["error"] for attempt in transcript["attempts"]] == [said]


#: Keys long enough to be told apart from words (a configured key under 8 characters is not sought).
DRAFTER_KEY = "sk-drafter-4f1c9a7e2b"
PANEL_KEY = "sk-panel-8d2e6b0c3a"


@pytest.mark.parametrize("echoed_by", ["drafter", "panel"])
def test_a_key_an_endpoint_echoes_in_an_error_is_never_printed_or_written(
    project: Project, monkeypatch: pytest.MonkeyPatch, script: Script, tmp_path: Path, echoed_by: str
) -> None:
    def echo(request: dict[str, Any]) -> Reply:
        key = DRAFTER_KEY if echoed_by == "drafter" else PANEL_KEY
        message = f"Incorrect API key provided: {key}. Keys: {DRAFTER_KEY}, {PANEL_KEY}"
        return Reply(status=401, body={"error": {"message": message, "key": key}})

    name = "OverviewDraft" if echoed_by == "drafter" else "ReviewDraft"
    script.overrides[name] = echo
    cassette = tmp_path / "cassettes" / "run.yaml"
    with ScriptedServer(script).running() as server:
        monkeypatch.chdir(project.root)
        env = {
            "OPENAI_BASE_URL": server.base_url,
            "OPENAI_API_KEY": DRAFTER_KEY,
            "JFM_PANEL_BASE_URL": server.base_url,
            "JFM_PANEL_API_KEY": PANEL_KEY,
        }
        argv = ["draft", "--role", "product-management", "--model", "m", "--record", str(cassette)]
        result = runner.invoke(app, argv, env=env, catch_exceptions=False)
    assert result.exit_code == 1
    line = error_line(result)
    assert "HTTP 401" in line and "Incorrect API key provided: [redacted]" in line
    assert DRAFTER_KEY not in result.output and PANEL_KEY not in result.output
    out = project.root / "out" / "product-management"
    written = [p for p in [*out.rglob("*"), *tmp_path.rglob("*")] if p.is_file()]
    assert out / "run.json" in written and cassette.with_name("run.partial.yaml") in written
    leaking = [p for p in written if DRAFTER_KEY in p.read_text(errors="replace")]
    leaking += [p for p in written if PANEL_KEY in p.read_text(errors="replace")]
    assert leaking == []
    assert "[redacted]" in json.loads((out / "run.json").read_text())["error"]


def test_a_failed_run_keeps_the_last_profile_until_a_run_has_one_to_put_in_its_place(
    project: Project, monkeypatch: pytest.MonkeyPatch, script: Script
) -> None:
    out = project.root / "out" / "product-management"
    with ScriptedServer(script).running() as server:
        assert draft_cli(project, monkeypatch, server, "--max-rounds", "1").exit_code == 0
    drafted = {name: (out / name).read_bytes() for name in ("profile.json", "profile.md", "run.json")}
    down = Reply(status=503, body={"error": {"message": "down"}}, headers={"Retry-After": "0"})
    with ScriptedServer(lambda request: down).running() as server:
        result = draft_cli(project, monkeypatch, server, "--max-rounds", "1")
    assert result.exit_code == 1 and "HTTP 503" in error_line(result)
    # The failed run's record is the folder's (so --resume finds it); the last profile, with the
    # record and transcripts of the run that made it, is set aside whole, not deleted.
    assert json.loads((out / "run.json").read_text())["status"] == "failed"
    assert not (out / "profile.json").exists()
    kept = out / "previous"
    assert {name: (kept / name).read_bytes() for name in drafted} == drafted
    assert (kept / "transcripts" / "round-1").is_dir() and (kept / "evidence.json").is_file()
    # What views read is that profile, and they say whose it is.
    shown = runner.invoke(app, ["show", "--role", "product-management"], catch_exceptions=False)
    assert shown.exit_code == 0 and f"showing the run before it, kept in {kept}" in shown.stderr
    listed = {state.role: state.status for state in entry.roles(project)}
    assert listed["product-management"] == "failed; the last profile kept in previous/"
    # A second failure keeps the same set-aside profile; a run that drafts one replaces it.
    with ScriptedServer(lambda request: down).running() as server:
        assert draft_cli(project, monkeypatch, server, "--max-rounds", "1").exit_code == 1
    assert (kept / "profile.json").read_bytes() == drafted["profile.json"]
    with ScriptedServer(script).running() as server:
        assert draft_cli(project, monkeypatch, server, "--max-rounds", "1").exit_code == 0
    assert (out / "profile.json").is_file() and not kept.exists()
