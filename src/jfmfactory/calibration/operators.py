"""Planted faults: seeded, deterministic operators that spoil one dimension of a good profile.

Each operator aims at one dimension and says what it does. Applied to every gold case whose
label for that dimension is "pass", it yields a profile that a working panel must fail on that
dimension. The random choices are seeded by (seed, case, operator), so the set is the same on
every machine. What the operators put in (neighbouring functions' work, claims no source makes,
placeholders) is data: `calibration/operators.toml`.

Items keep the quotes they rest on (their `evidence`) as a drafter that goes wrong would: an item
whose text an operator changes still rests on the quote it was written from; an item it moves or
copies takes its quotes along; an item it writes anew rests on none.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ..inputs.datafile import load_model
from ..inputs.seeds import RoleSeeds
from ..records.evidence import Evidence
from ..records.profile import GUIDELINE_COLUMNS, Alias, Cited, Distinction, Profile, Skill, Tool

OPERATORS_FILE = "operators.toml"
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_JINJA_BLOCK = re.compile(r"{%.*?%}|{#.*?#}", re.S)


class OperatorData(BaseModel):
    """`calibration/operators.toml`: what the operators plant."""

    model_config = ConfigDict(extra="forbid")

    neighbours: dict[str, list[str]] = Field(
        min_length=1, description="Per neighbouring function, responsibilities of that function."
    )
    claims: list[str] = Field(min_length=6, description="Plausible claims the role's sources do not make.")
    placeholders: list[str] = Field(min_length=3, description="Placeholder text a broken generator leaves.")


def load_operator_data(folder: Path) -> OperatorData:
    return load_model(folder / OPERATORS_FILE, OperatorData, "operator data")


@dataclass(frozen=True)
class World:
    """What the operators draw on besides the profile."""

    data: OperatorData
    seeds: RoleSeeds
    #: Instruction sentences of the drafting prompts, `{level}` standing for the level.
    echoes: list[str]
    #: Titles of other foci in the catalog.
    other_titles: list[str]
    #: The quotes the case's items rest on (its evidence.json), if it has any.
    evidence: Evidence | None = None


def prompt_echoes(texts: list[str]) -> list[str]:
    """The drafting prompts' own sentences (those without a template expression) in `texts` (the
    templates as their files hold them), as a model that echoes its instructions writes them."""
    sentences: list[str] = []
    for text in texts:
        text = _JINJA_BLOCK.sub("", text)
        text = text.replace("{{ level }}", "{level}")
        for sentence in _SENTENCE.split(text):
            sentence = sentence.strip(" -")
            if "{{" not in sentence and len(sentence.split()) >= 4 and sentence not in sentences:
                sentences.append(sentence)
    return sentences


Spoil = Callable[[Profile, random.Random, World], Profile]


@dataclass(frozen=True)
class Operator:
    """A planted fault: its name, the dimension it spoils, what it does, and the operation."""

    name: str
    dimension: str
    does: str
    apply: Spoil


#: Every operator, in the order defined below.
OPERATORS: list[Operator] = []


def operator(dimension: str) -> Callable[[Spoil], Spoil]:
    """Register a planted fault aimed at `dimension`, named after the function; its docstring
    says what it does."""

    def register(spoil: Spoil) -> Spoil:
        name = spoil.__name__.replace("_", "-")
        OPERATORS.append(Operator(name, dimension, (spoil.__doc__ or name).strip(), spoil))
        return spoil

    return register


def _copy(profile: Profile) -> Profile:
    return profile.model_copy(deep=True)


def _some_levels(profile: Profile, rng: random.Random, count: int) -> list[str]:
    return sorted(rng.sample(profile.levels, min(count, len(profile.levels))), key=profile.levels.index)


def _responsibilities(profile: Profile, levels: list[str]) -> list[Cited]:
    return [item for level in levels for item in profile.responsibilities[level]]


def _swap_in(profile: Profile, rng: random.Random, pool: list[str]) -> Profile:
    """Six texts drawn from `pool` replace two responsibilities at each of three levels (each still
    resting on the quotes it rested on)."""
    out = _copy(profile)
    picked = rng.sample(pool, 6)
    for level in _some_levels(out, rng, 3):
        for item in rng.sample(out.responsibilities[level], 2):
            item.text = picked.pop()
    return out


def _shuffle_words(text: str, rng: random.Random) -> str:
    words = text.rstrip(".").split()
    for _ in range(10):  # a shuffle that leaves the order as it was is no fault
        rng.shuffle(words)
        if " ".join(words) != text.rstrip("."):
            break
    return " ".join(words)


@operator("clarity")
def shuffled_words(profile: Profile, rng: random.Random, world: World) -> Profile:
    """The words of every responsibility of two levels shuffled."""
    out = _copy(profile)
    for item in _responsibilities(out, _some_levels(out, rng, 2)):
        item.text = _shuffle_words(item.text, rng)
    return out


@operator("clarity")
def cut_off(profile: Profile, rng: random.Random, world: World) -> Profile:
    """Every responsibility of two levels cut off mid-sentence."""
    out = _copy(profile)
    for item in _responsibilities(out, _some_levels(out, rng, 2)):
        words = item.text.split()
        item.text = " ".join(words[: max(2, round(len(words) * rng.uniform(0.35, 0.6)))])
    return out


@operator("clarity")
def prompt_echo(profile: Profile, rng: random.Random, world: World) -> Profile:
    """Two responsibilities of two levels replaced by the drafting prompt's own sentences."""
    out = _copy(profile)
    for level in _some_levels(out, rng, 2):
        for item in rng.sample(out.responsibilities[level], 2):
            item.text = rng.choice(world.echoes).replace("{level}", level)
    return out


@operator("clarity")
def meta_text(profile: Profile, rng: random.Random, world: World) -> Profile:
    """Items of two levels framed as "The role at P3 involves …"."""
    out = _copy(profile)
    for level in _some_levels(out, rng, 2):
        for item in out.responsibilities[level][:3]:
            item.text = f"The role at {level} involves {item.text[:1].lower()}{item.text[1:]}"
        out.guidelines[level].knowledge.text = f"The person applies knowledge at {level}."
    return out


@operator("clarity")
def placeholders(profile: Profile, rng: random.Random, world: World) -> Profile:
    """Two responsibilities of two levels replaced by placeholder text."""
    out = _copy(profile)
    for level in _some_levels(out, rng, 2):
        for item in rng.sample(out.responsibilities[level], 2):
            item.text = rng.choice(world.data.placeholders)
    return out


@operator("clarity")
def codes_in_prose(profile: Profile, rng: random.Random, world: World) -> Profile:
    """Level codes and source ids written into responsibilities."""
    out = _copy(profile)
    ids = world.seeds.source_ids
    for level in _some_levels(out, rng, 2):
        for item in rng.sample(out.responsibilities[level], 2):
            item.text = f"{item.text.rstrip('.')} at {level} ({rng.choice(ids)})"
    return out


@operator("completeness")
def level_cut_to_two(profile: Profile, rng: random.Random, world: World) -> Profile:
    """Two levels keep only two responsibilities."""
    out = _copy(profile)
    for level in _some_levels(out, rng, 2):
        out.responsibilities[level] = out.responsibilities[level][:2]
    return out


@operator("completeness")
def cells_blanked(profile: Profile, rng: random.Random, world: World) -> Profile:
    """Two guideline cells of two levels left empty."""
    out = _copy(profile)
    for level in _some_levels(out, rng, 2):
        for key in rng.sample(list(GUIDELINE_COLUMNS), 2):
            getattr(out.guidelines[level], key).text = ""
    return out


@operator("completeness")
def cells_echo(profile: Profile, rng: random.Random, world: World) -> Profile:
    """Two guideline cells of two levels filled with prompt echoes."""
    out = _copy(profile)
    for level in _some_levels(out, rng, 2):
        for key in rng.sample(list(GUIDELINE_COLUMNS)[:3], 2):
            getattr(out.guidelines[level], key).text = rng.choice(world.echoes).replace("{level}", level)
    return out


@operator("completeness")
def names_are_codes(profile: Profile, rng: random.Random, world: World) -> Profile:
    """Skills and tools named by level codes and source ids."""
    out = _copy(profile)
    ids = world.seeds.source_ids
    codes = [", ".join(out.levels), *out.levels[:2]]
    out.skills = [Skill(name=code, description=code, sources=[ids[0]]) for code in codes] + out.skills[3:]
    out.tools = [Tool(name=name, sources=[ids[0]]) for name in [*ids, *out.levels][:3]]
    return out


@operator("level-differentiation")
def same_items_everywhere(profile: Profile, rng: random.Random, world: World) -> Profile:
    """The first level's responsibilities at every level."""
    out = _copy(profile)
    first = out.responsibilities[out.levels[0]]
    out.responsibilities = {level: [item.model_copy(deep=True) for item in first] for level in out.levels}
    return out


@operator("level-differentiation")
def levels_reversed(profile: Profile, rng: random.Random, world: World) -> Profile:
    """Responsibilities and guidelines in reverse level order."""
    out = _copy(profile)
    backwards = list(reversed(out.levels))
    out.responsibilities = {
        level: profile.responsibilities[b] for level, b in zip(out.levels, backwards, strict=True)
    }
    out.guidelines = {level: profile.guidelines[b] for level, b in zip(out.levels, backwards, strict=True)}
    return _copy(out)


@operator("level-differentiation")
def years_fall(profile: Profile, rng: random.Random, world: World) -> Profile:
    """Typical years in reverse order: they fall as levels rise."""
    out = _copy(profile)
    cells = [out.guidelines[level].degree_years.text for level in out.levels]
    for level, text in zip(out.levels, reversed(cells), strict=True):
        out.guidelines[level].degree_years.text = text
    return out


@operator("role-boundaries")
def neighbour_items(profile: Profile, rng: random.Random, world: World) -> Profile:
    """Six responsibilities swapped for neighbouring functions' work."""
    pool = [item for items in world.data.neighbours.values() for item in items]
    return _swap_in(profile, rng, pool)


@operator("role-boundaries")
def distinct_from_self(profile: Profile, rng: random.Random, world: World) -> Profile:
    """Distinct_from names the role itself."""
    out = _copy(profile)
    out.distinct_from = [
        Distinction(function=profile.title, boundary="owns the work of the role"),
        *out.distinct_from[1:],
    ]
    return out


@operator("role-boundaries")
def distinct_from_nothing(profile: Profile, rng: random.Random, world: World) -> Profile:
    """Distinct_from names no function."""
    out = _copy(profile)
    out.distinct_from = []
    return out


@operator("role-boundaries")
def aliases_of_others(profile: Profile, rng: random.Random, world: World) -> Profile:
    """Title aliases that belong to other foci."""
    out = _copy(profile)
    ids = world.seeds.source_ids
    out.aliases = [Alias(title=title, sources=[ids[0]]) for title in rng.sample(world.other_titles, 2)]
    return out


@operator("grounding")
def unsupported_claims(profile: Profile, rng: random.Random, world: World) -> Profile:
    """Six responsibilities replaced by plausible claims no source makes."""
    return _swap_in(profile, rng, world.data.claims)


@operator("grounding")
def citations_moved(profile: Profile, rng: random.Random, world: World) -> Profile:
    """Every responsibility cites the other source."""
    out = _copy(profile)
    ids = world.seeds.source_ids
    for level in out.levels:
        for item in out.responsibilities[level]:
            item.sources = [ids[(ids.index(s) + 1) % len(ids)] if s in ids else s for s in item.sources]
    return out


@operator("grounding")
def source_words_shuffled(profile: Profile, rng: random.Random, world: World) -> Profile:
    """Responsibilities of three levels are source sentences with shuffled words, each resting on
    the quote whose words it shuffles."""
    out = _copy(profile)
    # (source, sentence, quote ids): the case's quotes; without evidence, the sources' sentences.
    sentences = (
        [(quote.source, quote.text, [quote.id]) for quote in world.evidence.quotes]
        if world.evidence is not None
        else [
            (source.id, sentence, [])
            for source in world.seeds.sources
            for sentence in _SENTENCE.split(source.text)
        ]
    )
    sentences = [entry for entry in sentences if 8 <= len(entry[1].split()) <= 30]
    for level in _some_levels(out, rng, 3):
        for item in out.responsibilities[level]:
            source_id, sentence, quote_ids = rng.choice(sentences)
            item.text, item.sources = _shuffle_words(" ".join(sentence.split()), rng), [source_id]
            item.evidence = list(quote_ids)
    return out


@operator("grounding")
def quotes_swapped(profile: Profile, rng: random.Random, world: World) -> Profile:
    """The responsibilities of three levels pass their sources and quotes on, one to the next:
    each rests on a real quote that says something else."""
    out = _copy(profile)
    chosen = _responsibilities(out, _some_levels(out, rng, 3))
    cited = [(item.sources, item.evidence) for item in chosen]
    shift = rng.randrange(1, len(chosen)) if len(chosen) > 1 else 0
    for index, item in enumerate(chosen):
        sources, evidence = cited[(index + shift) % len(cited)]
        item.sources, item.evidence = list(sources), list(evidence)
    return out


def planted(profile: Profile, case: str, operator: Operator, world: World, seed: int) -> Profile:
    """The case's profile with `operator`'s fault planted, the same on every run with the same seed."""
    return operator.apply(profile, random.Random(f"{seed}:{case}:{operator.name}"), world)
