"""Text as the checks and passage ranking compare it: folded, content words only, stemmed."""

from __future__ import annotations

import string

STOPWORDS = frozenset(
    (  # noqa: SIM905 - a word list reads better as prose
        "a an the and or but of to in on at for with by from as is are be been being this that "
        "these those it its their them they he she his her our we you your who whom which what "
        "when where how not no nor so than too very can will would should could may might must "
        "do does did done has have had having into onto over under up down out about across "
        "after before between through during each every all any both few more most other some "
        "such own same only also just then there here while per via"
    ).split()
)


def normalise(text: str) -> str:
    """Lower case, punctuation dropped, white space folded: the form duplicates are compared in."""
    table = str.maketrans({ch: " " for ch in string.punctuation if ch != "-"})
    return " ".join(text.lower().translate(table).split())


def words(text: str) -> list[str]:
    return [w for w in normalise(text).replace("-", " ").split() if w not in STOPWORDS and len(w) > 2]


def stem(word: str) -> str:
    """A crude suffix stripper, enough to match 'leads' with 'leading' and 'led'."""
    for suffix in ("ing", "ies", "es", "ed", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word
