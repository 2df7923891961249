"""The run record (`run.json`): a typed, versioned log of every round, review and model call."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .profile import Score

RUN_SCHEMA_VERSION = 1

RunStatus = Literal["running", "passed", "not_passed", "failed", "interrupted"]
StopReason = Literal["passed", "round_limit", "plateau", "reviewed", "error", "interrupted"]


def now() -> str:
    """The UTC time as run records write it."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class Usage(BaseModel):
    """Tokens spent, as the endpoint reported them."""

    prompt_tokens: int = Field(default=0, description="Tokens sent.")
    completion_tokens: int = Field(default=0, description="Tokens generated.")
    total_tokens: int = Field(default=0, description="Sum of the two.")
    cached_tokens: int = Field(
        default=0, description="Prompt tokens the endpoint served from its prefix cache."
    )

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
        )


class Attempt(BaseModel):
    """One HTTP request of a call: the first ask or a re-ask after invalid output."""

    request: dict = Field(description="What was sent: model, messages, tools, sampling settings.")
    response: dict | None = Field(default=None, description="The completion as returned, if any.")
    error: str | None = Field(default=None, description="Why this attempt did not yield valid output.")
    usage: Usage = Field(default_factory=Usage, description="Tokens this attempt spent.")
    latency_s: float = Field(default=0.0, description="Seconds from request to response.")


class Transcript(BaseModel):
    """Every request and response of one drafter or reviewer call (`transcripts/`)."""

    call: str = Field(description="Which call: drafter:<section> or reviewer:<dimension>.")
    round: int = Field(description="The round the call belongs to.")
    model: str = Field(description="Model asked.")
    attempts: list[Attempt] = Field(default_factory=list, description="Every attempt in order.")
    result: dict | None = Field(default=None, description="The validated structured output.")


class CallSummary(BaseModel):
    """One call as `run.json` accounts for it."""

    call: str = Field(description="drafter:<section> or reviewer:<dimension>.")
    model: str = Field(description="Model asked.")
    attempts: int = Field(description="HTTP requests made, re-asks included.")
    usage: Usage = Field(description="Tokens over all attempts.")
    latency_s: float = Field(description="Seconds over all attempts.")
    transcript: str = Field(description="Path of the transcript, relative to the output folder.")

    @classmethod
    def of(cls, transcript: Transcript, path: str) -> CallSummary:
        usage = sum((a.usage for a in transcript.attempts), Usage())
        latency = round(sum(a.latency_s for a in transcript.attempts), 3)
        return cls(
            call=transcript.call,
            model=transcript.model,
            attempts=len(transcript.attempts),
            usage=usage,
            latency_s=latency,
            transcript=path,
        )


class ReviewIssue(BaseModel):
    """A concrete fault a panel member found."""

    section: str = Field(description="Section key the fault sits in, e.g. responsibilities.P3.")
    quote: str = Field(description="The exact words of the draft objected to.")
    problem: str = Field(description="What is wrong with them.")
    verified: bool = Field(
        default=True,
        description="Whether the quote was found in that section; unverified issues do not steer revision.",
    )


class DimensionReview(BaseModel):
    """One panel member's verdict in one round: an LLM reviewer or a deterministic check."""

    member: str = Field(description="Reviewer name, or check:<name> for a deterministic check.")
    kind: Literal["reviewer", "check"] = Field(description="LLM reviewer or deterministic check.")
    dimension: str = Field(description="The dimension judged; a check caps this dimension's score.")
    score: Score = Field(description="1–5; a reviewer asked several times: the mean of its samples.")
    samples: list[int] = Field(
        default_factory=list, description="Each sample's score, as the evidence rule left it."
    )
    spread: float = Field(default=0.0, description="Population standard deviation of the samples.")
    rationale: str = Field(description="Why this score.")
    issues: list[ReviewIssue] = Field(default_factory=list, description="Faults found.")
    notes: list[str] = Field(default_factory=list, description="What the panel changed and why.")


class Revision(BaseModel):
    """A section the round (re)drafted, and why."""

    section: str = Field(description="Section key.")
    reason: str = Field(description="first draft, or the dimensions whose issues pointed here.")


class RoundRecord(BaseModel):
    """One draft → panel round."""

    round: int = Field(description="1-based round number.")
    drafted: list[Revision] = Field(description="Sections drafted or redrafted this round.")
    reviews: list[DimensionReview] = Field(description="Every panel member's verdict, checks first.")
    scores: dict[str, Score] = Field(description="Per dimension: its reviewer's score capped by its checks.")
    min_score: Score = Field(description="Lowest dimension score.")
    mean_score: float = Field(description="Mean dimension score.")
    passed: bool = Field(description="Whether min_score reached the threshold.")
    calls: list[CallSummary] = Field(description="Every model call of the round.")
    usage: Usage = Field(description="Tokens over the round's calls.")
    latency_s: float = Field(description="Model seconds over the round's calls.")

    def unasked(self, dimensions: list[str]) -> list[str]:
        """The dimensions whose reviewer this round did not ask: a check had already failed them."""
        asked = {review.dimension for review in self.reviews if review.kind == "reviewer"}
        return [dimension for dimension in dimensions if dimension not in asked]


class Withheld(BaseModel):
    """A passage of a source that no prompt received."""

    source: str = Field(description="Id of the source it was in.")
    text: str = Field(description="The passage as it stood.")
    rule: str = Field(description="Why it was withheld.")


class Endpoint(BaseModel):
    """A model endpoint as recorded: never a key."""

    model: str = Field(description="Model name sent with each request.")
    base_url: str = Field(description="Endpoint URL without credentials or query.")
    embedded: bool = Field(description="Whether jfm started it (the embedded default).")


class RunRecord(BaseModel):
    """The whole run (`run.json`)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = Field(default=RUN_SCHEMA_VERSION, description="Version of this layout.")
    jfm_version: str = Field(description="jfmfactory version that wrote it.")
    role: str = Field(description="Role drafted.")
    status: RunStatus = Field(description="running, passed, not_passed or failed.")
    stop_reason: StopReason | None = Field(default=None, description="Why the loop stopped.")
    error: str | None = Field(default=None, description="The failure, when status is failed.")
    threshold: int = Field(description="Score every dimension must reach.")
    max_rounds: int = Field(description="Round limit.")
    drafter: Endpoint | None = Field(description="Where the drafter ran; none for `jfm review`.")
    panel: Endpoint = Field(description="Where the panel ran.")
    dimensions: list[str] = Field(description="Panel dimensions, in panel order.")
    withheld: list[Withheld] = Field(
        default_factory=list, description="Source passages that spoke to the model; no prompt received them."
    )
    samples: int = Field(default=1, description="Times each reviewer was asked per round.")
    drafting: Literal["items", "ladder"] = Field(
        default="items",
        description="items: one call per item; ladder: every level's responsibilities in one call first.",
    )
    inputs_sha256: str = Field(
        default="",
        description="Digest of the sources read, prompts/, panel/ and the models: what a resume must match.",
    )
    resumed_at: list[str] = Field(default_factory=list, description="UTC times the run was resumed.")
    rounds: list[RoundRecord] = Field(default_factory=list, description="Every completed round.")
    best_round: int | None = Field(default=None, description="Round whose draft was kept.")
    usage: Usage = Field(default_factory=Usage, description="Tokens over the whole run.")
    latency_s: float = Field(default=0.0, description="Model seconds over the whole run.")
    estimated_cost_usd: float | None = Field(
        default=None, description="Tokens priced by prices.toml, when it prices the models used."
    )
    started_at: str = Field(description="UTC start time, ISO 8601.")
    finished_at: str | None = Field(default=None, description="UTC end time, ISO 8601.")

    def close(self, reason: StopReason, passed: bool = False) -> None:
        """Record how the run ended: why it stopped, its status and when."""
        self.stop_reason = reason
        self.finished_at = now()
        if reason == "error":
            self.status = "failed"
        elif reason == "interrupted":
            self.status = "interrupted"
        else:
            self.status = "passed" if passed else "not_passed"
