"""The review panel: one reviewer file per dimension in `panel/`, each scoring a profile 1–5.

Adding a reviewer is adding a file. Reviewers are adversarial: every score comes with the
concrete issues found, each naming the section and quoting the words it objects to.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .datafile import load_model
from .errors import BadInput
from .llm import LLM, Structured, bind_choices
from .profile import GUIDELINE_COLUMNS, Profile
from .prompts import Prompts
from .runlog import DimensionReview, ReviewIssue, Transcript

K = TypeVar("K", bound=str)
SCORES = ("1", "2", "3", "4", "5")


class Reviewer(BaseModel):
    """A reviewer file: one quality dimension and how to judge it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="Dimension name, e.g. clarity.")
    title: str = Field(min_length=1, description="Human name of the dimension.")
    judges: str = Field(min_length=1, description="What the reviewer judges, in a sentence.")
    anchors: dict[str, str] = Field(description="What each score 1..5 means, keyed '1'..'5'.")
    prompt: str = Field(min_length=1, description="What to look for: a Jinja2 template.")

    @field_validator("anchors")
    @classmethod
    def _every_score_anchored(cls, anchors: dict[str, str]) -> dict[str, str]:
        extra = sorted(set(anchors) - set(SCORES))
        if extra:
            raise ValueError(
                f"unexpected key(s) {', '.join(extra)}: anchors holds only 1..5 "
                "(keys written below [anchors] belong to it)"
            )
        missing = [score for score in SCORES if not str(anchors.get(score, "")).strip()]
        if missing:
            raise ValueError(f"no description for score(s) {', '.join(missing)}")
        return {score: anchors[score] for score in SCORES}


class IssueDraft(Structured, Generic[K]):
    """A fault: the section it sits in, the exact words objected to, and what is wrong."""

    section: K
    quote: str = Field(min_length=1, max_length=300)
    problem: str = Field(min_length=1, max_length=300)


class ReviewDraft(Structured, Generic[K]):
    """A reviewer's verdict: faults first, then the rationale, then the score."""

    issues: list[IssueDraft[K]] = Field(max_length=6)
    rationale: str = Field(min_length=1, max_length=800)
    score: Literal[1, 2, 3, 4, 5]


def load_reviewer(path: Path) -> Reviewer:
    reviewer = load_model(path, Reviewer, "reviewer file")
    if reviewer.name != path.stem:
        raise BadInput(f"{path}: name {reviewer.name!r} must match the file name {path.stem!r}")
    return reviewer


def load_panel(folder: Path) -> list[Reviewer]:
    """Every reviewer file in `folder`, in file-name order."""
    files = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    if not files:
        raise BadInput(f"{folder}: no reviewer files (*.toml)")
    return [load_reviewer(path) for path in files]


def profile_text(prompts: Prompts, profile: Profile) -> str:
    """The profile as reviewers read it: every section under its key."""
    return prompts.render("profile_text.j2", profile=profile, columns=GUIDELINE_COLUMNS)


class Panel:
    """Asks every reviewer for its verdict on a profile."""

    def __init__(
        self, llm: LLM, prompts: Prompts, reviewers: list[Reviewer], system: str, sections: list[str]
    ) -> None:
        self.llm = llm
        self.prompts = prompts
        self.reviewers = reviewers
        self.system = system
        self.sections = sections
        self.response_model = bind_choices(ReviewDraft, sections)

    @property
    def dimensions(self) -> list[str]:
        return [reviewer.name for reviewer in self.reviewers]

    def review(
        self, reviewer: Reviewer, profile: Profile, round_number: int
    ) -> tuple[DimensionReview, Transcript]:
        """One reviewer's verdict on `profile`."""
        instructions = self.prompts.render_string(reviewer.prompt, f"panel/{reviewer.name}.toml")
        user = self.prompts.render(
            "review.j2",
            reviewer=reviewer.model_copy(update={"prompt": instructions}),
            sections=self.sections,
            profile_text=profile_text(self.prompts, profile),
        )
        messages = [{"role": "system", "content": self.system}, {"role": "user", "content": user}]
        draft, transcript = self.llm.ask(
            f"reviewer:{reviewer.name}", round_number, self.response_model, messages
        )
        review = DimensionReview(
            dimension=reviewer.name,
            score=draft.score,
            rationale=_tidy(draft.rationale),
            issues=[ReviewIssue(**issue.model_dump()) for issue in draft.issues],
        )
        return review, transcript


def _tidy(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
