"""Prepared answers for the scripted endpoint: a valid, grounded draft for every section and
reviewer verdicts a test sets per dimension. Shared by the tests and the benchmarks."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from jfmfactory.inputs.seeds import RoleSeeds
from jfmfactory.pipeline.drafter import assemble, profile_sections
from jfmfactory.records.profile import Profile
from scripted_server import Reply, level_of


def reviewer_title(request: dict[str, Any]) -> str | None:
    """The reviewer a request is for, from its review prompt (a follow-up keeps it)."""
    prompt = next((m["content"] for m in request["messages"] if m["role"] == "user"), "")
    found = re.search(r"Your dimension: (.+?)\. You judge", prompt)
    return found.group(1) if found else None


class Script:
    """Prepared answers: a valid draft for every section; reviewer verdicts set per dimension.

    `verdicts[title]` is a list of (score, issues) used one per round; the last one repeats.
    """

    def __init__(self) -> None:
        self.verdicts: dict[str, list[tuple[int, list[dict[str, str]]]]] = {}
        self.review_counts: dict[str, int] = {}
        self.overrides: dict[str, Callable[[dict[str, Any]], dict[str, Any] | Reply]] = {}

    def __call__(self, request: dict[str, Any]) -> dict[str, Any] | Reply:
        name = request["tool_choice"]["function"]["name"]
        if name in self.overrides:
            return self.overrides[name](request)
        if name == "ReviewDraft":
            return self.review(request)
        return draft_answer(name, level_of(request))

    def review(self, request: dict[str, Any]) -> dict[str, Any]:
        title = reviewer_title(request) or "?"
        count = self.review_counts.get(title, 0)
        self.review_counts[title] = count + 1
        plan = self.verdicts.get(title, [(5, [])])
        score, issues = plan[min(count, len(plan) - 1)]
        return {"issues": issues, "rationale": f"{title}: scored {score}.", "score": score}


#: Five responsibilities per level, worded from the shipped sources, each level wider in scope.
RESPONSIBILITIES = {
    "P2": [
        "Supports the product development process under the guidance of experienced product managers",
        "Conducts market research and gathers customer feedback for assigned features",
        "Assists with product documentation and communication",
        "Executes an end-to-end feature with curiosity to learn",
        "Brings critical thinking and clear communication to feature execution",
    ],
    "P3": [
        "Creates and maintains the product roadmap, prioritizing features",
        "Collaborates with cross-functional partners to deliver the product",
        "Takes on more responsibility and autonomy in product planning and execution",
        "Owns feature launches and pays attention to signals from the market",
        "Defines success and guardrail metrics for the product",
    ],
    "P4": [
        "Leads complex product initiatives with a track record of released products",
        "Mentors and guides junior team members",
        "Works closely with stakeholders to influence prioritization",
        "Owns the strategy for the product or a set of features within a large product",
        "Fosters collaboration across teams and brings clarity to dependent teams",
    ],
    "P5": [
        "Leads the product strategy for a portfolio of products",
        "Crafts a strategy and roadmap for multiple product lines",
        "Works with executive stakeholders to defend the strategy",
        "Thinks in systems about how products impact the broader business",
        "Influences stakeholders with compelling written and verbal communication",
    ],
    "P6": [
        "Oversees a group of products or an entire product line",
        "Has a significant impact on the company's overall product strategy",
        "Sets the direction for multiple products across the organization",
        "Is accountable for the success of the product portfolio",
        "Aligns the team with global goals across the organization",
    ],
    "P7": [
        "Sets the overall product strategy and vision across the entire organization",
        "Brings a company-wide perspective to long-term product vision",
        "Drives innovation and aligns product initiatives with business objectives",
        "Works closely with other C-level executives on high-level decision-making",
        "Crafts internal and external narratives and shapes industry thought leadership",
    ],
}
YEARS = {"P2": 2, "P3": 5, "P4": 8, "P5": 12, "P6": 15, "P7": 20}


def cited(text: str) -> dict[str, Any]:
    return {"text": text, "sources": ["S1", "S2"]}


def draft_answer(name: str, level: str | None) -> dict[str, Any]:
    """A valid, grounded answer for each drafter tool, one that the deterministic checks pass."""
    if name == "OverviewDraft":
        return {
            "description": "Owns discovery and definition of products; decides which problem to solve.",
            "distinct_from": [{"function": "Product Design", "boundary": "UX craft"}],
        }
    if name == "ResponsibilitiesDraft":
        assert level is not None
        return {"responsibilities": [cited(text) for text in RESPONSIBILITIES[level]]}
    if name == "GuidelineDraft":
        assert level is not None
        return {
            "knowledge": cited("Applies product knowledge of market, users and technology"),
            "complexity": cited("Solves problems in product planning and execution"),
            "collaboration": cited("Communicates with engineers and designers"),
            "degree_years": cited(f"{YEARS[level]}+ years with a business degree"),
        }
    if name == "SkillsDraft":
        skills = [
            ("Prioritization", "Makes trade-offs in product prioritization"),
            ("Roadmapping", "Builds product roadmaps that align with company goals"),
            ("Stakeholder management", "Aligns stakeholders with leadership on company goals"),
            ("Analytics", "Defines metrics with advanced analytical skills"),
            ("Communication", "Uses compelling written and verbal communication"),
        ]
        return {"skills": [{"name": n, "description": d, "sources": ["S1", "S2"]} for n, d in skills]}
    if name == "AliasesDraft":
        return {"aliases": [{"title": "Senior Product Manager", "sources": ["S1"]}]}
    if name == "ToolsDraft":
        return {"tools": [{"name": tool, "sources": ["S1"]} for tool in ("OKR", "Roadmap", "API")]}
    raise AssertionError(f"unexpected tool {name}")


def canned_profile(seeds: RoleSeeds) -> Profile:
    """The profile the scripted drafter writes, assembled without a model."""
    sections = {
        section.key: draft_answer(section.kind.response.__name__, section.level)
        for section in profile_sections(seeds.manifest.levels)
    }
    return assemble(seeds, sections, "PRODUC0.PRODUCTM716F.LEVEL")
