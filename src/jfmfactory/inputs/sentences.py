"""Sentence spans, cut by pysbd, as the guard and the evidence stage both cut them.

pysbd's English abbreviation pass tries each of its 188 abbreviations on each line and rewrites
the line once per word that starts like one: half of its time on a role's sources, a fifth of a
batched catalog's CPU. It only ever changes the full stop right after an abbreviation ("Dr.",
"e.g."), so a line where no abbreviation is followed by a full stop leaves it as it came, and
here skips it. The spans are pysbd's own, to the character: tests/inputs/test_sentences.py
compares them with plain pysbd on every shipped text.
"""

from __future__ import annotations

import re
from functools import cache

import pysbd
from pysbd.lang.english import English


def _abbreviated(abbreviations: list[str]) -> re.Pattern[str]:
    # Each abbreviation as pysbd matches it (a regex, its "." any character), then a full stop:
    # the only text its rewrite of a line can change. Every one starts and ends with a letter,
    # so the word pysbd matches is the word before the full stop it rewrites.
    alternatives = "|".join(abbreviation.strip() for abbreviation in abbreviations)
    return re.compile(rf"(?:^|\s)(?:{alternatives})\.", re.IGNORECASE)


class _English(English):
    class AbbreviationReplacer(English.AbbreviationReplacer):
        abbreviated = _abbreviated(English.Abbreviation.ABBREVIATIONS)

        def search_for_abbreviations_in_string(self, text: str) -> str:
            if self.abbreviated.search(text) is None:
                return text
            return str(super().search_for_abbreviations_in_string(text))


@cache
def segmenter() -> pysbd.Segmenter:
    """pysbd's English segmenter with character spans, the abbreviation pass skipping the lines
    it cannot change. One per process: each text it cuts replaces the last it keeps, so it serves
    every text in turn, but not two threads at once."""
    cut = pysbd.Segmenter(language="en", clean=False, char_span=True)
    cut.language_module = _English
    return cut
