"""The sections of a profile, in one registry: what each is called, how its items are read from a
`Profile`, and which Profile fields its drafted JSON fills.

Every part of jfm that names a section or walks a profile's items (the drafter, the panel's
checks and evidence, the views) takes the keys and the items from here, so that the shape of a
profile is written down once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .profile import GUIDELINE_COLUMNS, YEARS_COLUMN, Profile

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
    #: Its place in the section: a guideline cell's column, else its position from 1.
    place: str = ""

    @property
    def id(self) -> str:
        """How a label names the item: responsibilities.P3.2, guidelines.P3.knowledge, skills.4."""
        return f"{self.section}.{self.place}"


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
    #: The names of its items' places, when they are columns rather than positions.
    columns: tuple[str, ...] = ()

    def key(self, level: str | None = None) -> str:
        """The key reviewers and the run record name the section by: skills, responsibilities.P3."""
        return f"{self.name}.{level}" if self.per_level else self.name

    def items(self, profile: Profile, level: str | None = None) -> list[Item]:
        """The section's items in `profile` (at `level`, for a per-level kind), in order."""
        key = self.key(level)
        return [
            Item(key, text, sources, evidence, self.columns[n] if self.columns else str(n + 1))
            for n, (text, sources, evidence) in enumerate(self.walk(profile, level))
        ]

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
    # A cell written from the level rubric (typical years always) is judged against the rubric
    # (check:rubric-years, the rubric's own tests), not the sources.
    return [
        (cell.text, None, [])
        if column == YEARS_COLUMN or cell.rubric
        else (cell.text, cell.sources, cell.evidence)
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
    "guidelines",
    _guidelines,
    per_level=True,
    fill=lambda drafted: {"guidelines": drafted},
    columns=tuple(GUIDELINE_COLUMNS),
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


def cell_key(level: str, column: str) -> str:
    """A guideline cell's key, as the evidence ranks quotes for it: guidelines.LEVEL.COLUMN."""
    return f"{GUIDELINES.key(level)}.{column}"


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
