"""Broken text no reviewer can talk away: what check:prose and check:completeness look for.

An item is broken when it is a placeholder, echoes the prompts the drafter was given, talks
about the profile instead of the role ("The role at P3 involves …"), carries a level code or a
source id in its prose, starts in lower case, ends mid-sentence, or puts an article before a
word no article precedes (the mark of shuffled words). Every rule is a word list or a pattern in
`panel/_prose.toml`; the prompts it compares against are the project's own `prompts/`.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import BadInput
from .datafile import edited_files, load_model
from .text import normalise

PROSE_FILE = "_prose.toml"
#: Words in a row an item must share with the prompts to count as an echo of them.
ECHO_WORDS = 5
#: Share of a profile's sentences that must end with a stop before one without counts as cut off.
STOP_RULE = 0.6
_STOP = re.compile(r"[.!?…][\"'”’)]*\s*$")
_JINJA = re.compile(r"{%.*?%}|{#.*?#}|{{.*?}}", re.S)


class ProseRules(BaseModel):
    """`panel/_prose.toml`."""

    model_config = ConfigDict(extra="forbid")

    dangling: frozenset[str] = Field(description="Words an item cut off mid-sentence ends on.")
    articles: frozenset[str] = Field(description="Articles.")
    never_after_article: frozenset[str] = Field(description="Words that never follow an article.")
    placeholders: list[re.Pattern[str]] = Field(description="Patterns of placeholder text.")
    meta: list[re.Pattern[str]] = Field(description="Patterns of text about the profile, at an item's start.")

    @field_validator("dangling", "articles", "never_after_article", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return value.split() if isinstance(value, str) else value

    @field_validator("placeholders", "meta", mode="before")
    @classmethod
    def _compile(cls, value: object) -> object:
        if not isinstance(value, list):
            return value
        try:
            return [re.compile(pattern, re.IGNORECASE) for pattern in value]
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc


def load_prose_rules(panel: Path) -> ProseRules:
    return load_model(panel / PROSE_FILE, ProseRules, "prose rules")


def _runs(words: list[str]) -> list[tuple[str, ...]]:
    return [tuple(words[i : i + ECHO_WORDS]) for i in range(len(words) - ECHO_WORDS + 1)]


def prompt_runs(prompts: Path) -> frozenset[tuple[str, ...]]:
    """Every run of ECHO_WORDS words in the prompt templates and the data beside them, with the
    template expressions taken out: what an item that echoes its instructions shares with them."""
    runs: set[tuple[str, ...]] = set()
    for path in edited_files(prompts, "**/*"):
        if path.suffix not in (".j2", ".toml"):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput(f"{path}: cannot read: {exc}") from exc
        for piece in _JINJA.split(text):
            runs.update(_runs(normalise(piece).split()))
    return frozenset(runs)


class ProseJudge:
    """Says what, if anything, is broken about an item's text."""

    def __init__(self, rules: ProseRules, echoes: frozenset[tuple[str, ...]], codes: list[str]) -> None:
        self.rules = rules
        self.echoes = echoes
        self.code = re.compile(rf"\b(?:{'|'.join(map(re.escape, codes))})\b") if codes else None

    def placeholder(self, text: str) -> bool:
        return any(pattern.search(text) for pattern in self.rules.placeholders)

    def echo(self, text: str) -> bool:
        words = normalise(text).split()
        if 0 < len(words) < ECHO_WORDS:
            return False
        return any(run in self.echoes for run in _runs(words))

    def empty(self, text: str) -> bool:
        """Text that fills a place without saying anything: blank, a placeholder, or a prompt echo."""
        return not text.strip() or self.placeholder(text) or self.echo(text)

    def names_nothing(self, name: str) -> bool:
        """A skill or tool name that is only level codes or source ids ("P2, P3", "S1"), or a placeholder."""
        if self.placeholder(name):
            return True
        rest = self.code.sub("", name) if self.code is not None else name
        return bool(name.strip()) and not re.sub(r"[\W_]+", "", rest)

    def problems(self, text: str, ends_with_stop: bool = False) -> list[str]:
        """The message keys of what is broken (see check:prose in panel/_checks.toml).

        `ends_with_stop`: the profile's items end with a full stop as a rule, so one that does
        not was cut off.
        """
        found = []
        if self.placeholder(text):
            found.append("placeholder")
        if self.echo(text):
            found.append("prompt-echo")
        if any(pattern.search(text.strip()) for pattern in self.rules.meta):
            found.append("meta-text")
        if self.code is not None and self.code.search(text):
            found.append("code-in-prose")
        words = normalise(text).split()
        stripped = text.lstrip(" \"'“‘(")
        if stripped and stripped[0].islower():
            found.append("lower-case-start")
        if (words and words[-1] in self.rules.dangling) or (ends_with_stop and not _STOP.search(text)):
            found.append("cut-off")
        articles, never = self.rules.articles, self.rules.never_after_article
        if any(a in articles and b in never for a, b in itertools.pairwise(words)):
            found.append("word-order")
        return found


def ends_with_stop(texts: list[str]) -> bool:
    """Whether the profile's sentences end with a full stop as a rule (STOP_RULE of them or more)."""
    sentences = [text for text in texts if len(text.split()) >= 4]
    return bool(sentences) and sum(bool(_STOP.search(t)) for t in sentences) >= STOP_RULE * len(sentences)
