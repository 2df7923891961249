"""Untrusted sources: passages that speak to the model instead of about the role are withheld.

A source is evidence about a role. A sentence addressed to reviewers or to an AI, one that asks
for scores, or one that tells the drafter to add, ignore or write something is an attempt to
steer the run. Such sentences are removed before any prompt is built, so neither the drafter nor
a reviewer ever reads them; `run.json` lists each with the rule that caught it. The delimiters
in the prompts remain as a second line of defence for what the patterns miss.
"""

from __future__ import annotations

import re

from ..records.runlog import Withheld
from .seeds import RoleSeeds

_AI = (
    r"(?:reviewers?|judges?|graders?|evaluators?|the panel|ai|assistants?|the model|language models?"
    r"|llms?|drafters?)"
)
RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "addressed to the model or the panel",
        # A colon, a comma or a spaced dash after the name: "AI-driven products" is no address.
        re.compile(rf"^\W*(?:note to |attention,? )?(?:the )?{_AI}\s*(?:[:,]|\s[—–-]\s)", re.I),
    ),
    (
        "asks to ignore instructions",
        re.compile(
            r"\b(?:ignore|disregard|forget|override)\b[^.\n]{0,60}\b(?:instructions?|prompts?|rules)\b", re.I
        ),
    ),
    (
        "asks for scores",
        re.compile(
            r"\b(?:give|assign|award)\b[^.\n]{0,30}\b(?:every|all|each|this|the)\b[^.\n]{0,30}"
            r"\b(?:dimensions?|scores?|full marks|top marks|fives?)\b",
            re.I,
        ),
    ),
    (
        "tells the drafter what to write",
        re.compile(
            r"\b(?:add|include|insert|append|write)\b[^.\n]{0,30}\b(?:responsibilit(?:y|ies)|bullets?|skills?)\b"
            r"\s*[:'\"“‘]",
            re.I,
        ),
    ),
    # Sources address their readers as "you" all the time; only the model's own framing counts.
    (
        "speaks to the model",
        re.compile(r"\byou (?:are now|must now|will now)\b|\bsystem prompt\b|\bas an ai\b", re.I),
    ),
)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _rule_for(sentence: str) -> str | None:
    return next((name for name, pattern in RULES if pattern.search(sentence)), None)


def screen_text(source_id: str, text: str) -> tuple[str, list[Withheld]]:
    """The text without instruction-like sentences; a line left empty is dropped whole."""
    kept_lines = []
    withheld = []
    for line in text.split("\n"):
        sentences = SENTENCE_END.split(line)
        kept = []
        for sentence in sentences:
            rule = _rule_for(sentence)
            if rule is None:
                kept.append(sentence)
            else:
                withheld.append(Withheld(source=source_id, text=sentence.strip(), rule=rule))
        if kept or not line.strip():
            kept_lines.append(" ".join(kept) if len(kept) < len(sentences) else line)
    return "\n".join(kept_lines), withheld


def screen(seeds: RoleSeeds) -> tuple[RoleSeeds, list[Withheld]]:
    """The role's seeds as the prompts may read them, and every passage withheld."""
    sources = []
    withheld: list[Withheld] = []
    for source in seeds.sources:
        text, found = screen_text(source.id, source.text)
        sources.append(source.model_copy(update={"text": text}))
        withheld.extend(found)
    return seeds.model_copy(update={"sources": sources}), withheld
