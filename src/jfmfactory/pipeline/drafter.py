"""The drafter: composes a profile from a role's seeds one section at a time.

A small model writes passable text for one level or one section and nonsense for a whole
profile, so each section is its own structured call with its own prompt template.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from ..errors import BadInput
from ..inputs.passages import SourceView
from ..inputs.prompts import Prompts
from ..inputs.seeds import RoleSeeds
from ..llm.client import LLM, Structured, bind_choices
from ..records.profile import Alias, Cited, LevelGuideline, Profile, Skill, SourceRef, Tool
from ..records.profile import Distinction as DistinctionDraft
from ..records.runlog import Transcript

S = TypeVar("S", bound=str)

#: Drafted sections by key, each as the JSON its response model produced.
Sections = dict[str, dict[str, Any]]


class CitedDraft(Structured, Generic[S]):
    """A statement and the sources it rests on."""

    text: str = Field(min_length=8, max_length=240, description="One sentence.")
    sources: list[S] = Field(min_length=1, max_length=3, description="Ids of supporting sources.")


class OverviewDraft(Structured):
    """The profile's overview."""

    description: str = Field(min_length=40, max_length=600, description="What the role owns.")
    distinct_from: list[DistinctionDraft] = Field(min_length=1, max_length=4)


class ResponsibilitiesDraft(Structured, Generic[S]):
    """Exactly five responsibilities for one level."""

    responsibilities: list[CitedDraft[S]] = Field(min_length=5, max_length=5)


class GuidelineDraft(Structured, Generic[S]):
    """The guideline row for one level."""

    knowledge: CitedDraft[S]
    complexity: CitedDraft[S]
    collaboration: CitedDraft[S]
    degree_years: CitedDraft[S]


class SkillDraft(Structured, Generic[S]):
    """A skill with a one-line description."""

    name: str = Field(min_length=2, max_length=40)
    description: str = Field(min_length=8, max_length=160)
    sources: list[S] = Field(min_length=1, max_length=3)


class SkillsDraft(Structured, Generic[S]):
    """The role's focus skills."""

    skills: list[SkillDraft[S]] = Field(min_length=5, max_length=8)


class ToolDraft(Structured, Generic[S]):
    """A tool or technology."""

    name: str = Field(min_length=1, max_length=40)
    sources: list[S] = Field(min_length=1, max_length=3)


class AliasDraft(Structured, Generic[S]):
    """Another title the sources use."""

    title: str = Field(min_length=2, max_length=60)
    sources: list[S] = Field(min_length=1, max_length=3)


class AliasesDraft(Structured, Generic[S]):
    """Other titles for the role, from the sources; none when they give none."""

    aliases: list[AliasDraft[S]] = Field(max_length=5)


class ToolsDraft(Structured, Generic[S]):
    """Tools and technologies the role uses."""

    tools: list[ToolDraft[S]] = Field(min_length=3, max_length=10)


@dataclass(frozen=True)
class SectionSpec:
    """How one section is drafted: its key, its template and the level it concerns."""

    key: str
    template: str
    level: str | None = None


def section_specs(levels: Iterable[str]) -> list[SectionSpec]:
    """Every drafted section in profile order."""
    levels = list(levels)
    return [
        SectionSpec("overview", "draft_overview.j2"),
        *(SectionSpec(f"responsibilities.{lv}", "draft_responsibilities.j2", lv) for lv in levels),
        *(SectionSpec(f"guidelines.{lv}", "draft_guidelines.j2", lv) for lv in levels),
        SectionSpec("skills", "draft_skills.j2"),
        SectionSpec("tools", "draft_tools.j2"),
        SectionSpec("aliases", "draft_aliases.j2"),
    ]


def _response_generics() -> dict[str, type[BaseModel]]:
    return {
        "draft_responsibilities.j2": ResponsibilitiesDraft,
        "draft_guidelines.j2": GuidelineDraft,
        "draft_skills.j2": SkillsDraft,
        "draft_tools.j2": ToolsDraft,
        "draft_aliases.j2": AliasesDraft,
    }


class Drafter:
    """Drafts and redrafts the sections of one role's profile."""

    def __init__(self, llm: LLM, prompts: Prompts, seeds: RoleSeeds, view: SourceView, code: str) -> None:
        self.llm = llm
        self.prompts = prompts
        self.seeds = seeds
        self.specs = {spec.key: spec for spec in section_specs(seeds.manifest.levels)}
        self.view = view
        self.code = code
        self.level_hints = prompts.table("level_hints.toml")
        missing = [level for level in seeds.manifest.levels if level not in self.level_hints]
        if missing:
            raise BadInput(
                f"{prompts.folder / 'level_hints.toml'}: no hint for level(s) {', '.join(missing)}"
            )
        self.models: dict[str, type[BaseModel]] = {"draft_overview.j2": OverviewDraft}
        for template, generic in _response_generics().items():
            self.models[template] = bind_choices(generic, seeds.source_ids)

    @property
    def section_keys(self) -> list[str]:
        return list(self.specs)

    def draft_section(
        self,
        key: str,
        round_number: int,
        current: dict[str, Any] | None = None,
        issues: Iterable[str] = (),
    ) -> tuple[dict[str, Any], Transcript]:
        """Draft one section, or redraft it from `current` with the panel's `issues`."""
        spec = self.specs[key]
        manifest = self.seeds.manifest
        user = self.prompts.render(
            spec.template,
            role=manifest,
            levels=manifest.levels,
            source_ids=self.seeds.source_ids,
            level=spec.level,
            level_hints=self.level_hints,
            current=json.dumps(current, indent=1, ensure_ascii=False) if current else None,
            issues=list(issues),
        )
        hint = self.level_hints.get(spec.level, "") if spec.level else ""
        system, passages = self.view.system_for(f"{manifest.title} {key.replace('.', ' ')} {hint}")
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        result, transcript = self.llm.ask(
            f"drafter:{key}", round_number, self.models[spec.template], messages
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


def assemble(seeds: RoleSeeds, sections: Sections, code: str) -> Profile:
    """Build the profile from every drafted section."""
    manifest = seeds.manifest
    overview = sections["overview"]
    return Profile(
        role=seeds.role,
        title=manifest.title,
        family=manifest.family,
        focus=manifest.focus,
        code=code,
        description=overview["description"],
        distinct_from=overview["distinct_from"],
        levels=manifest.levels,
        responsibilities={
            lv: [Cited(**item) for item in sections[f"responsibilities.{lv}"]["responsibilities"]]
            for lv in manifest.levels
        },
        guidelines={lv: LevelGuideline(**sections[f"guidelines.{lv}"]) for lv in manifest.levels},
        skills=[Skill(**skill) for skill in sections["skills"]["skills"]],
        tools=[Tool(**tool) for tool in sections["tools"]["tools"]],
        aliases=[Alias(**alias) for alias in sections["aliases"]["aliases"]],
    )
