"""One role's outcome in a catalog run (`jfm draft --all`, batched or not), as its table shows it."""

from __future__ import annotations

from dataclasses import dataclass

from .runlog import RunRecord


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What a catalog keeps of a role's run record (its whole record is out/ROLE/run.json): a
    catalog of thousands of roles would otherwise hold every role's calls until its end."""

    status: str
    rounds: int
    #: The kept round's lowest score, if a round was kept.
    min_score: float | None
    total_tokens: int
    finished: bool

    @classmethod
    def of(cls, run: RunRecord) -> RunSummary:
        best = next((r for r in run.rounds if r.round == run.best_round), None)
        return cls(
            status=run.status,
            rounds=len(run.rounds),
            min_score=best.min_score if best else None,
            total_tokens=run.usage.total_tokens,
            finished=run.finished_at is not None,
        )


@dataclass(frozen=True)
class CatalogRun:
    """One role of `jfm draft --all`: its run's summary, or why it was skipped, and its wall time."""

    role: str
    run: RunSummary | None
    skipped: str | None
    error: str | None
    seconds: float
