"""Sources larger than a prompt can hold: each call gets the passages it needs, never a silent cut.

When the sources together exceed the token budget, every source is split into passages (its
paragraphs, long ones cut at about `PASSAGE_WORDS` words) and each call is given the passages
that share most content words with what it asks about, up to the budget, in their original
order, with "[…]" where passages were left out; a passage sharing no word with the call's
question is left out even when there is room. Which passages each call read is recorded.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from .prompts import Prompts
from .seeds import Source
from .text import Vocabulary

#: Rough characters per token, to estimate a prompt's size without a tokenizer.
CHARS_PER_TOKEN = 4
PASSAGE_WORDS = 120
OMISSION = "[…]"


@dataclass(frozen=True)
class Passage:
    """A piece of one source: `S1#3` is the third passage of S1."""

    source: str
    index: int
    text: str

    @property
    def ref(self) -> str:
        return f"{self.source}#{self.index}"


def tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def split(source: Source) -> list[Passage]:
    """The source's paragraphs, each long one cut into runs of about PASSAGE_WORDS words."""
    pieces: list[str] = []
    for paragraph in re.split(r"\n\s*\n|\n(?=\s*[-•*]\s)", source.text):
        text = paragraph.strip()
        if not text:
            continue
        tokens_ = text.split()
        for start in range(0, len(tokens_), PASSAGE_WORDS):
            pieces.append(" ".join(tokens_[start : start + PASSAGE_WORDS]))
    return [Passage(source.id, n, text) for n, text in enumerate(pieces, start=1)]


def select(
    sources: list[Source], query: str, budget_tokens: int, vocabulary: Vocabulary
) -> tuple[list[Source], list[str]]:
    """The sources cut down to the passages most relevant to `query`, within the budget.

    Returns the cut-down sources (same ids and titles) and the refs of the passages kept.
    """

    def _counts(text: str) -> Counter[str]:
        return Counter(vocabulary.terms(text))

    passages = [passage for source in sources for passage in split(source)]
    wanted = _counts(query)
    document_frequency = Counter(term for p in passages for term in set(_counts(p.text)))

    def relevance(passage: Passage) -> float:
        counts = _counts(passage.text)
        return sum(
            math.log(1 + len(passages) / document_frequency[term]) * min(counts[term], 3)
            for term in wanted
            if term in counts
        )

    # A passage that shares no word with the query is left out even when there is room.
    scored = [(relevance(p), p) for p in passages]
    ranked = [
        p for score, p in sorted(scored, key=lambda sp: (-sp[0], sp[1].source, sp[1].index)) if score > 0
    ]
    kept: set[str] = set()
    used = 0
    for passage in ranked:
        cost = tokens(passage.text) + 2
        if used + cost <= budget_tokens:
            kept.add(passage.ref)
            used += cost
    chosen = []
    for source in sources:
        own = [p for p in passages if p.source == source.id]
        parts: list[str] = []
        previous = 0
        for passage in own:
            if passage.ref in kept:
                if passage.index != previous + 1:
                    parts.append(OMISSION)
                parts.append(passage.text)
                previous = passage.index
        if previous != len(own):
            parts.append(OMISSION)
        chosen.append(source.model_copy(update={"text": "\n\n".join(parts)}))
    return chosen, [p.ref for p in passages if p.ref in kept]


def total_tokens(sources: list[Source]) -> int:
    return sum(tokens(source.text) for source in sources)


class SourceView:
    """The sources as each call's system message shows them.

    Within the budget every call shares one system message (framing plus every source, so
    that servers can reuse its cache); over it, each call gets the passages it needs.
    """

    def __init__(
        self, prompts: Prompts, sources: list[Source], budget_tokens: int, vocabulary: Vocabulary
    ) -> None:
        self.prompts = prompts
        self.vocabulary = vocabulary
        self.sources = sources
        self.budget_tokens = budget_tokens
        self.source_tokens = total_tokens(sources)
        self.whole = self.source_tokens <= budget_tokens
        self.shared = prompts.render("system.j2", sources=sources) if self.whole else None

    def system_for(self, query: str) -> tuple[str, list[str] | None]:
        """The system message for a call about `query`, and the passages it holds when cut."""
        if self.shared is not None:
            return self.shared, None
        chosen, refs = select(self.sources, query, self.budget_tokens, self.vocabulary)
        return self.prompts.render("system.j2", sources=chosen), refs

    @property
    def note(self) -> str | None:
        """What `run.json` says when the sources did not fit."""
        if self.whole:
            return None
        return (
            f"the sources hold about {self.source_tokens} tokens, over the budget of {self.budget_tokens}: "
            "each call read the passages most relevant to it (listed in its transcript)"
        )
