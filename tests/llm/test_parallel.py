from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from conftest import Script, reviewer_title
from jfmfactory.api import DraftOptions, draft, review
from jfmfactory.inputs.project import Project
from jfmfactory.llm.parallel import ordered_map, tracking
from scripted_server import ScriptedServer


def test_ordered_map_keeps_order_and_raises_the_first_failure() -> None:
    assert ordered_map(lambda n: n * n, [3, 1, 2], workers=3) == [9, 1, 4]

    def fail_on_two(n: int) -> int:
        if n == 2:
            raise ValueError("two")
        return n

    with pytest.raises(ValueError, match="two"):
        ordered_map(fail_on_two, [1, 2, 3], workers=2)


def test_after_a_failure_no_item_starts_and_the_calls_in_flight_end_first() -> None:
    started: list[int] = []
    ended: list[int] = []

    def call(n: int) -> int:
        started.append(n)
        if n == 1:
            raise ValueError("fast failure")
        time.sleep(0.2)
        ended.append(n)
        if n == 0:
            raise ValueError("slow failure")
        return n

    # Item 1 fails first; item 0, in flight, is waited for, and its failure is the one raised.
    with pytest.raises(ValueError, match="slow failure"):
        ordered_map(call, range(10), workers=2)
    assert sorted(started) == [0, 1] and ended == [0]


def test_one_worker_runs_in_the_calling_thread() -> None:
    threads: list[str] = []
    ordered_map(lambda n: threads.append(threading.current_thread().name), [1, 2], workers=1)
    assert set(threads) == {threading.current_thread().name}


def _slow_reviews(script: Script, delay: float):  # type: ignore[no-untyped-def]
    def answer(request):  # type: ignore[no-untyped-def]
        if reviewer_title(request):
            time.sleep(delay)
        return script(request)

    return answer


def test_the_panel_asks_its_reviewers_at_once(project: Project, script: Script, tmp_path: Path) -> None:
    from test_cli import _write_profile

    profile = tmp_path / "profile.json"
    _write_profile(project, profile, same_bullets_everywhere=False)
    with ScriptedServer(_slow_reviews(script, 0.3)).running() as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"}
        options = DraftOptions(role="product-management", model="m", profile=profile, concurrency=5)
        run = review(project, options, env)
    assert server.max_in_flight == 5 and len(server.requests) == 5
    assert [r.member for r in run.rounds[0].reviews if r.kind == "reviewer"] == [
        "clarity", "completeness", "grounding", "level-differentiation", "role-boundaries",
    ]  # fmt: skip


def test_sections_are_drafted_at_once_and_concurrency_1_asks_one_at_a_time(
    project: Project, script: Script
) -> None:
    def slow(request):  # type: ignore[no-untyped-def]
        time.sleep(0.05)
        return script(request)

    with ScriptedServer(slow).running() as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"}
        draft(project, DraftOptions(role="product-management", model="m", max_rounds=1, concurrency=4), env)
        assert server.max_in_flight == 4
        server.max_in_flight = 0
        options = DraftOptions(
            role="product-management", model="m", max_rounds=1, concurrency=1, out=project.root / "b"
        )
        draft(project, options, env)
        assert server.max_in_flight == 1


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
    assert calls == 6 * (5 + 3) + 6 + 5 + 1 + 5  # every item's call, then the five reviewers
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


@pytest.mark.parametrize("startable", [0, 2])
def test_a_thread_that_cannot_start_fails_the_map_and_keeps_the_busy_count_true(
    monkeypatch: pytest.MonkeyPatch, startable: int
) -> None:
    real_start = threading.Thread.start
    started: list[threading.Thread] = []

    def start(thread: threading.Thread) -> None:
        if len(started) >= startable:
            raise RuntimeError("can't start new thread")
        started.append(thread)
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", start)
    with tracking() as activity:
        with pytest.raises(RuntimeError, match="can't start new thread"):
            ordered_map(lambda n: n, range(5), workers=5)
        monkeypatch.undo()
        for thread in started:
            thread.join()
        # A count left high would keep a batched run from ever seeing its threads all wait.
        assert activity.busy == 1
