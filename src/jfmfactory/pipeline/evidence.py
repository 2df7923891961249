"""The evidence stage: the role's sources cut into verbatim quotes, each mapped to the levels it
speaks of, and ranked per section, before any model is asked anything.

Deterministic on purpose: a small model cannot be trusted to find or copy evidence, and every
quote here is a slice of its source by construction. Sources are read line by line; each line is
cut into sentences (pysbd), a sentence that lists several things ("defining the strategy,
maintaining the roadmap, and prioritizing features") into its parts. Lines that are not prose
(names, dates, view counts: no end punctuation, no list marker) and questions are left out.

Levels: the rubric's `titles` (catalog/levels.toml) are the seniority words job titles use at
each level. A sentence speaks of the levels whose titles stand in its lead ("Senior PM --",
"Director of Product Management:") or its first words; a sentence naming none speaks of the
levels the sentence before it in the line spoke of, and a list item of those its lead-in named
("For a Director or executive, the skills needed are:"). A level the role does not draft is
mapped to the nearest one it does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from rank_bm25 import BM25Okapi

from ..errors import BadInput
from ..inputs.datafile import load_model
from ..inputs.grammar import SECOND_PERSON
from ..inputs.seeds import RoleSeeds, Source
from ..inputs.sentences import segmenter
from ..inputs.text import Vocabulary
from ..records.evidence import Evidence, Quote
from ..records.profile import GUIDELINE_COLUMNS, LEVELS, YEARS_COLUMN
from ..records.sections import ALIASES, OVERVIEW, RESPONSIBILITIES, SKILLS, TOOLS, cell_key

QUERIES_FILE = "evidence.toml"
#: Most words of a lead label ("Manager of IC PMs (e.g. Group Product Manager or Director):").
LABEL_WORDS = 10
#: Words of a sentence's opening in which a title names the level it speaks of.
LEAD_WORDS = 7
#: A quote shorter or longer than this (in words) is no evidence for an item.
MIN_QUOTE_WORDS, MAX_QUOTE_WORDS = 2, 60
#: End punctuation with more of the line after it: only a line that has some can hold two
#: sentences (the same answer as pysbd's on every line of the shipped seeds and cases).
_INNER_END = re.compile(r"[.!?…。．！？]\S*\s")
_MARKER = re.compile(r"^\s*(?:[-•*]|\d+[.)])\s+")
_LABEL = re.compile(
    r"^(?P<label>(?:[^.:()]|\([^)]*\)){1,80}?)(?::\s+|\s+--?\s+|\s+[–—]\s+)(?P<body>\S.*)$", re.DOTALL
)
_PROSE_END = re.compile(r"[.!?:;)]\s*$")
_TITLE_RUN = re.compile(r"[A-Z][\w’'-]*(?:[ \t]+(?:of[ \t]+)?[A-Z][\w’'-]*)+")
#: A line this long is prose even without end punctuation, unless it is a byline ("Name | Formerly …").
PROSE_LINE_WORDS = 12
#: A sentence piece ending in a short capitalised abbreviation ("Sr.") runs on into the next.
_ABBREVIATION_END = re.compile(r"\b[A-Z][a-z]{0,2}\.\s*$")
_EDGE = " \t\u00a0,;:.–—-"


#: Every quote the stage cuts shares this set as its fields set (pydantic adds to it on an
#: assignment, which can only add a name it holds already; never change it otherwise).
_QUOTE_FIELDS = set(Quote.model_fields)


class EvidenceQueries(BaseModel):
    """`prompts/evidence.toml`: the words a quote that speaks to each section tends to use."""

    model_config = ConfigDict(extra="forbid")

    responsibilities: str = Field(description="Words of what a person at a level does.")
    overview: str = Field(description="Words of what the role owns and decides.")
    skills: str = Field(description="Words of abilities and knowledge.")
    tools: str = Field(description="Words of tools, methods and platforms.")
    guidelines: dict[str, str] = Field(description="Per guideline column (not years), its words.")


def load_queries(prompts: Path) -> EvidenceQueries:
    """The queries, every guideline column but the years one given one."""
    path = prompts / QUERIES_FILE
    queries = load_model(path, EvidenceQueries, "evidence queries")
    wanted = [column for column in GUIDELINE_COLUMNS if column != YEARS_COLUMN]
    for column in [*wanted, *queries.guidelines]:
        if column not in wanted:
            raise BadInput(f"{path}: guidelines.{column}: no such column (those: {', '.join(wanted)})")
        if column not in queries.guidelines:
            raise BadInput(f"{path}: guidelines: no query for {column}")
    return queries


@dataclass
class _Sentence:
    start: int
    end: int
    levels: list[str] = field(default_factory=list)


def _title_matches(text: str, titles: dict[str, list[str]]) -> list[tuple[int, int, str]]:
    """(start, end, level) of every title word in `text`, in the singular or the plural
    ("Directors"); of two side by side, the second names the level ("Senior Director" is a
    director)."""
    lowered = text.lower()
    found = sorted(
        (match.start(), match.end(), level)
        for level, words in titles.items()
        for word in words
        if word in lowered  # most titles are in no given sentence: no regex is run for them
        for match in _title_pattern(word).finditer(lowered)
    )
    return [
        here
        for here, after in zip(found, [*found[1:], None], strict=False)
        if after is None or not re.fullmatch(r"[\s.\-/]*", lowered[here[1] : after[0]])
    ]


@cache
def _title_pattern(word: str) -> re.Pattern[str]:
    """A title word (lower case) standing alone, in the singular or the plural."""
    return re.compile(rf"(?<!\w){re.escape(word)}s?(?!\w)")


def _mentioned(text: str, titles: dict[str, list[str]]) -> list[str]:
    return list(dict.fromkeys(level for _, _, level in _title_matches(text, titles)))


def _lead_levels(sentence: str, titles: dict[str, list[str]]) -> list[str]:
    """The levels named in a sentence's lead label or its first LEAD_WORDS words (titles are
    matched in the whole sentence, so that "a senior executive" is an executive)."""
    label = _LABEL.match(sentence)
    body_start = label.start("body") if label else 0
    words = list(re.finditer(r"\S+", sentence[body_start:]))
    lead_end = body_start + (words[LEAD_WORDS - 1].end() if len(words) >= LEAD_WORDS else len(sentence))
    matches = _title_matches(sentence, titles)
    return list(dict.fromkeys(level for start, _, level in matches if start < lead_end))


def _nearest(level: str, drafted: list[str]) -> str:
    return min(drafted, key=lambda own: abs(LEVELS.index(own) - LEVELS.index(level)))


class EvidenceStage:
    """Cuts one role's sources into quotes and ranks them per section."""

    def __init__(self, seeds: RoleSeeds, titles: dict[str, list[str]], queries: EvidenceQueries,
                 vocabulary: Vocabulary) -> None:  # fmt: skip
        self.seeds = seeds
        self.titles = titles
        self.queries = queries
        self.vocabulary = vocabulary
        self.levels = seeds.manifest.levels

    def gather(self) -> Evidence:
        quotes: list[Quote] = []
        for source in self.seeds.sources:
            for start, end, levels in self._pieces(source):
                # Unvalidated, from offsets cut here, and sharing one set of field names: a
                # validated quote keeps a set of its own (0.7 KB, half a quote's memory, and a
                # catalog holds every waiting role's quotes).
                quotes.append(
                    Quote.model_construct(
                        _QUOTE_FIELDS,
                        id=f"E{len(quotes) + 1}",
                        source=source.id,
                        start=start,
                        end=end,
                        text=source.text[start:end],
                        levels=list(levels),
                    )
                )
        sections = self._sections(quotes)
        titles = self._title_quotes(quotes)
        sections[ALIASES.key()] = [title.id for title in titles]
        level_titles: dict[str, list[str]] = {level: [] for level in self.levels}
        for title in titles:
            for level in title.levels:
                level_titles[level].append(title.text)
        return Evidence(
            role=self.seeds.role, level_titles=level_titles, quotes=[*quotes, *titles], sections=sections
        )

    # -- cutting -------------------------------------------------------------------------------

    def _sentences(self, line: str) -> list[tuple[int, int]]:
        """(start, end) of each sentence of a line; a piece of under four words or ending in an
        abbreviation (pysbd cuts after "Sr.") joins the next."""
        if _INNER_END.search(line.rstrip()):
            spans = [(s.start, s.end) for s in segmenter().segment(line) if s.sent.strip()]
        else:  # one sentence: pysbd's spans for it without pysbd, a third of reading a role's inputs
            spans = [(len(line) - len(line.lstrip()), len(line))] if line.strip() else []
        joined: list[tuple[int, int]] = []
        carry: int | None = None
        for index, (start, end) in enumerate(spans):
            begin = start if carry is None else carry
            piece = line[begin:end]
            if (len(piece.split()) < 4 or _ABBREVIATION_END.search(piece)) and index + 1 < len(spans):
                carry = begin
                continue
            joined.append((begin, end))
            carry = None
        return joined

    def _pieces(self, source: Source) -> Iterator[tuple[int, int, list[str]]]:
        """(start, end, levels) of every quote of a source."""
        lead_in: list[str] = []
        for line_start, line in _prose_lines(source.text):
            listed = bool(_MARKER.match(line))
            previous: list[str] = lead_in if listed else []
            for start, end in self._sentences(line):
                sentence = line[start:end]
                marker = _MARKER.match(sentence)
                if marker:
                    start, sentence = start + marker.end(), sentence[marker.end() :]
                levels = _lead_levels(sentence, self.titles) or previous
                previous = levels
                if sentence.rstrip().endswith(":"):
                    continue  # a lead-in: its levels pass to the list below it
                if sentence.rstrip().endswith("?"):
                    continue
                drafted = list(dict.fromkeys(_nearest(level, self.levels) for level in levels))
                for piece_start, piece_end in _parts(sentence):
                    yield line_start + start + piece_start, line_start + start + piece_end, drafted
            if not listed:
                lead_in = previous if line.rstrip().endswith(":") else []

    # -- ranking -------------------------------------------------------------------------------

    def _sections(self, quotes: list[Quote]) -> dict[str, list[str]]:
        terms = [self.vocabulary.terms(quote.text) for quote in quotes]
        ranker = BM25Okapi(terms) if quotes else None
        scored: dict[str, Any] = {}  # a query's scores, asked for by every level

        def ranked(query: str, among: list[int], positive: bool = False) -> list[str]:
            if ranker is None or not among:
                return []
            if query not in scored:
                scored[query] = ranker.get_scores(self.vocabulary.terms(query))
            scores = scored[query]
            order = sorted(among, key=lambda i: (-scores[i], i))
            return [quotes[i].id for i in order if not positive or scores[i] > 0]

        usable = [
            i
            for i, quote in enumerate(quotes)
            if MIN_QUOTE_WORDS <= len(quote.text.split()) <= MAX_QUOTE_WORDS
        ]
        sections: dict[str, list[str]] = {OVERVIEW.key(): ranked(self.queries.overview, usable)}
        # A sentence addressed to the reader ("the bar here is that you …") is advice, not what
        # the person does: no duty or guideline cell rests on it.
        work = [i for i in usable if not SECOND_PERSON.search(quotes[i].text)]
        general = [i for i in work if not quotes[i].levels]
        for level in self.levels:
            at_level = [i for i in work if level in quotes[i].levels]
            # Quotes that name no level come after a level's own: sources that never say who
            # does what at which level (a task list) still give every level something to rest on.
            sections[RESPONSIBILITIES.key(level)] = [
                *ranked(self.queries.responsibilities, at_level),
                *ranked(self.queries.responsibilities, general, positive=True),
            ]
            for column, query in self.queries.guidelines.items():
                sections[cell_key(level, column)] = [
                    *ranked(query, at_level),
                    *ranked(query, general, positive=True),
                ]
        short = [i for i in usable if len(quotes[i].text.split()) <= 15]
        sections[SKILLS.key()] = ranked(self.queries.skills, short, positive=True)
        sections[TOOLS.key()] = ranked(self.queries.tools, usable, positive=True)
        return sections

    def _title_quotes(self, quotes: list[Quote]) -> list[Quote]:
        """The titles the sources give the role ("Senior Product Manager", "Head of Product"):
        runs of capitalised words sharing a word with the role's title, each a quote of its own,
        most used first; the role's own title and plural forms ("Senior PMs") left out."""
        manifest = self.seeds.manifest
        own_terms = set(self.vocabulary.terms(f"{manifest.title} {manifest.focus}"))
        own = {manifest.title.casefold(), manifest.focus.casefold()}
        stopwords = self.vocabulary.lists.stopwords
        found: dict[str, list[Quote]] = {}
        lines = [
            (source.id, start, line)
            for source in self.seeds.sources
            for start, line in _prose_lines(source.text)
        ]
        for source_id, line_start, line in lines:
            for match in _TITLE_RUN.finditer(line):
                words = match.group().split()
                skip = next(
                    (i for i, word in enumerate(words) if word.casefold() not in stopwords), len(words)
                )
                title = " ".join(words[skip:])
                if len(title.split()) < 2 or not own_terms & set(self.vocabulary.terms(title)):
                    continue
                start = line_start + match.start() + match.group().index(title)
                levels = list(
                    dict.fromkeys(_nearest(lv, self.levels) for lv in _mentioned(title, self.titles))
                )
                found.setdefault(title.casefold(), []).append(
                    Quote(
                        id="",
                        source=source_id,
                        start=start,
                        end=start + len(title),
                        text=title,
                        levels=levels,
                    )
                )
        kept = [key for key in found if key not in own and not _plural(key)]
        kept.sort(key=lambda key: -len(found[key]))
        return [
            found[key][0].model_copy(update={"id": f"E{len(quotes) + number}"})
            for number, key in enumerate(kept, start=1)
        ]


def _plural(title: str) -> bool:
    """Whether a title is in the plural or names people in the plural: its last word or its head
    word (the last before "of", as in "Directors of Product") ends in a plural s, not "ss"."""
    head = (title.split(" of ")[0].split() or [""])[-1]
    return any(word.endswith("s") and not word.endswith("ss") for word in (head, title.split()[-1]))


def _prose_lines(text: str) -> Iterator[tuple[int, str]]:
    """(offset, line) of each line of prose: one with a list marker or end punctuation, or long
    and no byline; names, dates and view counts are not."""
    offset = 0
    for line in text.split("\n"):
        line_start = offset
        offset += len(line) + 1
        long_prose = len(line.split()) >= PROSE_LINE_WORDS and "|" not in line
        if line.strip() and (_MARKER.match(line) or _PROSE_END.search(line) or long_prose):
            yield line_start, line


def _parts(sentence: str) -> list[tuple[int, int]]:
    """(start, end) of the quote(s) of a sentence: its body after a lead label ("Senior PM --"),
    cut at its top-level commas and semicolons when it lists three things or more."""
    label = _LABEL.match(sentence)
    body_start = label.start("body") if label and len(label.group("label").split()) <= LABEL_WORDS else 0
    cuts = [body_start]
    depth = 0
    for index in range(body_start, len(sentence)):
        char = sentence[index]
        depth += (char == "(") - (char == ")")
        if depth == 0 and char in ",;" and sentence[index + 1 : index + 2].isspace():
            cuts.append(index + 1)
    spans = (
        [(a, b) for a, b in zip(cuts, [*cuts[1:], len(sentence)], strict=True)]
        if len(cuts) >= 3
        else [(body_start, len(sentence))]
    )
    parts = []
    for start, end in spans:
        piece = sentence[start:end]
        left = len(piece) - len(piece.lstrip(_EDGE))
        core = piece.strip(_EDGE)
        for conjunction in ("and ", "or "):
            if core.startswith(conjunction):
                left += len(conjunction)
                core = core[len(conjunction) :]
        if len(core.split()) >= MIN_QUOTE_WORDS:
            parts.append((start + left, start + left + len(core)))
    return parts


def gather(seeds: RoleSeeds, titles: dict[str, list[str]], queries: EvidenceQueries,
           vocabulary: Vocabulary) -> Evidence:  # fmt: skip
    """The role's evidence: every quote, mapped to levels, and ranked per section."""
    return EvidenceStage(seeds, titles, queries, vocabulary).gather()
