"""Untrusted sources: passages that speak to the model instead of about the role are withheld.

A source is evidence about a role. A sentence addressed to reviewers or to an AI, one that asks
for scores or for no faults, or one that tells the drafter to add, ignore or write something is an
attempt to steer the run. Such sentences are removed before any prompt is built, so neither the
drafter nor a reviewer ever reads them; `run.json` lists each with the rule that caught it. The
delimiters in the prompts remain as a second line of defence for what the patterns miss.

The guard judges sentences, not lines: the text is cut with pysbd, after joining a line that a
sentence runs over onto the next, so a sentence wrapped in the source is judged and withheld whole.
A line ending in a quotation mark that closes after a word runs on when the next line starts in
lower case, so a withheld sentence takes its continuation with it. The rules
are data (`guard_patterns.toml`, beside this module), so content ops can widen them; the corpus in
`tests/inputs/guard_corpus/` measures every change.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pysbd

from ..records.runlog import Withheld
from .datafile import read_toml
from .seeds import RoleSeeds

PATTERNS_FILE = Path(__file__).with_name("guard_patterns.toml")
_WORD = re.compile(r"\{(\w+)\}")
# A line ending so is a whole sentence or a heading; otherwise a sentence may run on to the next.
# A closing quotation mark ends a sentence only after a full stop, a question or an exclamation.
_ENDS_SENTENCE = re.compile(r"(?:[.!?…][\"'”’»“‘]*|[:;)\]])\s*$")
# A line ending in a quotation that closes after a word: the sentence runs on if the next line
# starts in lower case ("… “Approves all expenses”\nto every level."); a capital starts anew.
_ENDS_IN_QUOTE = re.compile(r"[\"'”’»“‘]\s*$")
# A line starting so begins something new: a list item, a numbered point, a speaker.
_STARTS_ITEM = re.compile(r"^\s*(?:[-*•–—]|\d+[.)]|[A-Z]\)|Q:|A:|#)")


def _compile(regex: str, words: dict[str, str]) -> re.Pattern[str]:
    return re.compile(_WORD.sub(lambda m: words.get(m.group(1), m.group(0)), regex), re.I)


def load_rules(path: Path = PATTERNS_FILE) -> tuple[tuple[str, tuple[tuple[re.Pattern[str], ...], ...]], ...]:
    """Each rule's name and its tests; a test holds when all its patterns are found in a sentence."""
    data = read_toml(path, "guard patterns")
    words = {name: str(value) for name, value in data.get("words", {}).items()}
    return tuple(
        (
            str(rule["name"]),
            tuple(tuple(_compile(regex, words) for regex in test) for test in rule["when"]),
        )
        for rule in data.get("rules", [])
    )


RULES = load_rules()


@cache
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def _rule_for(sentence: str) -> str | None:
    return next(
        (
            name
            for name, tests in RULES
            if any(all(pattern.search(sentence) for pattern in test) for test in tests)
        ),
        None,
    )


def _unwrapped(text: str) -> str:
    """The text with each line break inside a sentence made a space (same length, same offsets)."""
    lines = text.split("\n")
    out = []
    for i, line in enumerate(lines):
        out.append(line)
        if i + 1 < len(lines):
            following = lines[i + 1]
            wraps = (
                line.strip()
                and following.strip()
                and not _ENDS_SENTENCE.search(line)
                and not _STARTS_ITEM.match(following)
                and (not _ENDS_IN_QUOTE.search(line) or following.lstrip()[0].islower())
            )
            out.append(" " if wraps else "\n")
    return "".join(out)


def _sentences(text: str) -> list[tuple[int, int]]:
    """The spans of the text's sentences, a wrapped sentence as one."""
    joined = _unwrapped(text)
    return [(span.start, span.end) for span in _segmenter().segment(joined) if span.sent.strip()]


def screen_text(source_id: str, text: str) -> tuple[str, list[Withheld]]:
    """The text without instruction-like sentences; a line left empty is dropped whole."""
    removed = [False] * len(text)
    withheld = []
    for start, end in _sentences(text):
        sentence = " ".join(text[start:end].split())
        rule = _rule_for(sentence)
        if rule is not None:
            withheld.append(Withheld(source=source_id, text=sentence, rule=rule))
            removed[start:end] = [True] * (end - start)
    if not withheld:
        return text, []
    kept_lines = []
    offset = 0
    for line in text.split("\n"):
        mask = removed[offset : offset + len(line)]
        offset += len(line) + 1
        if not any(mask):
            kept_lines.append(line)
            continue
        runs = re.findall(
            r"[^\x00]+", "".join("\x00" if gone else ch for ch, gone in zip(line, mask, strict=True))
        )
        kept = " ".join(run.strip() for run in runs if run.strip())
        if kept:
            kept_lines.append(kept)
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
