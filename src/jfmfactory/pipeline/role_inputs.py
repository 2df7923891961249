"""A role's inputs, read and checked once: what its drafter and its panel work from.

The first stage of a run: the screened sources, prompts, schema text, catalog, word lists and
check data, and the evidence gathered from the sources. Nothing here opens an endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pydantic import BaseModel

from ..catalog.catalog import Catalog, load_catalog
from ..errors import BadInput
from ..inputs.guard import screen
from ..inputs.project import Project
from ..inputs.prompts import Prompts
from ..inputs.prose import ProseJudge, load_prose_rules, prompt_runs
from ..inputs.seeds import RoleSeeds, load_role
from ..inputs.text import Vocabulary, load_word_lists
from ..llm.client import LLM
from ..records.evidence import Evidence
from ..records.profile import LEVELS, code_placeholder
from ..records.runlog import Withheld
from ..records.sections import Item
from .checks import CheckInputs, load_check_messages, passes_alone
from .drafter import DRAFT_MODELS, DraftingContext
from .evidence import gather, load_queries
from .item_kinds import example_words
from .panel import Panel, PanelSettings, ReviewDraft, Reviewer
from .schema import SchemaText, load_schema_text

#: Every response model a run asks for: what prompts/schema.toml describes.
RESPONSE_MODELS: list[type[BaseModel]] = [*DRAFT_MODELS, ReviewDraft]


@dataclass
class RoleInputs:
    """A role's inputs, read and checked: what its drafter and its panel work from."""

    seeds: RoleSeeds
    withheld: list[Withheld]
    prompts: Prompts
    catalog: Catalog | None
    schema_text: SchemaText
    checks: CheckInputs

    @property
    def evidence(self) -> Evidence:
        """The quotes the role's sources hold, ranked per section (the evidence stage's output)."""
        assert self.checks.evidence is not None  # read_inputs gathers it
        return self.checks.evidence

    def with_evidence(self, evidence: Evidence) -> RoleInputs:
        """These inputs judging by `evidence` (a resumed run's evidence.json)."""
        return replace(self, checks=replace(self.checks, evidence=evidence))

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


def read_inputs(project: Project, role: str) -> RoleInputs:
    """Read and check everything a run of `role` reads but the endpoints: the screened sources,
    prompts, schema text, catalog, word lists and check data; and gather the role's evidence."""
    loaded = load_role(project.seeds, role)
    if not loaded.sources:
        raise BadInput(f"{project.seeds / role}: no sources yet; add one with jfm add-source {role} FILE|URL")
    seeds, withheld = screen(loaded)
    prompts = Prompts(project.prompts)
    vocabulary = Vocabulary(load_word_lists(project.panel))
    catalog = load_catalog(project.catalog, project.seeds) if project.catalog.is_dir() else None
    manifest = loaded.manifest
    owner = catalog.drafted_elsewhere(role, manifest.family, manifest.focus) if catalog else None
    if owner is not None:
        raise BadInput(
            f"{project.seeds / role / 'manifest.toml'}: focus: {manifest.focus!r} is drafted from {owner}; "
            "name a focus of its own (jfm new suggests one)"
        )
    titles = {level: catalog.rubric.block(level).titles for level in LEVELS} if catalog else {}
    evidence = gather(seeds, titles, load_queries(project.prompts), vocabulary)
    prose = ProseJudge(
        load_prose_rules(project.panel),
        prompt_runs(project.prompts),
        [*LEVELS, *seeds.source_ids, *(quote.id for quote in evidence.quotes)],
    )
    source_terms = {term for source in seeds.sources for term in vocabulary.terms(source.text)}
    example_terms = frozenset(vocabulary.terms(example_words(project.prompts))) - source_terms
    checks = CheckInputs(
        seeds, catalog, vocabulary, load_check_messages(project.panel), prose, evidence, example_terms
    )
    schema_text = load_schema_text(prompts, RESPONSE_MODELS)
    return RoleInputs(seeds, withheld, prompts, catalog, schema_text, checks)
