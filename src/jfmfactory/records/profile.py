"""The job-family profile: every drafted section, with the sources each item rests on.

`SCHEMA_VERSION` rises whenever a field changes meaning; later layers (level rubric block,
adjacent roles, aliases, classification) arrive as new fields under a new version.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer

SCHEMA_VERSION = 3
#: The levels of the professional track, lowest first: the one place they are spelled.
LEVELS = ("P1", "P2", "P3", "P4", "P5", "P6", "P7")
#: The levels as messages name them: P1..P7.
LEVEL_SPAN = f"{LEVELS[0]}..{LEVELS[-1]}"
RESPONSIBILITIES_PER_LEVEL = 5
#: The fewest a level may show: where its sources hold fewer duties the house style can say, fewer
#: is right (a level of two is a level cut short).
RESPONSIBILITIES_AT_LEAST = 3
#: The skills a profile drafts at most; fewer where the sources give fewer the house style can say.
SKILLS_DRAFTED = 6

#: The guideline columns in table order, with the heading each has in a rendered profile.
GUIDELINE_COLUMNS = {
    "knowledge": "Knowledge & Application",
    "complexity": "Complexity & Problem Solving",
    "collaboration": "Collaboration & Interaction",
    "degree_years": "Typical Degree & Years",
}
#: The column of typical degree and years: judged against the level rubric, not the sources.
YEARS_COLUMN = "degree_years"


def _plain_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 3)


#: A panel score: a whole number from one sample, a mean from several; written without ".0".
Score = Annotated[float, Field(ge=1, le=5), PlainSerializer(_plain_number)]


def _distinct(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))


#: Source ids an item cites, each once, in the order first cited.
SourceIds = Annotated[list[str], AfterValidator(_distinct)]


class Cited(BaseModel):
    """A drafted statement and the ids of the sources it rests on."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="The statement as published.")
    sources: SourceIds = Field(description="Ids of the seed sources it rests on.")
    evidence: list[str] = Field(
        default_factory=list, description="Ids of the quotes (evidence.json) it rests on."
    )
    rubric: bool = Field(
        default=False,
        description="A guideline cell written from the level rubric (catalog/levels.toml), not a source.",
    )


class Distinction(BaseModel):
    """A neighbouring function the role is not, and where the line falls."""

    model_config = ConfigDict(extra="forbid")

    function: str = Field(description="The neighbouring function, e.g. Product Design.")
    boundary: str = Field(description="What that function owns instead, in a few words.")


class LevelGuideline(BaseModel):
    """One row of the level guidelines table."""

    model_config = ConfigDict(extra="forbid")

    knowledge: Cited = Field(description="Knowledge & application at this level.")
    complexity: Cited = Field(description="Complexity & problem solving at this level.")
    collaboration: Cited = Field(description="Collaboration & interaction at this level.")
    degree_years: Cited = Field(description="Typical degree and years of experience.")


class Skill(BaseModel):
    """A focus-specific skill with a one-line description."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Skill name, a few words.")
    description: str = Field(description="One line on how the role applies it.")
    sources: SourceIds = Field(description="Ids of the seed sources it rests on.")
    evidence: list[str] = Field(
        default_factory=list, description="Ids of the quotes (evidence.json) it rests on."
    )


class Tool(BaseModel):
    """A tool or technology the role uses day to day."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Tool or technology name.")
    sources: SourceIds = Field(description="Ids of the seed sources it rests on.")
    evidence: list[str] = Field(
        default_factory=list, description="Ids of the quotes (evidence.json) it rests on."
    )


class Alias(BaseModel):
    """Another title the sources use for the role."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(description="The title as the sources write it.")
    sources: SourceIds = Field(description="Ids of the seed sources that use it.")
    evidence: list[str] = Field(
        default_factory=list, description="Ids of the quotes (evidence.json) it rests on."
    )


class SourceRef(BaseModel):
    """A source as provenance lists it."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="The id items cite.")
    title: str = Field(description="Human title of the document.")
    origin: str | None = Field(default=None, description="Where it came from (URL) when known.")
    date: str = Field(description="ISO date the document was published or collected.")
    sha256: str = Field(description="Digest of the source text the drafter read.")


class Provenance(BaseModel):
    """What the profile rests on and how the panel judged it."""

    model_config = ConfigDict(extra="forbid")

    sources: list[SourceRef] = Field(description="Every source the drafter read.")
    scores: dict[str, Score] = Field(description="The kept round's score per panel dimension.")
    min_score: Score = Field(description="The lowest of those scores.")
    threshold: int = Field(description="The score every dimension had to reach.")
    passed: bool = Field(description="Whether every dimension reached the threshold.")
    round: int = Field(description="The round this draft comes from.")


class Profile(BaseModel):
    """A drafted job-family profile."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = Field(default=SCHEMA_VERSION, description="Version of this layout.")
    role: str = Field(description="The role's seeds folder name.")
    title: str = Field(description="Role title.")
    family: str = Field(description="Job family.")
    focus: str = Field(description="Focus within the family.")
    code: str = Field(description="Catalog code FAMILY.FOCUS.LEVEL, LEVEL standing for the level shown.")
    description: str = Field(description="What the role owns, in a paragraph.")
    distinct_from: list[Distinction] = Field(description="Functions the role is distinct from.")
    levels: list[str] = Field(description="Levels drafted, in order.")
    responsibilities: dict[str, list[Cited]] = Field(
        description=f"Per level, {RESPONSIBILITIES_AT_LEAST} to {RESPONSIBILITIES_PER_LEVEL} duties."
    )
    guidelines: dict[str, LevelGuideline] = Field(description="Per level, the guideline row.")
    skills: list[Skill] = Field(description="Focus-specific skills.")
    tools: list[Tool] = Field(description="Tools and technologies.")
    aliases: list[Alias] = Field(default_factory=list, description="Other titles for the role.")
    provenance: Provenance | None = Field(
        default=None, description="Sources and panel verdict; set when the run ends."
    )


def code_placeholder(family: str, focus: str, level: str = "LEVEL") -> str:
    """A readable stand-in for the catalog code until the catalog assigns real ones."""

    def part(name: str) -> str:
        return "".join(ch for ch in name.upper() if ch.isalnum()) or "X"

    return f"{part(family)}.{part(focus)}.{level}"


def code_at_level(code: str, level: str) -> str:
    """The code with its last part, the level, set: FAMILY.FOCUS.LEVEL becomes FAMILY.FOCUS.P6."""
    return f"{code.rsplit('.', 1)[0]}.{level}"


def shape_problem(profile: Profile) -> str | None:
    """What makes a profile unusable for rendering and review, if anything."""
    unknown = [level for level in profile.levels if level not in LEVELS]
    if unknown:
        return f"levels {unknown} are not {LEVEL_SPAN}"
    for name, table in (("responsibilities", profile.responsibilities), ("guidelines", profile.guidelines)):
        if sorted(table) != sorted(profile.levels):
            return f"{name} must have exactly the levels {profile.levels}"
    return None
