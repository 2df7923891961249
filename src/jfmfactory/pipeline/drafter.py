"""The drafter: writes a profile item by item, each from the quotes the evidence stage found for it.

A small model writes passable text when asked to turn one quote into one item and nonsense when
asked for a whole section, so every item is its own structured call that sees only its quote
(the overview: its few quotes), never the whole sources, never level codes or source ids. Which
quote each item rests on is decided before any call (`assign_quotes`): a level takes its own
quotes, best first, none a lower level already took, so scope rises instead of repeating. The
item then carries the quote's id (`evidence`) and its source (`sources`). Typical years come
from the level rubric, title aliases are the titles the sources use, and the overview's
distinctions are the catalog's neighbouring foci: none of these is the model's to invent.

The sections are in one registry here: what each is called, what its items are and where it
goes in the Profile. Every part of jfm that names a section (the panel's checks and evidence,
the views) takes the keys and the items from it, so that the shape of a profile is written
down once. What the tool schema says of each response model and field is in
`prompts/schema.toml`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import BadInput, first_error
from ..inputs.datafile import load_model
from ..inputs.prompts import Prompts
from ..inputs.seeds import RoleSeeds
from ..llm.client import LLM, Structured, bind_choices
from ..llm.parallel import ordered_map
from ..records.evidence import Evidence, Quote
from ..records.profile import GUIDELINE_COLUMNS, RESPONSIBILITIES_PER_LEVEL, YEARS_COLUMN, Profile, SourceRef
from ..records.runlog import Transcript
from .schema import SchemaText

SKILLS_DRAFTED = 6
TOOLS_DRAFTED = 5
ALIASES_DRAFTED = 5
OVERVIEW_QUOTES = 3
DISTINCTIONS_DRAFTED = 3


class StatementDraft(Structured):
    text: str = Field(min_length=8, max_length=240)


class SkillDraft(Structured):
    name: str = Field(min_length=2, max_length=60)
    description: str = Field(min_length=8, max_length=200)


class ToolDraft(Structured):
    name: str = Field(min_length=2, max_length=40)


class OverviewDraft(Structured):
    description: str = Field(min_length=40, max_length=600)


S = TypeVar("S", bound=str)
T = TypeVar("T")
R = TypeVar("R")


class LadderItemDraft(Structured, Generic[S]):
    text: str = Field(min_length=8, max_length=240)
    evidence: list[S] = Field(min_length=1, max_length=3)


class LadderLevelDraft(Structured, Generic[S]):
    responsibilities: list[LadderItemDraft[S]] = Field(
        min_length=RESPONSIBILITIES_PER_LEVEL, max_length=RESPONSIBILITIES_PER_LEVEL
    )


class LadderDraft(Structured, Generic[S]):
    levels: list[LadderLevelDraft[S]]


#: Every response model the drafter asks for.
DRAFT_MODELS: list[type[BaseModel]] = [StatementDraft, SkillDraft, ToolDraft, OverviewDraft, LadderDraft]
EXAMPLES_FILE = "examples.toml"
#: The ladder path's instruction and the quotes it shows, level by level.
LADDER_TEMPLATE = "ladder.j2"
LADDER_QUOTES = "ladder_quotes.j2"


@dataclass(frozen=True)
class ItemKind:
    """One kind of item the drafter asks for: its response model and its instruction
    (prompts/item_NAME.j2, the system message's second part); its worked examples are
    `prompts/examples.toml`'s [[NAME]] entries."""

    name: str
    model: type[BaseModel]

    @property
    def template(self) -> str:
        return f"item_{self.name}.j2"


RESPONSIBILITY_ITEM = ItemKind("responsibility", StatementDraft)
GUIDELINE_ITEM = ItemKind("guideline", StatementDraft)
SKILL_ITEM = ItemKind("skill", SkillDraft)
TOOL_ITEM = ItemKind("tool", ToolDraft)
OVERVIEW_ITEM = ItemKind("overview", OverviewDraft)
ITEM_KINDS = (RESPONSIBILITY_ITEM, GUIDELINE_ITEM, SKILL_ITEM, TOOL_ITEM, OVERVIEW_ITEM)


class Example(BaseModel):
    """A worked example: the quote(s) a drafter request shows, and the answer to give."""

    model_config = ConfigDict(extra="forbid")

    quote: str | None = Field(default=None, description="The quote shown (one-quote kinds).")
    quotes: list[str] | None = Field(default=None, description="The quotes shown (the overview).")
    aspect: str | None = Field(
        default=None, description="A guideline example's column heading, named before its quote."
    )
    answer: dict[str, Any] = Field(description="The answer, as the kind's response model takes it.")


class Examples(BaseModel):
    """`prompts/examples.toml`: worked examples per item kind."""

    model_config = ConfigDict(extra="forbid")

    occupation_words: str = Field(
        default="", description="The examples' occupation's words, white-space separated."
    )
    responsibility: list[Example] = Field(default_factory=list, description="Responsibilities.")
    guideline: list[Example] = Field(default_factory=list, description="Guideline cells.")
    skill: list[Example] = Field(default_factory=list, description="Skills.")
    tool: list[Example] = Field(default_factory=list, description="Tools.")
    overview: list[Example] = Field(default_factory=list, description="The overview.")


def example_words(prompts: Path) -> str:
    """The words of the worked examples' occupation, which no drafted item may borrow."""
    return load_examples(prompts).occupation_words


def load_examples(prompts: Path) -> Examples:
    """The examples, every answer checked against its kind's response model."""
    path = prompts / EXAMPLES_FILE
    examples = load_model(path, Examples, "drafting examples")
    for kind in ITEM_KINDS:
        for number, example in enumerate(getattr(examples, kind.name), start=1):
            where = f"{path}: {kind.name} example {number}"
            if (example.quote is None) == (example.quotes is None):
                raise BadInput(f"{where}: give quote or quotes, not both or neither")
            try:
                kind.model.model_validate(example.answer)
            except ValidationError as exc:
                raise BadInput(f"{where}: answer: {first_error(exc)}") from exc
    return examples


#: Drafted sections by key, each as the JSON its response model produced.
Sections = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Item:
    """One item of a profile as reviewers quote it and checks judge it.

    `sources` is None for an item that cites nothing by design (the overview's).
    """

    section: str
    text: str
    sources: list[str] | None
    #: Ids of the quotes (evidence.json) the item rests on; empty for an item that cites none.
    evidence: list[str] = dataclasses.field(default_factory=list)


#: A section's items at a level (None for a section drafted once): (text, sources, evidence).
ItemWalk = Callable[[Profile, str | None], list[tuple[str, list[str] | None, list[str]]]]


@dataclass(frozen=True)
class SectionKind:
    """One kind of section: its name, how its items are read from a profile, and the Profile
    fields its drafted JSON fills."""

    name: str
    walk: ItemWalk
    #: Drafted once per level (its key is NAME.LEVEL) or once per profile (its key is NAME).
    per_level: bool = False
    #: Whether its items cite sources (and the quotes they rest on).
    cites: bool = True
    #: Profile field name → value from the drafted JSON (for a per-level section, the value at its
    #: level); None: the JSON's value under the section's name fills the field of that name.
    fill: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def key(self, level: str | None = None) -> str:
        """The key reviewers and the run record name the section by: skills, responsibilities.P3."""
        return f"{self.name}.{level}" if self.per_level else self.name

    def items(self, profile: Profile, level: str | None = None) -> list[Item]:
        """The section's items in `profile` (at `level`, for a per-level kind), in order."""
        key = self.key(level)
        return [Item(key, text, sources, evidence) for text, sources, evidence in self.walk(profile, level)]

    def fields(self, drafted: dict[str, Any]) -> dict[str, Any]:
        """The Profile fields the section's drafted JSON fills."""
        return self.fill(drafted) if self.fill else {self.name: drafted[self.name]}


Walked = list[tuple[str, list[str] | None, list[str]]]


def _overview(profile: Profile, level: str | None) -> Walked:
    return [
        (profile.description, None, []),
        *((f"{d.function}: {d.boundary}", None, []) for d in profile.distinct_from),
    ]


def _responsibilities(profile: Profile, level: str | None) -> Walked:
    cited = profile.responsibilities.get(level, []) if level else []
    return [(item.text, item.sources, item.evidence) for item in cited]


def _guidelines(profile: Profile, level: str | None) -> Walked:
    row = profile.guidelines.get(level) if level else None
    cells = [(column, getattr(row, column)) for column in GUIDELINE_COLUMNS] if row else []
    # Typical years are judged against the level rubric (check:rubric-years), not the sources.
    return [
        (cell.text, None, []) if column == YEARS_COLUMN else (cell.text, cell.sources, cell.evidence)
        for column, cell in cells
    ]


def _skills(profile: Profile, level: str | None) -> Walked:
    return [(f"{skill.name}: {skill.description}", skill.sources, skill.evidence) for skill in profile.skills]


def _tools(profile: Profile, level: str | None) -> Walked:
    return [(tool.name, tool.sources, tool.evidence) for tool in profile.tools]


def _aliases(profile: Profile, level: str | None) -> Walked:
    return [(alias.title, alias.sources, alias.evidence) for alias in profile.aliases]


def _overview_fields(drafted: dict[str, Any]) -> dict[str, Any]:
    return {"description": drafted["description"], "distinct_from": drafted["distinct_from"]}


OVERVIEW = SectionKind("overview", _overview, cites=False, fill=_overview_fields)
RESPONSIBILITIES = SectionKind("responsibilities", _responsibilities, per_level=True)
# The drafted JSON is the guideline row itself.
GUIDELINES = SectionKind(
    "guidelines", _guidelines, per_level=True, fill=lambda drafted: {"guidelines": drafted}
)
SKILLS = SectionKind("skills", _skills)
TOOLS = SectionKind("tools", _tools)
ALIASES = SectionKind("aliases", _aliases)

#: Every kind of section, in profile order.
SECTION_KINDS = (OVERVIEW, RESPONSIBILITIES, GUIDELINES, SKILLS, TOOLS, ALIASES)


@dataclass(frozen=True)
class Section:
    """One section of a profile: its kind and, for a per-level kind, its level."""

    kind: SectionKind
    level: str | None = None

    @property
    def key(self) -> str:
        return self.kind.key(self.level)

    def items(self, profile: Profile) -> list[Item]:
        """The section's items in `profile`, in order."""
        return self.kind.items(profile, self.level)


def profile_sections(levels: Iterable[str]) -> list[Section]:
    """Every section of a profile of these levels, in profile order (the order they are drafted)."""
    levels = list(levels)
    return [
        section
        for kind in SECTION_KINDS
        for section in ([Section(kind, level) for level in levels] if kind.per_level else [Section(kind)])
    ]


def section_keys(levels: Iterable[str]) -> list[str]:
    """The key of every section of a profile of these levels, in profile order."""
    return [section.key for section in profile_sections(levels)]


def items(profile: Profile) -> list[Item]:
    """Every item of the profile, section by section in profile order."""
    return [item for section in profile_sections(profile.levels) for item in section.items(profile)]


def assemble(seeds: RoleSeeds, sections: Sections, code: str) -> Profile:
    """Build the profile from every drafted section."""
    manifest = seeds.manifest
    fields: dict[str, Any] = {}
    for section in profile_sections(manifest.levels):
        filled = section.kind.fields(sections[section.key])
        if section.level is None:
            fields.update(filled)
        else:
            for name, value in filled.items():
                fields.setdefault(name, {})[section.level] = value
    return Profile(
        role=seeds.role,
        title=manifest.title,
        family=manifest.family,
        focus=manifest.focus,
        code=code,
        levels=manifest.levels,
        **fields,
    )


@dataclass(frozen=True)
class Fault:
    """A verified issue of a failing dimension, as the redraft of its section is told it: the item
    it quotes (empty for one about the section as a whole) and what is wrong."""

    dimension: str
    quote: str
    text: str


#: Per section key (a guideline cell as guidelines.LEVEL.COLUMN), the quote ids its items rest on.
Assignment = dict[str, list[str]]


def assign_quotes(evidence: Evidence, levels: list[str]) -> Assignment:
    """Which quotes the first draft's items rest on, decided before any call.

    A level's responsibilities take its best quotes that no lower level took; its guideline
    cells take the best quote of their column that neither its responsibilities nor a lower
    level's cell took (one they did, when none is left). Skills, tools, aliases and the overview
    take their best quotes.
    """
    ranked = evidence.sections
    taken: set[str] = set()
    cells_below: dict[str, set[str]] = {column: set() for column in GUIDELINE_COLUMNS}
    assignment: Assignment = {}
    for level in levels:
        key = RESPONSIBILITIES.key(level)
        chosen = [qid for qid in ranked.get(key, []) if qid not in taken][:RESPONSIBILITIES_PER_LEVEL]
        assignment[key] = chosen
        taken.update(chosen)
        in_row: set[str] = set()
        for column in GUIDELINE_COLUMNS:
            if column == YEARS_COLUMN:
                continue
            cell = f"{GUIDELINES.key(level)}.{column}"
            candidates = [qid for qid in ranked.get(cell, []) if qid not in in_row]
            fresh = [qid for qid in candidates if qid not in chosen and qid not in cells_below[column]]
            pick = (fresh or candidates)[:1]
            assignment[cell] = pick
            in_row.update(pick)
            cells_below[column].update(pick)
    for kind, count in ((SKILLS, SKILLS_DRAFTED), (TOOLS, TOOLS_DRAFTED), (ALIASES, ALIASES_DRAFTED)):
        assignment[kind.key()] = ranked.get(kind.key(), [])[:count]
    assignment[OVERVIEW.key()] = ranked.get(OVERVIEW.key(), [])[:OVERVIEW_QUOTES]
    return assignment


def _sentence(text: str) -> str:
    """A drafted sentence tidied: quotation marks and white space trimmed, a capital first
    letter, an end stop. The words are the model's."""
    text = " ".join(text.split()).strip("\"'“”‘’ ")
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if re.search(r"[.!?]$", text) else f"{text}."


def _name(text: str) -> str:
    """A drafted name tidied: trimmed, no end stop, a capital first letter."""
    text = " ".join(text.split()).strip("\"'“”‘’. ")
    return text[0].upper() + text[1:] if text else text


def _faulted(text: str, faults: list[Fault]) -> bool:
    """Whether a fault quotes this item."""
    folded = " ".join(text.casefold().split())
    return any(
        fault.quote and " ".join(fault.quote.casefold().split()).strip(" .") in folded for fault in faults
    )


@dataclass(frozen=True)
class DraftingContext:
    """What the drafter writes from besides the model: the evidence, the rubric's typical years
    per level (empty without a rubric), the catalog's neighbouring foci of the role, and how
    responsibilities are first drafted."""

    evidence: Evidence
    years: dict[str, tuple[int, int]]
    distinctions: list[dict[str, str]]
    #: Draft every level's responsibilities in one call from all levels' quotes (a model that
    #: can hold the whole ladder plans how scope rises); revisions still go item by item.
    ladder: bool = False


class Drafter:
    """Drafts and redrafts the sections of one role's profile, item by item from its evidence."""

    def __init__(
        self,
        llm: LLM,
        prompts: Prompts,
        seeds: RoleSeeds,
        context: DraftingContext,
        code: str,
        schema_text: SchemaText,
        workers: int = 1,
    ) -> None:
        self.llm = llm
        #: A section's item calls at once (the loop already drafts sections at once).
        self.workers = workers
        self.prompts = prompts
        self.seeds = seeds
        self.sections = {section.key: section for section in profile_sections(seeds.manifest.levels)}
        self.context = context
        self.evidence = context.evidence
        self.code = code
        self.assignment = assign_quotes(self.evidence, seeds.manifest.levels)
        self.models = {
            model.__name__: schema_text.described(
                bind_choices(model, [quote.id for quote in self.evidence.quotes] or ["E0"])
                if model is LadderDraft
                else model
            )
            for model in DRAFT_MODELS
        }
        self.examples = load_examples(prompts.folder)
        self.system = prompts.render("system.j2")

    @property
    def section_keys(self) -> list[str]:
        return list(self.sections)

    def draft_section(
        self, key: str, round_number: int, current: dict[str, Any] | None = None, faults: Iterable[Fault] = ()
    ) -> tuple[dict[str, Any], list[Transcript]]:
        """Draft one section, or redraft the items of `current` that `faults` quote (each from
        the next quote its section's ranking offers, when there is one)."""
        section = self.sections[key]
        work = _SectionWork(self, key, round_number, list(faults))
        drafted = getattr(self, f"_draft_{section.kind.name}")(work, section.level, current)
        return drafted, work.transcripts

    def groups(self, keys: list[str], drafted: Sections) -> list[list[str]]:
        """The keys of a round's plan as the calls that draft them: one key each, but on the
        ladder path every level's first responsibilities together."""
        ladder = [
            key
            for key in keys
            if self.context.ladder and self.sections[key].kind is RESPONSIBILITIES and key not in drafted
        ]
        return ([ladder] if ladder else []) + [[key] for key in keys if key not in ladder]

    def draft_ladder(self, keys: list[str], round_number: int) -> tuple[Sections, list[Transcript]]:
        """Every level's responsibilities in one call, from each level's quotes: the model sees
        the whole ladder, so it can plan how scope rises. Each item cites the quotes it rests on."""
        work = _SectionWork(self, "responsibilities", round_number, [])
        levels = [self.sections[key].level for key in keys]
        shown = {
            level: [self.quote(qid) for qid in self.evidence.sections.get(RESPONSIBILITIES.key(level), [])]
            for level in levels
            if level is not None
        }
        messages = self.ladder_messages(shown)
        result, transcript = self.llm.ask(
            "drafter:responsibilities", round_number, self.models[LadderDraft.__name__], messages
        )
        work.transcripts.append(transcript)
        drafted: Sections = {}
        answers: list[Any] = getattr(result, "levels", [])
        # An answer with fewer levels than asked leaves the last ones empty (zip stops short).
        for key, answer in zip(keys, answers, strict=False):
            items = []
            for item in answer.responsibilities:
                quotes = [self.quote(qid) for qid in dict.fromkeys(item.evidence)]
                sources = list(dict.fromkeys(quote.source for quote in quotes))
                items.append(
                    {"text": _sentence(item.text), "sources": sources, "evidence": [q.id for q in quotes]}
                )
            drafted[key] = {"responsibilities": items}
        for key in keys:  # a level the answer left out has nothing: the completeness check says so
            drafted.setdefault(key, {"responsibilities": []})
        return drafted, work.transcripts

    def ladder_messages(self, shown: dict[str, list[Quote]]) -> list[dict[str, str]]:
        """What the ladder call is asked: the framing and its instruction, then each level's quotes."""
        instruction = self.prompts.render(LADDER_TEMPLATE, role=self.seeds.manifest, count=len(shown))
        user = self.prompts.render(LADDER_QUOTES, ladder=shown, titles=self.evidence.level_titles)
        return [
            {"role": "system", "content": f"{self.system.rstrip()}\n\n{instruction.strip()}"},
            {"role": "user", "content": user},
        ]

    # -- one item ----------------------------------------------------------------------------

    def ask(
        self, work: _SectionWork, call: str, kind: ItemKind, quotes: list[str], aspect: str | None = None
    ) -> Any:
        """One item, asked with `item_messages`."""
        messages = self.item_messages(kind, quotes, aspect)
        result, transcript = self.llm.ask(call, work.round, self.models[kind.model.__name__], messages)
        work.transcripts.append(transcript)
        return result

    def item_messages(
        self, kind: ItemKind, quotes: list[str], aspect: str | None = None
    ) -> list[dict[str, str]]:
        """What one item's call is asked: the framing and the kind's instruction, its worked
        examples as earlier turns, then the quote(s) it is written from (after the guideline
        column's `aspect`, named there so that every call of a kind shares all that goes before)."""
        instruction = self.prompts.render(kind.template, role=self.seeds.manifest)
        messages = [{"role": "system", "content": f"{self.system.rstrip()}\n\n{instruction.strip()}"}]
        for example in getattr(self.examples, kind.name):
            shown = example.quotes if example.quotes is not None else [example.quote]
            messages += [
                {
                    "role": "user",
                    "content": self.prompts.render("quote.j2", quotes=shown, aspect=example.aspect),
                },
                {"role": "assistant", "content": json.dumps(example.answer, ensure_ascii=False)},
            ]
        messages.append(
            {"role": "user", "content": self.prompts.render("quote.j2", quotes=quotes, aspect=aspect)}
        )
        return messages

    def rehearse(self) -> None:
        """Render every template a drafter call or a drafted cell uses once, with stand-ins for
        the quotes: a template that names a variable it is not given fails before any call."""
        stand_in = [self.evidence.quotes[0].text if self.evidence.quotes else "Stands in for a quote."]
        for kind in ITEM_KINDS:
            aspects = self._headings() if kind is GUIDELINE_ITEM else [None]
            for aspect in aspects:
                self.item_messages(kind, stand_in, aspect)
        levels = self.seeds.manifest.levels
        text = stand_in[0]
        quotes = self.evidence.quotes[:1] or [
            Quote(id="E0", source="S0", start=0, end=len(text), text=text, levels=[])
        ]
        self.ladder_messages({level: quotes for level in levels})
        for heading in self._headings():
            self.prompts.render("no_evidence.j2", aspect=heading)
        for years in [*(self.context.years.get(level) for level in levels), (1, 3), None]:
            self.prompts.render("degree_years.j2", years=years)

    @staticmethod
    def _headings() -> list[str]:
        """The headings of the guideline columns the model writes (not the rubric's years)."""
        return [heading for column, heading in GUIDELINE_COLUMNS.items() if column != YEARS_COLUMN]

    def specimen(self) -> Profile:
        """A profile of this role with a stand-in in every place an item goes, each citing the
        first quote: what the panel's templates are rehearsed on before any call."""
        quote = self.evidence.quotes[0] if self.evidence.quotes else None
        cites = {"sources": [quote.source] if quote else [], "evidence": [quote.id] if quote else []}
        item = {"text": "Stands in for an item.", **cites}
        drafted: Sections = {
            OVERVIEW.name: {
                "description": "Stands in for the overview.",
                "distinct_from": [{"function": "Another function", "boundary": "its own work"}],
            },
            RESPONSIBILITIES.name: {"responsibilities": [item]},
            GUIDELINES.name: {column: item for column in GUIDELINE_COLUMNS},
            SKILLS.name: {"skills": [{"name": "A skill", "description": "Stands in for a skill.", **cites}]},
            TOOLS.name: {"tools": [{"name": "A tool", **cites}]},
            ALIASES.name: {"aliases": [{"title": "Another title", **cites}]},
        }
        sections = {section.key: drafted[section.kind.name] for section in self.sections.values()}
        return self.assemble(sections)

    def quote(self, quote_id: str) -> Quote:
        found = self.evidence.quote(quote_id)
        if found is None:  # the assignment only names quotes of the evidence it was made from
            raise KeyError(quote_id)
        return found

    def cited(self, quote: Quote, **fields: Any) -> dict[str, Any]:
        return {**fields, "sources": [quote.source], "evidence": [quote.id]}

    # -- sections ----------------------------------------------------------------------------

    def _draft_overview(
        self, work: _SectionWork, level: None, current: dict[str, Any] | None
    ) -> dict[str, Any]:
        quotes = [self.quote(qid) for qid in self.assignment[work.key]]
        if current is not None and work.faults:
            ranked = self.evidence.sections.get(work.key, [])
            quotes = [self.quote(qid) for qid in ranked[OVERVIEW_QUOTES : 2 * OVERVIEW_QUOTES]] or quotes
        drafted = self.ask(work, f"drafter:{work.key}", OVERVIEW_ITEM, [q.text for q in quotes])
        return {
            "description": _sentence(drafted.description),
            "distinct_from": self.context.distinctions[:DISTINCTIONS_DRAFTED],
        }

    def _draft_responsibilities(
        self, work: _SectionWork, level: str, current: dict[str, Any] | None
    ) -> dict[str, Any]:
        # A redraft takes no quote another level's first draft rests on, above or below.
        elsewhere = {
            qid
            for other in self.seeds.manifest.levels
            if other != level
            for qid in self.assignment[RESPONSIBILITIES.key(other)]
        }

        def one(item_work: _SectionWork, quote: Quote, slot: int) -> dict[str, Any]:
            drafted = self.ask(item_work, f"drafter:{work.key}.{slot}", RESPONSIBILITY_ITEM, [quote.text])
            return self.cited(quote, text=_sentence(drafted.text))

        items = work.list_items(
            current["responsibilities"] if current else None,
            RESPONSIBILITIES_PER_LEVEL,
            elsewhere,
            lambda item: item["text"],
            one,
        )
        return {"responsibilities": items}

    def _draft_guidelines(
        self, work: _SectionWork, level: str, current: dict[str, Any] | None
    ) -> dict[str, Any]:
        row: dict[str, Any] = {}
        asked: list[tuple[str, str, Quote]] = []  # (column, heading, quote) of each cell to draft
        in_row = set(self.assignment[RESPONSIBILITIES.key(level)])
        for column, heading in GUIDELINE_COLUMNS.items():
            if column == YEARS_COLUMN:
                row[column] = {"text": self._years(level), "sources": [], "evidence": []}
                continue
            cell = f"{work.key}.{column}"
            old = current[column] if current else None
            if old is not None and not _faulted(old["text"], work.faults):
                row[column] = old
                in_row.update(old["evidence"])
                continue
            ranked = self.evidence.sections.get(cell, [])
            if old is None:
                chosen = self.assignment[cell]
            else:
                after = (
                    ranked[ranked.index(old["evidence"][0]) + 1 :]
                    if old["evidence"] and old["evidence"][0] in ranked
                    else ranked
                )
                chosen = [qid for qid in after if qid not in in_row][:1] or old["evidence"][:1]
            if not chosen:
                row[column] = {
                    "text": self.prompts.render("no_evidence.j2", aspect=heading).strip(),
                    "sources": [],
                    "evidence": [],
                }
                continue
            quote = self.quote(chosen[0])
            in_row.add(quote.id)
            row[column] = None  # drafted below, in column order
            asked.append((column, heading, quote))

        def one(cell_work: _SectionWork, cell: tuple[str, str, Quote]) -> dict[str, Any]:
            column, heading, quote = cell
            drafted = self.ask(
                cell_work, f"drafter:{work.key}.{column}", GUIDELINE_ITEM, [quote.text], aspect=heading
            )
            return self.cited(quote, text=_sentence(drafted.text))

        for (column, _, _), drafted in zip(asked, work.each(one, asked), strict=True):
            row[column] = drafted
        return row

    def _years(self, level: str) -> str:
        band = self.context.years.get(level)
        return self.prompts.render("degree_years.j2", years=band).strip()

    def _draft_skills(
        self, work: _SectionWork, level: None, current: dict[str, Any] | None
    ) -> dict[str, Any]:
        def one(item_work: _SectionWork, quote: Quote, slot: int) -> dict[str, Any]:
            drafted = self.ask(item_work, f"drafter:{work.key}.{slot}", SKILL_ITEM, [quote.text])
            return self.cited(quote, name=_name(drafted.name), description=_sentence(drafted.description))

        items = work.list_items(
            current["skills"] if current else None,
            SKILLS_DRAFTED,
            set(),
            lambda item: f"{item['name']}: {item['description']}",
            one,
        )
        return {"skills": items}

    def _draft_tools(self, work: _SectionWork, level: None, current: dict[str, Any] | None) -> dict[str, Any]:
        def one(item_work: _SectionWork, quote: Quote, slot: int) -> dict[str, Any]:
            drafted = self.ask(item_work, f"drafter:{work.key}.{slot}", TOOL_ITEM, [quote.text])
            return self.cited(quote, name=_name(drafted.name))

        items = work.list_items(
            current["tools"] if current else None,
            TOOLS_DRAFTED,
            set(),
            lambda item: item["name"],
            one,
        )
        return {"tools": items}

    def _draft_aliases(
        self, work: _SectionWork, level: None, current: dict[str, Any] | None
    ) -> dict[str, Any]:
        # The titles are the sources' own words: quoted, not written.
        items = work.list_items(
            current["aliases"] if current else None,
            ALIASES_DRAFTED,
            set(),
            lambda item: item["title"],
            lambda _, quote, slot: self.cited(quote, title=quote.text),
        )
        return {"aliases": items}

    def assemble(self, sections: Sections) -> Profile:
        return assemble(self.seeds, sections, self.code)

    def source_refs(self) -> list[SourceRef]:
        return [
            SourceRef(
                id=s.id,
                title=s.title,
                origin=s.origin,
                date=s.date.isoformat(),
                sha256=hashlib.sha256(s.text.encode("utf-8")).hexdigest(),
            )
            for s in self.seeds.sources
        ]


@dataclass
class _SectionWork:
    """One section's drafting in one round: its calls' transcripts and the faults to mend."""

    drafter: Drafter
    key: str
    round: int
    faults: list[Fault]
    transcripts: list[Transcript] = dataclasses.field(default_factory=list)

    def each(self, draft_one: Callable[[_SectionWork, T], R], jobs: list[T]) -> list[R]:
        """`draft_one` for each job, up to the drafter's `workers` at once; results and the calls'
        transcripts kept in the order of `jobs`, however the calls end."""
        shares = [dataclasses.replace(self, transcripts=[]) for _ in jobs]
        pairs = list(zip(shares, jobs, strict=True))
        drafted = ordered_map(lambda pair: draft_one(*pair), pairs, self.drafter.workers)
        for share in shares:
            self.transcripts += share.transcripts
        return drafted

    def list_items(
        self,
        current: list[dict[str, Any]] | None,
        count: int,
        taken: set[str],
        text_of: Callable[[dict[str, Any]], str],
        draft_one: Callable[[_SectionWork, Quote, int], dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """A list section's items: the first draft from the assigned quotes; a redraft keeps the
        items no fault quotes and redrafts each one a fault quotes from the next quote of the
        ranking that no item (nor another level, `taken`) rests on; a quote-less fault (too few
        items) adds items from unused quotes up to `count`. The quotes are chosen first, then the
        items drafted at once."""
        quote = self.drafter.quote
        assigned = self.drafter.assignment[self.key]
        ranked = self.drafter.evidence.sections.get(self.key, [])
        # Each place in the list: an item kept, or the (quote id, slot) to draft it from.
        places: list[dict[str, Any] | tuple[str, int]] = []
        if current is None:
            places = [(qid, slot) for slot, qid in enumerate(assigned, start=1)]
        else:
            in_use = set(taken) | {qid for item in current for qid in item.get("evidence", [])}
            for slot, item in enumerate(current, start=1):
                if not _faulted(text_of(item), self.faults):
                    places.append(item)
                    continue
                rests_on = item.get("evidence", [])[:1]
                start = ranked.index(rests_on[0]) + 1 if rests_on and rests_on[0] in ranked else 0
                nxt = next((qid for qid in ranked[start:] if qid not in in_use), None)
                if nxt is None:
                    places.append(item)  # nothing better to rest it on: kept as it is
                    continue
                in_use.add(nxt)
                places.append((nxt, slot))
            for qid in ranked:
                if len(places) >= count:
                    break
                if qid not in in_use:
                    in_use.add(qid)
                    places.append((qid, len(places) + 1))
        asked = [place for place in places if isinstance(place, tuple)]
        drafted = iter(self.each(lambda work, job: draft_one(work, quote(job[0]), job[1]), asked))
        return [next(drafted) if isinstance(place, tuple) else place for place in places]
