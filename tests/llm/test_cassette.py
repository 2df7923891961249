from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import Script, canned_profile
from jfmfactory.api import DraftOptions, draft
from jfmfactory.errors import BadInput
from jfmfactory.inputs.project import Project
from jfmfactory.inputs.seeds import load_role
from jfmfactory.llm.cassette import ReplayMismatch, _body_matcher
from jfmfactory.llm.client import CallFailed
from scripted_server import Reply, ScriptedServer

PLANTED_KEY = "sk-planted-7f3a9c1e5b"


def test_record_then_replay_reproduces_profile_json_byte_for_byte_without_the_endpoint(
    project: Project, script: Script, tmp_path: Path
) -> None:
    skill = canned_profile(load_role(project.seeds, "product-management")).skills[0].name
    script.verdicts["Clarity"] = [(3, [{"section": "skills", "quote": skill, "problem": "vague"}]), (5, [])]
    cassette = tmp_path / "run.yaml"
    recorded = tmp_path / "recorded"
    with ScriptedServer(script).running() as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": PLANTED_KEY}
        draft(project, DraftOptions(role="product-management", model="m", out=recorded, record=cassette), env)
        assert all(h.get("Authorization") == f"Bearer {PLANTED_KEY}" for h in server.headers)
    # The server is gone: only the cassette can answer now.
    replayed = tmp_path / "replayed"
    env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": PLANTED_KEY}
    run = draft(
        project, DraftOptions(role="product-management", model="m", out=replayed, replay=cassette), env
    )

    assert run.status == "passed" and len(run.rounds) == 2
    assert (replayed / "profile.json").read_bytes() == (recorded / "profile.json").read_bytes()
    assert (replayed / "profile.md").read_bytes() == (recorded / "profile.md").read_bytes()
    # Again in this process, from the cassette as parsed once.
    again = tmp_path / "again"
    draft(project, DraftOptions(role="product-management", model="m", out=again, replay=cassette), env)
    assert (again / "profile.json").read_bytes() == (recorded / "profile.json").read_bytes()


def test_no_file_written_by_record_or_replay_holds_the_key(
    project: Project, script: Script, tmp_path: Path
) -> None:
    cassette = tmp_path / "cassettes" / "run.yaml"
    with ScriptedServer(script).running() as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": PLANTED_KEY}
        draft(
            project,
            DraftOptions(role="product-management", model="m", out=tmp_path / "a", record=cassette),
            env,
        )
    draft(
        project, DraftOptions(role="product-management", model="m", out=tmp_path / "b", replay=cassette), env
    )

    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert cassette in written and len(written) > 40
    leaking = [p for p in written if PLANTED_KEY in p.read_text(errors="replace")]
    assert leaking == []
    assert "authorization" not in cassette.read_text().lower()


def test_a_changed_prompt_fails_the_replay_loudly(project: Project, script: Script, tmp_path: Path) -> None:
    cassette = tmp_path / "run.yaml"
    with ScriptedServer(script).running() as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"}
        draft(
            project,
            DraftOptions(role="product-management", model="m", out=tmp_path / "a", record=cassette),
            env,
        )
    template = project.prompts / "items" / "tool.toml"
    assert "Answer with the" in template.read_text()
    template.write_text(template.read_text().replace("Answer with the", "Answer only with the"))

    with pytest.raises(ReplayMismatch, match="holds no answer") as failure:
        draft(
            project,
            DraftOptions(role="product-management", model="m", out=tmp_path / "b", replay=cassette),
            env,
        )
    assert failure.value.exit_code == 2
    run_json = (tmp_path / "b" / "run.json").read_text()
    assert '"status": "failed"' in run_json and "drafter:tools.1" in run_json


def test_a_failed_recording_keeps_the_good_cassette_and_its_own_partial(
    project: Project, script: Script, tmp_path: Path
) -> None:
    cassette = tmp_path / "run.yaml"
    cassette.write_text("the good cassette")
    script.overrides["ToolDraft"] = lambda request: Reply(status=400, body={"error": {"message": "bad"}})
    with ScriptedServer(script).running() as server, pytest.raises(CallFailed, match="HTTP 400"):
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"}
        draft(
            project,
            DraftOptions(role="product-management", model="m", out=tmp_path / "a", record=cassette),
            env,
        )
    assert cassette.read_text() == "the good cassette"
    assert "ToolDraft" in (tmp_path / "run.partial.yaml").read_text()
    assert not list(tmp_path.glob(".cassette.*"))


def test_credentials_in_the_endpoint_url_never_reach_the_cassette(
    project: Project, script: Script, tmp_path: Path
) -> None:
    cassette = tmp_path / "run.yaml"
    with ScriptedServer(script).running() as server:
        url = server.base_url.replace("http://", "http://user:pw-secret-9@") + "?api-version=2&key=q-secret-7"
        env = {"OPENAI_BASE_URL": url, "OPENAI_API_KEY": PLANTED_KEY}
        draft(
            project,
            DraftOptions(role="product-management", model="m", out=tmp_path / "a", record=cassette),
            env,
        )
    text = cassette.read_text()
    assert "pw-secret-9" not in text and "q-secret-7" not in text and PLANTED_KEY not in text
    run_json = (tmp_path / "a" / "run.json").read_text()
    assert "pw-secret-9" not in run_json and "q-secret-7" not in run_json


def test_a_file_that_is_not_a_cassette_is_refused(project: Project, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.yaml"
    bogus.write_text("interactions: [unclosed")
    with pytest.raises(BadInput, match=f"--replay {bogus}: not a cassette"):
        draft(project, DraftOptions(role="product-management", out=tmp_path / "a", replay=bogus), env={})


def _request(body: bytes | None, kind: str = "application/json") -> Any:
    from vcr.request import Request

    return Request("POST", "http://x/v1/chat/completions", body, {"Content-Type": kind} if kind else {})


@pytest.mark.parametrize(
    ("ours", "theirs", "kind", "same"),
    [
        (b'{"a": 1, "b": [1, 2]}', b'{"b":[1,2],"a":1}', "application/json", True),  # order, spacing
        (b'{"a": 1}', b'{"a": 1.0}', "application/json", True),  # equal data, as vcrpy's matcher has it
        (b'{"a": 1}', b'{"a": 2}', "application/json", False),
        (b'{"a": 1}', b'{"a":1}', "", False),  # not sent as JSON: bytes
        (b"not json", b"not json", "application/json", True),
        (b"not json", b"not json ", "application/json", False),
        (b"", None, "", True),  # an empty body is an empty body
    ],
)
def test_bodies_match_as_vcrpy_s_body_matcher_has_it_for_json_requests(
    ours: bytes, theirs: bytes | None, kind: str, same: bool
) -> None:
    matches = _body_matcher()
    try:
        matches(_request(ours, kind), _request(theirs, kind))
    except AssertionError:
        assert not same
    else:
        assert same
