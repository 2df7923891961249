"""A role's inputs, read and checked once: what its drafter and its panel work from.

The first stage of a run: the screened sources, prompts, schema text, catalog, word lists and
check data, and the evidence gathered from the sources. Nothing here opens an endpoint.

What every role of a project reads alike (`ProjectInputs`) is read once for a catalog of roles,
and shared: reading it again for each of ten thousand roles would cost minutes and gigabytes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

from pydantic import BaseModel

from ..catalog.catalog import Catalog, load_catalog
from ..errors import BadInput
from ..inputs.guard import screen
from ..inputs.project import Project
from ..inputs.prompts import Prompts
from ..inputs.prose import ProseJudge, ProseRules, load_prose_rules, prompt_runs
from ..inputs.seeds import RoleSeeds, load_role
from ..inputs.text import Vocabulary, load_word_lists
from ..llm.client import LLM
from ..records.evidence import Evidence
from ..records.profile import LEVELS, code_placeholder
from ..records.runlog import Withheld
from ..records.sections import Item
from .checks import CheckInputs, Messages, load_check_messages, passes_alone
from .drafter import DRAFT_MODELS, DraftingContext
from .evidence import EvidenceQueries, gather, load_queries
from .item_kinds import ITEM_KINDS, KindPrompt, example_words, load_kind_prompts
from .panel import Panel, PanelSettings, ReviewDraft, Reviewer
from .schema import SchemaText, load_schema_text

#: Every response model a run asks for: what prompts/schema.toml describes.
RESPONSE_MODELS: list[type[BaseModel]] = [*DRAFT_MODELS, ReviewDraft]


@dataclass(frozen=True)
class ProjectInputs:
    """What every role of a project reads alike: prompts, word lists, catalog and check data."""

    prompts: Prompts
    vocabulary: Vocabulary
    catalog: Catalog | None
    queries: EvidenceQueries
    prose_rules: ProseRules
    #: The runs of words of the prompts, which no item may echo.
    echoes: frozenset[tuple[str, ...]]
    #: The stems of the worked examples' occupation, which no item may borrow.
    example_terms: frozenset[str]
    check_messages: dict[str, Messages]
    schema_text: SchemaText

    @functools.cached_property
    def kind_prompts(self) -> dict[str, KindPrompt]:
        """Each item kind's template and response model, by kind name (read when a drafter first
        needs them: a review reads none)."""
        return load_kind_prompts(self.prompts, ITEM_KINDS)


def read_project_inputs(project: Project) -> ProjectInputs:
    """Read and check what every role of `project` reads alike."""
    prompts = Prompts(project.prompts)
    vocabulary = Vocabulary(load_word_lists(project.panel))
    return ProjectInputs(
        prompts=prompts,
        vocabulary=vocabulary,
        catalog=load_catalog(project.catalog, project.seeds) if project.catalog.is_dir() else None,
        queries=load_queries(project.prompts),
        prose_rules=load_prose_rules(project.panel),
        echoes=prompt_runs(project.prompts),
        example_terms=frozenset(vocabulary.terms(example_words(project.prompts))),
        check_messages=load_check_messages(project.panel),
        schema_text=load_schema_text(prompts, RESPONSE_MODELS),
    )


@dataclass
class RoleInputs:
    """A role's inputs, read and checked: what its drafter and its panel work from."""

    seeds: RoleSeeds
    withheld: list[Withheld]
    checks: CheckInputs
    #: What the role reads alike with every other role of its project.
    shared: ProjectInputs

    @property
    def prompts(self) -> Prompts:
        return self.shared.prompts

    @property
    def catalog(self) -> Catalog | None:
        return self.shared.catalog

    @property
    def schema_text(self) -> SchemaText:
        return self.shared.schema_text

    @property
    def evidence(self) -> Evidence:
        """The quotes the role's sources hold, ranked per section (the evidence stage's output)."""
        assert self.checks.evidence is not None  # read_inputs gathers it
        return self.checks.evidence

    def with_evidence(self, evidence: Evidence) -> RoleInputs:
        """These inputs judging by `evidence` (a resumed run's evidence.json, a calibration case's
        quotes) instead of the evidence read with them."""
        return replace(self, checks=check_inputs(self.seeds, self.shared, evidence))

    def panel(
        self, judge: LLM, reviewers: list[Reviewer], sections: list[str], settings: PanelSettings
    ) -> Panel:
        return Panel(judge, self.prompts, reviewers, self.checks, sections, settings, self.schema_text)

    def drafting_context(self, ladder: bool = False) -> DraftingContext:
        """The evidence, the rubric's years and guideline cells, and the catalog's neighbouring foci
        the drafter uses."""
        catalog = self.catalog
        levels = self.seeds.manifest.levels
        checks = self.checks

        def accepts(item: Item) -> bool:
            return passes_alone(item, checks)

        if catalog is None:
            return DraftingContext(self.evidence, {}, [], ladder, accepts)
        years = {level: catalog.rubric.block(level).years for level in levels}
        focus = catalog.for_role(self.seeds.role)
        neighbours = [
            {"function": other.name, "boundary": ", ".join(other.entry.territory[:3])}
            for other in (catalog.neighbours(focus) if focus is not None else [])
        ]
        cells = {
            level: block.guidelines.model_dump()
            for level in levels
            if (block := catalog.rubric.block(level)).guidelines is not None
        }
        return DraftingContext(self.evidence, years, neighbours, ladder, accepts, cells)

    @property
    def code(self) -> str:
        """The role's catalog code with LEVEL for the level; a readable placeholder off-catalog."""
        focus = self.catalog.for_role(self.seeds.role) if self.catalog else None
        manifest = self.seeds.manifest
        return focus.code("LEVEL") if focus else code_placeholder(manifest.family, manifest.focus)


def read_inputs(
    project: Project, role: str, shared: ProjectInputs | None = None, evidence: Evidence | None = None
) -> RoleInputs:
    """Read and check everything a run of `role` reads but the endpoints: the screened sources,
    prompts, schema text, catalog, word lists and check data (`shared`, when read already); and
    gather the role's evidence, unless `evidence` is given (the evidence.json a reviewed profile
    was drafted from)."""
    loaded = load_role(project.seeds, role)
    if not loaded.sources:
        raise BadInput(f"{project.seeds / role}: no sources yet; add one with jfm add-source {role} FILE|URL")
    seeds, withheld = screen(loaded)
    shared = shared or read_project_inputs(project)
    catalog = shared.catalog
    manifest = loaded.manifest
    owner = catalog.drafted_elsewhere(role, manifest.family, manifest.focus) if catalog else None
    if owner is not None:
        raise BadInput(
            f"{project.seeds / role / 'manifest.toml'}: focus: {manifest.focus!r} is drafted from {owner}; "
            "name a focus of its own (jfm new suggests one)"
        )
    if evidence is None:
        titles = {level: catalog.rubric.block(level).titles for level in LEVELS} if catalog else {}
        evidence = gather(seeds, titles, shared.queries, shared.vocabulary)
    return RoleInputs(seeds, withheld, check_inputs(seeds, shared, evidence), shared)


def check_inputs(seeds: RoleSeeds, shared: ProjectInputs, evidence: Evidence) -> CheckInputs:
    """What the checks judge a role's items by: `evidence`'s quote ids are among the codes an
    item's text may not name."""
    vocabulary = shared.vocabulary
    prose = ProseJudge(
        shared.prose_rules,
        shared.echoes,
        [*LEVELS, *seeds.source_ids, *(quote.id for quote in evidence.quotes)],
    )
    source_terms = {term for source in seeds.sources for term in vocabulary.terms(source.text)}
    example_terms = shared.example_terms - source_terms
    return CheckInputs(
        seeds, shared.catalog, vocabulary, shared.check_messages, prose, evidence, example_terms
    )
