"""Evidence for objections: a reviewer's quote must stand, word for word, in the section it names.

A quote is matched against the items of that section (a responsibility, a guideline cell, a
skill, a tool), never against headings or citations. It must be at least three words long or a
whole item; comparison ignores case, white space, surrounding quotation marks and a trailing
ellipsis or full stop, nothing else: a paraphrase is not a quote.
"""

from __future__ import annotations

import re

from ..records.profile import Profile
from ..records.runlog import ReviewIssue
from ..records.sections import items

MIN_QUOTE_WORDS = 3
#: Share of a quote's words that one item of the profile must hold for the quote to be a near miss.
NEAR_MISS_SHARE = 0.6
_EDGES = " \t\n\"'“”‘’`.…"


def section_items(profile: Profile) -> dict[str, list[str]]:
    """The text of every item, by the section key reviewers name (a section with none is left out)."""
    by_section: dict[str, list[str]] = {}
    for item in items(profile):
        by_section.setdefault(item.section, []).append(item.text)
    return by_section


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


def near_miss(quote: str, items: dict[str, list[str]]) -> bool:
    """Whether an unverified quote was an attempt at one of the profile's items: most of its words
    stand in one item of any section. Such a quote is worth putting back to its reviewer; words
    from elsewhere (the rubric, the instructions) are not."""
    words = _words(quote)
    if len(words) < MIN_QUOTE_WORDS:
        return False
    return any(
        len(words & _words(item)) >= NEAR_MISS_SHARE * len(words)
        for section in items.values()
        for item in section
    )


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.casefold()))
