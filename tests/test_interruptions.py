"""What a run leaves when it is stopped or killed, and one run per output folder.

A real `jfm draft` runs in a subprocess against the scripted loopback server, which holds one
chosen request unanswered: the test then knows where the process is when it kills it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock
from typer.testing import CliRunner

from conftest import REPO, Script, canned_profile
from jfmfactory.api import DraftOptions, draft
from jfmfactory.cli import app
from jfmfactory.inputs.project import Project
from jfmfactory.inputs.seeds import load_role
from jfmfactory.llm.client import CallFailed
from jfmfactory.records.store import LOCK, LOCK_HOLDER
from scripted_answers import cells_from_quotes, generate_roles, round_one_calls, stateless
from scripted_server import Reply, ScriptedServer, completion, tool_name

runner = CliRunner()
ROLE = "product-management"
JFM = str(Path(sys.executable).with_name("jfm"))
#: A verified issue with the fourth P3 responsibility of the first draft: round 1 does not pass.
P3_ITEM = canned_profile(load_role(REPO / "seeds", ROLE)).responsibilities["P3"][3]
P3_ISSUE = {
    "section": "responsibilities.P3",
    "quote": " ".join(P3_ITEM.text.split()[:4]),
    "problem": "No source says this.",
}
#: The requests of round 1: the drafter's (every item but the rubric's years), then 5 reviewers.
ROUND_ONE_DRAFTS = round_one_calls()


def two_round_script() -> Script:
    """Round 1 fails on a verified issue; round 2 redrafts that item and passes."""
    script = Script()
    script.verdicts["Clarity"] = [(3, [P3_ISSUE]), (5, [])]
    return script


class Holding:
    """A responder that holds the `nth` request for `tool` (any tool when None) unanswered until
    released, answering everything else from a script that a test may replace between runs."""

    def __init__(self, tool: str | None, nth: int) -> None:
        self.tool, self.nth = tool, nth
        self.script = two_round_script()
        self.seen: Counter[str | None] = Counter()
        self.reached = threading.Event()
        self.released = threading.Event()

    def __call__(self, request: dict[str, Any]) -> dict[str, Any] | Reply:
        self.seen[tool_name(request)] += 1
        self.seen[None] += 1
        if not self.released.is_set() and self.seen[self.tool] == self.nth:
            self.reached.set()
            self.released.wait(60)
            return Reply(status=503, body={"error": {"message": "held"}})
        return self.script(request)


class HangingAll:
    """A responder that answers from a script until `hung` requests hang at once, then holds every
    request unanswered until released: calls in flight that a stop must not wait for."""

    def __init__(self, hung: int) -> None:
        self.hung = hung
        self.script = two_round_script()
        self.holding = 0
        self.lock = threading.Lock()
        self.reached = threading.Event()
        self.released = threading.Event()

    def __call__(self, request: dict[str, Any]) -> dict[str, Any] | Reply:
        if tool_name(request) != "StatementDraft" or self.released.is_set():
            return self.script(request)
        with self.lock:
            self.holding += 1
            if self.holding == self.hung:
                self.reached.set()
        self.released.wait(60)
        return Reply(status=503, body={"error": {"message": "held"}})


@contextmanager
def held_run(
    project: Project,
    server: ScriptedServer,
    holding: Holding | HangingAll,
    out: Path,
    *args: str,
    concurrency: int = 1,
) -> Iterator[subprocess.Popen[str]]:
    """`jfm draft` in a subprocess, running until it waits on the held request(s)."""
    env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"}
    for name in ("JFM_PANEL_BASE_URL", "JFM_PANEL_API_KEY", "JFM_PANEL_MODEL"):
        env.pop(name, None)
    argv = [JFM, "draft", "--role", ROLE, "--model", "m", "--out", str(out),
            "--concurrency", str(concurrency), *args]  # fmt: skip
    process = subprocess.Popen(
        argv, cwd=project.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        if not holding.reached.wait(120):
            process.kill()
            raise AssertionError(f"the run never reached the held request: {process.communicate()[1]}")
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)
        holding.released.set()


def jfm(project: Project, monkeypatch: pytest.MonkeyPatch, server: ScriptedServer, *args: str):
    monkeypatch.chdir(project.root)
    env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"}
    return runner.invoke(app, list(args), env=env, catch_exceptions=False)


def one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("jfm: error: ") and "Traceback" not in result.output
    return lines[0]


def consistent(out: Path) -> dict[str, Any]:
    """The finished run in `out`, after checking that every output agrees with its record."""
    run = json.loads((out / "run.json").read_text())
    assert run["status"] in ("passed", "not_passed"), run.get("error")
    rounds = [r["round"] for r in run["rounds"]]
    assert rounds == list(range(1, len(rounds) + 1))
    assert sorted(int(p.name.removeprefix("round-")) for p in (out / "transcripts").iterdir()) == rounds
    assert sorted(int(p.stem.removeprefix("round-")) for p in (out / "drafts").iterdir()) == rounds
    for record in run["rounds"]:
        for call in record["calls"]:
            assert (out / call["transcript"]).is_file()
    profile = json.loads((out / "profile.json").read_text())
    assert profile["provenance"]["round"] == run["best_round"]
    assert not list(out.rglob(".*.tmp"))
    return run


# -- one run per folder ------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["draft", "review"])
def test_a_second_run_into_the_same_folder_exits_2_naming_the_folder_and_the_process_holding_it(
    project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: str
) -> None:
    out = tmp_path / "shared"
    holding = Holding(None, 1)
    profile = tmp_path / "edited.json"
    profile.write_text(canned_profile(load_role(project.seeds, ROLE)).model_dump_json())
    with ScriptedServer(holding).running() as server:
        with held_run(project, server, holding, out) as first:
            extra = ["--profile", str(profile)] if command == "review" else []
            second = jfm(project, monkeypatch, server, command, "--role", ROLE, "--model", "m",
                         "--out", str(out), *extra)  # fmt: skip
            assert second.exit_code == 2
            line = one_error_line(second)
            assert f"jfm: error: {out}: another jfm run (pid {first.pid}, since " in line
            assert line.endswith("wait for it to end or choose another --out")
            assert holding.seen[None] == 1  # the second run asked nothing
            # What the first run wrote is its own: the second cleared and wrote nothing.
            assert json.loads((out / "run.json").read_text())["status"] == "running"
            first.send_signal(signal.SIGINT)
            first.wait(30)
            assert first.returncode == 130
        # Ctrl-C released the lock on the way out: no holder is named any more, and a run goes on.
        assert not (out / LOCK_HOLDER).exists()
        holding.script = Script()
        again = jfm(project, monkeypatch, server, "draft", "--role", ROLE, "--model", "m", "--out", str(out))
        assert again.exit_code == 0, again.output


def test_the_folder_is_released_on_every_way_out_of_a_run(
    project: Project, script: Script, tmp_path: Path
) -> None:
    out = tmp_path / "out"

    def free() -> bool:
        lock = FileLock(out / LOCK, blocking=False)
        lock.acquire()
        lock.release()
        return not (out / LOCK_HOLDER).exists()

    class CtrlC:
        def step(self, round_number: int, call: str) -> None:
            raise KeyboardInterrupt

        def round_done(self, *args: object) -> None:
            pass

    with ScriptedServer(script).running() as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"}
        options = DraftOptions(role=ROLE, model="m", out=out, max_rounds=1)
        assert draft(project, options, env).status == "passed" and free()
        with pytest.raises(KeyboardInterrupt):
            draft(project, options, env, CtrlC())
        assert free()
        script.overrides["ToolDraft"] = lambda request: Reply(status=400, body={"error": {"message": "no"}})
        with pytest.raises(CallFailed):
            draft(project, options, env)
        assert free()


# -- stopping with calls in flight ------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_with_four_calls_hanging_exits_at_once_and_sends_nothing_after_it(
    project: Project, tmp_path: Path, signum: signal.Signals
) -> None:
    out = tmp_path / "out"
    hanging = HangingAll(4)
    # Cells drafted from quotes: calls enough that four hang at once.
    with (
        ScriptedServer(hanging).running() as server,
        held_run(cells_from_quotes(project), server, hanging, out, concurrency=4) as process,
    ):
        assert server.in_flight == 4
        sent = len(server.requests)
        stopped = time.monotonic()
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=30)
        elapsed = time.monotonic() - stopped
        # The held calls are answered only now, with a retryable 503: a process still running
        # would retry them, and one that had not dropped the queue would start the next items.
        hanging.released.set()
        time.sleep(0.5)
    assert process.returncode == 128 + signum
    print(f"{signum.name}: exit {elapsed:.2f} s after the signal")
    assert elapsed <= 2, f"{elapsed:.1f} s from the signal to the exit"
    assert len(server.requests) == sent
    assert stderr.splitlines()[-1] == f"jfm: error: stopped by {signum.name}; completed rounds are kept"
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "interrupted" and run["stop_reason"] == "interrupted"


@pytest.mark.parametrize("after", [1, 6, 30])
def test_a_stop_during_a_catalog_run_leaves_every_role_it_began_interrupted(
    tmp_path: Path, after: int
) -> None:
    """Roles at once, some working (reading their inputs, checking items), some waiting on the
    endpoint: a SIGTERM cancels them all where they are, and each records it (raised inside the
    one task it landed in, it left the others' run.json saying running)."""
    root = tmp_path / "catalog"
    for folder in ("prompts", "panel", "catalog"):
        shutil.copytree(REPO / folder, root / folder)
    generate_roles(root / "seeds", 6)
    asked = threading.Event()
    count = Counter[str]()

    def slowly(request: dict[str, Any]) -> Any:
        count["requests"] += 1
        if count["requests"] >= after:
            asked.set()
        answer = stateless(request)
        return (
            answer if isinstance(answer, Reply) else Reply(body=completion(request, answer, 10), delay_s=0.2)
        )

    with ScriptedServer(slowly).running() as server:
        env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"}
        argv = [JFM, "draft", "--all", "--model", "m", "--concurrency", "4"]
        process = subprocess.Popen(
            argv, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert asked.wait(120), process.communicate(timeout=30)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert "Traceback" not in stderr and "was destroyed" not in stderr, stderr
    runs = [json.loads(path.read_text()) for path in sorted((root / "out").glob("*/run.json"))]
    assert runs and {run["status"] for run in runs} == {"interrupted"}
    assert all("SIGTERM" in run["error"] for run in runs)


# -- kill -9 -----------------------------------------------------------------------------------

#: Where the run is killed: the request held (its tool, and which of its kind) and what the
#: folder holds then.
KILL_POINTS = {
    # Before any answer: the record says running, with no round.
    "at the first call": (None, 1),
    # After round 1's drafter transcripts are written, before run.json lists the round.
    "at round 1's panel": ("ReviewDraft", 1),
    # Mid-round 2: its redraft's transcript written, its panel not done.
    "at round 2's panel": ("ReviewDraft", 6),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_run_killed_at_any_point_is_taken_up_by_a_new_run_and_by_resume(
    project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, point: str
) -> None:
    out, copy = tmp_path / "fresh", tmp_path / "resumed"
    holding = Holding(*KILL_POINTS[point])
    with ScriptedServer(holding).running() as server:
        with held_run(project, server, holding, out, "--max-rounds", "3") as process:
            process.send_signal(signal.SIGKILL)
            process.wait(30)

        killed = json.loads((out / "run.json").read_text())
        assert killed["status"] == "running"
        completed = 1 if point == "at round 2's panel" else 0
        assert len(killed["rounds"]) == completed
        if point != "at the first call":
            assert len(list((out / "transcripts").rglob("drafter-*.json"))) >= ROUND_ONE_DRAFTS
        if completed:  # the best round so far is on disk, as the record says
            profile = json.loads((out / "profile.json").read_text())
            assert profile["provenance"]["round"] == killed["best_round"] == 1
            assert (out / "transcripts" / "round-2" / "drafter-responsibilities.P3.4.json").is_file()
        shutil.copytree(out, copy)

        holding.script = two_round_script()
        fresh = jfm(project, monkeypatch, server, "draft", "--role", ROLE, "--model", "m", "--out", str(out))
        assert fresh.exit_code == 0, fresh.output
        run = consistent(out)
        assert [r["passed"] for r in run["rounds"]] == [False, True] and run["resumed_at"] == []

        holding.script = two_round_script()
        before = holding.seen[None]
        resumed = jfm(project, monkeypatch, server, "draft", "--role", ROLE, "--model", "m",
                      "--out", str(copy), "--resume")  # fmt: skip
        assert resumed.exit_code in (0, 3), resumed.output
        run = consistent(copy)
        assert len(run["resumed_at"]) == 1 and len(run["rounds"]) >= completed + 1
        asked = [tool_name(r) for r in server.requests[before:]]
        if completed:  # round 1 is not redone: the resumed run drafts round 2's one item
            assert asked.count("OverviewDraft") == 0 and run["rounds"][0] == killed["rounds"][0]
