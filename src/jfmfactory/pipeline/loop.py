"""The loop: draft → panel → revise what the panel faulted, until the profile passes or rounds run out.

The best round (highest min score, then mean) is kept whether or not the run passes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from ..llm.client import CallFailed
from ..llm.parallel import ordered_map
from ..llm.prices import PriceTable
from ..llm.stopping import stopped_by
from ..records.profile import Profile, Provenance
from ..records.runlog import (
    CallSummary,
    DimensionReview,
    Revision,
    RoundRecord,
    RunRecord,
    StopReason,
    Transcript,
    Usage,
)
from ..records.sections import Sections
from ..records.store import RunStore
from .drafter import Drafter, Fault
from .panel import DEFAULT_THRESHOLD, Panel, PanelVerdict

#: Consecutive rounds that fail to raise the best min score before the loop gives up.
PLATEAU_ROUNDS = 2
DEFAULT_MAX_ROUNDS = 3


@dataclass(frozen=True)
class LoopSettings:
    """When a profile passes and how many tries it gets."""

    threshold: int = DEFAULT_THRESHOLD
    max_rounds: int = DEFAULT_MAX_ROUNDS
    #: Sections drafted at once.
    calls_at_once: int = 1
    #: Turns tokens into an estimated cost, when the project has a price table.
    prices: PriceTable | None = None


class Reporter(Protocol):
    """Receives progress as the loop goes; the CLI shows it, tests ignore it."""

    def step(self, round_number: int, call: str) -> None: ...

    def round_done(self, record: RoundRecord, threshold: int) -> None: ...


class QuietReporter:
    def step(self, round_number: int, call: str) -> None:
        pass

    def round_done(self, record: RoundRecord, threshold: int) -> None:
        pass


@contextlib.contextmanager
def failures_recorded(
    run: RunRecord, store: RunStore, finish: Callable[[StopReason], object]
) -> Iterator[None]:
    """On a failure or a stop, keep what the run completed: the error in run.json, then re-raise."""
    try:
        yield
    except CallFailed as failure:
        store.write_transcript(failure.transcript)
        run.error = str(failure)
        finish("error")
        raise
    except KeyboardInterrupt as stopped:  # Ctrl-C or SIGTERM, met in this run's own task
        run.error = f"interrupted: {stopped or 'Ctrl-C'}"
        finish("interrupted")
        raise
    except asyncio.CancelledError:
        # Ctrl-C or SIGTERM met elsewhere cancels every task; a batched catalog stopped at its
        # exported batches cancels its roles too, and they go on when the answers are imported.
        reason = stopped_by()
        if reason is not None:
            run.error = f"interrupted: {reason}"
            finish("interrupted")
        raise
    except Exception as failure:  # bad input met mid-run, a full disk, a bug
        run.error = f"{type(failure).__name__}: {failure}"
        finish("error")
        raise


#: Sections to redraft, each with the faults that concern it.
Plan = dict[str, list[Fault]]


def revision_plan(
    reviews: list[DimensionReview], scores: dict[str, float], threshold: int, section_keys: list[str]
) -> Plan:
    """Sections to redraft, each with the verified issues that concern it.

    Only dimensions below the threshold steer revision, and only through verified issues that
    point to a known section; every other section is carried over unchanged.
    """
    failing = {dimension for dimension, score in scores.items() if score < threshold}
    plan: Plan = defaultdict(list)
    for review in reviews:
        if review.dimension not in failing:
            continue
        for issue in review.issues:
            if issue.verified and issue.section in section_keys:
                plan[issue.section].append(
                    Fault(review.dimension, issue.quote, f"{review.member}: {issue.problem}")
                )
    return {key: plan[key] for key in section_keys if key in plan}


def round_record(
    number: int,
    drafted: list[Revision],
    verdict: PanelVerdict,
    calls: list[CallSummary],
    store: RunStore,
    threshold: int,
) -> RoundRecord:
    """The round as `run.json` records it, the panel's transcripts written and accounted."""
    calls = [*calls, *(store.summarize(transcript) for transcript in verdict.transcripts)]
    return RoundRecord(
        round=number,
        drafted=drafted,
        reviews=verdict.reviews,
        scores=verdict.scores,
        min_score=verdict.min_score,
        mean_score=verdict.mean_score,
        passed=verdict.min_score >= threshold,
        calls=calls,
        usage=sum((call.usage for call in calls), Usage()),
        latency_s=round(sum(call.latency_s for call in calls), 3),
    )


@dataclass
class Best:
    """The best round so far, by (min score, mean score)."""

    key: tuple[float, float]
    round: int
    sections: Sections
    scores: dict[str, float]


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
        self.best: Best | None = None
        self.stalled = 0

    def _settle(self, record: RoundRecord, sections: Sections) -> StopReason | None:
        """Take a completed round into account: the best so far, the plateau count, whether to stop."""
        key = (record.min_score, record.mean_score)
        raised = self.best is None or record.min_score > self.best.key[0]
        if self.best is None or key > self.best.key:
            self.best = Best(key, record.round, dict(sections), record.scores)
        self.stalled = 0 if raised else self.stalled + 1
        if record.passed:
            return "passed"
        if self.stalled >= PLATEAU_ROUNDS:
            return "plateau"
        if record.round >= self.settings.max_rounds:
            return "round_limit"
        return None

    def _resume(self) -> tuple[Sections, Plan, StopReason | None]:
        """The state after the run's completed rounds (none for a new run), from what they wrote."""
        sections: Sections = {}
        stop: StopReason | None = None
        for record in self.run.rounds:
            sections = self.store.read_sections(record.round)
            stop = self._settle(record, sections)
        if not self.run.rounds:
            return sections, {key: [] for key in self.drafter.section_keys}, None
        last = self.run.rounds[-1]
        plan = revision_plan(last.reviews, last.scores, self.settings.threshold, self.drafter.section_keys)
        return sections, plan, stop

    async def execute(self) -> RunRecord:
        """Run until passed, out of rounds or stalled; on a failure keep what was done and re-raise.

        A run that already has rounds (one resumed) goes on after its last completed round.
        """
        with failures_recorded(self.run, self.store, self._finish):
            sections, plan, stop = self._resume()
            # A resumed run's profile.json is its best completed round's, whatever a kill left.
            self._keep_best()
            number = len(self.run.rounds)
            while stop is None:
                number += 1
                record = await self._round(number, sections, plan)
                self.store.write_sections(number, sections)
                self.run.rounds.append(record)
                self._account(record)
                stop = self._settle(record, sections)
                self._keep_best()  # the best draft so far, should the run be killed
                self.store.write_run(self.run)
                self.reporter.round_done(record, self.settings.threshold)
                plan = revision_plan(
                    record.reviews, record.scores, self.settings.threshold, self.drafter.section_keys
                )
            return self._finish(stop)

    async def _round(self, number: int, sections: Sections, plan: Plan) -> RoundRecord:
        calls: list[CallSummary] = []
        drafted = []
        first = number == 1

        async def draft(group: list[str]) -> tuple[Sections, list[Transcript]]:
            if len(group) > 1:  # the ladder path: every level's responsibilities in one call
                self.reporter.step(number, "drafter:responsibilities")
                return await self.drafter.draft_ladder(group, number)
            key = group[0]
            self.reporter.step(number, f"drafter:{key}")
            data, transcripts = await self.drafter.draft_section(
                key, number, current=sections.get(key), faults=plan[key]
            )
            return {key: data}, transcripts

        # Sections are independent of each other: they are drafted at once, kept in plan order.
        groups = self.drafter.groups(list(plan), sections)
        for data, transcripts in await ordered_map(draft, groups, self.settings.calls_at_once):
            sections.update(data)
            calls += [self.store.summarize(transcript) for transcript in transcripts]
        for key, faults in plan.items():
            reason = "first draft" if first else ", ".join(sorted({fault.dimension for fault in faults}))
            drafted.append(Revision(section=key, reason=reason))
        profile = self.drafter.assemble(sections)
        # A reviewer whose dimension a check already fails is not asked: the round fails either way,
        # and the check's own issues say what to redraft.
        verdict = await self.panel.judge(
            profile, number, lambda call: self.reporter.step(number, call), only_undecided=True
        )
        return round_record(number, drafted, verdict, calls, self.store, self.settings.threshold)

    def _account(self, record: RoundRecord) -> None:
        self.run.usage = self.run.usage + record.usage
        self.run.latency_s = round(self.run.latency_s + record.latency_s, 3)
        if self.settings.prices is not None:
            calls = [call for done in self.run.rounds for call in done.calls]
            self.run.estimated_cost_usd = self.settings.prices.cost(calls)

    def _keep_best(self) -> None:
        """Write the best round so far as profile.json, and say which it is."""
        if self.best is not None:
            self.store.write_profile(self.best_profile(self.best), self.drafter.evidence)
            self.run.best_round = self.best.round

    def _finish(self, reason: StopReason) -> RunRecord:
        self._keep_best()
        self.run.close(reason, passed=self.best is not None and self.best.key[0] >= self.settings.threshold)
        self.store.write_run(self.run)
        return self.run

    def best_profile(self, best: Best) -> Profile:
        profile = self.drafter.assemble(best.sections)
        profile.provenance = Provenance(
            sources=self.drafter.source_refs(),
            scores=best.scores,
            min_score=min(best.scores.values()),
            threshold=self.settings.threshold,
            passed=min(best.scores.values()) >= self.settings.threshold,
            round=best.round,
        )
        return profile
