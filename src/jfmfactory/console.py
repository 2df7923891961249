"""What a person sees on the terminal: progress while a run goes, tables when it ends."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from .app import RoleState
from .runlog import RoundRecord, RunRecord

STATUS_STYLE = {"passed": "green", "not_passed": "yellow", "failed": "red", "running": "cyan"}


class ConsoleReporter:
    """Prints one line per model call and a verdict line per round (to stderr)."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def step(self, round_number: int, call: str) -> None:
        self.console.print(f"[dim]round {round_number}[/] {call}", highlight=False)

    def round_done(self, record: RoundRecord, threshold: int) -> None:
        verdict = "[green]passed[/]" if record.passed else "[yellow]below threshold[/]"
        self.console.print(
            f"round {record.round}: min {record.min_score} (threshold {threshold}), "
            f"mean {record.mean_score:.2f} — {verdict}",
            highlight=False,
        )


def score_table(run: RunRecord) -> Table:
    """Rounds × dimensions, each score coloured against the threshold; the kept round starred."""
    table = Table(title=f"{run.role}: panel scores (threshold {run.threshold})")
    table.add_column("round")
    for dimension in run.dimensions:
        table.add_column(dimension, justify="center")
    table.add_column("min", justify="center")
    for record in run.rounds:
        scores = {review.dimension: review.score for review in record.reviews}
        cells = [
            f"[{'green' if scores[d] >= run.threshold else 'red'}]{scores[d]}[/]" if d in scores else "–"
            for d in run.dimensions
        ]
        mark = " *" if record.round == run.best_round else ""
        table.add_row(f"{record.round}{mark}", *cells, str(record.min_score))
    return table


def summary(console: Console, run: RunRecord, out_dir: Path) -> None:
    console.print(score_table(run))
    style = STATUS_STYLE.get(run.status, "white")
    console.print(
        f"[{style}]{run.status.replace('_', ' ')}[/] ({run.stop_reason}); kept round {run.best_round}; "
        f"{run.usage.total_tokens} tokens, {run.latency_s:.1f}s of model time",
        highlight=False,
    )
    console.print(f"outputs: {out_dir}", highlight=False)


def roles_table(states: list[RoleState]) -> Table:
    table = Table(title="roles in seeds/")
    for column in ("role", "status", "kept round", "min score", "finished"):
        table.add_column(column)
    for state in states:
        style = STATUS_STYLE.get(state.status, "dim")
        table.add_row(
            state.role,
            f"[{style}]{state.status.replace('_', ' ')}[/]",
            str(state.best_round or "–"),
            str(state.min_score or "–"),
            state.finished_at or "–",
        )
    return table
