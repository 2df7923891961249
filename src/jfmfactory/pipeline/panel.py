"""The review panel: one reviewer file per dimension in `panel/`, each scoring a profile 1–5.

Adding a reviewer is adding a file. Reviewers are adversarial: every score comes with the
concrete issues found, each naming the section and quoting the words it objects to.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

import jinja2
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import BadInput
from ..inputs.datafile import load_model
from ..inputs.passages import SourceView
from ..inputs.prompts import Prompts
from ..llm.client import LLM, Structured, bind_choices
from ..llm.parallel import ordered_map
from ..records.profile import GUIDELINE_COLUMNS, Profile
from ..records.runlog import DimensionReview, ReviewIssue, Transcript
from .checks import CheckInputs, run_checks
from .evidence import section_items, verify

K = TypeVar("K", bound=str)
SCORES = ("1", "2", "3", "4", "5")
#: The score every dimension must reach unless --threshold says otherwise.
DEFAULT_THRESHOLD = 4


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
    quote: str = Field(min_length=1, max_length=200)
    problem: str = Field(min_length=1, max_length=200)


class ReviewDraft(Structured, Generic[K]):
    """A reviewer's verdict: faults first, then the rationale, then the score."""

    issues: list[IssueDraft[K]] = Field(max_length=5)
    rationale: str = Field(min_length=1, max_length=600)
    score: Literal[1, 2, 3, 4, 5]


def load_reviewer(path: Path) -> Reviewer:
    reviewer = load_model(path, Reviewer, "reviewer file")
    try:
        jinja2.Environment().parse(reviewer.prompt)
    except jinja2.TemplateSyntaxError as exc:
        raise BadInput(f"{path}: prompt: line {exc.lineno}: {exc.message}") from exc
    if reviewer.name != path.stem:
        raise BadInput(f"{path}: name {reviewer.name!r} must match the file name {path.stem!r}")
    return reviewer


def load_panel(folder: Path) -> list[Reviewer]:
    """Every reviewer file in `folder`, in file-name order."""
    # A file whose name starts with "_" holds shared data (word lists), not a reviewer.
    files = sorted(p for p in folder.glob("*.toml") if not p.name.startswith("_")) if folder.is_dir() else []
    if not files:
        raise BadInput(f"{folder}: no reviewer files (*.toml)")
    return [load_reviewer(path) for path in files]


def profile_text(prompts: Prompts, profile: Profile) -> str:
    """The profile as reviewers read it: every section under its key."""
    return prompts.render("profile_text.j2", profile=profile, columns=GUIDELINE_COLUMNS)


@dataclass(frozen=True)
class PanelSettings:
    """How the panel judges: the pass mark, and how many times each reviewer is asked."""

    threshold: int = DEFAULT_THRESHOLD
    samples: int = 1
    #: Sampling temperature when a reviewer is asked more than once; one sample is greedy.
    sample_temperature: float = 0.8
    #: Reviewers asked at once.
    concurrency: int = 1


@dataclass
class Verdict:
    """The panel's verdict on one draft."""

    reviews: list[DimensionReview]
    scores: dict[str, float]
    transcripts: list[Transcript] = field(default_factory=list)

    @property
    def min_score(self) -> float:
        return min(self.scores.values())

    @property
    def mean_score(self) -> float:
        return round(statistics.fmean(self.scores.values()), 3)


def dimension_scores(reviews: list[DimensionReview], dimensions: list[str]) -> dict[str, float]:
    """Each dimension's reviewer score, capped by every check that serves the dimension."""
    return {
        dimension: min(review.score for review in reviews if review.dimension == dimension)
        for dimension in dimensions
    }


class Panel:
    """Deterministic checks, then every reviewer, on one profile."""

    def __init__(
        self,
        llm: LLM,
        prompts: Prompts,
        reviewers: list[Reviewer],
        view: SourceView,
        check_inputs: CheckInputs,
        sections: list[str],
        settings: PanelSettings,
    ) -> None:
        self.llm = llm
        self.prompts = prompts
        self.reviewers = reviewers
        self.view = view
        self.check_inputs = check_inputs
        self.sections = sections
        self.settings = settings
        self.response_model = bind_choices(ReviewDraft, sections)

    @property
    def dimensions(self) -> list[str]:
        return [reviewer.name for reviewer in self.reviewers]

    def judge(
        self, profile: Profile, round_number: int, before_call: Callable[[str], None] = lambda call: None
    ) -> Verdict:
        """Every member's verdict; a dimension's score is its reviewer's, capped by its checks."""
        text = profile_text(self.prompts, profile)
        sections = section_items(profile)
        # Every reviewer of a round reads the same sources: the passages the draft is about.
        system, passages = self.view.system_for(text)
        verdict = Verdict(reviews=run_checks(profile, self.check_inputs, self.dimensions), scores={})

        def one(reviewer: Reviewer) -> tuple[DimensionReview, Transcript]:
            before_call(f"reviewer:{reviewer.name}")
            return self.review(reviewer, system, text, sections, round_number)

        for review, transcript in ordered_map(one, self.reviewers, self.settings.concurrency):
            transcript.passages = passages
            verdict.reviews.append(review)
            verdict.transcripts.append(transcript)
        verdict.scores = dimension_scores(verdict.reviews, self.dimensions)
        return verdict

    def review(
        self, reviewer: Reviewer, system: str, text: str, sections: dict[str, list[str]], round_number: int
    ) -> tuple[DimensionReview, Transcript]:
        """One reviewer's verdict, every objection checked against the draft.

        Issues whose quote is not in the named section are put back to the reviewer once; what
        still fails is kept as unverified. A score below the threshold that rests on no verified
        issue is not evidence of a fault, and counts as the threshold.
        """
        instructions = self.prompts.render_string(reviewer.prompt, f"panel/{reviewer.name}.toml")
        user = self.prompts.render(
            "review.j2",
            reviewer=reviewer.model_copy(update={"prompt": instructions}),
            sections=self.sections,
            profile_text=text,
        )
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        call = f"reviewer:{reviewer.name}"
        samples = self.settings.samples
        temperature = None if samples == 1 else self.settings.sample_temperature
        transcript: Transcript | None = None
        scores: list[int] = []
        issues: list[ReviewIssue] = []
        notes: list[str] = []
        rationales: list[str] = []

        def ask(conversation: list[dict[str, str]]) -> tuple[Any, list[ReviewIssue]]:
            nonlocal transcript
            draft, transcript = self.llm.ask(
                call,
                round_number,
                self.response_model,
                conversation,
                temperature=temperature,
                transcript=transcript,
            )
            return draft, verify([ReviewIssue(**i.model_dump()) for i in draft.issues], sections)

        for _ in range(samples):
            draft, found = ask(messages)
            unverified = [issue for issue in found if not issue.verified]
            if unverified:
                reask = self.prompts.render(
                    "review_reask.j2", unverified=unverified, threshold=self.settings.threshold
                )
                draft, found = ask(
                    [
                        *messages,
                        {"role": "assistant", "content": draft.model_dump_json()},
                        {"role": "user", "content": reask},
                    ]
                )
            score: int = draft.score
            if score < self.settings.threshold and not any(issue.verified for issue in found):
                notes.append(
                    f"score {score} rested on no verified issue: counted as {self.settings.threshold}"
                )
                score = self.settings.threshold
            scores.append(score)
            rationales.append(_tidy(draft.rationale))
            issues.extend(issue for issue in found if issue not in issues)
        assert transcript is not None  # samples >= 1
        review = DimensionReview(
            member=reviewer.name,
            kind="reviewer",
            dimension=reviewer.name,
            score=round(statistics.fmean(scores), 3),
            samples=scores,
            spread=round(statistics.pstdev(scores), 3),
            rationale=rationales[0],
            issues=issues,
            notes=notes,
        )
        return review, transcript


def _tidy(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
