"""Evidence for objections: a reviewer's quote must stand, word for word, in the section it names.

A quote is matched against the items of that section (a responsibility, a guideline cell, a
skill, a tool), never against headings or citations. It must be at least three words long or a
whole item; comparison ignores case, white space, surrounding quotation marks and a trailing
ellipsis or full stop, nothing else: a paraphrase is not a quote.
"""

from __future__ import annotations

from ..records.profile import GUIDELINE_COLUMNS, Profile
from ..records.runlog import ReviewIssue

MIN_QUOTE_WORDS = 3
_EDGES = " \t\n\"'“”‘’`.…"


def section_items(profile: Profile) -> dict[str, list[str]]:
    """The text of every item, by the section key reviewers name."""
    items = {
        "overview": [profile.description, *(f"{d.function}: {d.boundary}" for d in profile.distinct_from)],
    }
    for level in profile.levels:
        items[f"responsibilities.{level}"] = [item.text for item in profile.responsibilities.get(level, [])]
        row = profile.guidelines.get(level)
        items[f"guidelines.{level}"] = [getattr(row, key).text for key in GUIDELINE_COLUMNS] if row else []
    items["skills"] = [f"{skill.name}: {skill.description}" for skill in profile.skills]
    items["tools"] = [tool.name for tool in profile.tools]
    items["aliases"] = [alias.title for alias in profile.aliases]
    return items


def _fold(text: str) -> str:
    return " ".join(text.casefold().strip(_EDGES).removesuffix("...").strip(_EDGES).split())


def quote_found(quote: str, items: list[str]) -> bool:
    core = _fold(quote)
    if not core:
        return False
    folded = [_fold(item) for item in items]
    if core in folded:
        return True
    return len(core.split()) >= MIN_QUOTE_WORDS and any(core in item for item in folded)


def verify(issues: list[ReviewIssue], items: dict[str, list[str]]) -> list[ReviewIssue]:
    """The issues with `verified` set: the quote stands in the section the issue names."""
    return [
        issue.model_copy(update={"verified": quote_found(issue.quote, items.get(issue.section, []))})
        for issue in issues
    ]
