"""Sources larger than a prompt can hold: each call gets the passages it needs, never a silent cut.

When the sources together exceed the token budget, every source is split into passages (its
paragraphs, long ones cut at about `PASSAGE_WORDS` words) and each call is given the passages
that rank highest for what it asks about (BM25 over the vocabulary's stemmed content words), up
to the budget, in their original order, with "[…]" where passages were left out; a passage
sharing no term with the call's question is left out even when there is room. Which passages
each call read is recorded.

Tokens are counted by the `count_tokens` a caller passes (the model's tokenizer where jfm has
one); without one, they are estimated from the length of the text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from rank_bm25 import BM25Okapi

from .prompts import Prompts
from .seeds import Source
from .text import Vocabulary

#: Characters per token assumed by the estimate used where no tokenizer is at hand.
CHARS_PER_TOKEN = 4
#: How run.json says the tokens were counted when they were estimated.
ESTIMATE_BASIS = f"estimated at {CHARS_PER_TOKEN} characters a token"
PASSAGE_WORDS = 120
OMISSION = "[…]"
#: Tokens a passage costs beyond its own text: the blank line that joins it to the next.
SEPARATOR_TOKENS = 2

TokenCounter = Callable[[str], int]


@dataclass(frozen=True)
class Passage:
    """A piece of one source: `S1#3` is the third passage of S1."""

    source: str
    index: int
    text: str

    @property
    def ref(self) -> str:
        return f"{self.source}#{self.index}"


def estimate_tokens(text: str) -> int:
    """An estimate, not a count: characters ÷ CHARS_PER_TOKEN, for when no tokenizer is at hand."""
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


class PassageIndex:
    """Every passage of the sources, with its terms, its token cost and a BM25 index over them."""

    def __init__(self, sources: list[Source], vocabulary: Vocabulary, count_tokens: TokenCounter) -> None:
        self.sources = sources
        self.vocabulary = vocabulary
        self.passages = [passage for source in sources for passage in split(source)]
        self.terms = [vocabulary.terms(passage.text) for passage in self.passages]
        self.costs = [count_tokens(passage.text) + SEPARATOR_TOKENS for passage in self.passages]
        # BM25 needs at least one term in the corpus (it averages over them).
        self.bm25 = BM25Okapi(self.terms) if any(self.terms) else None

    def ranked(self, query: str) -> list[int]:
        """The positions of the passages sharing a term with `query`, best first.

        A passage that shares no term with the query is left out even when there is room.
        """
        wanted = list(dict.fromkeys(self.vocabulary.terms(query)))
        candidates = [n for n, terms in enumerate(self.terms) if not set(terms).isdisjoint(wanted)]
        if self.bm25 is None or not candidates:
            return []
        scores = self.bm25.get_batch_scores(wanted, candidates)
        order = sorted(
            zip(scores, candidates, strict=True),
            key=lambda sn: (-sn[0], self.passages[sn[1]].source, self.passages[sn[1]].index),
        )
        return [n for _, n in order]

    def select(self, query: str, budget_tokens: int) -> tuple[list[Source], list[str]]:
        """The sources cut down to the passages most relevant to `query`, within the budget.

        Returns the cut-down sources (same ids and titles) and the refs of the passages kept.
        """
        kept: set[str] = set()
        used = 0
        for n in self.ranked(query):
            if used + self.costs[n] <= budget_tokens:
                kept.add(self.passages[n].ref)
                used += self.costs[n]
        chosen = []
        for source in self.sources:
            own = [p for p in self.passages if p.source == source.id]
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
        return chosen, [p.ref for p in self.passages if p.ref in kept]


def select(
    sources: list[Source],
    query: str,
    budget_tokens: int,
    vocabulary: Vocabulary,
    count_tokens: TokenCounter = estimate_tokens,
) -> tuple[list[Source], list[str]]:
    """The sources cut down to the passages most relevant to `query`, within the budget."""
    return PassageIndex(sources, vocabulary, count_tokens).select(query, budget_tokens)


class SourceView:
    """The sources as each call's system message shows them.

    Within the budget every call shares one system message (framing plus every source, so
    that servers can reuse its cache); over it, each call gets the passages it needs.
    """

    def __init__(
        self,
        prompts: Prompts,
        sources: list[Source],
        budget_tokens: int,
        vocabulary: Vocabulary,
        *,
        count_tokens: TokenCounter = estimate_tokens,
        token_basis: str = ESTIMATE_BASIS,
    ) -> None:
        self.prompts = prompts
        self.sources = sources
        self.budget_tokens = budget_tokens
        self.token_basis = token_basis
        self.source_tokens = sum(count_tokens(source.text) for source in sources)
        self.whole = self.source_tokens <= budget_tokens
        self.shared = prompts.render("system.j2", sources=sources) if self.whole else None
        self.index = None if self.whole else PassageIndex(sources, vocabulary, count_tokens)

    def system_for(self, query: str) -> tuple[str, list[str] | None]:
        """The system message for a call about `query`, and the passages it holds when cut."""
        if self.index is None:
            assert self.shared is not None
            return self.shared, None
        chosen, refs = self.index.select(query, self.budget_tokens)
        return self.prompts.render("system.j2", sources=chosen), refs

    @property
    def note(self) -> str | None:
        """What `run.json` says when the sources did not fit."""
        if self.whole:
            return None
        return (
            f"the sources hold {self.source_tokens} tokens ({self.token_basis}), "
            f"over the budget of {self.budget_tokens}: "
            "each call read the passages most relevant to it (listed in its transcript)"
        )
