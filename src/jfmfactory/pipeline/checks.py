"""Deterministic panel members: checks no model can argue with.

Each runs before the LLM reviewers, reports in `run.json` like a reviewer (score, rationale,
issues quoting the exact items), and caps the score of the dimension whose reviewer file declares
it (`checks = [...]` in `panel/<dimension>.toml`). Most scores come from the number of problems
found: 0 → 5, 1 → 4, 2–3 → 3, 4–6 → 2, more → 1; the checks that judge single items fail their
dimension on one (BLATANT_BANDS), grounding support included: an item that
cites a source must rest on a quote (evidence.json) that stands in that source word for word and
whose wording supports the item.

The problem each issue states reaches the drafter when the section is redrafted, so its wording
is data: `panel/_checks.toml`, one format string per message.
"""

from __future__ import annotations

import itertools
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

from ..catalog.catalog import Catalog
from ..errors import BadInput
from ..inputs.datafile import read_toml
from ..inputs.grammar import (
    SECOND_PERSON,
    as_duty,
    gerund_chain,
    has_own_verb,
    is_clause_sentence,
    is_name,
    lemma,
    starts_with_duty_verb,
    stutter,
    words,
)
from ..inputs.prose import ProseJudge, ends_with_stop
from ..inputs.seeds import RoleSeeds
from ..inputs.text import Vocabulary, normalise
from ..records.evidence import Evidence
from ..records.profile import (
    GUIDELINE_COLUMNS,
    LEVELS,
    RESPONSIBILITIES_AT_LEAST,
    RESPONSIBILITIES_PER_LEVEL,
    Profile,
)
from ..records.runlog import DimensionReview, ReviewIssue
from ..records.sections import (
    ALIASES,
    GUIDELINES,
    OVERVIEW,
    RESPONSIBILITIES,
    SKILLS,
    TOOLS,
    Item,
    SectionKind,
    items,
    profile_sections,
)

MESSAGES_FILE = "_checks.toml"
#: The fewest skills a profile shows: where the sources name fewer the house style can say, fewer
#: is right, down to this.
MIN_SKILLS = 3
#: Two items at least this similar (difflib ratio on normalised text) count as near-duplicates.
NEAR_DUPLICATE_RATIO = 0.85
#: (most problems, score): see `score_for`.
PROBLEM_BANDS = ((0, 5), (1, 4), (3, 3), (6, 2))
#: For faults no reader would let pass (broken prose, an item the house style or its quotes do
#: not allow, a duty said twice, another function's work): one fails its dimension.
BLATANT_BANDS = ((0, 5), (1, 3), (3, 2))
#: Share of an item's word pairs that must stand, in order, in one passage of a source it cites.
SUPPORT_PAIRS = 0.2
#: Content words an item may add to its quotes (its leading verb aside): none, as a word the
#: quotes lack is most often the drafter's own claim ("Prioritizes features and makes sure they
#: are used"); measured on readers' labels (calibration/RESULTS.md), one allowed let a third of
#: the distorted items through.
ADDED_WORDS_ALLOWED = 0


@dataclass(frozen=True)
class Finding:
    """What a check found: its issues, a one-line rationale and the score they earn."""

    issues: list[ReviewIssue]
    rationale: str
    score: int


class Messages:
    """One check's problem messages, as `panel/_checks.toml` words them: format strings by key."""

    def __init__(self, templates: Mapping[str, str]) -> None:
        self.templates = templates

    def __call__(self, key: str, **fields: object) -> str:
        """The message `key` with `fields` filled in."""
        return self.templates[key].format(**fields)


@dataclass(frozen=True)
class CheckInputs:
    """What the checks judge a profile against (its sources, the catalog, the word lists) and the
    words they state problems in (each check's messages, by check name)."""

    seeds: RoleSeeds
    catalog: Catalog | None
    vocabulary: Vocabulary
    messages: Mapping[str, Messages]
    prose: ProseJudge
    #: The quotes items rest on; None where a profile has none (then no item is grounded).
    evidence: Evidence | None = None
    #: Stems of the drafter's worked examples (prompts/examples.toml) that no source uses: an
    #: item using one its quotes lack took it from an example, not from the evidence.
    example_terms: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Check:
    """A deterministic member: its name (as reviewer files declare it), the check itself, and the
    messages it states problems in, each with the fields its format string may use."""

    name: str
    run: Callable[[Profile, CheckInputs, Messages], Finding]
    messages: Mapping[str, tuple[str, ...]]

    @property
    def member(self) -> str:
        """The member's name in `run.json`: check:NAME."""
        return f"check:{self.name}"


#: Every check, in the order `run.json` lists them (the order they are declared).
CHECKS: list[Check] = []
CheckFunction = Callable[[Profile, CheckInputs, Messages], Finding]


def check(name: str, messages: Mapping[str, tuple[str, ...]]) -> Callable[[CheckFunction], CheckFunction]:
    """Declare a check: its name (as reviewer files name it) and its messages, each with the
    fields its format string in `panel/_checks.toml` may use."""

    def register(run: CheckFunction) -> CheckFunction:
        CHECKS.append(Check(name, run, messages))
        return run

    return register


def score_for(problems: int, bands: tuple[tuple[int, int], ...] = PROBLEM_BANDS) -> int:
    return next((score for most, score in bands if problems <= most), 1)


def similarity(a: str, b: str) -> float:
    """difflib's ratio, skipped (as 0) when its cheap upper bounds already rule a match out."""
    matcher = SequenceMatcher(None, a, b)
    if matcher.real_quick_ratio() < NEAR_DUPLICATE_RATIO or matcher.quick_ratio() < NEAR_DUPLICATE_RATIO:
        return 0.0
    return matcher.ratio()


@check(
    "completeness",
    {
        "empty-description": (),
        "responsibility-count": ("count", "least", "most"),
        "empty-responsibility": (),
        "empty-cell": ("column",),
        "few-skills": ("count", "least"),
        "code-as-name": ("name",),
    },
)
def check_completeness(profile: Profile, inputs: CheckInputs, say: Messages) -> Finding:
    issues = []
    prose = inputs.prose
    if prose.empty(profile.description):
        issues.append(
            ReviewIssue(section=OVERVIEW.key(), quote=profile.description, problem=say("empty-description"))
        )
    # A profile naming no distinctions fails the boundaries check (its own dimension's).
    for level in profile.levels:
        responsibilities = RESPONSIBILITIES.items(profile, level)
        if not RESPONSIBILITIES_AT_LEAST <= len(responsibilities) <= RESPONSIBILITIES_PER_LEVEL:
            issues.append(
                ReviewIssue(
                    section=RESPONSIBILITIES.key(level),
                    quote=responsibilities[0].text if responsibilities else "",
                    problem=say(
                        "responsibility-count",
                        count=len(responsibilities),
                        least=RESPONSIBILITIES_AT_LEAST,
                        most=RESPONSIBILITIES_PER_LEVEL,
                    ),
                )
            )
        for item in responsibilities:
            if prose.empty(item.text):
                issues.append(
                    ReviewIssue(section=item.section, quote=item.text, problem=say("empty-responsibility"))
                )
        row = profile.guidelines.get(level)
        for key, heading in GUIDELINE_COLUMNS.items():
            text = getattr(row, key).text if row is not None else ""
            if prose.empty(text):
                issues.append(
                    ReviewIssue(
                        section=GUIDELINES.key(level), quote=text, problem=say("empty-cell", column=heading)
                    )
                )
    for item in [*SKILLS.items(profile), *TOOLS.items(profile)]:
        name = item.text.split(":", 1)[0]
        if prose.names_nothing(name):
            issues.append(
                ReviewIssue(section=item.section, quote=item.text, problem=say("code-as-name", name=name))
            )
    if len(profile.skills) < MIN_SKILLS:
        issues.append(
            ReviewIssue(
                section=SKILLS.key(),
                quote="",
                problem=say("few-skills", count=len(profile.skills), least=MIN_SKILLS),
            )
        )
    # Tools have no least number: where the sources name fewer, fewer is right (check:house-style
    # judges each one named).
    rationale = (
        "every section and cell is filled"
        if not issues
        else f"{len(issues)} gap(s) in the profile's sections"
    )
    return Finding(issues, rationale, score_for(len(issues)))


@check(
    "duplicates",
    {
        "repeats": ("where", "other", "ratio"),
        "nearly-repeats": ("where", "other", "ratio"),
        "same-level": (),
        "same-duty": ("other",),
    },
)
def check_duplicates(profile: Profile, inputs: CheckInputs, say: Messages) -> Finding:
    seen: list[tuple[str, str, str]] = []  # (level, normalised, text)
    issues = []
    for level in profile.levels:
        at_level: list[tuple[set[str], str]] = []  # (content words, text) of the level's items
        for item in RESPONSIBILITIES.items(profile, level):
            terms = set(inputs.vocabulary.terms(item.text))
            same = next((text for other, text in at_level if _one_holds_the_other(terms, other)), None)
            at_level.append((terms, item.text))
            if same is not None:
                problem = say("same-duty", other=same)
                issues.append(ReviewIssue(section=item.section, quote=item.text, problem=problem))
                continue
            norm = normalise(item.text)
            for other_level, other_norm, other_text in seen:
                ratio = 1.0 if norm == other_norm else similarity(norm, other_norm)
                if ratio >= NEAR_DUPLICATE_RATIO:
                    key = "repeats" if ratio == 1.0 else "nearly-repeats"
                    where = say("same-level") if other_level == level else other_level
                    issues.append(
                        ReviewIssue(
                            section=item.section,
                            quote=item.text,
                            problem=say(key, where=where, other=other_text, ratio=ratio),
                        )
                    )
                    break
            seen.append((level, norm, item.text))
    rationale = (
        "no responsibility repeats another" if not issues else f"{len(issues)} repeated responsibilit(y/ies)"
    )
    return Finding(issues, rationale, score_for(len(issues), BLATANT_BANDS))


def _one_holds_the_other(terms: set[str], other: set[str]) -> bool:
    """Whether every content word of one duty (two at least) is in the other: "Mentors PMs." and
    "Mentors junior PMs at this level." say one thing twice."""
    return min(len(terms), len(other)) >= 2 and (terms <= other or other <= terms)


@check(
    "grounding-support",
    {
        "unknown-sources": ("ids",),
        "no-sources": (),
        "no-evidence": (),
        "unknown-quote": ("id",),
        "quote-not-in-source": ("quote", "source"),
        "unsupported": ("share", "needed"),
        "adds-words": ("words",),
        "borrowed": ("words",),
    },
)
def check_grounding_support(profile: Profile, inputs: CheckInputs, say: Messages) -> Finding:
    """Every item that cites sources must rest on quotes (its `evidence`) that stand, word for
    word, in the sources they name (and the item cites), and at least SUPPORT_PAIRS of the item's
    consecutive content words must stand side by side, in order, in one of its quotes, and it may
    use no word of the worked examples that its quotes lack. Sharing words with a quote is not
    enough: a sentence with its words shuffled shares every word and almost no pair."""
    vocabulary = inputs.vocabulary
    sources = {source.id: source.text for source in inputs.seeds.sources}
    evidence = inputs.evidence
    issues = []
    total = 0
    for item in items(profile):
        cited = item.sources
        if cited is None:
            continue
        total += 1
        problem = _evidence_problem(item, sources, evidence, say)
        if problem is None:
            quote_terms = _quote_terms(item, inputs)
            terms = vocabulary.terms(item.text)
            borrowed = sorted(set(terms) & inputs.example_terms - {t for q in quote_terms for t in q})
            share = quote_support(item, inputs)
            added = added_words(item, inputs)
            if borrowed:
                problem = say("borrowed", words=", ".join(borrowed))
            elif share < SUPPORT_PAIRS:
                problem = say("unsupported", share=share, needed=SUPPORT_PAIRS)
            elif len(added) > ADDED_WORDS_ALLOWED:
                problem = say("adds-words", words=", ".join(added))
        if problem is not None:
            issues.append(ReviewIssue(section=item.section, quote=item.text, problem=problem))
    rationale = f"{total - len(issues)} of {total} cited items rest on a verified quote that supports them"
    return Finding(issues, rationale, score_for(len(issues), BLATANT_BANDS))


def _evidence_problem(
    item: Item, sources: Mapping[str, str], evidence: Evidence | None, say: Messages
) -> str | None:
    """What is wrong with the quotes an item rests on, if anything."""
    unknown = [sid for sid in item.sources or [] if sid not in sources]
    if unknown:
        return say("unknown-sources", ids=", ".join(unknown))
    if not item.sources:
        return say("no-sources")
    if not item.evidence:
        return say("no-evidence")
    for qid in item.evidence:
        quote = evidence.quote(qid) if evidence else None
        if quote is None:
            return say("unknown-quote", id=qid)
        if quote.source not in (item.sources or []) or quote.text not in sources.get(quote.source, ""):
            return say("quote-not-in-source", quote=quote.text, source=quote.source)
    return None


def _quote_terms(item: Item, inputs: CheckInputs) -> list[list[str]]:
    """The content words of each quote the item rests on (those the evidence holds)."""
    evidence = inputs.evidence
    quotes = [evidence.quote(qid) for qid in item.evidence] if evidence else []
    return [inputs.vocabulary.terms(quote.text) for quote in quotes if quote is not None]


def added_words(item: Item, inputs: CheckInputs) -> list[str]:
    """The content words of an item that none of its quotes has (compared by dictionary form): a
    claim the quotes do not make. The verb a duty (or a skill's use) starts with is the item's
    own where its quotes name a thing but no action ("Applies" before "advanced knowledge of …")."""
    evidence = inputs.evidence
    quotes = [q.text for qid in item.evidence if evidence is not None and (q := evidence.quote(qid))]
    if not quotes:
        return []
    roots = _roots(inputs)
    quoted = {root for quote in quotes for root in roots(quote)}
    text = item.text.split(": ", 1)[1] if item.section == SKILLS.key() and ": " in item.text else item.text
    first = words(text)[:1]
    own: set[str] = set()
    acts = any(has_own_verb(quote) or as_duty(quote) is not None for quote in quotes)
    if first and starts_with_duty_verb(text) and not acts:
        own = set(roots(first[0]))
    # Numbers carry no claim a reader would strike ("1-3-year").
    return sorted({root for root in roots(text) if root not in quoted | own and root.isalpha()})


def _roots(inputs: CheckInputs) -> Callable[[str], list[str]]:
    """Content words as stems of their dictionary forms: "hypotheses" and "hypothesis" alike."""
    vocabulary = inputs.vocabulary
    return lambda text: vocabulary.terms(" ".join(lemma(word) for word in vocabulary.words(text)))


def quote_support(item: Item, inputs: CheckInputs) -> float:
    """How well an item's quotes support it, as `check_grounding_support` measures it (0 to 1)."""
    return support(inputs.vocabulary.terms(item.text), [_pairs(q) for q in _quote_terms(item, inputs)])


def _pairs(terms: list[str]) -> set[tuple[str, str]]:
    return set(itertools.pairwise(terms)) | {(term, term) for term in terms}


def support(terms: list[str], passages: list[set[tuple[str, str]]]) -> float:
    """The largest share of the item's consecutive term pairs found in one passage (a quote's
    pairs; for an item of one term, whether a passage holds it)."""
    pairs = list(itertools.pairwise(terms)) or [(term, term) for term in terms]
    if not pairs:
        return 1.0
    return max((sum(pair in passage for pair in pairs) / len(pairs) for passage in passages), default=0.0)


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


@check(
    "level-order",
    {
        "no-years": (),
        "years-not-rising": ("years", "below", "below_years"),
    },
)
def check_level_order(profile: Profile, inputs: CheckInputs, say: Messages) -> Finding:
    issues = []
    previous: tuple[str, int] | None = None
    for level in profile.levels:
        row = profile.guidelines.get(level)
        cell = row.degree_years.text if row is not None else ""
        found = years(cell)
        if found is None:
            issues.append(ReviewIssue(section=GUIDELINES.key(level), quote=cell, problem=say("no-years")))
        elif previous is not None and found <= previous[1]:
            issues.append(
                ReviewIssue(
                    section=GUIDELINES.key(level),
                    quote=cell,
                    problem=say("years-not-rising", years=found, below=previous[0], below_years=previous[1]),
                )
            )
        if found is not None:
            previous = (level, found)
    rationale = "typical years rise level by level" if not issues else f"{len(issues)} level(s) out of order"
    return Finding(issues, rationale, score_for(len(issues)))


@check("rubric-years", {"outside-rubric": ("years", "low", "high", "level")})
def check_rubric_years(profile: Profile, inputs: CheckInputs, say: Messages) -> Finding:
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
            issues.append(
                ReviewIssue(
                    section=GUIDELINES.key(level),
                    quote=cell,
                    problem=say("outside-rubric", years=stated[0], low=low, high=high, level=level),
                )
            )
    rationale = (
        "typical years agree with the level rubric" if not issues else f"{len(issues)} level(s) disagree"
    )
    return Finding(issues, rationale, score_for(len(issues)))


@check("aliases", {"title-of-other-focus": ("owner",)})
def check_aliases(profile: Profile, inputs: CheckInputs, say: Messages) -> Finding:
    """A drafted title alias must not be the name or an alias of another focus in the catalog."""
    catalog = inputs.catalog
    focus = catalog.for_role(profile.role) if catalog is not None else None
    if catalog is None or focus is None:
        return Finding([], "the role is not in the catalog", 5)
    issues = []
    for alias in ALIASES.items(profile):
        owner = catalog.alias_owner(alias.text, focus)
        if owner is not None:
            issues.append(
                ReviewIssue(
                    section=alias.section, quote=alias.text, problem=say("title-of-other-focus", owner=owner)
                )
            )
    rationale = (
        "no alias belongs to another focus" if not issues else f"{len(issues)} alias(es) of other foci"
    )
    return Finding(issues, rationale, score_for(len(issues)))


@check(
    "prose",
    {
        key: ()
        for key in (
            "placeholder",
            "prompt-echo",
            "meta-text",
            "code-in-prose",
            "lower-case-start",
            "cut-off",
            "word-order",
        )
    },
)
def check_prose(profile: Profile, inputs: CheckInputs, say: Messages) -> Finding:
    """Every sentence of the profile reads as one: no placeholders, prompt echoes, talk about the
    profile, level codes or source ids in prose, lower-case starts, cut-off ends or shuffled words."""
    # The overview's distinctions ("Design: UX craft"), tools and aliases are names, not sentences.
    # Whether an item lacking a final stop was cut off is judged within its kind of section: the
    # published profiles end duties without a stop and guideline cells with one.
    kinds: dict[SectionKind, list[Item]] = {OVERVIEW: OVERVIEW.items(profile)[:1]}
    for section in profile_sections(profile.levels):
        if section.kind in (RESPONSIBILITIES, GUIDELINES, SKILLS):
            kinds.setdefault(section.kind, []).extend(section.items(profile))
    issues = [
        ReviewIssue(section=item.section, quote=item.text, problem=say(problem))
        for sentences in kinds.values()
        for item in sentences
        for problem in inputs.prose.problems(item.text, ends_with_stop([i.text for i in sentences]))[:1]
    ]
    rationale = (
        "every item reads as a sentence" if not issues else f"{len(issues)} item(s) do not read as sentences"
    )
    return Finding(issues, rationale, score_for(len(issues), BLATANT_BANDS))


@check(
    "house-style",
    {
        "addresses-reader": (),
        "not-a-duty": (),
        "not-a-sentence": (),
        "stutter": ("word",),
        "runs-on": (),
        "beyond-level": ("level", "term"),
        "names-level": (),
        "other-column": (),
        "named-twice": (),
        "not-a-name": (),
        "restates-name": (),
        "describes": (),
        "not-a-tool": (),
        "generic-title": (),
    },
)
def check_house_style(profile: Profile, inputs: CheckInputs, say: Messages) -> Finding:
    """Each item is written as the published profiles write theirs (the house style): a duty is
    a verb in the third person first, the subject left out; a guideline cell is a sentence of its
    own column; nothing addresses the reader or says a word twice; a skill is named once; a tool
    is a product the sources name as one; an alias names the role's own work."""
    problems = [(item, *found) for item in items(profile) if (found := style_problem(item, inputs))]
    for kind in (SKILLS, TOOLS):
        names: set[str] = set()
        for item in kind.items(profile):
            name = " ".join(inputs.vocabulary.stems(item.text.split(": ", 1)[0]))
            if name in names:
                problems.append((item, "named-twice", {}))
            names.add(name)
    issues = [
        ReviewIssue(section=item.section, quote=item.text, problem=say(key, **fields))
        for item, key, fields in problems
    ]
    rationale = (
        "every item is in the house style" if not issues else f"{len(issues)} item(s) not in the house style"
    )
    return Finding(issues, rationale, score_for(len(issues), BLATANT_BANDS))


def style_problem(item: Item, inputs: CheckInputs) -> tuple[str, dict[str, object]] | None:
    """What keeps one item from the house style on its own (the message key and its fields), if
    anything: check:house-style's judgment of an item, which the drafter asks of every item it
    writes. A duty (or a skill's use) starts with its verb and describes no one; a skill has a
    name, and its use says more than the name; a guideline cell is a sentence of its column; a
    tool is a product; an alias names the role's own work."""
    kind = item.section.split(".")[0]
    if kind == TOOLS.name:
        sources = [source.text for source in inputs.seeds.sources]
        named = _named_as_a_product(item.text, sources if item.sources else None, inputs)
        return None if named else ("not-a-tool", {})
    if kind == ALIASES.name:
        own = _own_words(inputs)
        return None if own & set(inputs.vocabulary.terms(item.text)) else ("generic-title", {})
    if kind not in (RESPONSIBILITIES.name, GUIDELINES.name, SKILLS.name) or item.sources is None:
        return None  # the overview and the rubric's years (a cell no quote speaks to is judged)
    skill, _, use = item.text.partition(": ") if kind == SKILLS.name else ("", "", item.text)
    text = use or item.text
    repeated = stutter(text)
    if SECOND_PERSON.search(item.text):
        return "addresses-reader", {}
    if skill and not is_name(skill):
        return "not-a-name", {}
    # "Empathy for users: Explains empathy to users": the name again after a verb, nothing more.
    name_terms = set(inputs.vocabulary.terms(skill))
    use_terms = inputs.vocabulary.terms(text)
    if name_terms and name_terms <= set(use_terms) and not set(use_terms[1:]) - name_terms:
        return "restates-name", {}
    if kind == GUIDELINES.name:
        if not is_clause_sentence(text):
            return "not-a-sentence", {}
        if inputs.vocabulary.lists.degrees & set(normalise(text).split()) or years(text) is not None:
            return "other-column", {}
    elif not starts_with_duty_verb(_after_adverb(text)):
        return "not-a-duty", {}
    elif any(pattern.search(text) for pattern in inputs.vocabulary.lists.describes):
        return "describes", {}
    if repeated:
        return "stutter", {"word": repeated}
    if gerund_chain(text):
        return "runs-on", {}
    beyond = _beyond_level(item, inputs) if kind == RESPONSIBILITIES.name else None
    if beyond is not None:
        return "beyond-level", {"level": beyond[0], "term": beyond[1]}
    return ("names-level", {}) if _names_a_level(text, inputs) else None


def passes_alone(item: Item, inputs: CheckInputs) -> bool:
    """Whether the gate lets an item pass on its own: in the house style, and (when it rests on
    quotes) supported by them, saying nothing they do not and borrowing no
    example's words. What the drafter asks of each item it writes; lists and levels are judged
    by the checks."""
    if style_problem(item, inputs) is not None:
        return False
    if not item.evidence:
        return True
    borrowed = set(inputs.vocabulary.terms(item.text)) & inputs.example_terms
    supported = quote_support(item, inputs) >= SUPPORT_PAIRS
    return not borrowed and supported and len(added_words(item, inputs)) <= ADDED_WORDS_ALLOWED


def _names_a_level(text: str, inputs: CheckInputs) -> bool:
    """Whether an item says which level it is at ("at this level", "at mid-level"): the section
    says so, and an item that does reads as a note about the ladder, not a duty. Only a level's
    name counts, not a seniority word ("for senior leadership" is a duty's audience), nor a level's
    name before the people it qualifies ("for C-level executives")."""
    catalog = inputs.catalog
    titles = [title for level in LEVELS for title in catalog.rubric.block(level).titles] if catalog else []
    levels = "|".join(re.escape(title) for title in titles if "level" in title)
    named = r"(?:this|that|each) level\b" + (rf"|(?:{levels})\b(?! [a-z])" if levels else "")
    return bool(re.search(rf"\b(?:at|for) (?:the )?(?:{named})", text, re.I))


def _beyond_level(item: Item, inputs: CheckInputs) -> tuple[str, str] | None:
    """The level two or more above an item's whose scope it names, and the term, if any: a P4
    duty "for a portfolio of products" takes the scope the rubric first gives P6."""
    catalog = inputs.catalog
    level = item.section.split(".")[-1]
    if catalog is None or level not in LEVELS:
        return None
    text = item.text.lower()
    for above in LEVELS[LEVELS.index(level) + 2 :]:
        term = next(
            (t for t in catalog.rubric.block(above).scope_terms if re.search(rf"\b{re.escape(t)}\b", text)),
            None,
        )
        if term is not None:
            return above, term
    return None


def _after_adverb(text: str) -> str:
    """The text after a leading adverb of manner ("Effectively uses …" → "uses …")."""
    first, _, rest = text.partition(" ")
    return rest if first.lower().endswith("ly") and rest else text


def _named_as_a_product(name: str, sources: list[str] | None, inputs: CheckInputs) -> bool:
    """Whether a tool's name reads as a product's: a few words, capitalised as a name, no activity
    ("Developing and testing hypotheses") and no market or measure ("B2B"); and, where its sources
    are known, written so in one of them past the start of a sentence (so not a common word that
    only a sentence's start capitalised)."""
    found = name.split()
    if not found or len(found) > 4 or found[0].lower().endswith("ing"):
        return False
    if any(word.lower().strip(".,;:!?()") in inputs.vocabulary.lists.not_tools for word in found):
        return False
    # A name capitalises its words ("Power BI"); a short one may not ("dbt").
    if any(word[0].islower() and len(word) > 3 for word in found if word not in ("and", "for", "with")):
        return False
    if sources is None:
        return True
    # A capitalised word the sources also write in lower case is an ordinary word ("Manager").
    ordinary = name != name.lower() and any(
        re.search(rf"(?<!\w){re.escape(name.lower())}(?!\w)", text) for text in sources
    )
    return not ordinary and any(_mid_sentence(text, name) for text in sources)


def _mid_sentence(text: str, name: str) -> bool:
    """Whether `name` stands in `text`, as written, somewhere a sentence or a list item does not
    start (where only a name keeps its capital)."""
    for found in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text):
        before = text[: found.start()].rstrip(" \t")
        if before and before[-1] not in '.!?:;\n-•*\u201c"':
            return True
    return False


def _own_words(inputs: CheckInputs) -> set[str]:
    """The stems that name the role's own work: those of its title, focus, family and catalog
    aliases that no focus of another family is named with ("product" of Product Management, not
    "manag", which Account Management shares)."""
    catalog = inputs.catalog
    manifest = inputs.seeds.manifest
    focus = catalog.for_role(inputs.seeds.role) if catalog is not None else None
    names = [manifest.title, manifest.focus, manifest.family, *(focus.entry.aliases if focus else [])]
    terms = inputs.vocabulary.terms
    others = (
        {term for other in catalog.foci if other.family != manifest.family for term in terms(other.name)}
        if catalog is not None
        else set()
    )
    return {term for name in names for term in terms(name)} - others


@check("boundaries", {"no-distinctions": (), "distinct-from-itself": (), "other-territory": ("owner",)})
def check_boundaries(profile: Profile, inputs: CheckInputs, say: Messages) -> Finding:
    """The role names what it is distinct from, never itself, and does no other focus's work (the
    catalog's `territory` phrases of every other focus)."""
    issues = []
    if not profile.distinct_from:
        issues.append(ReviewIssue(section=OVERVIEW.key(), quote="", problem=say("no-distinctions")))
    catalog = inputs.catalog
    focus = catalog.for_role(profile.role) if catalog is not None else None
    own = {
        normalise(name) for name in (profile.title, profile.focus, *(focus.entry.aliases if focus else []))
    }
    for item in OVERVIEW.items(profile)[1:]:
        function = normalise(item.text.split(":", 1)[0])
        if function in own or any(name in function for name in own):
            issues.append(
                ReviewIssue(section=item.section, quote=item.text, problem=say("distinct-from-itself"))
            )
    if catalog is not None:
        vocabulary = inputs.vocabulary
        phrases = [
            (other.name, stems)
            for other in catalog.foci
            if other is not focus
            for phrase in other.entry.territory
            if (stems := tuple(vocabulary.stems(phrase)))  # a phrase of no words owns nothing
        ]
        lengths = {len(phrase) for _, phrase in phrases}
        for item in _work_items(profile):
            held = _runs(vocabulary.stems(item.text), lengths)
            owner = next((name for name, phrase in phrases if phrase in held), None)
            if owner is not None:
                issues.append(
                    ReviewIssue(
                        section=item.section, quote=item.text, problem=say("other-territory", owner=owner)
                    )
                )
    rationale = "the role keeps to its own work" if not issues else f"{len(issues)} boundary fault(s)"
    return Finding(issues, rationale, score_for(len(issues), BLATANT_BANDS))


def _work_items(profile: Profile) -> list[Item]:
    """The responsibilities and guideline cells: what the role does, level by level."""
    work = (RESPONSIBILITIES, GUIDELINES)
    sections = [section for section in profile_sections(profile.levels) if section.kind in work]
    return [item for section in sections for item in section.items(profile)]


def _runs(words: list[str], lengths: set[int]) -> set[tuple[str, ...]]:
    """Every run of consecutive `words` of each of these lengths: a phrase of one of them stands
    in the words, word for word, when it is among them."""
    return {tuple(words[i : i + n]) for n in lengths for i in range(len(words) - n + 1)}


def run_checks(profile: Profile, inputs: CheckInputs, caps: Mapping[str, list[str]]) -> list[DimensionReview]:
    """Every check's verdict on each dimension `caps` names for it (every check has one: the panel
    refuses to load when a check is declared by no reviewer file)."""
    reviews = []
    for check in CHECKS:
        dimensions = caps.get(check.name, [])
        if not dimensions:  # a panel of some reviewers only (calibration asks one per planted fault)
            continue
        finding = check.run(profile, inputs, inputs.messages[check.name])
        reviews += [
            DimensionReview(
                member=check.member,
                kind="check",
                dimension=dimension,
                score=finding.score,
                rationale=finding.rationale,
                issues=finding.issues,
            )
            for dimension in dimensions
        ]
    return reviews


def load_check_messages(panel: Path) -> dict[str, Messages]:
    """`panel/_checks.toml`: every check's messages. A check, message or field the checks do not
    know, or a message missing, is an error naming the file."""
    path = panel / MESSAGES_FILE
    table = read_toml(path, "check messages")
    known = [check.name for check in CHECKS]
    for name in table:
        if name not in known:
            raise BadInput(f"{path}: [{name}]: no check of that name (the checks: {', '.join(known)})")
    return {check.name: Messages(_check_templates(path, check, table.get(check.name))) for check in CHECKS}


def _check_templates(path: Path, check: Check, templates: object) -> dict[str, str]:
    """One check's table of the messages file, every message and field checked."""
    if not isinstance(templates, dict):
        raise BadInput(f"{path}: no [{check.name}] table of messages")
    for key, template in templates.items():
        where = f"{path}: {check.name}.{key}"
        if key not in check.messages:
            raise BadInput(f"{where}: no such message (those of {check.name}: {', '.join(check.messages)})")
        if not isinstance(template, str):
            raise BadInput(f"{where}: must be a string")
        allowed = check.messages[key]
        try:
            fields = [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]
        except ValueError as exc:
            raise BadInput(f"{where}: {exc}") from exc
        for field in fields:
            # "{share:.0%}" names share; "{owner.name}" or "{ids[0]}" would name owner and ids.
            if re.split(r"[.\[]", field)[0] not in allowed:
                raise BadInput(
                    f"{where}: unknown field {{{field}}} (it may use: {', '.join(allowed) or 'none'})"
                )
    missing = [key for key in check.messages if key not in templates]
    if missing:
        raise BadInput(f"{path}: [{check.name}]: no message {missing[0]!r}")
    return templates
