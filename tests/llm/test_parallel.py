from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from conftest import Script
from jfmfactory.api import DraftOptions, draft
from jfmfactory.api.catalog import draft_roles
from jfmfactory.api.runs import draft_role, review_role
from jfmfactory.inputs.project import Project
from jfmfactory.llm.parallel import note_busy, ordered_map, tracking
from jfmfactory.pipeline.loop import QuietReporter
from scripted_answers import REPO, generate_roles, round_one_calls, stateless
from scripted_server import ScriptedServer

T = TypeVar("T")


def _mapped(fn: Callable[[Any], Awaitable[Any]], items: Any, workers: int) -> list[Any]:
    return asyncio.run(ordered_map(fn, items, workers))


def test_ordered_map_keeps_order_and_raises_the_first_failure() -> None:
    async def square(n: int) -> int:
        await asyncio.sleep(0.01 * (3 - n))  # the last asked ends first
        return n * n

    assert _mapped(square, [3, 1, 2], workers=3) == [9, 1, 4]

    async def fail_on_two(n: int) -> int:
        if n == 2:
            raise ValueError("two")
        return n

    with pytest.raises(ValueError, match="two"):
        _mapped(fail_on_two, [1, 2, 3], workers=2)


def test_after_a_failure_no_item_starts_and_the_calls_in_flight_end_first() -> None:
    started: list[int] = []
    ended: list[int] = []

    async def call(n: int) -> int:
        started.append(n)
        if n == 1:
            raise ValueError("fast failure")
        await asyncio.sleep(0.2)
        ended.append(n)
        if n == 0:
            raise ValueError("slow failure")
        return n

    # Item 1 fails first; item 0, in flight, is waited for, and its failure is the one raised.
    with pytest.raises(ValueError, match="slow failure"):
        _mapped(call, range(10), workers=2)
    assert sorted(started) == [0, 1] and ended == [0]


def test_one_worker_asks_in_order_in_the_calling_task() -> None:
    tasks: list[asyncio.Task[Any] | None] = []
    order: list[int] = []

    async def call(n: int) -> None:
        tasks.append(asyncio.current_task())
        await asyncio.sleep(0.01 * (3 - n))
        order.append(n)

    async def main() -> asyncio.Task[Any] | None:
        await ordered_map(call, [1, 2], workers=1)
        return asyncio.current_task()

    assert set(tasks) | {asyncio.run(main())} == {tasks[0]} and order == [1, 2]


class Gate:
    """Holds every call where it would leave (a request at the HTTP client, or a call of a map's
    function) until the test lets it through, and counts how many are held at once, exactly.

    The run is tracked (`parallel.tracking`) and a held call counts as waiting, so the moment the
    run is idle every task that could call has called: what is held then is all the run asks
    at once. The test lets one call through at each such moment: no sleep, no timing, the same
    counts on any machine. A cap that leaked would be seen the first time the run is idle.
    """

    def __init__(self) -> None:
        self.held: list[tuple[asyncio.Future[None], str]] = []
        #: The most calls held at once, over the whole run.
        self.most = 0
        #: What each idle moment held: the labels of the calls waiting then.
        self.moments: list[list[str]] = []

    async def hold(self, label: str) -> None:
        turn = asyncio.get_running_loop().create_future()
        self.held.append((turn, label))
        self.most = max(self.most, len(self.held))
        note_busy(-1)  # counted busy again by the test when it lets this call through
        await turn

    def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """`work()` as a task of its own, its calls let through one at each idle moment."""

        async def counted() -> T:
            try:
                return await work()
            finally:
                note_busy(-1)

        async def main() -> T:
            with tracking() as activity:  # the busy task it counts is the run from now on
                run = asyncio.create_task(counted())
                while True:
                    # The timeout only ends a test that would hang: no count depends on it.
                    assert await activity.wait_idle(120), "the run neither ended nor waited on a call"
                    if run.done():
                        return run.result()
                    assert self.held, "every task of the run waits, and none on a call: a deadlock"
                    self.moments.append([label for _, label in self.held])
                    turn, _ = self.held.pop(0)
                    note_busy(1)
                    turn.set_result(None)

        return asyncio.run(main())


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Gate:
    """A gate on every request the openai client sends, labelled with the generated role it is
    for (if any) and the tool it asks for."""
    gate = Gate()
    send = httpx.AsyncClient.send

    async def gated_send(client: httpx.AsyncClient, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        body = (await request.aread()).decode()
        role = re.search(r"Generated Role (\d{3})", body)
        tool = json.loads(body)["tool_choice"]["function"]["name"] if body else request.url.path
        await gate.hold(f"{role.group(1) if role else '-'}:{tool}")
        return await send(client, request, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "send", gated_send)
    return gate


def test_a_map_inside_a_map_stays_within_the_outer_maps_workers() -> None:
    gate = Gate()

    async def section(name: str) -> str:
        await gate.hold(name)
        if name == "1.1":
            raise ValueError(name)
        return name

    async def role(number: int) -> list[str]:
        try:
            return await ordered_map(section, [f"{number}.{n}" for n in range(3)], workers=2)
        except ValueError:  # a failed map gives back every slot it took: the next one has them
            return await ordered_map(section, [f"{number}.again.{n}" for n in range(3)], workers=2)

    # Three roles two at a time, each with three sections two at a time: two calls at once in
    # all, not four; every result where it belongs.
    roles = gate.run(lambda: ordered_map(role, range(3), workers=2))
    assert roles == [["0.0", "0.1", "0.2"], ["1.again.0", "1.again.1", "1.again.2"], ["2.0", "2.1", "2.2"]]
    assert gate.most == 2 and max(len(held) for held in gate.moments) == 2
    # The slots go round: at some moment two roles' sections are held at once.
    assert any(len({label.split(".")[0] for label in held}) == 2 for held in gate.moments)


def test_calls_sets_the_bound_of_the_maps_inside_apart_from_the_outer_maps_workers() -> None:
    gate = Gate()

    async def section(name: str) -> str:
        await gate.hold(name)
        return name

    async def role(number: int) -> list[str]:
        return await ordered_map(section, [f"{number}.{n}" for n in range(3)], workers=3)

    # Three roles two at a time (a batched catalog's window), their sections unbounded: the two
    # roles in progress have their six sections held at once; the third starts after one ends.
    roles = gate.run(lambda: ordered_map(role, range(3), workers=2, calls=100))
    assert roles == [["0.0", "0.1", "0.2"], ["1.0", "1.1", "1.2"], ["2.0", "2.1", "2.2"]]
    assert gate.most == 6
    assert all(len({label.split(".")[0] for label in held}) <= 2 for held in gate.moments)


def test_sections_are_drafted_at_once_and_concurrency_1_asks_one_at_a_time(
    project: Project, script: Script, gate: Gate
) -> None:
    with ScriptedServer(script).running() as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"}
        options = DraftOptions(role="product-management", model="m", max_rounds=1, concurrency=4)
        gate.run(lambda: draft_role(project, options, env))
        # Four sections' calls held at once, never five; the endpoint saw no more either.
        assert gate.most == 4 and len(gate.moments[0]) == 4 and server.max_in_flight <= 4
        asked = len(server.requests)
        gate.most, gate.moments, server.max_in_flight = 0, [], 0
        options = DraftOptions(
            role="product-management", model="m", max_rounds=1, concurrency=1, out=project.root / "b"
        )
        gate.run(lambda: draft_role(project, options, env))
        # One at a time: each call let through alone.
        assert gate.most == 1 and server.max_in_flight == 1
        assert len(gate.moments) == len(server.requests) - asked


@pytest.mark.parametrize("concurrency", [5, 2])
def test_the_panel_asks_its_reviewers_at_once(
    project: Project, script: Script, tmp_path: Path, gate: Gate, concurrency: int
) -> None:
    from test_cli import _write_profile

    profile = tmp_path / "profile.json"
    _write_profile(project, profile, same_bullets_everywhere=False)
    with ScriptedServer(script).running() as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"}
        options = DraftOptions(role="product-management", model="m", profile=profile, concurrency=concurrency)
        run = gate.run(lambda: review_role(project, options, env))
    # The first moment holds `concurrency` reviewers' calls; none ever holds more.
    assert gate.most == concurrency and len(gate.moments[0]) == concurrency
    assert server.max_in_flight <= concurrency and len(server.requests) == 5
    assert [r.member for r in run.rounds[0].reviews if r.kind == "reviewer"] == [
        "clarity", "completeness", "grounding", "level-differentiation", "role-boundaries",
    ]  # fmt: skip


def test_draft_all_keeps_to_concurrency_calls_at_once_over_every_role(tmp_path: Path, gate: Gate) -> None:
    """`--concurrency N` with `--all` is N calls at once in all, the roles' together: roles start
    N at a time and share the N (it was N per role, N x N in all)."""
    root = tmp_path / "catalog"
    for folder in ("prompts", "panel", "catalog"):
        shutil.copytree(REPO / folder, root / folder)
    generate_roles(root / "seeds", 3)
    project = Project.find(root)
    with ScriptedServer(stateless).running() as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"}
        options = DraftOptions(role="", model="m", max_rounds=1, concurrency=2)
        runs = gate.run(lambda: draft_roles(project, options, env, lambda role: QuietReporter(), 2))
    assert [run.error for run in runs] == [None, None, None]
    assert gate.most == 2 and server.max_in_flight <= 2
    assert all(not label.startswith("-") for held in gate.moments for label in held)
    # Roles still go at once: some moment holds two roles' calls.
    assert any(len({label.split(":")[0] for label in held}) == 2 for held in gate.moments)


def test_cached_prompt_tokens_and_an_estimated_cost_are_accounted(
    project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    scripted.cached_tokens = 100
    (project.root / "prices.toml").write_text(
        "[models.m]\nprompt = 1.0\ncached_prompt = 0.5\ncompletion = 2.0\n"
    )
    run = draft(project, DraftOptions(role="product-management", model="m", max_rounds=1), endpoint_env)
    usage = run.usage
    calls = len(run.rounds[0].calls)
    assert calls == round_one_calls() + 5  # every item's call, then the five reviewers
    assert usage.cached_tokens == 100 * calls
    expected = (
        (usage.prompt_tokens - usage.cached_tokens) * 1.0
        + usage.cached_tokens * 0.5
        + usage.completion_tokens * 2.0
    ) / 1e6
    assert run.estimated_cost_usd == pytest.approx(expected, rel=1e-6)


def test_a_model_without_a_price_gets_no_estimate(
    project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    (project.root / "prices.toml").write_text("[models.other]\nprompt = 1.0\ncompletion = 2.0\n")
    run = draft(project, DraftOptions(role="product-management", model="m", max_rounds=1), endpoint_env)
    assert run.estimated_cost_usd is None
