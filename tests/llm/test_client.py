from __future__ import annotations

import asyncio
import time
from typing import Any

import openai
import pytest

from jfmfactory.llm.client import LLM, REDACTED, CallFailed, Redactor, TranscriptRecorder, bind_choices
from jfmfactory.pipeline.item_kinds import StatementDraft
from jfmfactory.pipeline.panel import ReviewDraft
from jfmfactory.records.runlog import Transcript, Usage
from scripted_server import Reply, ScriptedServer


def test_bound_choices_become_an_enum_under_the_plain_class_name() -> None:
    model = bind_choices(ReviewDraft, ["skills", "tools"])
    schema = model.model_json_schema()
    assert model.__name__ == "ReviewDraft"
    issue = next(iter(schema["$defs"].values()))
    assert issue["properties"]["section"]["enum"] == ["skills", "tools"]
    with pytest.raises(ValueError, match="overview"):
        model.model_validate(
            {"issues": [{"section": "overview", "quote": "q", "problem": "p"}], "rationale": "r", "score": 3}
        )


def _answers(*answers: dict[str, Any] | Reply):
    queue = list(answers)
    return lambda request: queue.pop(0) if len(queue) > 1 else queue[0]


GOOD = {"text": "Checks patients' vital signs."}
SHORT = {"text": "Checks."}


def _llm(server: ScriptedServer) -> LLM:
    client = openai.AsyncOpenAI(base_url=server.base_url, api_key="k", max_retries=0)
    return LLM(client, "m", server.base_url, max_tokens=500, reasks=1)


def _messages() -> list[dict[str, str]]:
    return [{"role": "system", "content": "sys"}, {"role": "user", "content": "<quote>vital signs</quote>"}]


def test_invalid_output_is_reasked_and_every_attempt_is_transcribed() -> None:
    model = StatementDraft
    with ScriptedServer(_answers(SHORT, GOOD)).running() as server:
        result, transcript = asyncio.run(
            _llm(server).ask("drafter:responsibilities.P2.1", 1, model, _messages())
        )

    assert result.text == GOOD["text"]
    first, second = transcript.attempts
    assert "at least 8 characters" in (first.error or "")
    assert second.error is None and transcript.result == GOOD
    assert len(server.requests) == 2
    # The re-ask tells the model what was wrong with its last answer.
    assert "at least 8 characters" in str(server.requests[1]["messages"])
    assert first.usage.completion_tokens > 0 and second.usage.total_tokens > 0
    # Each attempt is recorded as it was sent: the re-ask's messages are not the first attempt's.
    assert [m["content"] for m in first.request["messages"]] == ["sys", "<quote>vital signs</quote>"]
    assert len(second.request["messages"]) > 2
    # The tool schema both attempts sent is recorded once, for both.
    assert first.request["tools"] == server.requests[0]["tools"] == server.requests[1]["tools"]
    assert first.request["tools"] is second.request["tools"]


def test_output_still_invalid_after_the_reasks_fails_with_one_line_and_its_transcript() -> None:
    model = StatementDraft
    with ScriptedServer(_answers(SHORT)).running() as server, pytest.raises(CallFailed) as failure:
        asyncio.run(_llm(server).ask("drafter:responsibilities.P2.1", 1, model, _messages()))
    message = str(failure.value)
    assert "\n" not in message and "drafter:responsibilities.P2.1" in message and server.base_url in message
    assert "no valid answer after 2 attempt(s): text: String should have at least 8 characters" in message
    assert len(failure.value.transcript.attempts) == 2


def test_an_http_error_names_its_status() -> None:
    model = bind_choices(ReviewDraft, ["skills"])
    fault = Reply(status=503, body={"error": {"message": "overloaded"}})
    with ScriptedServer(_answers(fault)).running() as server, pytest.raises(CallFailed, match="HTTP 503"):
        asyncio.run(_llm(server).ask("reviewer:clarity", 2, model, _messages()))


def test_a_raw_newline_inside_a_json_string_is_accepted_without_a_reask() -> None:
    model = StatementDraft
    parsed = model.model_validate_json('{"text": "Checks\npatients\tdaily."}')
    assert parsed.text == "Checks\npatients\tdaily."
    with pytest.raises(ValueError, match="Invalid JSON"):
        model.model_validate_json('{"text": ')


def test_concurrent_calls_on_one_client_each_keep_their_own_attempts() -> None:
    model = StatementDraft

    def slowly(request: dict[str, Any]) -> dict[str, Any]:
        time.sleep(0.05)  # so that the calls overlap
        return GOOD

    with ScriptedServer(slowly).running() as server:
        llm = _llm(server)
        asks = [
            [{"role": "system", "content": "sys"}, {"role": "user", "content": f"one duty, call {n}"}]
            for n in range(8)
        ]

        async def every_call() -> list[tuple[Any, Transcript]]:
            return await asyncio.gather(*(llm.ask(f"call {n}", 1, model, asks[n]) for n in range(len(asks))))

        transcripts = [transcript for _, transcript in asyncio.run(every_call())]
    assert server.max_in_flight > 1  # the calls overlapped

    for n, transcript in enumerate(transcripts):
        (attempt,) = transcript.attempts
        assert attempt.request["messages"][1]["content"] == f"one duty, call {n}"
        assert attempt.response is not None and attempt.usage.total_tokens > 0


def test_a_request_is_recorded_as_plain_json_values() -> None:
    class Opaque:
        def __str__(self) -> str:
            return "opaque object"

    transcript = Transcript(call="c", round=1, model="m")
    recorder = TranscriptRecorder(transcript)
    recorder.on_kwargs(
        model="m",
        messages=({"role": "user", "content": "hi"},),
        tools=[Usage(prompt_tokens=1)],
        seed=Opaque(),
        stream=False,  # not a recorded key
    )
    assert transcript.attempts[0].request == {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"prompt_tokens": 1, "completion_tokens": 0, "total_tokens": 0, "cached_tokens": 0}],
        "seed": "opaque object",
    }


def test_redaction_rewrites_only_the_parts_that_hold_a_key() -> None:
    key = "sk-test-0123456789abcdef"
    tools = [{"type": "function", "function": {"name": "StatementDraft", "parameters": {"type": "object"}}}]
    request = {
        "messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": f"echo {key}"}],
        "tools": tools,
    }
    redacted = Redactor([key]).data(request)
    assert redacted["messages"][1]["content"] == f"echo {REDACTED}"
    assert request["messages"][1]["content"] == f"echo {key}"  # what was sent is not rewritten
    # What holds no key stays the very value recorded: a schema shared by transcripts stays shared.
    assert redacted["tools"] is tools and redacted["messages"][0] is request["messages"][0]
    assert Redactor([key]).data(tools) is tools
