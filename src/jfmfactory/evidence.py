"""Evidence for objections: a reviewer's quote must stand, word for word, in the section it names.

Comparison ignores case, white space, surrounding quotation marks and a trailing ellipsis or
full stop, nothing else: a paraphrase is not a quote.
"""

from __future__ import annotations

import re

from .runlog import ReviewIssue

SECTION_HEADER = re.compile(r"^\[([a-z]+(?:\.[A-Z0-9]+)?)\]$", re.MULTILINE)
MIN_QUOTE_CHARS = 3
_EDGES = " \t\n\"'“”‘’`.…"


def section_texts(profile_text: str) -> dict[str, str]:
    """Split the profile as reviewers read it (`[key]` headers) into each section's text."""
    headers = list(SECTION_HEADER.finditer(profile_text))
    texts = {}
    for header, following in zip(headers, [*headers[1:], None], strict=True):
        end = following.start() if following else len(profile_text)
        texts[header.group(1)] = profile_text[header.end() : end]
    return texts


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def quote_found(quote: str, section_text: str) -> bool:
    core = _fold(quote.strip(_EDGES).removesuffix("...").strip(_EDGES))
    return len(core) >= MIN_QUOTE_CHARS and core in _fold(section_text)


def verify(issues: list[ReviewIssue], sections: dict[str, str]) -> list[ReviewIssue]:
    """The issues with `verified` set: the quote stands in the section the issue names."""
    return [
        issue.model_copy(update={"verified": quote_found(issue.quote, sections.get(issue.section, ""))})
        for issue in issues
    ]
