"""What a person sees on the terminal: progress while a run goes, tables when it ends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn
from rich.table import Table
from rich.text import Text

from ..calibration.run import CalibrationRecord
from ..llm.batch import BatchProgress
from ..llm.prices import PriceTable
from ..records.batches import BatchLedger
from ..records.catalog_run import CatalogRun
from ..records.evidence import Evidence
from ..records.profile import Profile
from ..records.runlog import RoundRecord, RunRecord
from ..records.sections import profile_sections
from .diff import ProfileDiff
from .entry import Comparison, RoleState, SourceState
from .outputs import Outputs
from .report import citing_items

STATUS_STYLE = {
    "passed": "green",
    "not_passed": "yellow",
    "failed": "red",
    "interrupted": "red",
    "running": "cyan",
}


class ConsoleReporter:
    """Prints one line per model call and a verdict line per round (to stderr)."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def step(self, round_number: int, call: str) -> None:
        self.console.print(f"[dim]round {round_number}[/] {call}", highlight=False)

    def round_done(self, record: RoundRecord, threshold: int) -> None:
        verdict = "[green]passed[/]" if record.passed else "[yellow]below threshold[/]"
        self.console.print(
            f"round {record.round}: min {record.min_score:g} (threshold {threshold}), "
            f"mean {record.mean_score:.2f} — {verdict}",
            highlight=False,
        )


def score_table(run: RunRecord) -> Table:
    """A row per dimension and a column per round, each score coloured against the threshold.

    Dimensions go down the side so that long names are never cut; the kept round is starred.
    """
    table = Table(title=f"{run.role}: panel scores (threshold {run.threshold})")
    table.add_column("dimension", no_wrap=True)
    for record in run.rounds:
        mark = " *" if record.round == run.best_round else ""
        table.add_column(f"round {record.round}{mark}", justify="center")
    by_round = [record.scores for record in run.rounds]
    for dimension in run.dimensions:
        cells = [_score(scores.get(dimension), run.threshold) for scores in by_round]
        table.add_row(dimension, *cells)
    table.add_row("[bold]min[/]", *(_score(r.min_score, run.threshold) for r in run.rounds))
    return table


def _score(score: float | None, threshold: int) -> str:
    if score is None:
        return "–"
    return f"[{'green' if score >= threshold else 'red'}]{score:g}[/]"


def summary(console: Console, run: RunRecord, out_dir: Path) -> None:
    console.print(score_table(run))
    style = STATUS_STYLE.get(run.status, "white")
    console.print(
        f"[{style}]{run.status.replace('_', ' ')}[/] ({run.stop_reason}); kept round {run.best_round}; "
        f"{run.usage.total_tokens} tokens ({run.usage.cached_tokens} prompt tokens cached), "
        f"{run.latency_s:.1f}s of model time"
        + (f", about ${run.estimated_cost_usd:.4f}" if run.estimated_cost_usd is not None else ""),
        highlight=False,
    )
    console.print(f"outputs: {out_dir}", highlight=False, soft_wrap=True)


def roles_table(states: list[RoleState]) -> Table:
    table = Table(title="the catalog, and roles in seeds/")
    for column in ("family", "focus", "code", "seeds", "status", "kept round", "min score"):
        table.add_column(column)
    for state in states:
        style = STATUS_STYLE.get(state.status, "dim")
        table.add_row(
            Text(state.family),
            Text(state.focus),
            state.code,
            state.role or "–",
            f"[{style}]{state.status.replace('_', ' ')}[/]",
            str(state.best_round or "–"),
            f"{state.min_score:g}" if state.min_score is not None else "–",
        )
    return table


def sources_table(role: str, states: list[SourceState]) -> Table:
    """A row per source: what it is, where it came from, and what the last run made of it."""
    table = Table(title=f"sources of {role} (quotes: cut by the evidence stage; cited: by the kept profile)")
    for column in ("id", "title", "origin", "date", "words", "quotes", "cited"):
        table.add_column(column)
    for state in states:
        table.add_row(
            state.id,
            Text(state.title),
            Text(state.origin or "–"),
            state.date,
            str(state.words),
            "–" if state.quotes is None else str(state.quotes),
            "–" if state.cited_by is None else str(state.cited_by),
        )
    return table


def compare_table(comparison: Comparison) -> Table:
    """The two sides in two columns, one row per aspect."""
    left, right = comparison.left, comparison.right
    title = f"{left.label} vs {right.label}"
    if comparison.distance is not None:
        title += f" — distance {comparison.distance:.2f} ({comparison.band})"
    table = Table(title=Text(title), show_lines=True)
    table.add_column("", style="bold", no_wrap=True)
    table.add_column(left.label, ratio=1)
    table.add_column(right.label, ratio=1)
    for aspect, a, b in comparison.rows():
        table.add_row(Text(aspect), Text(a), Text(b))  # profile text is not Rich markup
    return table


#: How a diff marks words: removed struck through in red, added underlined in green; the signs
#: say the same where colour does not reach (a file, a pipe).
_MARKS = {
    "kept": ("", "", ""),
    "removed": ("red strike", "[-", "-]"),
    "added": ("green underline", "{+", "+}"),
}
_SIGNS = {"added": "+", "removed": "-", "changed": "~"}


def diff_lines(found: ProfileDiff) -> list[Text]:
    """The draft against the approved version: a heading, then per changed item its section and
    its words, removed and added words marked."""
    approved = found.version.approval
    head = (
        f"{found.version.role}: the draft ({found.draft_digest[:12]}) against v{found.version.version} "
        f"(approved by {approved.by}, {approved.at}): {len(found.changes)} item(s) changed"
    )
    lines = [Text(head, style="bold")]
    for change in found.changes:
        line = Text(f"{_SIGNS[change.change]} {change.section}: ")
        for n, (kind, words) in enumerate(change.words()):
            style, opening, closing = _MARKS[kind]
            line.append(" " if n else "")
            line.append(f"{opening}{words}{closing}", style=style)
        lines.append(line)
    return lines


def show(console: Console, outputs: Outputs, number: int | None) -> None:
    """A run on the terminal: status, the score grid, one round's verdicts, the sources."""
    run = outputs.run
    record = outputs.round(number)
    style = STATUS_STYLE.get(run.status, "white")
    console.print(
        f"[bold]{outputs.profile.title}[/] — [{style}]{run.status.replace('_', ' ')}[/] "
        f"(stopped: {run.stop_reason}); kept round {run.best_round}; threshold {run.threshold}",
        highlight=False,
    )
    console.print(score_table(run))
    console.print(f"\n[bold]Round {record.round}[/]", highlight=False)
    for review in record.reviews:
        samples = f" samples {review.samples}" if len(review.samples) > 1 else ""
        colour = "green" if review.score >= run.threshold else "red"
        console.print(
            f"\n[bold]{review.member}[/] ({review.dimension}) [{colour}]{review.score:g}[/]{samples}",
            highlight=False,
        )
        console.print(f"  {review.rationale}", highlight=False, markup=False)
        for note in review.notes:
            console.print(f"  note: {note}", highlight=False, markup=False, style="dim")
        for issue in review.issues:
            mark = "✓" if issue.verified else "✗ unverified"
            quote = f'"{issue.quote}" — ' if issue.quote else ""
            console.print(
                f"  [{mark}] {issue.section}: {quote}{issue.problem}", highlight=False, markup=False
            )
    for dimension in record.unasked(run.dimensions):
        console.print(
            f"\n{dimension} reviewer not asked: a check had already failed the dimension",
            highlight=False, markup=False, style="dim",
        )  # fmt: skip
    console.print("\n[bold]Sources[/]", highlight=False)
    citing = citing_items(outputs.profile)
    for source in outputs.profile.provenance.sources if outputs.profile.provenance else []:
        sections = sorted({section for section, _ in citing.get(source.id, [])})
        console.print(
            f"  [{source.id}] {source.title} — cited by {len(citing.get(source.id, []))} item(s)"
            f"{': ' + ', '.join(sections) if sections else ''}",
            highlight=False,
            markup=False,
        )
    evidence = outputs.evidence
    if evidence is not None:
        console.print(f"\n[bold]What each section rests on[/] (kept round {run.best_round})", highlight=False)
        for line in rests_on_lines(outputs.profile, evidence):
            console.print(f"  {line}", highlight=False, markup=False)


def rests_on_lines(profile: Profile, evidence: Evidence) -> list[str]:
    """Per section that cites sources, how many of its items rest on how many quotes, of which
    sources; and how many rest on none (an item that cites nothing by design is not counted)."""
    lines = []
    for section in profile_sections(profile.levels):
        if not section.kind.cites:
            continue
        cited = [item for item in section.items(profile) if item.sources is not None]
        quotes = [
            quote
            for qid in dict.fromkeys(qid for item in cited for qid in item.evidence)
            if (quote := evidence.quote(qid)) is not None
        ]
        sources = sorted({quote.source for quote in quotes})
        line = f"{section.key}: {len(quotes)} quote(s)" + (f" of {', '.join(sources)}" if sources else "")
        bare = sum(1 for item in cited if not any(evidence.quote(qid) for qid in item.evidence))
        lines.append(line + (f"; {bare} of {len(cited)} item(s) on no quote" if bare else ""))
    return lines


class CatalogProgress:
    """A progress bar per role for `jfm draft --all`: calls made, the call under way, the round."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def reporter_for(self, role: str) -> RoleBar:
        return RoleBar(self.progress, self.progress.add_task(role, total=None, call="starting"))


class RoleBar:
    """The Reporter of one role's bar."""

    def __init__(self, progress: Progress, task: TaskID) -> None:
        self.progress = progress
        self.task = task

    def step(self, round_number: int, call: str) -> None:
        self.progress.update(self.task, advance=1, call=f"round {round_number} {call}")

    def round_done(self, record: RoundRecord, threshold: int) -> None:
        verdict = "passed" if record.passed else f"min {record.min_score:g}"
        self.progress.update(self.task, call=f"round {record.round} done: {verdict}")


class BatchBars:
    """A progress bar per batch of `jfm draft --all --batch`: its requests done, its status."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, state: BatchProgress) -> None:
        if state.id not in self.tasks:
            self.tasks[state.id] = self.progress.add_task(state.id, total=state.total, call=state.status)
        self.progress.update(
            self.tasks[state.id], total=state.total, completed=state.completed, call=state.status
        )


def batch_table(ledger: BatchLedger, prices: PriceTable | None) -> Table:
    """One row per batch, and their totals: requests, rounds, status, tokens; the estimated cost
    at batch rates against the same tokens asked live, when prices.toml prices the model."""
    table = Table(title="batches")
    for column in ("batch", "model", "rounds", "requests", "answered", "unfinished", "status", "tokens"):
        table.add_column(column)
    for batch in ledger.batches:
        table.add_row(
            batch.id,
            batch.model,
            ", ".join(map(str, batch.rounds)),
            str(len(batch.requests)),
            str(batch.answered),
            str(batch.unfinished),
            batch.status,
            str(batch.usage.total_tokens),
        )
    per_round = ", ".join(f"round {number}: {count}" for number, count in ledger.per_round().items())
    live = prices.usage_cost(ledger.costed()) if prices else None
    batched = prices.at_batch_rates().usage_cost(ledger.costed()) if prices else None
    cost = f"; estimated ${batched:.4f} at batch rates, ${live:.4f} live" if live is not None else ""
    table.caption = (
        f"{len(ledger.batches)} batches ({per_round}), "
        f"{sum(len(b.requests) for b in ledger.batches)} requests, {ledger.usage.total_tokens} tokens{cost}"
    )
    return table


class ShownOnceUsed(Progress):
    """A progress display that appears with its first bar: a run refused before any (a flag, a
    ledger) prints its error alone, without the blank line an empty display leaves."""

    def __enter__(self) -> ShownOnceUsed:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live.is_started:
            self.stop()

    def add_task(self, *args: Any, **kwargs: Any) -> TaskID:
        if not self.live.is_started:
            self.start()
        return super().add_task(*args, **kwargs)


def catalog_progress(console: Console) -> Progress:
    return ShownOnceUsed(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed} calls"),
        TextColumn("{task.fields[call]}"),
        console=console,
    )


def catalog_table(results: list[CatalogRun]) -> Table:
    """One row per role: status, min score, rounds, tokens, time."""
    table = Table(title="jfm draft --all")
    for column in ("role", "status", "min score", "rounds", "tokens", "seconds"):
        table.add_column(column)
    for result in results:
        run = result.run
        status = result.skipped or ("error: " + result.error if result.error else run.status if run else "–")
        table.add_row(
            result.role,
            Text(status.replace("_", " ")),
            f"{run.min_score:g}" if run and run.min_score is not None else "–",
            str(run.rounds) if run else "–",
            str(run.total_tokens) if run else "–",
            f"{result.seconds:.1f}",
        )
    return table


def _share(part: int, whole: int, floor: float) -> Text:
    if not whole:
        return Text("–")
    return Text(f"{part}/{whole} ({part / whole:.0%})", style="green" if part / whole >= floor else "red")


def calibration_table(record: CalibrationRecord) -> Table:
    """Per dimension: gold passed and faults caught against their floors; kappa in the caption."""
    kappa = "–" if record.agreement.kappa is None else f"{record.agreement.kappa:.2f}"
    items = record.items
    table = Table(
        title=f"jfm calibrate: panel {record.panel.model}, threshold {record.threshold}",
        caption=f"Cohen's kappa {kappa} over {record.agreement.trials} trials; single items: "
        f"{items.struck_flagged}/{items.struck} struck flagged, {items.kept_flagged}/{items.kept} kept "
        f"flagged, {items.published_flagged}/{items.published} published flagged "
        f"({'meets' if items.meets_floors else 'below'} the item floors)",
    )
    for column in ("dimension", "gold passed", "faults caught", "meets floors"):
        table.add_column(column)
    for measure in record.measures:
        floors = record.floors[measure.dimension]
        table.add_row(
            measure.dimension,
            _share(measure.gold_passed, measure.gold, floors.gold_pass),
            _share(measure.faults_caught, measure.faults, floors.fault_catch),
            Text("yes", style="green") if measure.meets_floors else Text("no", style="red"),
        )
    return table
