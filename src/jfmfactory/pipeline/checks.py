"""Deterministic panel members: checks no model can argue with.

Each runs before the LLM reviewers, reports in `run.json` like a reviewer (score, rationale,
issues quoting the exact items), and caps the score of the dimension it serves. Most scores
come from the number of problems found: 0 → 5, 1 → 4, 2–3 → 3, 4–6 → 2, more → 1. Grounding
support scores the share of cited items whose wording the cited sources support:
≥ 95% → 5, ≥ 85% → 4, ≥ 70% → 3, ≥ 50% → 2, less → 1.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from difflib import SequenceMatcher

from ..catalog.catalog import Catalog
from ..inputs.seeds import RoleSeeds
from ..inputs.text import Vocabulary, normalise
from ..records.profile import GUIDELINE_COLUMNS, RESPONSIBILITIES_PER_LEVEL, Cited, Profile
from ..records.runlog import DimensionReview, ReviewIssue

MIN_SKILLS = 5
MIN_TOOLS = 3
#: Two items at least this similar (difflib ratio on normalised text) count as near-duplicates.
NEAR_DUPLICATE_RATIO = 0.85
#: Share of an item's content words that must occur in the sources it cites.
SUPPORT_THRESHOLD = 0.5
#: (most problems, score): see `score_for`.
PROBLEM_BANDS = ((0, 5), (1, 4), (3, 3), (6, 2))
#: (least supported share, score): see `score_for_share`.
SUPPORT_BANDS = ((0.95, 5), (0.85, 4), (0.70, 3), (0.50, 2))


@dataclass(frozen=True)
class Finding:
    """What a check found: its issues, a one-line rationale and the score they earn."""

    issues: list[ReviewIssue]
    rationale: str
    score: int


@dataclass(frozen=True)
class CheckInputs:
    """What the checks judge a profile against: its sources, the catalog, the word lists."""

    seeds: RoleSeeds
    catalog: Catalog | None
    vocabulary: Vocabulary


@dataclass(frozen=True)
class Check:
    """A deterministic member: its name, the dimension it caps, and the check itself."""

    name: str
    caps: str
    run: Callable[[Profile, CheckInputs], Finding]


def score_for(problems: int) -> int:
    return next((score for most, score in PROBLEM_BANDS if problems <= most), 1)


def score_for_share(share: float) -> int:
    return next((score for least, score in SUPPORT_BANDS if share >= least), 1)


def similarity(a: str, b: str) -> float:
    """difflib's ratio, skipped (as 0) when its cheap upper bounds already rule a match out."""
    matcher = SequenceMatcher(None, a, b)
    if matcher.real_quick_ratio() < NEAR_DUPLICATE_RATIO or matcher.quick_ratio() < NEAR_DUPLICATE_RATIO:
        return 0.0
    return matcher.ratio()


def cited_items(profile: Profile) -> Iterator[tuple[str, str, Cited | object]]:
    """Every item that cites sources, with its section key and text."""
    for level in profile.levels:
        for item in profile.responsibilities.get(level, []):
            yield f"responsibilities.{level}", item.text, item
        row = profile.guidelines.get(level)
        if row is not None:
            for key in GUIDELINE_COLUMNS:
                cell = getattr(row, key)
                yield f"guidelines.{level}", cell.text, cell
    for skill in profile.skills:
        yield "skills", f"{skill.name}: {skill.description}", skill
    for tool in profile.tools:
        yield "tools", tool.name, tool
    for alias in profile.aliases:
        yield "aliases", alias.title, alias


def check_completeness(profile: Profile, inputs: CheckInputs) -> Finding:
    issues = []
    if not profile.description.strip():
        issues.append(ReviewIssue(section="overview", quote="", problem="the description is empty"))
    if not profile.distinct_from:
        issues.append(
            ReviewIssue(section="overview", quote="", problem="no function the role is distinct from")
        )
    for level in profile.levels:
        items = profile.responsibilities.get(level, [])
        if len(items) != RESPONSIBILITIES_PER_LEVEL:
            issues.append(
                ReviewIssue(
                    section=f"responsibilities.{level}",
                    quote=items[0].text if items else "",
                    problem=f"{len(items)} responsibilities, not {RESPONSIBILITIES_PER_LEVEL}",
                )
            )
        empty = [item.text for item in items if not item.text.strip()]
        if empty:
            issues.append(
                ReviewIssue(section=f"responsibilities.{level}", quote="", problem="an empty responsibility")
            )
        row = profile.guidelines.get(level)
        for key, heading in GUIDELINE_COLUMNS.items():
            if row is None or not getattr(row, key).text.strip():
                issues.append(
                    ReviewIssue(section=f"guidelines.{level}", quote="", problem=f"{heading} is empty")
                )
    if len(profile.skills) < MIN_SKILLS:
        issues.append(
            ReviewIssue(
                section="skills", quote="", problem=f"{len(profile.skills)} skills, fewer than {MIN_SKILLS}"
            )
        )
    if len(profile.tools) < MIN_TOOLS:
        issues.append(
            ReviewIssue(
                section="tools", quote="", problem=f"{len(profile.tools)} tools, fewer than {MIN_TOOLS}"
            )
        )
    rationale = (
        "every section and cell is filled"
        if not issues
        else f"{len(issues)} gap(s) in the profile's sections"
    )
    return Finding(issues, rationale, score_for(len(issues)))


def check_duplicates(profile: Profile, inputs: CheckInputs) -> Finding:
    seen: list[tuple[str, str, str]] = []  # (level, normalised, text)
    issues = []
    for level in profile.levels:
        for item in profile.responsibilities.get(level, []):
            norm = normalise(item.text)
            for other_level, other_norm, other_text in seen:
                ratio = 1.0 if norm == other_norm else similarity(norm, other_norm)
                if ratio >= NEAR_DUPLICATE_RATIO:
                    kind = "repeats" if ratio == 1.0 else f"nearly repeats ({ratio:.2f})"
                    where = "the same level" if other_level == level else other_level
                    issues.append(
                        ReviewIssue(
                            section=f"responsibilities.{level}",
                            quote=item.text,
                            problem=f'{kind} a responsibility of {where}: "{other_text}"',
                        )
                    )
                    break
            seen.append((level, norm, item.text))
    rationale = (
        "no responsibility repeats another" if not issues else f"{len(issues)} repeated responsibilit(y/ies)"
    )
    return Finding(issues, rationale, score_for(len(issues)))


def check_grounding_support(profile: Profile, inputs: CheckInputs) -> Finding:
    vocabulary = inputs.vocabulary
    texts = {source.id: set(vocabulary.terms(source.text)) for source in inputs.seeds.sources}
    issues = []
    total = 0
    for section, text, item in cited_items(profile):
        total += 1
        cited = list(getattr(item, "sources", []))
        unknown = [sid for sid in cited if sid not in texts]
        if unknown or not cited:
            problem = f"cites unknown source id(s) {', '.join(unknown)}" if unknown else "cites no source"
            issues.append(ReviewIssue(section=section, quote=text, problem=problem))
            continue
        supported = set().union(*(texts[sid] for sid in cited))
        content = vocabulary.terms(text)
        if not content:
            continue
        share = sum(w in supported for w in content) / len(content)
        if share < SUPPORT_THRESHOLD:
            issues.append(
                ReviewIssue(
                    section=section,
                    quote=text,
                    problem=(
                        f"only {share:.0%} of its words occur in {', '.join(cited)} "
                        f"(needs {SUPPORT_THRESHOLD:.0%})"
                    ),
                )
            )
    share = (total - len(issues)) / total if total else 0.0
    rationale = (
        f"{total - len(issues)} of {total} cited items ({share:.0%}) are supported by the sources they cite"
    )
    return Finding(issues, rationale, score_for_share(share))


YEARS = re.compile(r"(\d+)\s*(?:[–-]\s*(\d+))?\s*\+?\s*(?:years?|yrs?)\b")


def years_range(text: str) -> tuple[int, int | None] | None:
    """Typical years as stated: "15+ years" is (15, None), "5–8 years" is (5, 8)."""
    found = YEARS.search(text.lower())
    if found is None:
        return None
    return int(found.group(1)), int(found.group(2)) if found.group(2) else None


def years(text: str) -> int | None:
    """The least typical years a text states."""
    stated = years_range(text)
    return stated[0] if stated else None


def scope_rank(profile: Profile, level: str, scope: list[list[str]]) -> int:
    """The widest scope word used at a level (0 when none is)."""
    text = " ".join(item.text for item in profile.responsibilities.get(level, []))
    row = profile.guidelines.get(level)
    if row is not None:
        text += " " + " ".join(getattr(row, key).text for key in GUIDELINE_COLUMNS)
    found = set(normalise(text).split())
    ranks = [rank for rank, group in enumerate(scope, start=1) if found.intersection(group)]
    return max(ranks, default=0)


def check_level_order(profile: Profile, inputs: CheckInputs) -> Finding:
    issues = []
    previous: tuple[str, int] | None = None
    previous_scope: tuple[str, int] | None = None
    for level in profile.levels:
        row = profile.guidelines.get(level)
        cell = row.degree_years.text if row is not None else ""
        found = years(cell)
        if found is None:
            issues.append(
                ReviewIssue(section=f"guidelines.{level}", quote=cell, problem="states no typical years")
            )
        elif previous is not None and found <= previous[1]:
            issues.append(
                ReviewIssue(
                    section=f"guidelines.{level}",
                    quote=cell,
                    problem=f"{found} years does not rise above {previous[0]}'s {previous[1]}",
                )
            )
        if found is not None:
            previous = (level, found)
        scope = scope_rank(profile, level, inputs.vocabulary.lists.scope)
        if previous_scope is not None and scope < previous_scope[1]:
            issues.append(
                ReviewIssue(
                    section=f"responsibilities.{level}",
                    quote=profile.responsibilities[level][0].text
                    if profile.responsibilities.get(level)
                    else "",
                    problem=f"scope narrower than {previous_scope[0]}'s",
                )
            )
        previous_scope = (level, max(scope, previous_scope[1]) if previous_scope else scope)
    rationale = (
        "years and scope rise level by level" if not issues else f"{len(issues)} level(s) out of order"
    )
    return Finding(issues, rationale, score_for(len(issues)))


def check_rubric_years(profile: Profile, inputs: CheckInputs) -> Finding:
    """Each level's typical years must fall in the rubric's band for it, or the cell says why."""
    catalog = inputs.catalog
    if catalog is None:
        return Finding([], "no level rubric in this project", 5)
    issues = []
    for level in profile.levels:
        row = profile.guidelines.get(level)
        cell = row.degree_years.text if row is not None else ""
        low, high = catalog.rubric.block(level).years
        stated = years_range(cell)
        explained = "rubric" in cell.lower() and "because" in cell.lower()
        # "N+ years" must start inside the band; "N–M years" must lie within it.
        agrees = stated is None or (low <= stated[0] < high and (stated[1] is None or stated[1] <= high))
        if stated is not None and not agrees and not explained:
            found = stated[0]
            issues.append(
                ReviewIssue(
                    section=f"guidelines.{level}",
                    quote=cell,
                    problem=f"{found} years is outside the rubric's {low}–{high} for {level}; "
                    "match it or say why",
                )
            )
    rationale = (
        "typical years agree with the level rubric" if not issues else f"{len(issues)} level(s) disagree"
    )
    return Finding(issues, rationale, score_for(len(issues)))


def check_aliases(profile: Profile, inputs: CheckInputs) -> Finding:
    """A drafted title alias must not be the name or an alias of another focus in the catalog."""
    catalog = inputs.catalog
    focus = catalog.for_role(profile.role) if catalog is not None else None
    if catalog is None or focus is None:
        return Finding([], "the role is not in the catalog", 5)
    issues = []
    for alias in profile.aliases:
        owner = catalog.alias_owner(alias.title, focus)
        if owner is not None:
            issues.append(ReviewIssue(section="aliases", quote=alias.title, problem=f"is a title of {owner}"))
    rationale = (
        "no alias belongs to another focus" if not issues else f"{len(issues)} alias(es) of other foci"
    )
    return Finding(issues, rationale, score_for(len(issues)))


CHECKS = (
    Check("check:completeness", "completeness", check_completeness),
    Check("check:duplicates", "level-differentiation", check_duplicates),
    Check("check:grounding-support", "grounding", check_grounding_support),
    Check("check:level-order", "level-differentiation", check_level_order),
    Check("check:rubric-years", "level-differentiation", check_rubric_years),
    Check("check:aliases", "role-boundaries", check_aliases),
)


def run_checks(profile: Profile, inputs: CheckInputs, dimensions: list[str]) -> list[DimensionReview]:
    """Every deterministic member whose dimension is on the panel."""
    reviews = []
    for check in CHECKS:
        if check.caps not in dimensions:
            continue
        finding = check.run(profile, inputs)
        reviews.append(
            DimensionReview(
                member=check.name,
                kind="check",
                dimension=check.caps,
                score=finding.score,
                rationale=finding.rationale,
                issues=finding.issues,
            )
        )
    return reviews
