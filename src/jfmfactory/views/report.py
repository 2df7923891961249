"""report.html: one self-contained file with the scores, the kept profile with its reviewers'
verified quotes marked and each item's own quotes of the sources, every verdict, the diffs
between rounds, the sources and every call."""

from __future__ import annotations

import difflib
import itertools
import json
import re
from collections import defaultdict

from markupsafe import Markup, escape

from ..records.evidence import Quote
from ..records.markdown import rests_on
from ..records.profile import GUIDELINE_COLUMNS, Profile
from ..records.runlog import RoundRecord
from ..records.sections import items
from .diff import ProfileDiff
from .outputs import Outputs
from .rendering import render_template

REPORT_HTML = "report.html"


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
    for item in items(profile):
        for sid in item.sources or []:
            by_source[sid].append((item.section, item.text))
    return by_source


def report_html(outputs: Outputs, approved: ProfileDiff | None = None) -> str:
    """The one-file report: profile with quotes marked and each item's evidence, grid, verdicts,
    the draft against the `approved` version when there is one, diffs, sources, calls."""
    kept = outputs.round(None)
    quotes = quotes_by_section(kept)
    evidence = outputs.evidence

    def evidence_of(item: object) -> list[Quote]:
        return rests_on(item, evidence)

    return render_template(
        "report.html.j2",
        run=outputs.run,
        p=outputs.profile,
        kept=kept,
        columns=GUIDELINE_COLUMNS,
        mark=lambda section, text: highlight(text, quotes.get(section, [])),
        rests_on=evidence_of,
        has_evidence=evidence is not None,
        diffs=section_diffs(outputs),
        approved=approved,
        citing=citing_items(outputs.profile),
    )
