"""The catalog around a profile: the level rubric, the role taxonomy, codes, SOC classification
and adjacent roles. Everything here is data in `catalog/` plus documented, tested arithmetic.

Codes (`FAMILY.FOCUS.LEVEL`, e.g. `PRODUC0.PRODUCTM716F.P6`): the family part is the first six
letters of the family's name (upper case, letters only, padded with X) and one digit, the
SHA-256 of the name modulo 10; the focus part is the first eight letters of the focus's name and
the first four hex digits of the SHA-256 of "family/focus". The same names always give the same
code; the catalog refuses to load if two names would share one.

Adjacency: a role at a level is a point (domain, family, focus, level). The distance between two
is 0.5·T + 0.3·L + 0.2·S, where T = 1 − (leading taxonomy coordinates shared)/3, L = |level
difference|/6, and S = 1 − Jaccard overlap of the two drafted profiles' skill names; when either
is not drafted, S is dropped and the rest is scaled to 0.5·T/0.8 + 0.3·L/0.8. Bands: distance
< 0.25 → "strong", < 0.5 → "partial", otherwise "weak".
"""

from __future__ import annotations

import hashlib
import heapq
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator, model_validator

from ..errors import BadInput
from ..inputs.datafile import load_model
from ..inputs.seeds import MANIFEST, list_roles
from ..records.profile import LEVEL_SPAN, LEVELS

LEVELS_FILE = "levels.toml"
ROLES_FILE = "roles.toml"
SOC_FILE = "soc2018.toml"
BANDS = ((0.25, "strong"), (0.5, "partial"))
RESOLVER = "jfm-factory.resolve"
#: Foci a role alone in its family is told apart from: the nearest ones in the taxonomy.
NEIGHBOURS = 3


class RubricCells(BaseModel):
    """A level's guideline cells in the rubric: one sentence per column, a Jinja2 template given
    `role` (the role's manifest)."""

    model_config = ConfigDict(extra="forbid")

    knowledge: str = Field(min_length=1, description="Knowledge & Application: what is known and applied.")
    complexity: str = Field(
        min_length=1,
        description="Complexity & Problem Solving: the kind of problem and the judgment it takes.",
    )
    collaboration: str = Field(
        min_length=1, description="Collaboration & Interaction: with whom, and how much influence."
    )


class LevelBlock(BaseModel):
    """One level of the universal rubric."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="e.g. Principal Professional.")
    summary: str = Field(description="One line on what the level is.")
    scope: str = Field(description="How wide the work reaches.")
    autonomy: str = Field(description="How much direction the person needs.")
    complexity: str = Field(description="What kind of problems they solve.")
    impact: str = Field(description="Whose outcomes their work moves.")
    decision_rights: str = Field(description="What they decide.")
    leadership: str = Field(description="How they lead or influence.")
    years: tuple[int, int] = Field(description="Typical experience band [from, to) in years.")
    titles: list[str] = Field(
        default_factory=list,
        description="Seniority words job titles use at this level (lower case), e.g. senior, head of.",
    )
    scope_terms: list[str] = Field(
        default_factory=list,
        description="Phrases (lower case) naming scope first held here: no duty two levels below names one.",
    )
    guidelines: RubricCells | None = Field(
        default=None, description="The level's guideline cells; without them, cells are drafted from quotes."
    )

    @field_validator("scope_terms")
    @classmethod
    def _lower_case(cls, terms: list[str]) -> list[str]:
        return [" ".join(term.lower().split()) for term in terms]

    @field_validator("years")
    @classmethod
    def _band(cls, years: tuple[int, int]) -> tuple[int, int]:
        if not 0 <= years[0] < years[1]:
            raise ValueError("must be [from, to] with from < to")
        return years

    @property
    def years_text(self) -> str:
        return f"{self.years[0]}–{self.years[1]} yrs"


class Rubric(RootModel[dict[str, LevelBlock]]):
    """Every level's block, one for each level of the track."""

    @model_validator(mode="after")
    def _every_level_rising(self) -> Rubric:
        missing = [level for level in LEVELS if level not in self.root]
        if missing:
            raise ValueError(f"{missing[0]}: no block (one for each level {LEVEL_SPAN})")
        unknown = [level for level in self.root if level not in LEVELS]
        if unknown:
            raise ValueError(f"{unknown[0]}: not a level (the levels are {LEVEL_SPAN})")
        starts = [self.block(level).years[0] for level in LEVELS]
        if starts != sorted(starts):
            raise ValueError(f"typical years must rise from {LEVELS[0]} to {LEVELS[-1]}")
        return self

    def block(self, level: str) -> LevelBlock:
        if level not in LEVELS:
            raise BadInput(f"level {level}: the rubric has {LEVEL_SPAN}")
        return self.root[level]


class SocCode(BaseModel):
    """A classification with the reason it applies."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^\d\d-\d{4}$", description="SOC 2018 detailed code.")
    reason: str = Field(min_length=1, description="The evidence for it.")
    suggested: bool = Field(
        default=False, description="Proposed by jfm new from a neighbouring focus; not yet confirmed."
    )


class Classification(BaseModel):
    """A focus's SOC 2018 mapping: the primary code and ranked alternates."""

    model_config = ConfigDict(extra="forbid")

    primary: SocCode
    alternates: list[SocCode] = Field(default_factory=list)


class FocusEntry(BaseModel):
    """A focus as the catalog lists it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    family: str = Field(min_length=1)
    seeds: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="Seeds folder when the focus can be drafted.",
    )
    aliases: list[str] = Field(default_factory=list, description="Titles that belong to this focus.")
    territory: list[str] = Field(
        default_factory=list,
        description="Work only this focus does; another focus's item that uses a phrase crosses a boundary.",
    )
    classification: Classification


class Domain(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    families: list[str]


class RolesFile(BaseModel):
    """`catalog/roles.toml`."""

    model_config = ConfigDict(extra="forbid")

    domains: list[Domain]
    foci: list[FocusEntry]

    @model_validator(mode="after")
    def _consistent(self) -> RolesFile:
        families = [f for d in self.domains for f in d.families]
        if len(set(families)) != len(families):
            raise ValueError("a family is listed in two domains")
        names = [focus.name for focus in self.foci]
        if len(set(names)) != len(names):
            raise ValueError("focus names repeat")
        for focus in self.foci:
            if focus.family not in families:
                raise ValueError(f"focus {focus.name!r}: family {focus.family!r} is in no domain")
        seeds = [focus.seeds for focus in self.foci if focus.seeds]
        if len(set(seeds)) != len(seeds):
            raise ValueError("two foci name the same seeds folder")
        titles = [t.casefold() for focus in self.foci for t in {focus.name, *focus.aliases}]
        shared = sorted({t for t in titles if titles.count(t) > 1})
        if shared:
            raise ValueError(f"titles {shared} belong to more than one focus")
        return self


class SocOccupation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    onet: str


class SocFile(BaseModel):
    """`catalog/soc2018.toml`: the major groups and the detailed codes the catalog uses."""

    model_config = ConfigDict(extra="forbid")

    origin: str
    major: dict[str, str]
    detailed: dict[str, SocOccupation]

    @field_validator("detailed")
    @classmethod
    def _codes(cls, detailed: dict[str, SocOccupation]) -> dict[str, SocOccupation]:
        bad = [code for code in detailed if not re.match(r"^\d\d-\d{4}$", code)]
        if bad:
            raise ValueError(f"not SOC codes: {bad}")
        return detailed


def _letters(name: str, width: int) -> str:
    letters = "".join(ch for ch in name.upper() if "A" <= ch <= "Z")
    return (letters + "X" * width)[:width]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def family_code(family: str) -> str:
    return f"{_letters(family, 6)}{int(_sha(family), 16) % 10}"


def focus_code(family: str, focus: str) -> str:
    return f"{_letters(focus, 8)}{_sha(f'{family}/{focus}')[:4].upper()}"


def band(distance: float) -> str:
    return next((name for limit, name in BANDS if distance < limit), "weak")


@dataclass(frozen=True)
class Focus:
    """A focus with where it sits in the taxonomy."""

    entry: FocusEntry
    domain: str

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def family(self) -> str:
        return self.entry.family

    def code(self, level: str) -> str:
        return f"{family_code(self.family)}.{focus_code(self.family, self.name)}.{level}"


@dataclass(frozen=True)
class Adjacent:
    """A nearby role: which focus at which level, how far, in which band."""

    focus: str
    level: str
    code: str
    distance: float
    band: str


def distance(
    a: Focus, level_a: str, b: Focus, level_b: str, skills_a: list[str] | None, skills_b: list[str] | None
) -> float:
    """The documented structural distance in [0, 1] (see the module docstring)."""
    coordinates_a = (a.domain, a.family, a.name)
    coordinates_b = (b.domain, b.family, b.name)
    shared = 0
    for x, y in zip(coordinates_a, coordinates_b, strict=True):
        if x != y:
            break
        shared += 1
    taxonomy = 1 - shared / 3
    levels = abs(LEVELS.index(level_a) - LEVELS.index(level_b)) / 6
    if skills_a and skills_b:
        fold_a, fold_b = {s.casefold() for s in skills_a}, {s.casefold() for s in skills_b}
        skills = 1 - len(fold_a & fold_b) / len(fold_a | fold_b)
        return round(0.5 * taxonomy + 0.3 * levels + 0.2 * skills, 4)
    return round((0.5 * taxonomy + 0.3 * levels) / 0.8, 4)


class Catalog:
    """The rubric, the taxonomy and the SOC data of one project."""

    def __init__(self, folder: Path, seeds: Path | None = None) -> None:
        """The catalog in `folder`; a focus without `seeds` is drafted from the role in `seeds`
        (default: the `seeds/` beside `folder`) whose manifest names it, if one does."""
        self.folder = folder
        self.rubric = load_model(folder / LEVELS_FILE, Rubric, "level rubric")
        roles = load_model(folder / ROLES_FILE, RolesFile, "role catalog")
        self.soc = load_model(folder / SOC_FILE, SocFile, "SOC data")
        #: Each family's domain, families without a focus yet included.
        self.domain_of = {family: d.name for d in roles.domains for family in d.families}
        self.foci = [Focus(entry, self.domain_of[entry.family]) for entry in roles.foci]
        self._check(roles)
        self._attach(seeds if seeds is not None else folder.parent / "seeds")

    def _attach(self, seeds: Path) -> None:
        """Give each focus without `seeds` the role in `seeds` whose manifest names the focus and
        its family (`jfm new` starts such a role and leaves roles.toml as it is): the first such
        role by name, among those no focus names. A manifest that does not read is passed over
        here; drafting its role names what is wrong with it."""
        open_foci = {
            (f.name.casefold(), f.family): i for i, f in enumerate(self.foci) if f.entry.seeds is None
        }
        if not open_foci:
            return
        named = {f.entry.seeds for f in self.foci}
        for role in list_roles(seeds):
            if role in named:
                continue
            try:
                manifest = tomllib.loads((seeds / role / MANIFEST).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                continue
            focus, family = manifest.get("focus"), manifest.get("family")
            if not isinstance(focus, str) or not isinstance(family, str):
                continue
            index = open_foci.pop((focus.casefold(), family), None)
            if index is not None:
                found = self.foci[index]
                self.foci[index] = Focus(found.entry.model_copy(update={"seeds": role}), found.domain)

    def _check(self, roles: RolesFile) -> None:
        path = self.folder / ROLES_FILE
        for focus in self.foci:
            classification = focus.entry.classification
            for soc in [classification.primary, *classification.alternates]:
                if soc.code not in self.soc.detailed:
                    raise BadInput(f"{path}: {focus.name}: SOC {soc.code} is not in {SOC_FILE}")
        seen: dict[str, str] = {}
        for family in {f.family for f in self.foci}:
            code = family_code(family)
            if code in seen:
                raise BadInput(f"{path}: families {seen[code]!r} and {family!r} share the code {code}")
            seen[code] = family
        for focus in self.foci:
            code = focus_code(focus.family, focus.name)
            if code in seen:
                raise BadInput(f"{path}: {seen[code]!r} and {focus.name!r} share the code {code}")
            seen[code] = focus.name

    def for_role(self, role: str) -> Focus | None:
        """The focus drafted from seeds folder `role`, if the catalog has one."""
        return next((f for f in self.foci if f.entry.seeds == role), None)

    def drafted_elsewhere(self, role: str, family: str, focus: str) -> str | None:
        """The other role a focus named `focus` of `family` is drafted from, if one is: a role
        whose manifest names it can never pass (its aliases are the other role's)."""
        return next(
            (
                f.entry.seeds
                for f in self.foci
                if f.name.casefold() == focus.casefold()
                and f.family == family
                and f.entry.seeds not in (None, role)
            ),
            None,
        )

    def adjacent(
        self, focus: Focus, level: str, skills: dict[str, list[str]], limit: int = 5
    ) -> list[Adjacent]:
        """The nearest other roles: every other focus at this level, and this focus a level up
        and down. `skills` holds the drafted profiles' skill names by focus name."""
        return self.adjacent_at(focus, [level], skills, limit)[level]

    def adjacent_at(
        self, focus: Focus, levels: list[str], skills: dict[str, list[str]], limit: int = 5
    ) -> dict[str, list[Adjacent]]:
        """`adjacent` at each of `levels`, the other foci measured once: at a focus's own level
        another's distance is the same whatever the level, so only the `limit` nearest can be
        among the nearest at any level (a site of every level of a large catalog needs this)."""
        own = skills.get(focus.name)
        first = LEVELS[0]
        others = heapq.nsmallest(
            limit,
            (
                (distance(focus, first, other, first, own, skills.get(other.name)), other.name, other)
                for other in self.foci
                if other.name != focus.name
            ),
            key=lambda found: found[:2],
        )
        nearest = {}
        for level in levels:
            index = LEVELS.index(level)
            found = [(d, name, level, other) for d, name, other in others]
            found += [
                (distance(focus, level, focus, LEVELS[i], own, own), focus.name, LEVELS[i], focus)
                for i in (index - 1, index + 1)
                if 0 <= i < len(LEVELS)
            ]
            nearest[level] = [
                Adjacent(focus=name, level=at, code=other.code(at), distance=d, band=band(d))
                for d, name, at, other in sorted(found, key=lambda f: f[:3])[:limit]
            ]
        return nearest

    def neighbours(self, focus: Focus, limit: int = NEIGHBOURS) -> list[Focus]:
        """The foci a profile of `focus` says it is distinct from: every other focus of its family
        with a territory; for a focus alone in its family, the `limit` nearest ones elsewhere."""
        others = [other for other in self.foci if other.name != focus.name and other.entry.territory]
        same_family = [other for other in others if other.family == focus.family]
        if same_family:
            return same_family
        level = LEVELS[0]
        return sorted(others, key=lambda o: (distance(focus, level, o, level, None, None), o.name))[:limit]

    def alias_owner(self, alias: str, focus: Focus) -> str | None:
        """The other focus an alias belongs to (its name or one of its aliases), if any."""
        folded = alias.casefold().strip()
        for other in self.foci:
            if other.name == focus.name:
                continue
            if folded == other.name.casefold() or folded in {a.casefold() for a in other.entry.aliases}:
                return other.name
        return None


def load_catalog(folder: Path, seeds: Path | None = None) -> Catalog:
    if not folder.is_dir():
        raise BadInput(f"{folder}: catalog folder not found")
    return Catalog(folder, seeds)
