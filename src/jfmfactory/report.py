"""Views of a finished run for the people who decide whether to trust it.

`load_outputs` reads what a run wrote; `report_html` renders the one-file HTML report;
`level_view` renders the published profile for one level, that level highlighted.
"""

from __future__ import annotations

import difflib
import itertools
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from .catalog import RESOLVER, Adjacent, Catalog, LevelBlock
from .errors import BadInput
from .evidence import section_items
from .profile import GUIDELINE_COLUMNS, Profile, code_at_level, shape_problem
from .runlog import ReviewIssue, RoundRecord, RunRecord
from .store import DRAFTS, PROFILE_JSON, RunStore

REPORT_HTML = "report.html"

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("jfmfactory", "templates"),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=jinja2.select_autoescape(["html", "html.j2"]),
)
_env.filters["score"] = lambda value: f"{value:g}"
_env.filters["at_level"] = lambda code, level: code_at_level(code, level)
_env.filters["cell"] = lambda text: " ".join(str(text).split()).replace("|", "\\|")


def render_template(name: str, **context: object) -> str:
    """One of the package's view templates, rendered."""
    return _env.get_template(name).render(**context)


@dataclass
class Outputs:
    """What a run left in its folder."""

    folder: Path
    run: RunRecord
    profile: Profile

    def round(self, number: int | None) -> RoundRecord:
        """Round `number`, or the kept round when none is named."""
        wanted = number if number is not None else self.run.best_round
        for record in self.run.rounds:
            if record.round == wanted:
                return record
        rounds = ", ".join(str(r.round) for r in self.run.rounds) or "none"
        raise BadInput(f"--round {wanted}: no such round in {self.folder} (rounds: {rounds})")

    def sections(self, number: int) -> dict[str, object] | None:
        path = self.folder / DRAFTS / f"round-{number}.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def load_outputs(folder: Path) -> Outputs:
    """The run record and profile in `folder`; a folder with neither is an error."""
    run = RunStore(folder).read_run()
    path = folder / PROFILE_JSON
    if run is None or not path.is_file():
        raise BadInput(f"{folder}: no finished run here (run jfm draft first)")
    try:
        profile = Profile.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise BadInput(f"{path}: unreadable profile: {exc}") from exc
    problem = shape_problem(profile)
    if problem:
        raise BadInput(f"{path}: {problem}")
    return Outputs(folder=folder, run=run, profile=profile)


def highlight(text: str, quotes: list[str]) -> Markup:
    """`text` escaped, each quote that stands in it wrapped in <mark class="quote">."""
    spans: list[tuple[int, int]] = []
    for quote in quotes:
        words = quote.strip(" \"'“”‘’.…").split()
        if not words:
            continue
        found = re.search(r"\s+".join(re.escape(w) for w in words), text, re.IGNORECASE)
        if found and not any(a < found.end() and found.start() < b for a, b in spans):
            spans.append(found.span())
    out, position = [], 0
    for start, end in sorted(spans):
        out.append(escape(text[position:start]))
        out.append(Markup('<mark class="quote">') + escape(text[start:end]) + Markup("</mark>"))
        position = end
    out.append(escape(text[position:]))
    return Markup("").join(out)


def quotes_by_section(record: RoundRecord) -> dict[str, list[str]]:
    """The verified quotes of a round, by the section they sit in."""
    quotes: dict[str, list[str]] = defaultdict(list)
    for review in record.reviews:
        for issue in review.issues:
            if issue.verified and issue.quote:
                quotes[issue.section].append(issue.quote)
    return quotes


def section_diffs(outputs: Outputs) -> list[dict[str, object]] | None:
    """For each round after the first, every section that changed, as unified diff lines.

    None when the folder lacks the rounds' drafts (`drafts/`), so nothing can be compared.
    """
    diffs: list[dict[str, object]] = []
    rounds = [r.round for r in outputs.run.rounds]
    for before, after in itertools.pairwise(rounds):
        old, new = outputs.sections(before), outputs.sections(after)
        if old is None or new is None:
            return None
        for key in new:
            if old.get(key) == new[key]:
                continue
            lines = difflib.unified_diff(
                json.dumps(old.get(key), indent=1, ensure_ascii=False).splitlines(),
                json.dumps(new[key], indent=1, ensure_ascii=False).splitlines(),
                lineterm="",
                n=1,
            )
            diffs.append({"before": before, "after": after, "section": key, "lines": list(lines)[2:]})
    return diffs


def citing_items(profile: Profile) -> dict[str, list[tuple[str, str]]]:
    """For each source id, the items that cite it: (section, text)."""
    by_source: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for level in profile.levels:
        for item in profile.responsibilities.get(level, []):
            for sid in item.sources:
                by_source[sid].append((f"responsibilities.{level}", item.text))
        row = profile.guidelines.get(level)
        for key in GUIDELINE_COLUMNS if row else ():
            cell = getattr(row, key)
            for sid in cell.sources:
                by_source[sid].append((f"guidelines.{level}", cell.text))
    for skill in profile.skills:
        for sid in skill.sources:
            by_source[sid].append(("skills", skill.name))
    for tool in profile.tools:
        for sid in tool.sources:
            by_source[sid].append(("tools", tool.name))
    return by_source


def report_html(outputs: Outputs) -> str:
    """The one-file report: profile with quotes marked, grid, verdicts, diffs, sources, calls."""
    kept = outputs.round(None)
    quotes = quotes_by_section(kept)
    return _env.get_template("report.html.j2").render(
        run=outputs.run,
        p=outputs.profile,
        kept=kept,
        columns=GUIDELINE_COLUMNS,
        mark=lambda section, text: highlight(text, quotes.get(section, [])),
        diffs=section_diffs(outputs),
        citing=citing_items(outputs.profile),
        items=section_items(outputs.profile),
    )


def issue_anchor(issue: ReviewIssue) -> str:
    return f"section-{issue.section.replace('.', '-')}"


_env.globals["anchor"] = issue_anchor


@dataclass(frozen=True)
class Mapping:
    """One SOC classification row: its rank, code, titles and the evidence for it."""

    rank: str
    code: str
    title: str
    onet: str
    reason: str
    source: str = RESOLVER


@dataclass(frozen=True)
class CatalogView:
    """The catalog layer of a level page: the rubric block, classification, adjacent roles."""

    block: LevelBlock
    mappings: list[Mapping]
    adjacent: list[Adjacent]


def catalog_view(catalog: Catalog, profile: Profile, level: str, skills: dict[str, list[str]]) -> CatalogView:
    """What the catalog says about the profile's role at `level`; off-catalog roles get the block only."""
    focus = catalog.for_role(profile.role)
    mappings: list[Mapping] = []
    adjacent: list[Adjacent] = []
    if focus is not None:
        classification = focus.entry.classification
        ranked = [("primary", classification.primary)] + [
            (f"alternate {n}", soc) for n, soc in enumerate(classification.alternates, start=1)
        ]
        for rank, soc in ranked:
            occupation = catalog.soc.detailed[soc.code]
            mappings.append(Mapping(rank, soc.code, occupation.title, occupation.onet, soc.reason))
        adjacent = catalog.adjacent(focus, level, skills)
    return CatalogView(block=catalog.rubric.block(level), mappings=mappings, adjacent=adjacent)


def level_view(outputs: Outputs, level: str, fmt: str, context: CatalogView | None = None) -> str:
    """The published profile for one level, with that level highlighted."""
    profile = outputs.profile
    if level not in profile.levels:
        raise BadInput(f"--level {level}: the profile has levels {', '.join(profile.levels)}")
    if fmt == "json":
        data: dict[str, object] = {"level": level, "profile": profile.model_dump(mode="json")}
        if context is not None:
            data["catalog"] = {
                "level_block": context.block.model_dump(mode="json"),
                "classification": [vars(m) for m in context.mappings],
                "adjacent": [vars(a) for a in context.adjacent],
            }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    template = {"md": "level.md.j2", "html": "level.html.j2"}.get(fmt)
    if template is None:
        raise BadInput(f"--format {fmt}: use md, html or json")
    text = _env.get_template(template).render(
        p=profile, level=level, columns=GUIDELINE_COLUMNS, plain=lambda section, text: text, c=context
    )
    return text.rstrip() + "\n"
