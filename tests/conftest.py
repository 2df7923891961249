"""Shared fixtures: a throwaway copy of the project, a clean environment, and scripted answers."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from jfmfactory.inputs.project import Project
from jfmfactory.inputs.text import Vocabulary, load_word_lists
from scripted_answers import Script as Script
from scripted_answers import canned_profile as canned_profile
from scripted_answers import draft_answer as draft_answer
from scripted_answers import quotes_of as quotes_of
from scripted_answers import reviewer_title as reviewer_title
from scripted_server import ScriptedServer
from scripted_server import level_of as level_of

REPO = Path(__file__).resolve().parents[1]
#: The project's own word lists, as a run reads them.
VOCABULARY = Vocabulary(load_word_lists(REPO / "panel"))
ENDPOINT_VARIABLES = (
    "OPENAI_BASE_URL",
    "OPENAI_API_KEY",
    "JFM_PANEL_BASE_URL",
    "JFM_PANEL_API_KEY",
    "JFM_PANEL_MODEL",
)


def pytest_configure(config: pytest.Config) -> None:
    """The suite keeps what `disk_cache` derives in a folder of its own, never the user's, from
    before collection (test modules read the guard's rules as they load); the processes of a run
    share it, as a user's commands do."""
    os.environ["JFM_CACHE_DIR"] = tempfile.mkdtemp(prefix="jfm-test-cache-")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(os.environ.pop("JFM_CACHE_DIR"), ignore_errors=True)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test inherits an endpoint from the machine it runs on."""
    for name in ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A copy of this repository's seeds, prompts and panel that a test may change."""
    root = tmp_path / "project"
    for folder in ("seeds", "prompts", "panel", "catalog", "calibration"):
        shutil.copytree(REPO / folder, root / folder)
    return Project.find(root)


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def scripted(script: Script) -> Iterator[ScriptedServer]:
    """A scripted endpoint answering from `script`, running for the test."""
    with ScriptedServer(script).running() as server:
        yield server


@pytest.fixture
def endpoint_env(scripted: ScriptedServer) -> dict[str, str]:
    """The environment a run needs to talk to the scripted endpoint."""
    return {"OPENAI_BASE_URL": scripted.base_url, "OPENAI_API_KEY": "sk-test-not-a-real-key"}
