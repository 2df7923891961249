"""Rate limits of a live run: requests spaced under --rpm and --tpm, paused by x-ratelimit-*."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from conftest import Script
from jfmfactory.api import DraftOptions, draft
from jfmfactory.api.runs import draft_role
from jfmfactory.inputs.project import Project
from jfmfactory.llm.limits import RateLimiter, estimated_tokens, reset_seconds
from scripted_server import Reply, ScriptedServer

URL = "http://127.0.0.1:9/v1/chat/completions"


class Clock:
    """A clock that moves only when slept on."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def chat(prompt: str = "x" * 400, max_tokens: int = 100) -> httpx.Request:
    body = {"model": "m", "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens}
    return httpx.Request("POST", URL, content=json.dumps(body).encode())


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1s", 1.0),
        ("6m0s", 360.0),
        ("20ms", 0.02),
        ("1h2m3s", 3723.0),
        ("0.5", 0.5),
        ("soon", None),
        ("", None),
    ],
)
def test_reset_headers_are_read_as_seconds(text: str, seconds: float | None) -> None:
    assert reset_seconds(text) == seconds


def test_requests_are_spaced_evenly_under_the_rpm_and_the_tpm() -> None:
    clock = Clock()
    rpm = RateLimiter(rpm=600, tpm=None, clock=clock, sleep=clock.sleep)
    for _ in range(4):
        asyncio.run(rpm.before(chat()))
    assert clock.slept == [0.1, 0.1, 0.1]  # the first goes at once, then one every 60/600 s
    clock = Clock()
    assert estimated_tokens(chat()) == 100 + 100
    tpm = RateLimiter(rpm=None, tpm=12_000, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        asyncio.run(tpm.before(chat()))
    assert clock.slept == [1.0, 1.0]  # 200 tokens of 12,000 a minute: one a second
    # What is not a chat completion (a model list, a batch file) waits for nothing.
    asyncio.run(tpm.before(httpx.Request("GET", "http://127.0.0.1:9/v1/models")))
    assert clock.slept == [1.0, 1.0]


def test_a_spent_budget_the_endpoint_reports_pauses_every_request_until_its_reset() -> None:
    clock = Clock()
    limiter = RateLimiter(rpm=None, tpm=None, clock=clock, sleep=clock.sleep)
    headers = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "2s"}
    asyncio.run(limiter.after(httpx.Response(200, headers=headers)))
    asyncio.run(limiter.before(chat()))
    assert clock.slept == [2.0]
    left = {"x-ratelimit-remaining-tokens": "5000", "x-ratelimit-reset-tokens": "1m"}
    asyncio.run(limiter.after(httpx.Response(200, headers=left)))  # budget left: no pause
    asyncio.run(limiter.before(chat()))
    assert clock.slept == [2.0]
    # A reset of hours holds the run no longer than a Retry-After may.
    asyncio.run(
        limiter.after(
            httpx.Response(
                200, headers={"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "1000h"}
            )
        )
    )
    asyncio.run(limiter.before(chat()))
    assert clock.slept == [2.0, 120.0]


@pytest.mark.parametrize(
    ("headers", "paused"),
    [
        ({"Retry-After": "2"}, 2.0),
        ({"retry-after-ms": "1500", "Retry-After": "9"}, 1.5),
        ({"Retry-After": "3600"}, None),  # longer than the client waits: it gives up instead
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_a_429s_retry_after_pauses_every_request(headers: dict[str, str], paused: float | None) -> None:
    clock = Clock()
    limiter = RateLimiter(rpm=None, tpm=None, clock=clock, sleep=clock.sleep)
    asyncio.run(limiter.after(httpx.Response(429, headers=headers)))
    asyncio.run(limiter.before(chat()))
    assert clock.slept == ([paused] if paused else [])
    asyncio.run(
        limiter.after(httpx.Response(503, headers={"Retry-After": "5"}))
    )  # a 503's is its own request's
    asyncio.run(limiter.before(chat()))
    assert clock.slept == ([paused] if paused else [])


def test_a_429_holds_every_request_of_the_run_until_its_retry_after_has_passed(
    project: Project, script: Script
) -> None:
    """Four calls at once: once one is answered 429 with Retry-After, no other request leaves
    before it has passed (but the few that were on the wire already)."""
    arrivals: list[float] = []
    told: list[float] = []

    def first_busy(request: dict[str, Any]) -> Any:
        arrivals.append(time.monotonic())
        if len(arrivals) == 3:
            told.append(time.monotonic())
            return Reply(status=429, body={"error": {"message": "slow down"}}, headers={"Retry-After": "1.5"})
        return script(request)

    with ScriptedServer(first_busy).running() as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"}
        options = DraftOptions(role="product-management", model="m", max_rounds=1, concurrency=4, rpm=6000)
        draft(project, options, env)
    during = [when for when in arrivals if told[0] < when < told[0] + 1.4]
    assert len(arrivals) > 20 and len(during) <= 3, len(during)


def test_a_live_run_sends_every_request_through_its_limiter(
    project: Project, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    seen: list[str] = []

    class Counting(RateLimiter):
        async def before(self, request: httpx.Request) -> None:
            seen.append(request.url.path)
            await super().before(request)

    options = DraftOptions(role="product-management", model="m", max_rounds=1)
    asyncio.run(draft_role(project, options, endpoint_env, limiter=Counting(rpm=100_000, tpm=None)))
    assert len(seen) == len(scripted.requests) > 0 and set(seen) == {"/v1/chat/completions"}
