"""Text as the checks and passage ranking compare it: folded, content words only, stemmed.

The word lists are data (`panel/_words.toml`), so content ops can change them per project.
"""

from __future__ import annotations

import re
import string
import threading
from pathlib import Path

import snowballstemmer
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .datafile import load_model

WORDS_FILE = "_words.toml"
_PUNCTUATION = str.maketrans({ch: " " for ch in string.punctuation if ch != "-"})


class WordLists(BaseModel):
    """`panel/_words.toml`: the word lists the deterministic checks and passage ranking use."""

    model_config = ConfigDict(extra="forbid")

    stopwords: frozenset[str] = Field(
        description="Words too common to count as content, white-space separated."
    )
    degrees: frozenset[str] = Field(
        default=frozenset(), description="Words naming an academic degree: the years column's content."
    )
    not_tools: frozenset[str] = Field(
        default=frozenset(),
        description="Names written like products that are markets or measures, not tools.",
    )
    describes: list[re.Pattern[str]] = Field(
        default_factory=list,
        description="Patterns of a duty that describes the person or the level, matched ignoring case.",
    )

    @field_validator("describes", mode="before")
    @classmethod
    def _ignoring_case(cls, value: object) -> object:
        if not isinstance(value, list):
            return value
        try:
            return [re.compile(pattern, re.I) if isinstance(pattern, str) else pattern for pattern in value]
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc

    @field_validator("stopwords", "degrees", "not_tools", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return value.split() if isinstance(value, str) else value


def load_word_lists(panel: Path) -> WordLists:
    return load_model(panel / WORDS_FILE, WordLists, "word lists")


def normalise(text: str) -> str:
    """Lower case, punctuation dropped, white space folded: the form duplicates are compared in."""
    return " ".join(text.lower().translate(_PUNCTUATION).split())


class Vocabulary:
    """Content words and their stems (Snowball's English stemmer), by one project's word lists."""

    def __init__(self, lists: WordLists) -> None:
        self.lists = lists
        self._stemmer = snowballstemmer.stemmer("english")
        # A Snowball stemmer keeps the word it works on in itself; calls run in threads.
        self._stemming = threading.Lock()
        self._known: dict[str, str] = {}

    def words(self, text: str) -> list[str]:
        """The content words of `text`: no stop words, nothing shorter than three letters."""
        stopwords = self.lists.stopwords
        return [w for w in normalise(text).replace("-", " ").split() if w not in stopwords and len(w) > 2]

    def terms(self, text: str) -> list[str]:
        """The stems of `text`'s content words, in order."""
        return self._stems(self.words(text))

    def stems(self, text: str) -> list[str]:
        """The stems of every word of `text`, stop words included: how phrases are matched."""
        return self._stems(normalise(text).split())

    def _stems(self, words: list[str]) -> list[str]:
        # Stems are kept: a profile and its sources repeat their words.
        missing = [word for word in dict.fromkeys(words) if word not in self._known]
        if missing:
            with self._stemming:
                self._known.update(zip(missing, self._stemmer.stemWords(missing), strict=True))
        return [self._known[word] for word in words]
