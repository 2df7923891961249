"""The drafter: writes a profile item by item, each from the quotes the evidence stage found for it.

A small model writes passable text when asked to turn one quote into one item and nonsense when
asked for a whole section, so every item is its own structured call that sees only its quote
(the overview: its few quotes), never the whole sources, never level codes or source ids. Which
quote each item rests on is decided before any call (`assign_quotes`): a level takes its own
quotes, best first, none a lower level already took, so scope rises instead of repeating. The
item then carries the quote's id (`evidence`) and its source (`sources`). Typical years come
from the level rubric, title aliases are the titles the sources use, and the overview's
distinctions are the catalog's neighbouring foci: none of these is the model's to invent.

What each kind of item is asked and how its answer becomes an item is declared once, in
`item_kinds`; a section is drafted by its kind's layout (a list, a row of guideline cells, a
summary). The sections themselves are in one registry, `records.sections`.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from ..inputs.prompts import Prompts
from ..inputs.seeds import RoleSeeds
from ..llm.client import LLM, Structured, bind_choices
from ..llm.parallel import ordered_map
from ..records.evidence import Evidence, Quote
from ..records.profile import GUIDELINE_COLUMNS, RESPONSIBILITIES_PER_LEVEL, YEARS_COLUMN, Profile, SourceRef
from ..records.runlog import Transcript
from ..records.sections import (
    ALIASES,
    GUIDELINES,
    OVERVIEW,
    RESPONSIBILITIES,
    SKILLS,
    TOOLS,
    Item,
    Section,
    SectionKind,
    Sections,
    cell_key,
    profile_sections,
)
from .item_kinds import (
    ITEM_KINDS,
    SYSTEM_TEMPLATE,
    Draws,
    ItemKind,
    KindPrompt,
    Layout,
    cited,
    load_kind_prompts,
    sentence,
)
from .schema import SchemaText

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


#: The response models the drafter asks for besides its item kinds' (described in prompts/schema.toml).
DRAFT_MODELS: list[type[BaseModel]] = [LadderDraft]
#: The ladder path's instruction and the quotes it shows, level by level.
LADDER_TEMPLATE = "ladder.j2"
LADDER_QUOTES = "ladder_quotes.j2"
#: The overview's distinctions: the catalog's nearest foci.
DISTINCTIONS_DRAFTED = 3
#: Drafts of one place at most in a round: its quote's, then the next quotes' when the gate
#: would flag what was drafted.
TRIES = 3


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


def assign_quotes(
    evidence: Evidence, levels: list[str], kinds: tuple[ItemKind, ...] = ITEM_KINDS
) -> Assignment:
    """Which quotes the first draft's items rest on, decided before any call.

    A level's responsibilities take its best quotes that no lower level took; its guideline
    cells take the best quote of their column that neither its responsibilities nor a lower
    level's cell took (one they did, when none is left). Skills, tools, aliases and the overview
    take their best quotes.
    """
    ranked = evidence.sections
    kind_of = {kind.section: kind for kind in kinds}
    taken: set[str] = set()
    cells_below: dict[str, set[str]] = {column: set() for column in GUIDELINE_COLUMNS}
    assignment: Assignment = {}
    for level in levels:
        key = RESPONSIBILITIES.key(level)
        chosen = [qid for qid in ranked.get(key, []) if qid not in taken][: kind_of[RESPONSIBILITIES].count]
        assignment[key] = chosen
        taken.update(chosen)
        in_row: set[str] = set()
        for column in GUIDELINE_COLUMNS:
            if column == YEARS_COLUMN:
                continue
            cell = cell_key(level, column)
            candidates = [qid for qid in ranked.get(cell, []) if qid not in in_row]
            fresh = [qid for qid in candidates if qid not in chosen and qid not in cells_below[column]]
            pick = (fresh or candidates)[:1]
            assignment[cell] = pick
            in_row.update(pick)
            cells_below[column].update(pick)
    for kind in kinds:
        if kind.draws is Draws.BEST and not kind.section.per_level:
            assignment[kind.section.key()] = ranked.get(kind.section.key(), [])[: kind.count]
    # Each level's spare quotes, for items the gate would flag: ones no level's first draft rests
    # on, and no lower level keeps as a spare (so two levels never fall back on one quote).
    for level in levels:
        key = RESPONSIBILITIES.key(level)
        spares = [qid for qid in ranked.get(key, []) if qid not in taken]
        assignment[spare_key(key)] = spares[: kind_of[RESPONSIBILITIES].count * (TRIES - 1)]
        taken.update(assignment[spare_key(key)])
    return assignment


def own_words_first(
    evidence: Evidence,
    sections: list[Section],
    kind_of: dict[SectionKind, ItemKind],
    accepts: Callable[[Item], bool] | None,
) -> Evidence:
    """The evidence with each list section's quotes re-ranked: a level's own quotes before those
    every level shares, and within each, first those whose own words make an item the gate lets
    pass (no model call, and nothing a small model could garble), each group in the evidence's
    order."""
    ranked = dict(evidence.sections)
    # A quote every level may use is ranked in each level's section: rewritten once.
    rewritten: dict[tuple[Callable[[str], Any], str], Any] = {}
    for section in sections:
        kind = kind_of[section.kind]
        if kind.rewrite is None or kind.layout is not Layout.LIST or section.key not in ranked:
            continue

        def rank(
            qid: str, section: Section = section, rewrite: Callable[[str], Any] = kind.rewrite
        ) -> tuple[bool, bool]:
            """Its sort key: (not the level's own, not passing in its own words); False first."""
            quote = evidence.quote(qid)
            if quote is None:
                return True, True
            if (rewrite, qid) not in rewritten:
                rewritten[rewrite, qid] = rewrite(quote.text)
            fields = rewritten[rewrite, qid]
            passes = fields is not None and (
                accepts is None
                or accepts(Item(section.key, kind_of[section.kind].text_of(fields), [quote.source], [qid]))
            )
            return section.level is not None and section.level not in quote.levels, not passes

        ranked[section.key] = sorted(ranked[section.key], key=rank)
    return evidence.model_copy(update={"sections": ranked})


def spare_key(key: str) -> str:
    """Where the assignment keeps a section's spare quotes."""
    return f"{key}~spare"


def _faulted(text: str, faults: list[Fault]) -> bool:
    """Whether a fault quotes this item."""
    folded = " ".join(text.casefold().split())
    return any(
        fault.quote and " ".join(fault.quote.casefold().split()).strip(" .") in folded for fault in faults
    )


@dataclass(frozen=True)
class DraftingContext:
    """What the drafter writes from besides the model: the evidence, the rubric's typical years
    and guideline cells per level (empty without a rubric), the catalog's neighbouring foci of the
    role, and how responsibilities are first drafted."""

    evidence: Evidence
    years: dict[str, tuple[int, int]]
    distinctions: list[dict[str, str]]
    #: Draft every level's responsibilities in one call from all levels' quotes (a model that
    #: can hold the whole ladder plans how scope rises); revisions still go item by item.
    ladder: bool = False
    #: Whether the gate lets a drafted item pass on its own (the checks' judgment of one item);
    #: None: every item is taken as drafted.
    accepts: Callable[[Item], bool] | None = None
    #: Per level, the rubric's guideline cells (column → a Jinja2 template given `role`): a cell
    #: the rubric writes is not drafted from a quote.
    cells: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)


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
        calls_at_once: int = 1,
        kinds: tuple[ItemKind, ...] = ITEM_KINDS,
        kind_prompts: dict[str, KindPrompt] | None = None,
    ) -> None:
        self.llm = llm
        #: A section's item calls at once (the loop already drafts sections at once).
        self.calls_at_once = calls_at_once
        self.prompts = prompts
        self.seeds = seeds
        self.sections = {section.key: section for section in profile_sections(seeds.manifest.levels)}
        self.context = context
        self.code = code
        #: The kind of item each section is drafted as.
        self.kind_of = {kind.section: kind for kind in kinds}
        self.evidence = own_words_first(
            context.evidence, list(self.sections.values()), self.kind_of, context.accepts
        )
        self.assignment = assign_quotes(self.evidence, seeds.manifest.levels, kinds)
        self.schema_text = schema_text
        #: Each kind's template and response model (read once for a catalog's roles, when given).
        self.kinds = kind_prompts if kind_prompts is not None else load_kind_prompts(prompts, kinds)
        self.system = prompts.render(SYSTEM_TEMPLATE)
        self._prefixes: dict[str, list[dict[str, str]]] = {}

    @property
    def section_keys(self) -> list[str]:
        return list(self.sections)

    @functools.cached_property
    def ladder_model(self) -> type[LadderDraft[Any]]:
        """The ladder call's response model: its evidence ids are this role's quotes (a class of
        its own, built only on the ladder path)."""
        ids = [quote.id for quote in self.evidence.quotes] or ["E0"]
        return self.schema_text.described(bind_choices(LadderDraft, ids))

    async def draft_section(
        self, key: str, round_number: int, current: dict[str, Any] | None = None, faults: Iterable[Fault] = ()
    ) -> tuple[dict[str, Any], list[Transcript]]:
        """Draft one section, or redraft the items of `current` that `faults` quote (each from
        the next quote its section's ranking offers, when there is one)."""
        section = self.sections[key]
        kind = self.kind_of[section.kind]
        work = _SectionWork(self, key, round_number, list(faults))
        if kind.layout is Layout.SUMMARY:
            drafted = await self._draft_summary(work, kind, current)
        elif kind.layout is Layout.ROW:
            assert section.level is not None  # a row is a level's
            drafted = await self._draft_row(work, kind, section.level, current)
        else:
            drafted = await self._draft_list(work, kind, section.level, current)
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

    async def draft_ladder(self, keys: list[str], round_number: int) -> tuple[Sections, list[Transcript]]:
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
        result, transcript = await self.llm.ask(
            "drafter:responsibilities", round_number, self.ladder_model, messages
        )
        work.transcripts.append(transcript)
        drafted: Sections = {}
        answers: list[Any] = getattr(result, "levels", [])
        # An answer with fewer levels than asked leaves the last ones empty (zip stops short).
        for key, answer in zip(keys, answers, strict=False):
            items = []
            for item in answer.responsibilities:
                quotes = [self.quote(qid) for qid in dict.fromkeys(item.evidence)]
                items.append(cited(quotes, text=sentence(item.text)))
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

    async def ask(
        self, work: _SectionWork, call: str, kind: ItemKind, quotes: list[str], aspect: str | None = None
    ) -> Any:
        """One item, asked with `item_messages`."""
        messages = self.item_messages(kind, quotes, aspect)
        result, transcript = await self.llm.ask(call, work.round, self.kinds[kind.name].model, messages)
        work.transcripts.append(transcript)
        return result

    def item_messages(
        self, kind: ItemKind, quotes: list[str], aspect: str | None = None
    ) -> list[dict[str, str]]:
        """What one item's call is asked: the framing and the kind's instruction, its worked
        examples as earlier turns, then the quote(s) it is written from (after the guideline
        column's `aspect`, named there so that every call of a kind shares all that goes before)."""
        last = {"role": "user", "content": self.prompts.render("quote.j2", quotes=quotes, aspect=aspect)}
        return [*self.item_prefix(kind), last]

    def item_prefix(self, kind: ItemKind) -> list[dict[str, str]]:
        """What every call of a kind is asked first, rendered once per role: its calls then share
        its text rather than hold copies of it while they wait on their answers."""
        if kind.name in self._prefixes:
            return self._prefixes[kind.name]
        template = self.kinds[kind.name].template
        instruction = self.prompts.render_string(
            template.instruction, str(self.prompts.folder / kind.template), role=self.seeds.manifest
        )
        messages = [{"role": "system", "content": f"{self.system.rstrip()}\n\n{instruction.strip()}"}]
        for example in template.examples:
            shown = example.quotes if example.quotes is not None else [example.quote]
            messages += [
                {
                    "role": "user",
                    "content": self.prompts.render("quote.j2", quotes=shown, aspect=example.aspect),
                },
                {"role": "assistant", "content": json.dumps(example.answer, ensure_ascii=False)},
            ]
        self._prefixes[kind.name] = messages
        return messages

    def rehearse(self) -> None:
        """Render every template a drafter call or a drafted cell uses once, with stand-ins for
        the quotes: a template that names a variable it is not given fails before any call."""
        stand_in = [self.evidence.quotes[0].text if self.evidence.quotes else "Stands in for a quote."]
        for prompt in self.kinds.values():
            aspects = self._headings() if prompt.kind.layout is Layout.ROW else [None]
            for aspect in aspects:
                self.item_messages(prompt.kind, stand_in, aspect)
        levels = self.seeds.manifest.levels
        text = stand_in[0]
        quotes = self.evidence.quotes[:1] or [
            Quote(id="E0", source="S0", start=0, end=len(text), text=text, levels=[])
        ]
        self.ladder_messages({level: quotes for level in levels})
        for heading in self._headings():
            self.prompts.render("no_evidence.j2", aspect=heading)
        for level, cells in self.context.cells.items():
            for column in cells:
                self._rubric_cell(level, column)
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

    # -- sections, by their kind's layout ---------------------------------------------------

    async def _draft_summary(
        self, work: _SectionWork, kind: ItemKind, current: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The overview: one item from its few quotes (a redraft from the next few), and the
        catalog's nearest foci as its distinctions."""
        quotes = [self.quote(qid) for qid in self.assignment[work.key]]
        if current is not None and work.faults:
            ranked = self.evidence.sections.get(work.key, [])
            quotes = [self.quote(qid) for qid in ranked[kind.count : 2 * kind.count]] or quotes
        answer = await self.ask(work, f"drafter:{work.key}", kind, [q.text for q in quotes])
        return {
            **kind.item(answer, quotes),
            "distinct_from": self.context.distinctions[:DISTINCTIONS_DRAFTED],
        }

    async def _draft_list(
        self, work: _SectionWork, kind: ItemKind, level: str | None, current: dict[str, Any] | None
    ) -> dict[str, Any]:
        """A list section: each item from its own quote (see `_SectionWork.list_items`)."""
        # A level's redraft takes no quote another level's first draft rests on, above or below.
        elsewhere = (
            {
                qid
                for other in self.seeds.manifest.levels
                if other != level
                for qid in self.assignment[kind.section.key(other)]
            }
            if kind.draws is Draws.OWN_LEVEL
            else set()
        )

        async def one(item_work: _SectionWork, quote: Quote, slot: str) -> dict[str, Any]:
            return await self.item_from(item_work, f"drafter:{work.key}.{slot}", kind, quote)

        field = kind.section.name
        items = await work.list_items(current[field] if current else None, kind, elsewhere, one)
        return {field: items}

    async def item_from(
        self, work: _SectionWork, call: str, kind: ItemKind, quote: Quote, aspect: str | None = None
    ) -> dict[str, Any]:
        """One item from one quote: the quote's own words in the house style where its grammar
        allows (no call), else the model's answer."""
        if kind.answer is None:
            return kind.item(None, [quote])
        rewritten = kind.rewrite(quote.text) if kind.rewrite is not None else None
        if rewritten is not None:
            item = cited([quote], **rewritten)
            accepts = self.context.accepts
            if accepts is None or accepts(work.as_item(kind, item)):
                return item
        answer = await self.ask(work, call, kind, [quote.text], aspect)
        return kind.item(answer, [quote])

    async def _draft_row(
        self, work: _SectionWork, kind: ItemKind, level: str, current: dict[str, Any] | None
    ) -> dict[str, Any]:
        """A level's guideline cells: the rubric's where it writes them (typical years always),
        else each from its column's quote, none another cell of the row or the level's
        responsibilities rest on."""
        row: dict[str, Any] = {}
        asked: list[tuple[str, str, Quote]] = []  # (column, heading, quote) of each cell to draft
        in_row = set(self.assignment[RESPONSIBILITIES.key(level)])
        for column, heading in GUIDELINE_COLUMNS.items():
            if column == YEARS_COLUMN or column in self.context.cells.get(level, {}):
                text = self._years(level) if column == YEARS_COLUMN else self._rubric_cell(level, column)
                row[column] = {"text": text, "sources": [], "evidence": [], "rubric": True}
                continue
            cell = cell_key(level, column)
            old = current[column] if current else None
            if old is not None and not _faulted(kind.text_of(old), work.faults):
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

        async def one(cell_work: _SectionWork, cell: tuple[str, str, Quote, str]) -> dict[str, Any]:
            column, heading, quote, suffix = cell
            return await self.item_from(
                cell_work, f"drafter:{work.key}.{column}{suffix}", kind, quote, heading
            )

        # A cell the gate would flag is drafted again from its column's next quote nobody uses.
        wave = [(column, heading, quote, "") for column, heading, quote in asked]
        for attempt in range(2, TRIES + 2):
            retry = []
            for (column, heading, _, _), drafted in zip(wave, await work.each(one, wave), strict=True):
                row[column] = drafted
                accepts = self.context.accepts
                if accepts is None or accepts(work.as_item(kind, drafted)) or attempt > TRIES:
                    continue
                ranked = self.evidence.sections.get(cell_key(level, column), [])
                nxt = next((qid for qid in ranked if qid not in in_row), None)
                if nxt is not None:
                    in_row.add(nxt)
                    retry.append((column, heading, self.quote(nxt), f"~{attempt}"))
            if not retry:
                break
            wave = retry
        return row

    def _rubric_cell(self, level: str, column: str) -> str:
        """A guideline cell as the level rubric writes it, for this role."""
        where = f"catalog/levels.toml: [{level}.guidelines] {column}"
        template = self.context.cells[level][column]
        return self.prompts.render_string(template, where, role=self.seeds.manifest).strip()

    def _years(self, level: str) -> str:
        band = self.context.years.get(level)
        return self.prompts.render("degree_years.j2", years=band).strip()

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

    async def each(self, draft_one: Callable[[_SectionWork, T], Awaitable[R]], jobs: list[T]) -> list[R]:
        """`draft_one` for each job, up to the drafter's `calls_at_once`; results and the calls'
        transcripts kept in the order of `jobs`, however the calls end."""
        shares = [dataclasses.replace(self, transcripts=[]) for _ in jobs]
        pairs = list(zip(shares, jobs, strict=True))
        drafted = await ordered_map(lambda pair: draft_one(*pair), pairs, self.drafter.calls_at_once)
        for share in shares:
            self.transcripts += share.transcripts
        return drafted

    async def list_items(
        self,
        current: list[dict[str, Any]] | None,
        kind: ItemKind,
        taken: set[str],
        draft_one: Callable[[_SectionWork, Quote, str], Awaitable[dict[str, Any]]],
    ) -> list[dict[str, Any]]:
        """A list section's items: the first draft from the assigned quotes; a redraft keeps the
        items no fault quotes and redrafts each one a fault quotes from the next quote of the
        ranking that no item (nor another level, `taken`) rests on; a quote-less fault (too few
        items) adds items from unused quotes up to the kind's count. The quotes are chosen first,
        then the items drafted at once; an item the gate would flag is drafted again from the next
        unused quote, up to TRIES times, and one of a kind that may have fewer is then left out."""
        assigned = self.drafter.assignment[self.key]
        ranked = self.drafter.evidence.sections.get(self.key, [])
        # Each place in the list: an item kept, or the (quote id, slot) to draft it from.
        places: list[dict[str, Any] | tuple[str, int]] = []
        in_use = set(taken) | set(assigned)
        if current is None:
            places = [(qid, slot) for slot, qid in enumerate(assigned, start=1)]
        else:
            in_use |= {qid for item in current for qid in item.get("evidence", [])}
            for slot, item in enumerate(current, start=1):
                if not _faulted(kind.text_of(item), self.faults):
                    places.append(item)
                    continue
                rests_on = item.get("evidence", [])[:1]
                start = ranked.index(rests_on[0]) + 1 if rests_on and rests_on[0] in ranked else 0
                # The next unused quote after it, else the first unused before it.
                nxt = next((qid for qid in ranked[start:] + ranked[:start] if qid not in in_use), None)
                if nxt is None:
                    places.append(item)  # nothing better to rest it on: kept as it is
                    continue
                in_use.add(nxt)
                places.append((nxt, slot))
            for qid in ranked:
                if len(places) >= kind.count:
                    break
                if qid not in in_use:
                    in_use.add(qid)
                    places.append((qid, len(places) + 1))
        jobs = {n: place for n, place in enumerate(places) if isinstance(place, tuple)}
        # A level falls back on its own spares only; a section drafted once, on its ranking.
        spares = self.drafter.assignment.get(spare_key(self.key), ranked)
        drafted = await self.until_accepted(jobs, spares, in_use, draft_one)
        kept = [drafted.get(n, place) for n, place in enumerate(places)]
        return [item for item in kept if isinstance(item, dict)]

    async def until_accepted(
        self,
        jobs: dict[int, tuple[str, int]],
        ranked: list[str],
        in_use: set[str],
        draft_one: Callable[[_SectionWork, Quote, str], Awaitable[dict[str, Any]]],
    ) -> dict[int, dict[str, Any] | None]:
        """Each job (a place's quote and slot) drafted; one the gate would flag drafted again from
        the next quote of `ranked` nobody uses, up to TRIES times in all. What stays flagged is
        kept as drafted (the gate names it), or left out (None) for a kind that may have fewer."""
        kind = self.drafter.kind_of[self.drafter.sections[self.key].kind]
        accepts = self.drafter.context.accepts
        results: dict[int, dict[str, Any] | None] = {}
        wave = list(jobs.items())
        for attempt in range(1, TRIES + 1):
            suffix = "" if attempt == 1 else f"~{attempt}"
            asked = [(n, (qid, f"{slot}{suffix}")) for n, (qid, slot) in wave]
            made = await self.each(
                lambda work, job: draft_one(work, self.drafter.quote(job[1][0]), job[1][1]), asked
            )
            retry = []
            for (n, _), item in zip(wave, made, strict=True):
                results[n] = item
                if accepts is None or accepts(self.as_item(kind, item)):
                    continue
                nxt = next((qid for qid in ranked if qid not in in_use), None)
                if nxt is not None and attempt < TRIES:
                    in_use.add(nxt)
                    retry.append((n, (nxt, jobs[n][1])))
                elif kind.fewer_allowed:
                    results[n] = None
            if not retry:
                break
            wave = retry
        return results

    def as_item(self, kind: ItemKind, drafted: dict[str, Any]) -> Item:
        """A drafted item as the checks see it."""
        return Item(self.key, kind.text_of(drafted), drafted.get("sources"), drafted.get("evidence", []))
