"""The drafter: composes a profile from a role's seeds one section at a time.

A small model writes passable text for one level or one section and nonsense for a whole
profile, so each section is its own structured call with its own prompt template and response
model. The sections are in one registry here: what each is called, how it is drafted, what its
items are and where it goes in the Profile. Every part of jfm that names a section (the panel's
checks and evidence, the views) takes the keys and the items from it, so that the shape of a
profile is written down once.

What the tool schema says of each response model and field is in `prompts/schema.toml`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ..errors import BadInput
from ..inputs.passages import SourceView
from ..inputs.prompts import Prompts
from ..inputs.seeds import RoleSeeds
from ..llm.client import LLM, Structured, bind_choices
from ..records.profile import GUIDELINE_COLUMNS, YEARS_COLUMN, Profile, SourceRef
from ..records.runlog import Transcript
from .schema import SchemaText

S = TypeVar("S", bound=str)


class CitedDraft(Structured, Generic[S]):
    text: str = Field(min_length=8, max_length=240)
    sources: list[S] = Field(min_length=1, max_length=3)


class DistinctionDraft(Structured):
    model_config = ConfigDict(extra="forbid")

    function: str
    boundary: str


class OverviewDraft(Structured):
    description: str = Field(min_length=40, max_length=600)
    distinct_from: list[DistinctionDraft] = Field(min_length=1, max_length=4)


class ResponsibilitiesDraft(Structured, Generic[S]):
    responsibilities: list[CitedDraft[S]] = Field(min_length=5, max_length=5)


class GuidelineDraft(Structured, Generic[S]):
    knowledge: CitedDraft[S]
    complexity: CitedDraft[S]
    collaboration: CitedDraft[S]
    degree_years: CitedDraft[S]


class SkillDraft(Structured, Generic[S]):
    name: str = Field(min_length=2, max_length=40)
    description: str = Field(min_length=8, max_length=160)
    sources: list[S] = Field(min_length=1, max_length=3)


class SkillsDraft(Structured, Generic[S]):
    skills: list[SkillDraft[S]] = Field(min_length=5, max_length=8)


class ToolDraft(Structured, Generic[S]):
    name: str = Field(min_length=1, max_length=40)
    sources: list[S] = Field(min_length=1, max_length=3)


class ToolsDraft(Structured, Generic[S]):
    tools: list[ToolDraft[S]] = Field(min_length=3, max_length=10)


class AliasDraft(Structured, Generic[S]):
    title: str = Field(min_length=2, max_length=60)
    sources: list[S] = Field(min_length=1, max_length=3)


class AliasesDraft(Structured, Generic[S]):
    aliases: list[AliasDraft[S]] = Field(max_length=5)


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


#: A section's items at a level (None for a section drafted once): (text, sources) pairs.
ItemWalk = Callable[[Profile, str | None], list[tuple[str, list[str] | None]]]


@dataclass(frozen=True)
class SectionKind:
    """One kind of section: its name, the response model it is drafted into, how its items are
    read from a profile, and the Profile fields its drafted JSON fills."""

    name: str
    response: type[BaseModel]
    walk: ItemWalk
    #: Drafted once per level (its key is NAME.LEVEL) or once per profile (its key is NAME).
    per_level: bool = False
    #: Whether its items cite sources; its response model then takes the role's source ids.
    cites: bool = True
    #: Profile field name → value from the drafted JSON (for a per-level section, the value at its
    #: level); None: the JSON's value under the section's name fills the field of that name.
    fill: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    @property
    def template(self) -> str:
        """The prompt template that asks for the section: prompts/draft_NAME.j2."""
        return f"draft_{self.name}.j2"

    def key(self, level: str | None = None) -> str:
        """The key reviewers and the run record name the section by: skills, responsibilities.P3."""
        return f"{self.name}.{level}" if self.per_level else self.name

    def items(self, profile: Profile, level: str | None = None) -> list[Item]:
        """The section's items in `profile` (at `level`, for a per-level kind), in order."""
        key = self.key(level)
        return [Item(key, text, sources) for text, sources in self.walk(profile, level)]

    def fields(self, drafted: dict[str, Any]) -> dict[str, Any]:
        """The Profile fields the section's drafted JSON fills."""
        return self.fill(drafted) if self.fill else {self.name: drafted[self.name]}


def _overview(profile: Profile, level: str | None) -> list[tuple[str, list[str] | None]]:
    return [
        (profile.description, None),
        *((f"{d.function}: {d.boundary}", None) for d in profile.distinct_from),
    ]


def _responsibilities(profile: Profile, level: str | None) -> list[tuple[str, list[str] | None]]:
    cited = profile.responsibilities.get(level, []) if level else []
    return [(item.text, item.sources) for item in cited]


def _guidelines(profile: Profile, level: str | None) -> list[tuple[str, list[str] | None]]:
    row = profile.guidelines.get(level) if level else None
    cells = [(column, getattr(row, column)) for column in GUIDELINE_COLUMNS] if row else []
    # Typical years are judged against the level rubric (check:rubric-years), not the sources.
    return [(cell.text, None if column == YEARS_COLUMN else cell.sources) for column, cell in cells]


def _skills(profile: Profile, level: str | None) -> list[tuple[str, list[str] | None]]:
    return [(f"{skill.name}: {skill.description}", skill.sources) for skill in profile.skills]


def _tools(profile: Profile, level: str | None) -> list[tuple[str, list[str] | None]]:
    return [(tool.name, tool.sources) for tool in profile.tools]


def _aliases(profile: Profile, level: str | None) -> list[tuple[str, list[str] | None]]:
    return [(alias.title, alias.sources) for alias in profile.aliases]


def _overview_fields(drafted: dict[str, Any]) -> dict[str, Any]:
    return {"description": drafted["description"], "distinct_from": drafted["distinct_from"]}


OVERVIEW = SectionKind("overview", OverviewDraft, _overview, cites=False, fill=_overview_fields)
RESPONSIBILITIES = SectionKind("responsibilities", ResponsibilitiesDraft, _responsibilities, per_level=True)
# The drafted JSON is the guideline row itself.
GUIDELINES = SectionKind(
    "guidelines", GuidelineDraft, _guidelines, per_level=True, fill=lambda drafted: {"guidelines": drafted}
)
SKILLS = SectionKind("skills", SkillsDraft, _skills)
TOOLS = SectionKind("tools", ToolsDraft, _tools)
ALIASES = SectionKind("aliases", AliasesDraft, _aliases)

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


class Drafter:
    """Drafts and redrafts the sections of one role's profile."""

    def __init__(
        self,
        llm: LLM,
        prompts: Prompts,
        seeds: RoleSeeds,
        view: SourceView,
        code: str,
        schema_text: SchemaText,
    ) -> None:
        self.llm = llm
        self.prompts = prompts
        self.seeds = seeds
        self.sections = {section.key: section for section in profile_sections(seeds.manifest.levels)}
        self.view = view
        self.code = code
        self.level_hints = prompts.table("level_hints.toml")
        missing = [level for level in seeds.manifest.levels if level not in self.level_hints]
        if missing:
            raise BadInput(
                f"{prompts.folder / 'level_hints.toml'}: no hint for level(s) {', '.join(missing)}"
            )
        self.models: dict[str, type[BaseModel]] = {
            kind.name: schema_text.described(
                bind_choices(kind.response, seeds.source_ids) if kind.cites else kind.response
            )
            for kind in SECTION_KINDS
        }

    @property
    def section_keys(self) -> list[str]:
        return list(self.sections)

    def draft_section(
        self,
        key: str,
        round_number: int,
        current: dict[str, Any] | None = None,
        issues: Iterable[str] = (),
    ) -> tuple[dict[str, Any], Transcript]:
        """Draft one section, or redraft it from `current` with the panel's `issues`."""
        section = self.sections[key]
        manifest = self.seeds.manifest
        user = self.prompts.render(
            section.kind.template,
            role=manifest,
            levels=manifest.levels,
            source_ids=self.seeds.source_ids,
            level=section.level,
            level_hints=self.level_hints,
            current=json.dumps(current, indent=1, ensure_ascii=False) if current else None,
            issues=list(issues),
        )
        hint = self.level_hints.get(section.level, "") if section.level else ""
        system, passages = self.view.system_for(f"{manifest.title} {key.replace('.', ' ')} {hint}")
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        result, transcript = self.llm.ask(
            f"drafter:{key}", round_number, self.models[section.kind.name], messages
        )
        transcript.passages = passages
        return result.model_dump(mode="json"), transcript

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
