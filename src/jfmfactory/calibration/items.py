"""Readers' verdicts on single items: would an editor publish this item as it is?

A case of the calibration set may hold `items.toml` beside its profile: per item, each reader's
verdict (keep or strike) and, for a struck item, the class of its fault (`FAULTS`). Readers label
blind of each other; where they disagree a verdict `by = "settled"` decides, with why. `jfm
calibrate` measures the gate against the agreed verdicts: the share of struck items it flags (per
class and overall) and the share of kept ones it flags. `jfm label --item` adds a person's verdict.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import BadInput
from ..inputs.datafile import append_table, load_model, toml_value
from ..records.profile import Profile
from ..records.runlog import DimensionReview
from ..records.sections import Item, items

ITEMS_FILE = "items.toml"
#: Who settles a disagreement.
SETTLED = "settled"

Fault = Literal[
    "second-person",
    "not-an-action",
    "garbled",
    "distorted",
    "repeat",
    "misplaced",
    "fragment-cell",
    "not-a-tool",
    "generic-alias",
]
#: The classes of fault a reader strikes an item for, each with what it means.
FAULTS: dict[str, str] = {
    "second-person": "speaks to the reader: you, your",
    "not-an-action": "no verb first: a subject ('They …', a title), a description of a level, a fragment",
    "garbled": "a stutter, a cut word, a nonsense verb, broken grammar",
    "distorted": "says more than its quote, or something else",
    "repeat": "the same duty twice at a level, the same skill named twice",
    "misplaced": "another level's scope, another column's content",
    "fragment-cell": "a guideline cell of two or three words, not a sentence",
    "not-a-tool": "a tool that is a skill, a market or an activity, not software or a technology",
    "generic-alias": "an alias that is a generic title of any manager, or another function's",
}
Verdict = Literal["keep", "strike"]


class ItemVerdict(BaseModel):
    """One reader's verdict on one item."""

    model_config = ConfigDict(extra="forbid")

    item: str = Field(
        min_length=1, description="The item: responsibilities.P3.2, guidelines.P3.knowledge, skills.4."
    )
    text: str = Field(min_length=1, description="The item's words when it was judged.")
    verdict: Verdict = Field(description="keep, or strike.")
    fault: Fault | None = Field(default=None, description="For a struck item, the class of its fault.")
    by: str = Field(min_length=1, description=f"Who judged it; {SETTLED!r} for a disagreement settled.")
    why: str = Field(default="", description="One line on why, when it helps.")

    @model_validator(mode="after")
    def _fault_with_strike(self) -> ItemVerdict:
        if (self.verdict == "strike") != (self.fault is not None):
            raise ValueError("a struck item names its fault class, and only a struck one")
        return self


class ItemLabels(BaseModel):
    """`items.toml`: the readers' verdicts on a case's items."""

    model_config = ConfigDict(extra="forbid")

    verdicts: list[ItemVerdict] = Field(default_factory=list, description="Every verdict, in any order.")


def load_item_labels(folder: Path, profile: Profile) -> ItemLabels | None:
    """The case's `items.toml`, if it has one; a verdict on an item the profile does not hold, or
    whose words differ from the item's, is refused naming the file."""
    path = folder / ITEMS_FILE
    if not path.is_file():
        return None
    labels = load_model(path, ItemLabels, "item labels")
    held = {item.id: item.text for item in labelled_items(profile)}
    for verdict in labels.verdicts:
        if verdict.item not in held:
            raise BadInput(f"{path}: {verdict.item}: the profile has no such item")
        if held[verdict.item] != verdict.text:
            raise BadInput(f"{path}: {verdict.item}: the profile's item reads {held[verdict.item]!r}")
    seen = Counter((v.item, v.by) for v in labels.verdicts)
    twice = next((key for key, count in seen.items() if count > 1), None)
    if twice is not None:
        raise BadInput(f"{path}: {twice[0]}: {twice[1]} judged it twice")
    return labels


def labelled_items(profile: Profile) -> list[Item]:
    """The items a reader judges: every drafted one (not the overview, not the rubric's years)."""
    return [item for item in items(profile) if item.section != "overview" and item.sources is not None]


def agreed(labels: ItemLabels) -> dict[str, ItemVerdict]:
    """Per item, the verdict that stands: the settled one, else the readers' when they all agree
    (a struck item's class is the first reader's); an item the readers disagree on and nobody
    settled is left out."""
    by_item: dict[str, list[ItemVerdict]] = {}
    for verdict in labels.verdicts:
        by_item.setdefault(verdict.item, []).append(verdict)
    out = {}
    for item, verdicts in by_item.items():
        settled = [v for v in verdicts if v.by == SETTLED]
        if settled:
            out[item] = settled[0]
        elif len({v.verdict for v in verdicts}) == 1:
            out[item] = verdicts[0]
    return out


def flagged(item: Item, reviews: Iterable[DimensionReview], dimensions: Iterable[str]) -> list[str]:
    """The members that flag the item in `reviews` (of `dimensions` only): a check's issue quoting
    it, or a reviewer's verified issue quoting words of it."""
    wanted = set(dimensions)
    return sorted(
        {
            review.member
            for review in reviews
            if review.dimension in wanted
            for issue in review.issues
            if issue.section == item.section
            and issue.quote.strip()
            and (
                issue.quote.strip() == item.text  # a check quotes the whole item
                if review.kind == "check"
                else issue.verified and issue.quote.strip().rstrip(".") in item.text
            )
        }
    )


def append_verdict(folder: Path, verdict: ItemVerdict, profile: Profile) -> None:
    """Add one reader's verdict to the case's `items.toml` (made if missing); a second verdict of
    the same reader on the same item is refused: disagreement between people is data, a person's
    change of mind is an edit of the file."""
    path = folder / ITEMS_FILE
    existing = load_item_labels(folder, profile)
    if existing is not None and any(v.item == verdict.item and v.by == verdict.by for v in existing.verdicts):
        raise BadInput(
            f"{path}: {verdict.item}: {verdict.by} has judged it already; edit the file to change it"
        )
    if not path.exists():
        path.write_text(
            "# Readers' verdicts on single items (jfm label --item, or by hand): keep or strike, and\n"
            "# the fault class of a struck one. Readers judge blind of each other; by = 'settled'\n"
            "# decides a disagreement. Unknown keys are refused.\n",
            encoding="utf-8",
        )
    fields = verdict.model_dump(exclude_none=True, exclude_defaults=False)
    lines = [
        "[[verdicts]]",
        *(f"{name} = {toml_value(value)}" for name, value in fields.items() if value != ""),
    ]
    append_table(path, lines, lambda: load_item_labels(folder, profile))


class ItemFloors(BaseModel):
    """`[items]` of `calibration/floors.toml`: what the gate must do with single items."""

    model_config = ConfigDict(extra="forbid")

    struck_flagged: float = Field(ge=0, le=1, description="Least share of struck items the gate flags.")
    fault_flagged: float = Field(
        ge=0, le=1, description="Least share of struck items it flags in every class with enough items."
    )
    fault_min_items: int = Field(ge=1, description="Items a class needs before its own floor applies.")
    published_flagged: float = Field(
        ge=0, le=1, description="Most share of the published profiles' items it may flag."
    )


class ItemTrial(BaseModel):
    """One labelled item: the verdict that stands, and what the gate made of it."""

    case: str = Field(description="The calibration case.")
    item: str = Field(description="The item: responsibilities.P3.2, guidelines.P3.knowledge, …")
    text: str = Field(description="Its words.")
    verdict: Verdict = Field(description="keep or strike, as the readers agreed or it was settled.")
    fault: Fault | None = Field(description="For a struck item, the class of its fault.")
    published: bool = Field(description="Whether it is an item of a published profile (a gold case).")
    flagged_by: list[str] = Field(description="The members that flag it; none when the gate lets it pass.")


class FaultMeasure(BaseModel):
    """How the gate did on one class of fault."""

    fault: str = Field(description="The class.")
    struck: int = Field(description="Items struck for it.")
    flagged: int = Field(description="Of those, the ones the gate flags.")
    rate: float | None = Field(description="flagged ÷ struck; none without items.")
    meets_floor: bool | None = Field(
        description="Whether it reaches the class floor; none below fault_min_items."
    )


class ItemMeasures(BaseModel):
    """How the gate did on single items: struck ones flagged, kept ones let through."""

    struck: int = Field(description="Struck items (drafted ones: the published keep theirs).")
    struck_flagged: int = Field(description="Of those, the ones the gate flags.")
    struck_rate: float | None = Field(description="struck_flagged ÷ struck.")
    kept: int = Field(description="Drafted items the readers keep.")
    kept_flagged: int = Field(description="Of those, the ones the gate flags all the same.")
    kept_rate: float | None = Field(description="kept_flagged ÷ kept.")
    published: int = Field(description="Items of the published profiles.")
    published_flagged: int = Field(description="Of those, the ones the gate flags.")
    published_rate: float | None = Field(description="published_flagged ÷ published.")
    faults: list[FaultMeasure] = Field(description="Per class of fault, in FAULTS order.")
    unsettled: int = Field(description="Items the readers disagree on that nobody settled (left out).")
    read_twice: int = Field(description="Drafted items two readers judged, blind of each other.")
    readers_agree: int = Field(description="Of those, the ones both kept or both struck.")
    readers_kappa: float | None = Field(description="Cohen's kappa between the two readers' keep/strike.")
    meets_floors: bool = Field(description="Whether every floor of [items] is met.")


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def readers_pairs(labels: ItemLabels) -> list[tuple[Verdict, Verdict]]:
    """The first two readers' verdicts on each item both judged (a settled verdict aside)."""
    by_item: dict[str, list[ItemVerdict]] = {}
    for verdict in labels.verdicts:
        if verdict.by != SETTLED:
            by_item.setdefault(verdict.item, []).append(verdict)
    return [(verdicts[0].verdict, verdicts[1].verdict) for verdicts in by_item.values() if len(verdicts) >= 2]


def item_measures(
    trials: list[ItemTrial], floors: ItemFloors, unsettled: int, pairs: list[tuple[Verdict, Verdict]]
) -> ItemMeasures:
    """The gate against the readers' verdicts; `pairs`: two readers' verdicts on the drafted
    items both judged, for their agreement."""
    drafted = [t for t in trials if not t.published]
    struck = [t for t in drafted if t.verdict == "strike"]
    kept = [t for t in drafted if t.verdict == "keep"]
    published = [t for t in trials if t.published]
    faults = []
    for fault in FAULTS:
        of_class = [t for t in struck if t.fault == fault]
        hit = sum(bool(t.flagged_by) for t in of_class)
        rate = _rate(hit, len(of_class))
        meets = None if len(of_class) < floors.fault_min_items else (rate or 0) >= floors.fault_flagged
        faults.append(
            FaultMeasure(fault=fault, struck=len(of_class), flagged=hit, rate=rate, meets_floor=meets)
        )
    struck_hit = sum(bool(t.flagged_by) for t in struck)
    published_hit = sum(bool(t.flagged_by) for t in published)
    struck_rate = _rate(struck_hit, len(struck))
    published_rate = _rate(published_hit, len(published))
    meets = (
        (struck_rate is None or struck_rate >= floors.struck_flagged)
        and all(f.meets_floor is not False for f in faults)
        and (published_rate is None or published_rate <= floors.published_flagged)
    )
    return ItemMeasures(
        struck=len(struck),
        struck_flagged=struck_hit,
        struck_rate=struck_rate,
        kept=len(kept),
        kept_flagged=sum(bool(t.flagged_by) for t in kept),
        kept_rate=_rate(sum(bool(t.flagged_by) for t in kept), len(kept)),
        published=len(published),
        published_flagged=published_hit,
        published_rate=published_rate,
        faults=faults,
        unsettled=unsettled,
        read_twice=len(pairs),
        readers_agree=sum(first == second for first, second in pairs),
        readers_kappa=_kappa(pairs),
        meets_floors=meets,
    )


def _kappa(pairs: list[tuple[Verdict, Verdict]]) -> float | None:
    if not pairs:
        return None
    from sklearn.metrics import cohen_kappa_score  # imported here: it takes a second

    first, second = zip(*pairs, strict=True)
    if len(set(first) | set(second)) < 2:
        return None
    return round(float(cohen_kappa_score(first, second, labels=["keep", "strike"])), 3)
