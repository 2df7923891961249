"""The review panel: one reviewer file per dimension in `panel/`, each scoring a profile 1–5.

Adding a reviewer is adding a file. Reviewers are adversarial: every score comes with the
concrete issues found, each naming the section and quoting the words it objects to.
"""

from __future__ import annotations

import asyncio
import functools
import re
import statistics
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

import jinja2
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import BadInput
from ..inputs.datafile import edited_files, load_model
from ..inputs.prompts import Prompts
from ..llm.client import LLM, MODELS_KEPT, Structured, bind_choices
from ..llm.parallel import ordered_map
from ..records.profile import GUIDELINE_COLUMNS, Profile
from ..records.runlog import DimensionReview, ReviewIssue, Transcript
from ..records.sections import items
from .checks import CHECKS, CheckInputs, quote_support, run_checks
from .quotes import near_miss, section_items, verify
from .schema import SchemaText

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
    checks: list[str] = Field(
        description="The deterministic checks that cap this dimension's score: at least one, so that "
        "no dimension passes on a reviewer's word alone."
    )
    quoted_items: int = Field(
        default=0,
        ge=0,
        description="How many cited items to read beside the quotes they rest on, those their quotes "
        "support least first (after the draft, so that every reviewer of a round shares the draft as "
        "the head of its prompt); 0 reads none.",
    )

    @field_validator("checks")
    @classmethod
    def _known_checks(cls, checks: list[str]) -> list[str]:
        known = [check.name for check in CHECKS]
        if not checks:
            raise ValueError(
                "declare at least one check: a dimension no check floors would pass on a reviewer's word "
                f"alone (the checks: {', '.join(known)})"
            )
        for name in checks:
            if name not in known:
                raise ValueError(f"no check named {name!r} (the checks: {', '.join(known)})")
            if checks.count(name) > 1:
                raise ValueError(f"{name!r} is listed twice")
        return checks

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


# What the tool schema says of the reviewer's response models is in prompts/schema.toml.
class IssueDraft(Structured, Generic[K]):
    section: K
    quote: str = Field(min_length=1, max_length=120)
    problem: str = Field(min_length=1, max_length=120)


#: Faults one reviewer may name in one answer: the worst first. Revision redrafts what they quote.
MAX_ISSUES = 2


class ReviewDraft(Structured, Generic[K]):
    issues: list[IssueDraft[K]] = Field(max_length=MAX_ISSUES)
    rationale: str = Field(min_length=1, max_length=200)
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
    """Every reviewer file in `folder`, in file-name order; every check declared by one at least."""
    # A file whose name starts with "_" holds shared data (word lists), not a reviewer.
    files = [p for p in edited_files(folder, "*.toml") if not p.name.startswith("_")]
    if not files:
        raise BadInput(f"{folder}: no reviewer files (*.toml)")
    reviewers = [load_reviewer(path) for path in files]
    # A check no file declares would cap nothing: refused, so that it cannot silently drop out.
    declared = {name for reviewer in reviewers for name in reviewer.checks}
    for check in CHECKS:
        if check.name not in declared:
            raise BadInput(
                f"{folder}: no reviewer file declares check {check.name!r}; "
                "add it to the checks of the dimension it caps"
            )
    return reviewers


def check_dimensions(reviewers: list[Reviewer]) -> dict[str, list[str]]:
    """The dimensions each check caps: those of the reviewer files declaring it."""
    caps: dict[str, list[str]] = {}
    for reviewer in reviewers:
        for name in reviewer.checks:
            caps.setdefault(name, []).append(reviewer.name)
    return caps


def profile_text(prompts: Prompts, profile: Profile) -> str:
    """The profile as reviewers read it: every section under its key."""
    return prompts.render("profile_text.j2", profile=profile, columns=GUIDELINE_COLUMNS)


def quotes_text(prompts: Prompts, profile: Profile, inputs: CheckInputs, count: int) -> str:
    """The `count` cited items their quotes support least, each beside those quotes, in the
    profile's order: where a reviewer's reading adds most to the grounding-support check's."""
    quotes = {quote.id: quote.text for quote in inputs.evidence.quotes} if inputs.evidence else {}
    cited = [item for item in items(profile) if item.sources is not None]
    weakest = set(sorted(range(len(cited)), key=lambda n: quote_support(cited[n], inputs))[:count])
    shown = [
        (item, [quotes[qid] for qid in item.evidence if qid in quotes])
        for n, item in enumerate(cited)
        if n in weakest
    ]
    return prompts.render("quotes_text.j2", items=shown)


@dataclass(frozen=True)
class PanelSettings:
    """How the panel judges: the pass mark, and how many times each reviewer is asked."""

    threshold: int = DEFAULT_THRESHOLD
    samples: int = 1
    #: Sampling temperature when a reviewer is asked more than once; one sample is greedy.
    sample_temperature: float = 0.8
    #: Reviewers asked at once.
    calls_at_once: int = 1


@dataclass
class PanelVerdict:
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


@functools.lru_cache(maxsize=MODELS_KEPT)
def _review_model(schema_text: SchemaText, sections: tuple[str, ...]) -> type[ReviewDraft]:
    """A reviewer's answer for these sections: one class for every role of a catalog that has
    them (a class a role costs tens of KB and milliseconds to make)."""
    return schema_text.described(bind_choices(ReviewDraft, list(sections)))


class Panel:
    """Deterministic checks, then every reviewer, on one profile."""

    def __init__(
        self,
        llm: LLM,
        prompts: Prompts,
        reviewers: list[Reviewer],
        check_inputs: CheckInputs,
        sections: list[str],
        settings: PanelSettings,
        schema_text: SchemaText,
    ) -> None:
        self.llm = llm
        self.prompts = prompts
        self.reviewers = reviewers
        self.check_inputs = check_inputs
        self.sections = sections
        self.settings = settings
        self.response_model = _review_model(schema_text, tuple(sections))
        self.caps = check_dimensions(reviewers)

    @property
    def dimensions(self) -> list[str]:
        return [reviewer.name for reviewer in self.reviewers]

    async def judge(
        self,
        profile: Profile,
        round_number: int,
        before_call: Callable[[str], None] = lambda call: None,
        *,
        only_undecided: bool = False,
        calls: list[ReviewCall] | None = None,
    ) -> PanelVerdict:
        """Every member's verdict; a dimension's score is its reviewer's, capped by its checks.

        `only_undecided`: ask no reviewer whose dimension a check already fails, as its answer
        could not change the pass/fail decision (a reviewer can lower a score, never raise it).
        `calls`: the reviewers' calls on `profile` when rendered ahead (`Panel.rehearse`); else they
        are rendered here, all before the first is sent.
        """
        decided: set[str] = set()
        if only_undecided:
            checked = run_checks(profile, self.check_inputs, self.caps)
            decided = {r.dimension for r in checked if r.score < self.settings.threshold}
        if calls is None:
            asked = [reviewer for reviewer in self.reviewers if reviewer.name not in decided]
            calls = self.calls(profile, asked, round_number)
        else:
            calls = [call for call in calls if call.dimension not in decided]

        if only_undecided:
            answers = await ordered_map(self._asking(calls, before_call), calls, self.settings.calls_at_once)
        else:
            # No call waits on the checks: they run on a thread once the first calls are under
            # way (each holds the interpreter a little to send its request), while they wait.
            first_wave = asyncio.Event()
            checking = asyncio.ensure_future(self._checks_after(first_wave, profile))
            asking = self._asking(calls, before_call, first_wave)
            # (A failed call leaves the checks to end on their own: a thread is not stopped.)
            answers = await ordered_map(asking, calls, self.settings.calls_at_once)
            first_wave.set()
            checked = await checking
        verdict = PanelVerdict(reviews=checked, scores={})
        for review, transcript in answers:
            verdict.reviews.append(review)
            verdict.transcripts.append(transcript)
        verdict.scores = dimension_scores(verdict.reviews, self.dimensions)
        return verdict

    def _asking(
        self,
        calls: list[ReviewCall],
        before_call: Callable[[str], None],
        first_wave: asyncio.Event | None = None,
    ) -> Callable[[ReviewCall], Awaitable[tuple[DimensionReview, Transcript]]]:
        """Each call's review; `first_wave` is set once as many calls have started as may run at once."""
        wave = min(len(calls), self.settings.calls_at_once)
        started = 0

        async def one(call: ReviewCall) -> tuple[DimensionReview, Transcript]:
            nonlocal started
            before_call(call.name)
            started += 1
            if first_wave is not None and started >= wave:
                first_wave.set()
            return await self.review(call)

        return one

    async def _checks_after(self, first_wave: asyncio.Event, profile: Profile) -> list[DimensionReview]:
        await first_wave.wait()
        return await asyncio.to_thread(run_checks, profile, self.check_inputs, self.caps)

    def calls(self, profile: Profile, reviewers: list[Reviewer], round_number: int) -> list[ReviewCall]:
        """Each reviewer's call on `profile`, rendered; each is for one `judge` (its transcript
        gathers its answers)."""
        text = profile_text(self.prompts, profile)
        found = section_items(profile)
        # Reviewers read the draft, not the whole sources; one that reads quotes (grounding) gets
        # its quoted items after the draft, so all share the draft as the head of their prompt.
        system = self.prompts.render("system.j2")
        count = self.settings.samples
        return [
            ReviewCall(
                dimension=reviewer.name,
                round=round_number,
                messages=self.review_messages(reviewer, system, self.shown(reviewer, profile, text)),
                items=found,
                temperature=None if count == 1 else self.settings.sample_temperature,
            )
            for reviewer in reviewers
        ]

    async def review(self, call: ReviewCall) -> tuple[DimensionReview, Transcript]:
        """One reviewer's verdict: each of its samples checked against the draft, then aggregated."""
        samples = [await self.sample(call) for _ in range(self.settings.samples)]
        assert call.transcript is not None  # samples >= 1
        return aggregate(call.dimension, samples, self.settings.threshold), call.transcript

    def shown(self, reviewer: Reviewer, profile: Profile, text: str) -> str:
        """What a reviewer reads: the draft's `text`, then the quoted items it asks for, if any."""
        if not reviewer.quoted_items:
            return text
        return f"{text}\n{quotes_text(self.prompts, profile, self.check_inputs, reviewer.quoted_items)}"

    def review_messages(self, reviewer: Reviewer, system: str, text: str) -> list[dict[str, str]]:
        """What a reviewer is asked: the system message every call shares, then its task and the draft."""
        where = f"panel/{reviewer.name}.toml"
        rendered = {
            "prompt": self.prompts.render_string(reviewer.prompt, where),
            "judges": self.prompts.render_string(reviewer.judges, where),
        }
        user = self.prompts.render(
            "review.j2",
            reviewer=reviewer.model_copy(update=rendered),
            profile_text=text,
            max_issues=MAX_ISSUES,
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def reask_text(self, unverified: list[ReviewIssue]) -> str:
        """What a reviewer is told whose issues quote words not found in the sections they name."""
        threshold = self.settings.threshold
        return self.prompts.render("review_reask.j2", unverified=unverified, threshold=threshold)

    def rehearse(self, profile: Profile, round_number: int = 0) -> list[ReviewCall]:
        """Render every reviewer's call on `profile` (a stand-in will do), and a re-ask on a
        stand-in issue: a template or reviewer prompt naming a variable it is not given fails
        before any call, not after the drafter's calls are paid for. The calls, for `judge`."""
        calls = self.calls(profile, self.reviewers, round_number)
        quote = "stands in for a quote"
        self.reask_text([ReviewIssue(section=self.sections[0], quote=quote, problem="", verified=False)])
        return calls

    async def sample(self, call: ReviewCall) -> Sample:
        """One answer. Issues whose quote is not in the named section are put back to the reviewer
        once, when one of them at least is a near miss (a quote a re-ask can repair); what still
        fails is kept as unverified."""
        draft, found = await self._ask(call, call.messages)
        unverified = [issue for issue in found if not issue.verified]
        if any(near_miss(issue.quote, call.items) for issue in unverified):
            reask = self.reask_text(unverified)
            draft, found = await self._ask(
                call,
                [
                    *call.messages,
                    {"role": "assistant", "content": draft.model_dump_json()},
                    {"role": "user", "content": reask},
                ],
            )
        return Sample(score=draft.score, rationale=_tidy(draft.rationale), issues=found)

    async def _ask(
        self, call: ReviewCall, conversation: list[dict[str, str]]
    ) -> tuple[Any, list[ReviewIssue]]:
        """The reviewer's answer to `conversation`, and its issues checked against the draft."""
        draft, call.transcript = await self.llm.ask(
            call.name,
            call.round,
            self.response_model,
            conversation,
            temperature=call.temperature,
            transcript=call.transcript,
        )
        return draft, verify([ReviewIssue(**issue.model_dump()) for issue in draft.issues], call.items)


@dataclass
class ReviewCall:
    """One reviewer's call in one round: what it is asked, what its quotes are checked against,
    and the transcript that every ask and re-ask of it joins."""

    #: The reviewer's name, which is its dimension's.
    dimension: str
    round: int
    messages: list[dict[str, str]]
    items: dict[str, list[str]]
    temperature: float | None
    transcript: Transcript | None = None

    @property
    def name(self) -> str:
        """The call's name in progress and transcripts."""
        return f"reviewer:{self.dimension}"


@dataclass(frozen=True)
class Sample:
    """One answer of a reviewer: its score and rationale, and its issues checked against the draft."""

    score: int
    rationale: str
    issues: list[ReviewIssue]


def evidence_rule(score: int, issues: list[ReviewIssue], threshold: int) -> tuple[int, str | None]:
    """The score that counts, and a note when it is not the reviewer's own.

    A score below the threshold that rests on no verified issue is no evidence of a fault: it
    counts as the threshold.
    """
    if score < threshold and not any(issue.verified for issue in issues):
        return threshold, f"score {score} rested on no verified issue: counted as {threshold}"
    return score, None


def aggregate(member: str, samples: list[Sample], threshold: int) -> DimensionReview:
    """A reviewer's samples as one verdict: each score held to the evidence rule, their mean and
    spread, the first sample's rationale, and every distinct issue in the order found."""
    scores: list[int] = []
    notes: list[str] = []
    issues: list[ReviewIssue] = []
    for sample in samples:
        score, note = evidence_rule(sample.score, sample.issues, threshold)
        scores.append(score)
        if note is not None:
            notes.append(note)
        issues.extend(issue for issue in sample.issues if issue not in issues)
    return DimensionReview(
        member=member,
        kind="reviewer",
        dimension=member,
        score=round(statistics.fmean(scores), 3),
        samples=scores,
        spread=round(statistics.pstdev(scores), 3),
        rationale=samples[0].rationale,
        issues=issues,
        notes=notes,
    )


def _tidy(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
