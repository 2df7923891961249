"""One role's outcome in a catalog run (`jfm draft --all`, batched or not), as its table shows it."""

from __future__ import annotations

from dataclasses import dataclass

from .runlog import RunRecord


@dataclass(frozen=True)
class CatalogRun:
    """One role of `jfm draft --all`: its run record, or why it was skipped, and its wall time."""

    role: str
    run: RunRecord | None
    skipped: str | None
    error: str | None
    seconds: float
