"""The loop: draft → panel → revise what the panel faulted, until the profile passes or rounds run out.

The best round (highest min score, then mean) is kept whether or not the run passes.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from .drafter import Drafter, Sections
from .llm import CallFailed
from .panel import Panel
from .profile import Profile, Provenance
from .render import render_markdown
from .runlog import CallSummary, DimensionReview, Revision, RoundRecord, RunRecord, Usage
from .store import RunStore


@dataclass(frozen=True)
class LoopSettings:
    """When a profile passes and how many tries it gets."""

    threshold: int = 4
    max_rounds: int = 3


class Reporter(Protocol):
    """Receives progress as the loop goes; the CLI shows it, tests ignore it."""

    def step(self, round_number: int, call: str) -> None: ...

    def round_done(self, record: RoundRecord, threshold: int) -> None: ...


class QuietReporter:
    def step(self, round_number: int, call: str) -> None:
        pass

    def round_done(self, record: RoundRecord, threshold: int) -> None:
        pass


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def revision_plan(
    reviews: list[DimensionReview], threshold: int, section_keys: list[str]
) -> dict[str, list[str]]:
    """Sections to redraft, each with the issues that concern it.

    A failing dimension's issues point to their sections; a failing dimension that named no
    issue gives its rationale to every section, since nothing narrower can be targeted.
    """
    plan: dict[str, list[str]] = defaultdict(list)
    for review in reviews:
        if review.score >= threshold:
            continue
        pointed = [issue for issue in review.issues if issue.section in section_keys]
        for issue in pointed:
            plan[issue.section].append(f'{review.dimension}: "{issue.quote}" — {issue.problem}')
        if not pointed:
            for key in section_keys:
                plan[key].append(f"{review.dimension}: {review.rationale}")
    return {key: plan[key] for key in section_keys if key in plan}


class Loop:
    """Runs one role's draft–review rounds and writes every output as it goes."""

    def __init__(
        self,
        drafter: Drafter,
        panel: Panel,
        store: RunStore,
        settings: LoopSettings,
        run: RunRecord,
        reporter: Reporter | None = None,
    ) -> None:
        self.drafter = drafter
        self.panel = panel
        self.store = store
        self.settings = settings
        self.run = run
        self.reporter = reporter or QuietReporter()
        self.best: tuple[tuple[int, float], int, Sections, list[DimensionReview]] | None = None

    def execute(self) -> RunRecord:
        """Run until passed or out of rounds; on a failed call keep what was done and re-raise."""
        sections: Sections = {}
        plan = {key: ["first draft"] for key in self.drafter.section_keys}
        try:
            for number in range(1, self.settings.max_rounds + 1):
                record = self._round(number, sections, plan)
                self.run.rounds.append(record)
                self._account(record)
                key = (record.min_score, record.mean_score)
                if self.best is None or key > self.best[0]:
                    self.best = (key, number, dict(sections), record.reviews)
                self.store.write_run(self.run)
                self.reporter.round_done(record, self.settings.threshold)
                if record.passed:
                    return self._finish("passed")
                plan = revision_plan(record.reviews, self.settings.threshold, self.drafter.section_keys)
            return self._finish("round_limit")
        except CallFailed as failure:
            self.store.write_transcript(failure.transcript)
            self.run.error = str(failure)
            self._finish("error")
            raise
        except BaseException as stopped:  # Ctrl-C, SIGTERM or a bug: keep what the rounds did
            self.run.error = f"stopped: {stopped or type(stopped).__name__}"
            self._finish("error")
            raise

    def _round(self, number: int, sections: Sections, plan: dict[str, list[str]]) -> RoundRecord:
        calls: list[CallSummary] = []
        drafted = []
        for key, issues in plan.items():
            self.reporter.step(number, f"drafter:{key}")
            first = number == 1
            data, transcript = self.drafter.draft_section(
                key, number, current=None if first else sections.get(key), issues=[] if first else issues
            )
            sections[key] = data
            calls.append(CallSummary.of(transcript, self.store.write_transcript(transcript)))
            reason = "first draft" if first else "; ".join(sorted({i.split(":")[0] for i in issues}))
            drafted.append(Revision(section=key, reason=reason))
        profile = self.drafter.assemble(sections)
        reviews = []
        for reviewer in self.panel.reviewers:
            self.reporter.step(number, f"reviewer:{reviewer.name}")
            review, transcript = self.panel.review(reviewer, profile, number)
            reviews.append(review)
            calls.append(CallSummary.of(transcript, self.store.write_transcript(transcript)))
        scores = [review.score for review in reviews]
        return RoundRecord(
            round=number,
            drafted=drafted,
            reviews=reviews,
            min_score=min(scores),
            mean_score=round(statistics.fmean(scores), 3),
            passed=min(scores) >= self.settings.threshold,
            calls=calls,
            usage=sum((call.usage for call in calls), Usage()),
            latency_s=round(sum(call.latency_s for call in calls), 3),
        )

    def _account(self, record: RoundRecord) -> None:
        self.run.usage = self.run.usage + record.usage
        self.run.latency_s = round(self.run.latency_s + record.latency_s, 3)

    def _finish(self, reason: str) -> RunRecord:
        self.run.stop_reason = reason  # type: ignore[assignment]
        self.run.finished_at = now()
        if self.best is not None:
            _, number, sections, reviews = self.best
            profile = self.best_profile(sections, reviews, number)
            self.store.write_profile(profile, render_markdown(profile))
            self.run.best_round = number
        passed = self.best is not None and self.best[0][0] >= self.settings.threshold
        if reason == "error":
            self.run.status = "failed"
        else:
            self.run.status = "passed" if passed else "not_passed"
        self.store.write_run(self.run)
        return self.run

    def best_profile(self, sections: Sections, reviews: list[DimensionReview], number: int) -> Profile:
        profile = self.drafter.assemble(sections)
        scores = {review.dimension: review.score for review in reviews}
        profile.provenance = Provenance(
            sources=self.drafter.source_refs(),
            scores=scores,
            min_score=min(scores.values()),
            threshold=self.settings.threshold,
            passed=min(scores.values()) >= self.settings.threshold,
            round=number,
        )
        return profile
