"""Shared fixtures: a throwaway copy of the project, a clean environment, and scripted answers."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jfmfactory.project import Project
from scripted_server import Reply, ScriptedServer, level_of, user_text

REPO = Path(__file__).resolve().parents[1]
ENDPOINT_VARIABLES = ("OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test inherits an endpoint from the machine it runs on."""
    for name in ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A copy of this repository's seeds, prompts and panel that a test may change."""
    root = tmp_path / "project"
    for folder in ("seeds", "prompts", "panel"):
        shutil.copytree(REPO / folder, root / folder)
    return Project.find(root)


def reviewer_title(request: dict[str, Any]) -> str | None:
    found = re.search(r"Your dimension: (.+?)\. You judge", user_text(request))
    return found.group(1) if found else None


class Script:
    """Prepared answers: a valid draft for every section; reviewer verdicts set per dimension.

    `verdicts[title]` is a list of (score, issues) used one per round; the last one repeats.
    """

    def __init__(self) -> None:
        self.verdicts: dict[str, list[tuple[int, list[dict[str, str]]]]] = {}
        self.review_counts: dict[str, int] = {}
        self.overrides: dict[str, Callable[[dict[str, Any]], dict[str, Any] | Reply]] = {}

    def __call__(self, request: dict[str, Any]) -> dict[str, Any] | Reply:
        name = request["tool_choice"]["function"]["name"]
        if name in self.overrides:
            return self.overrides[name](request)
        if name == "ReviewDraft":
            return self.review(request)
        return draft_answer(name, level_of(request))

    def review(self, request: dict[str, Any]) -> dict[str, Any]:
        title = reviewer_title(request) or "?"
        count = self.review_counts.get(title, 0)
        self.review_counts[title] = count + 1
        plan = self.verdicts.get(title, [(5, [])])
        score, issues = plan[min(count, len(plan) - 1)]
        return {"issues": issues, "rationale": f"{title}: scored {score}.", "score": score}


def draft_answer(name: str, level: str | None) -> dict[str, Any]:
    """A valid answer for each drafter tool; texts name their level so levels differ."""
    tag = level or "all levels"
    cited = lambda text: {"text": text, "sources": ["S1"]}  # noqa: E731
    if name == "OverviewDraft":
        return {
            "description": "Owns discovery and definition of products; decides which problem to solve.",
            "distinct_from": [{"function": "Product Design", "boundary": "UX craft"}],
        }
    if name == "ResponsibilitiesDraft":
        return {
            "responsibilities": [cited(f"Does duty {n} at {tag} with rising scope.") for n in range(1, 6)]
        }
    if name == "GuidelineDraft":
        return {
            "knowledge": cited(f"Applies product knowledge at {tag}."),
            "complexity": cited(f"Solves problems fitting {tag}."),
            "collaboration": cited(f"Works with peers as {tag} does."),
            "degree_years": cited(f"Years typical of {tag}."),
        }
    if name == "SkillsDraft":
        return {
            "skills": [
                {"name": f"Skill {n}", "description": f"Applies skill {n} to products.", "sources": ["S2"]}
                for n in range(1, 6)
            ]
        }
    if name == "ToolsDraft":
        return {"tools": [{"name": tool, "sources": ["S1"]} for tool in ("SQL", "Jira", "Figma")]}
    raise AssertionError(f"unexpected tool {name}")


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
