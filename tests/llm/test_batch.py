"""`jfm draft --all --batch` against a scripted Batch API (tests/scripted_server.py): the same
outputs as the live path for the same answers, a few batches a round, an expired batch's rest
submitted again, and a killed run picking up its batches in flight."""

from __future__ import annotations

import gc
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from jfmfactory.api import DraftOptions, catalog_folder, draft_all, draft_all_batched
from jfmfactory.api.catalog import CATALOG_GC_THRESHOLDS, fewer_collections
from jfmfactory.inputs.project import Project
from jfmfactory.llm import batch
from jfmfactory.llm.batch import Waiting, _chunks
from jfmfactory.llm.prices import ModelPrice, PriceTable
from jfmfactory.pipeline.loop import QuietReporter
from jfmfactory.records.batches import read_ledger
from jfmfactory.records.runlog import Usage
from jfmfactory.records.store import RunStore
from scripted_answers import REPO, generate_roles, stateless
from scripted_server import Reply, ScriptedServer

ROLES = 6
JFM = str(Path(sys.executable).with_name("jfm"))
ROUNDS = 3
#: Fields that say when and how long, or which port: all that may differ between two runs.
VOLATILE = {"latency_s", "started_at", "finished_at", "resumed_at", "base_url"}


def catalog_project(root: Path, roles: int = ROLES) -> Project:
    for folder in ("prompts", "panel", "catalog"):
        shutil.copytree(REPO / folder, root / folder)
    generate_roles(root / "seeds", roles)
    return Project.find(root)


def without_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: without_volatile(item) for key, item in value.items() if key not in VOLATILE}
    if isinstance(value, list):
        return [without_volatile(item) for item in value]
    return value


def outputs(project: Project, role: str) -> dict[str, Any]:
    """Every file a role's run wrote: JSON without times and ports, anything else as bytes."""
    folder = project.out_dir(role, None)
    found: dict[str, Any] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        key = str(path.relative_to(folder))
        found[key] = (
            without_volatile(json.loads(path.read_bytes())) if path.suffix == ".json" else path.read_bytes()
        )
    return found


OPTIONS = DraftOptions(role="", model="m", max_rounds=ROUNDS)
QUIET = lambda role: QuietReporter()  # noqa: E731


def test_a_batched_catalog_writes_what_the_live_path_writes_in_a_few_batches_a_round(tmp_path: Path) -> None:
    with ScriptedServer(stateless).running() as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test-not-a-real-key"}
        live = catalog_project(tmp_path / "live")
        live_runs = draft_all(live, OPTIONS, env, lambda role: QuietReporter())
        asked_live = len(server.requests)
        server.expire = {2}  # the second batch ends with half its requests unanswered
        batched = catalog_project(tmp_path / "batched")
        result = draft_all_batched(batched, OPTIONS, env, lambda role: QuietReporter(), poll_s=0.01)
        asked_batched = len(server.requests) - asked_live

    assert [run.role for run in result.runs] == [run.role for run in live_runs]
    for run in result.runs:
        assert run.error is None and run.run is not None and run.run.rounds == ROUNDS
        assert outputs(batched, run.role) == outputs(live, run.role), run.role
    ledger = result.ledger
    assert asked_batched == asked_live  # no request answered twice, none lost
    # Each batch's file uploaded once, whole: every line of it a request of that batch.
    assert len(server.uploads) == len(server.batches)
    for made in server.batches.values():
        lines = server.files[made["input_file_id"]].decode().splitlines()
        assert [json.loads(line)["custom_id"] for line in lines] == list(
            next(b for b in ledger.batches if b.id == made["id"]).requests
        )
    # Drafter calls, two waves of items drafted again where the gate would flag them, reviewers,
    # and a wave of re-asks (or the expired batch's rest).
    assert all(count <= 6 for count in ledger.per_round().values()), ledger.per_round()
    assert set(ledger.per_round()) == {1, 2, 3}
    # The expired batch's unanswered half went into the next batch; a re-ask after an answer
    # that failed validation is a request of its own (attempt 2).
    expired = next(b for b in ledger.batches if b.status == "expired")
    assert expired.unfinished == len(expired.requests) - expired.answered > 0
    submitted = Counter(cid for b in ledger.batches for cid in b.requests)
    twice = {cid for cid, count in submitted.items() if count == 2}
    assert (
        len(twice) == expired.unfinished and twice <= set(expired.requests) and max(submitted.values()) == 2
    )
    assert any(cid.split(":")[-2] == "2" for cid in submitted)  # role:round:call:attempt:digest
    assert ledger.usage.total_tokens == sum(r.run.total_tokens for r in result.runs if r.run)
    # Every answer is in the roles' transcripts now: the kept answers are cleared.
    assert not (catalog_folder(batched) / "answers").exists()
    assert read_ledger(catalog_folder(batched) / "batches.json") == ledger


def jfm_batch(project: Project, env: dict[str, str], *flags: str) -> subprocess.Popen[str]:
    command = [JFM, "draft", "--all", "--batch", "--model", "m", *flags]
    return subprocess.Popen(
        command, cwd=project.root, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


@pytest.mark.parametrize(("stop", "status"), [(signal.SIGKILL, -9), (signal.SIGTERM, 143)])
def test_a_killed_batched_run_waits_for_its_batches_in_flight_instead_of_submitting_them_again(
    tmp_path: Path, stop: signal.Signals, status: int
) -> None:
    project = catalog_project(tmp_path / "project", roles=2)
    with ScriptedServer(stateless).running() as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test-not-a-real-key"}
        server.hold.set()  # every batch stays in progress
        first = jfm_batch(project, env, "--max-rounds", "2", "--poll", "0.05")
        deadline = time.monotonic() + 120
        while server.polls < 3 and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.05)
        assert server.polls >= 3, first.communicate()
        first.send_signal(stop)
        _, stderr = first.communicate(timeout=30)
        assert first.returncode == status, stderr
        assert len(server.batches) == 1  # killed mid-poll, its first batch in flight
        server.hold.clear()
        again = jfm_batch(project, env, "--max-rounds", "2", "--poll", "0.05")
        stdout, stderr = again.communicate(timeout=300)
    assert again.returncode == 3, stderr  # finished, not passed (the Clarity reviewer faults)
    ledger = read_ledger(catalog_folder(project) / "batches.json")
    submitted = Counter(cid for b in ledger.batches for cid in b.requests)
    assert ledger.batches[0].id == "batch-1" and max(submitted.values()) == 1  # nothing submitted twice
    assert len(server.batches) == len(ledger.batches)
    for role in ("generated-001", "generated-002"):
        run = json.loads((project.out_dir(role, None) / "run.json").read_text())
        assert run["status"] == "not_passed" and len(run["rounds"]) == 2
    assert "batch-1" in stdout and "round 1:" in stdout


def test_batch_flags_are_refused_without_all_an_endpoint_or_a_role_at_once(tmp_path: Path) -> None:
    project = catalog_project(tmp_path / "project", roles=1)
    alone = jfm_batch(project, {}, "--role", "generated-001")
    assert alone.communicate()[1].strip() == "jfm: error: name one --role, or --all" and alone.returncode == 2
    embedded = jfm_batch(project, {})
    _, stderr = embedded.communicate()
    assert embedded.returncode == 2 and "--batch: the embedded model has no Batch API" in stderr
    split = jfm_batch(
        project, {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}, "--panel-base-url", "http://x/v1"
    )
    _, stderr = split.communicate()
    assert split.returncode == 2 and "leave --panel-base-url out" in stderr and "Traceback" not in stderr
    # A poll is a request to the endpoint: not hundreds a second.
    hasty = jfm_batch(project, {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}, "--poll", "0.001")
    assert hasty.communicate()[1] == "jfm: error: --poll 0.001: must be 0.05 seconds or more, and finite\n"
    none_at_once = jfm_batch(project, {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}, "--roles-at-once", "0")
    assert none_at_once.communicate()[1] == "jfm: error: --roles-at-once 0: must be at least 1\n"
    assert none_at_once.returncode == 2
    for command in (["batch", "export"], ["batch", "import", "output.jsonl"]):  # before any filing
        refused = subprocess.run(
            [JFM, *command, "--roles-at-once", "0"], cwd=project.root, capture_output=True, text=True
        )
        assert (
            refused.returncode == 2
            and refused.stderr == "jfm: error: --roles-at-once 0: must be at least 1\n"
        )
    assert (
        not (catalog_folder(project) / "export").exists()
        and not (catalog_folder(project) / "import").exists()
    )
    live = subprocess.run(
        [JFM, "draft", "--all", "--roles-at-once", "5"], cwd=project.root, capture_output=True, text=True
    )
    assert live.returncode == 2 and live.stderr == (
        "jfm: error: --roles-at-once: bounds a batched catalog; use it with --all --batch\n"
    )


def test_a_batched_run_while_another_holds_the_catalog_is_refused_without_suggesting_out(
    tmp_path: Path,
) -> None:
    project = catalog_project(tmp_path / "project", roles=1)
    folder = catalog_folder(project)
    with RunStore(folder).locked():
        busy = jfm_batch(project, {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
        _, stderr = busy.communicate(timeout=60)
    assert busy.returncode == 2 and stderr.startswith(
        f"jfm: error: {folder}: another jfm run (pid {os.getpid()}"
    )
    assert stderr.endswith("is writing to this folder; wait for it to end\n"), stderr


def test_an_endpoint_without_a_batch_api_ends_the_run_in_one_line(tmp_path: Path) -> None:
    project = catalog_project(tmp_path / "project", roles=2)
    with ScriptedServer(stateless).running() as server:
        server.batch_api = False
        run = jfm_batch(
            project,
            {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-x"},
            *("--poll", "0.05", "--roles-at-once", "1"),
        )
        _, stderr = run.communicate(timeout=120)
    assert run.returncode == 1 and "Traceback" not in stderr
    assert (
        stderr.strip()
        .splitlines()[-1]
        .startswith(f"jfm: error: {server.base_url}: the Batch API failed: HTTP 404")
    )
    # The role past the window is not started once the batches have failed.
    assert (project.out_dir("generated-001", None) / "run.json").is_file()
    assert not project.out_dir("generated-002", None).exists()


def test_requests_are_split_into_files_within_the_batch_api_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    requests = [
        Waiting(f"r:1:c:{n}", "d", "m", json.dumps({"model": "m", "n": n}).encode()) for n in range(5)
    ]
    monkeypatch.setattr(batch, "MAX_REQUESTS", 2)
    assert [len(chunk) for chunk in _chunks(requests)] == [2, 2, 1]
    monkeypatch.setattr(batch, "MAX_REQUESTS", 50_000)
    assert json.loads(requests[0].line())["body"] == {"model": "m", "n": 0}
    line = len(requests[0].line().encode()) + 1
    monkeypatch.setattr(batch, "MAX_BYTES", 3 * line)
    assert [len(chunk) for chunk in _chunks(requests)] == [3, 2]


def test_batch_prices_are_the_table_s_own_or_half_the_live_ones() -> None:
    table = PriceTable(
        models={
            "halved": ModelPrice(prompt=1.0, completion=4.0),
            "priced": ModelPrice(prompt=1.0, completion=4.0, batch_prompt=0.2, batch_completion=1.0),
        }
    )
    spent = Usage(prompt_tokens=1_000_000, completion_tokens=1_000_000, total_tokens=2_000_000)
    assert table.usage_cost([("halved", spent)]) == 5.0
    assert table.at_batch_rates().usage_cost([("halved", spent)]) == 2.5
    assert table.at_batch_rates().usage_cost([("priced", spent)]) == 1.2


def run_elsewhere(exported: Path, output: Path, odd: bool = False) -> int:
    """What vLLM's run-batch does with an exported file, answering as the scripted endpoint would:
    one output line per request, in another order. `odd`: as an engine might also write it, each
    request answered twice, an error first and again after the success, U+2028, U+2029 and
    U+0085 unescaped inside its strings, and a byte-order mark first."""
    engine = ScriptedServer(stateless)
    lines = [json.loads(line) for line in exported.read_text().split("\n") if line]
    answers = []
    for line in reversed(lines):
        reply = engine.answer(line["body"])
        response = {"status_code": reply.status, "request_id": "vllm", "body": reply.body}
        answer = {"id": "vllm", "custom_id": line["custom_id"], "response": response, "error": None}
        if odd:
            refused = {"status_code": 400, "request_id": "vllm\u2028\u2029\x85", "body": {"error": {}}}
            answers += [{**answer, "response": refused}, answer, {**answer, "response": refused}]
        else:
            answers.append(answer)
    bom = "\ufeff" if odd else ""  # as an editor on another system may put first
    output.write_text(bom + "".join(json.dumps(answer, ensure_ascii=not odd) + "\n" for answer in answers))
    engine.httpd.server_close()
    return len(lines)


def test_an_answer_given_twice_keeps_its_first_success_and_odd_line_breaks_stay_in_their_line(
    tmp_path: Path,
) -> None:
    with ScriptedServer(stateless).running() as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test-not-a-real-key"}
        live = catalog_project(tmp_path / "live", roles=1)
        draft_all(live, replace(OPTIONS, max_rounds=1), env, QUIET)
    project = catalog_project(tmp_path / "offline", roles=1)
    step = subprocess.run(
        [JFM, "batch", "export", "--model", "m", "--max-rounds", "1"],
        cwd=project.root,
        capture_output=True,
        text=True,
    )
    while step.returncode == 0 and waiting_files(project, step.stdout):
        exported = waiting_files(project, step.stdout)[0]
        run_elsewhere(exported, tmp_path / "output.jsonl", odd=True)
        step = subprocess.run(
            [JFM, "batch", "import", str(tmp_path / "output.jsonl")],
            cwd=project.root,
            capture_output=True,
            text=True,
        )
    assert step.returncode == 3, step.stderr
    assert outputs(project, "generated-001") == outputs(live, "generated-001")


@pytest.mark.parametrize("window", [None, 1], ids=["every-role", "one-role-at-once"])
def test_batches_exported_for_an_engine_elsewhere_and_imported_make_the_live_path_s_outputs(
    tmp_path: Path, window: int | None
) -> None:
    with ScriptedServer(stateless).running() as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test-not-a-real-key"}
        live = catalog_project(tmp_path / "live", roles=2)
        draft_all(live, replace(OPTIONS, max_rounds=2), env, lambda role: QuietReporter())
    project = catalog_project(tmp_path / "offline", roles=2)
    at_once = [] if window is None else ["--roles-at-once", str(window)]
    step = subprocess.run(
        [JFM, "batch", "export", "--model", "m", "--max-rounds", "2", *at_once],
        cwd=project.root,
        capture_output=True,
        text=True,
    )
    exports = 0
    while step.returncode == 0 and "jfm batch import" in step.stdout:
        exported = project.root / step.stdout.split(":")[0]
        assert exported.is_file() and "requests (round" in step.stdout
        roles = {json.loads(line)["custom_id"].split(":")[0] for line in exported.read_text().splitlines()}
        # The imports are given no --roles-at-once: they keep to the export's, kept in the ledger.
        assert window is None or len(roles) == window, roles
        exports += 1
        output = tmp_path / f"output-{exports}.jsonl"
        run_elsewhere(exported, output)
        step = subprocess.run(
            [JFM, "batch", "import", str(output)], cwd=project.root, capture_output=True, text=True
        )
    assert step.returncode == 3, step.stderr  # done: the Clarity reviewer faults, so not passed
    assert (4 <= exports <= 8 if window is None else 8 <= exports <= 16) and "round 1:" in step.stdout
    for role in ("generated-001", "generated-002"):
        assert outputs(project, role) == outputs(live, role), role
    again = subprocess.run(
        [JFM, "batch", "import", str(output)], cwd=project.root, capture_output=True, text=True
    )
    assert again.returncode == 2 and "no exported batch waits for answers" in again.stderr


def test_roles_past_the_window_wait_to_start_and_write_what_they_would_live(tmp_path: Path) -> None:
    live = catalog_project(tmp_path / "live", roles=3)
    windowed = catalog_project(tmp_path / "windowed", roles=3)
    thresholds = []

    def quiet(role: str) -> QuietReporter:  # asked as each role starts
        thresholds.append(gc.get_threshold())
        return QuietReporter()

    before = gc.get_threshold()
    with ScriptedServer(stateless).running() as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test-not-a-real-key"}
        draft_all(live, replace(OPTIONS, max_rounds=1), env, quiet)
        result = draft_all_batched(
            windowed, replace(OPTIONS, max_rounds=1), env, quiet, poll_s=0.01, roles_at_once=2
        )
    # Both catalogs collect cycles less often while they run, and put the process's setting back.
    assert thresholds == [CATALOG_GC_THRESHOLDS] * 6 and gc.get_threshold() == before != CATALOG_GC_THRESHOLDS
    assert all(run.error is None and run.run is not None and run.run.finished for run in result.runs)
    for role in ("generated-001", "generated-002", "generated-003"):
        assert outputs(windowed, role) == outputs(live, role), role
    # The third role's first calls went into a batch after the first batch of the other two.
    roles_of = [{cid.split(":")[0] for cid in b.requests} for b in result.ledger.batches]
    assert roles_of[0] == {"generated-001", "generated-002"}
    assert all(len(roles) <= 2 for roles in roles_of)
    assert any("generated-003" in roles for roles in roles_of[1:])


def test_the_collector_s_setting_is_put_back_by_the_last_catalog_to_end_in_any_order() -> None:
    before = gc.get_threshold()
    first, second = fewer_collections(), fewer_collections()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # catalogs in threads of their own may end in either order
    assert gc.get_threshold() == CATALOG_GC_THRESHOLDS
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before != CATALOG_GC_THRESHOLDS


def test_a_failed_batch_is_submitted_again_whole(tmp_path: Path) -> None:
    project = catalog_project(tmp_path / "project", roles=2)
    with ScriptedServer(stateless).running() as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test-not-a-real-key"}
        server.fail = {1}
        result = draft_all_batched(project, replace(OPTIONS, max_rounds=1), env, QUIET, poll_s=0.01)
    first, second = result.ledger.batches[:2]
    assert first.status == "failed (server_error: scripted)"  # with the endpoint's reason
    assert first.answered == 0 and first.unfinished == len(first.requests)
    assert set(second.requests) == set(first.requests)  # all of it again, in the next batch
    assert all(run.error is None and run.run is not None for run in result.runs)


def test_a_request_a_batch_answers_with_an_error_fails_its_role_as_it_would_live(tmp_path: Path) -> None:
    def refusing(request: dict[str, Any]) -> Any:
        if request["tool_choice"]["function"]["name"] == "ToolDraft" and "Generated Role 002" in str(request):
            return Reply(status=400, body={"error": {"message": "this tool call is refused"}})
        return stateless(request)

    project = catalog_project(tmp_path / "project", roles=2)
    with ScriptedServer(refusing).running() as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test-not-a-real-key"}
        result = draft_all_batched(project, replace(OPTIONS, max_rounds=1), env, QUIET, poll_s=0.01)
        fine, refused = result.runs
        assert fine.error is None and fine.run is not None and fine.run.status == "not_passed"
        assert (
            refused.error is not None and "drafter:tools.1" in refused.error and "HTTP 400" in refused.error
        )
        assert refused.run is not None and refused.run.status == "failed"
        record = RunStore(project.out_dir(refused.role, None)).read_run()
        assert record is not None and record.stop_reason == "error"
        # Run again once the endpoint is mended: the refused calls are asked again, not replayed.
        server.responder = stateless
        again = draft_all_batched(project, replace(OPTIONS, max_rounds=1), env, QUIET, poll_s=0.01)
    assert [run.skipped for run in again.runs] == ["up to date", None]
    assert again.runs[1].error is None and again.runs[1].run is not None
    assert again.runs[1].run.status == "not_passed"


def test_an_output_line_that_is_not_json_and_polls_answered_503_only_delay_the_run(tmp_path: Path) -> None:
    project = catalog_project(tmp_path / "project", roles=1)
    with ScriptedServer(stateless).running() as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test-not-a-real-key"}
        server.garble = {1}
        server.failing_polls = 4  # more than the client's own two retries
        result = draft_all_batched(project, replace(OPTIONS, max_rounds=1), env, QUIET, poll_s=0.01)
    first, second = result.ledger.batches[:2]
    assert first.unfinished == 1 and len(second.requests) == 1 and set(second.requests) <= set(first.requests)
    assert result.runs[0].error is None and result.runs[0].run is not None


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "cannot be read (No such file or directory)"),
        ('{"custom_id": "x"}\nnot json\n', "line 2 is not JSON"),
        ('{"response": {}}\n', "every line must be an object with a custom_id"),
        (
            '{"custom_id": "generated-009:1:drafter:overview:1"}\n',
            "answers none of the requests of offline-1",
        ),
    ],
)
def test_an_import_that_cannot_be_filed_is_refused_in_one_line_and_files_nothing(
    tmp_path: Path, content: str | None, says: str
) -> None:
    project = catalog_project(tmp_path / "project", roles=1)
    exported = subprocess.run([JFM, "batch", "export", "--model", "m"], cwd=project.root, capture_output=True)
    assert exported.returncode == 0
    output = tmp_path / "output.jsonl"
    if content is not None:
        output.write_text(content)
    done = subprocess.run(
        [JFM, "batch", "import", str(output)], cwd=project.root, capture_output=True, text=True
    )
    assert done.returncode == 2 and done.stderr.startswith(f"jfm: error: {output}: {says}")
    assert done.stderr.count("\n") == 1
    assert not (catalog_folder(project) / "import").exists()


def renamed(project: Project, role: str) -> None:
    """Edit a role's manifest so that every request of its run asks something else."""
    manifest = project.root / "seeds" / role / "manifest.toml"
    manifest.write_text(manifest.read_text().replace('title = "Generated Role', 'title = "Renamed Role'))


def waiting_files(project: Project, stdout: str) -> list[Path]:
    """The batch files `jfm batch export` or `import` says wait for an engine, in order."""
    return [project.root / line.split(":")[0] for line in stdout.splitlines() if "requests (round" in line]


def test_an_import_files_an_answer_for_the_request_it_answered_only(tmp_path: Path) -> None:
    """Two exports wait (the role edited in between, same custom_ids but for their digests): the
    first one's output answers the first one's requests, never the second's."""
    with ScriptedServer(stateless).running() as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test-not-a-real-key"}
        live = catalog_project(tmp_path / "live", roles=1)
        renamed(live, "generated-001")
        draft_all(live, replace(OPTIONS, max_rounds=1), env, QUIET)
    project = catalog_project(tmp_path / "offline", roles=1)
    export = [JFM, "batch", "export", "--model", "m", "--max-rounds", "1"]
    first = subprocess.run(export, cwd=project.root, capture_output=True, text=True)
    renamed(project, "generated-001")
    second = subprocess.run(export, cwd=project.root, capture_output=True, text=True)
    stale, fresh = waiting_files(project, second.stdout)
    assert waiting_files(project, first.stdout) == [stale]
    run_elsewhere(stale, tmp_path / "stale.jsonl")
    step = subprocess.run(
        [JFM, "batch", "import", str(tmp_path / "stale.jsonl")],
        cwd=project.root,
        capture_output=True,
        text=True,
    )
    assert [path.name for path in (catalog_folder(project) / "import").iterdir()] == [stale.name]
    ran = {stale}
    while step.returncode == 0 and waiting_files(project, step.stdout):
        exported = next(path for path in waiting_files(project, step.stdout) if path not in ran)
        ran.add(exported)
        run_elsewhere(exported, tmp_path / f"{exported.stem}.out.jsonl")
        step = subprocess.run(
            [JFM, "batch", "import", str(tmp_path / f"{exported.stem}.out.jsonl")],
            cwd=project.root, capture_output=True, text=True,
        )  # fmt: skip
    assert step.returncode == 3, step.stderr
    assert fresh in ran
    assert outputs(project, "generated-001") == outputs(live, "generated-001")


def test_batches_in_flight_are_collected_only_with_their_endpoint_and_options(tmp_path: Path) -> None:
    project = catalog_project(tmp_path / "project", roles=1)
    export = [JFM, "batch", "export", "--model", "m", "--max-rounds", "1"]
    assert subprocess.run(export, cwd=project.root, capture_output=True).returncode == 0
    ledger = catalog_folder(project) / "batches.json"
    other_model = subprocess.run(
        [*export[:-2], "--max-rounds", "2"], cwd=project.root, capture_output=True, text=True
    )
    assert other_model.returncode == 2
    assert other_model.stderr == (
        f"jfm: error: {ledger}: 1 batch(es) in flight were asked with --max-rounds 1; run with the same "
        f"options to collect them, or move {ledger} aside to abandon them (an endpoint still bills them)\n"
    )
    with ScriptedServer(stateless).running() as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test-not-a-real-key"}
        live = jfm_batch(project, env, "--max-rounds", "1")
        _, stderr = live.communicate(timeout=60)
    assert live.returncode == 2 and stderr.startswith(
        f"jfm: error: {ledger}: 1 batch(es) exported for an engine elsewhere, not sent to "
        f"{server.base_url.rstrip('/')}; import their answers with jfm batch import"
    ), stderr
    assert not server.batches


def test_an_output_file_that_fails_to_download_is_fetched_again_at_the_next_poll(tmp_path: Path) -> None:
    project = catalog_project(tmp_path / "project", roles=1)
    with ScriptedServer(stateless).running() as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test-not-a-real-key"}
        server.failing_downloads = 4  # more than the client's own two retries
        result = draft_all_batched(project, replace(OPTIONS, max_rounds=1), env, QUIET, poll_s=0.01)
    assert result.runs[0].error is None and result.runs[0].run is not None
    assert result.runs[0].run.status == "not_passed"
    submitted = Counter(cid for b in result.ledger.batches for cid in b.requests)
    assert max(submitted.values()) == 1  # nothing asked twice for it


def test_a_create_that_fails_after_making_the_batch_is_not_made_twice(tmp_path: Path) -> None:
    project = catalog_project(tmp_path / "project", roles=1)
    with ScriptedServer(stateless).running() as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test-not-a-real-key"}
        server.failing_creates = 2  # each made the batch, then answered 502
        result = draft_all_batched(project, replace(OPTIONS, max_rounds=1), env, QUIET, poll_s=0.01)
    assert result.runs[0].error is None and result.runs[0].run is not None
    assert [batch.id for batch in result.ledger.batches] == list(server.batches)


def test_a_stop_while_a_batch_is_created_finds_that_batch_instead_of_paying_for_it_twice(
    tmp_path: Path,
) -> None:
    project = catalog_project(tmp_path / "project", roles=1)
    with ScriptedServer(stateless).running() as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test-not-a-real-key"}
        server.created_reply.clear()  # the batch is made; its id is not yet back
        first = jfm_batch(project, env, "--max-rounds", "1", "--poll", "0.05")
        assert server.created.wait(60), first.communicate()
        first.kill()
        first.communicate(timeout=30)
        server.created_reply.set()
        assert len(server.batches) == 1
        again = jfm_batch(project, env, "--max-rounds", "1", "--poll", "0.05")
        _, stderr = again.communicate(timeout=300)
    assert again.returncode == 3, stderr
    ledger = read_ledger(catalog_folder(project) / "batches.json")
    assert ledger.batches[0].id == "batch-1" and len(server.batches) == len(ledger.batches)
    submitted = Counter(cid for b in ledger.batches for cid in b.requests)
    assert max(submitted.values()) == 1
