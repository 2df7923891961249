"""`jfm calibrate`: the panel on every case of the calibration set and on every planted fault.

The record (`calibration.json`) holds no times and no latencies, so a replay of a recorded
calibration writes it byte for byte; per-call latency stays in the transcripts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import BadInput, first_error
from ..inputs.datafile import read_toml
from ..records.profile import Profile
from ..records.runlog import DimensionReview, Endpoint, Usage
from .cases import Case, PassFail
from .items import ItemFloors, ItemMeasures, ItemTrial, agreed, flagged, labelled_items
from .measures import Agreement, DimensionMeasure, OperatorMeasure, Trial
from .operators import OPERATORS, Operator, World, planted

CALIBRATION_SCHEMA_VERSION = 2
#: The table of `calibration/floors.toml` that holds the single items' floors.
ITEM_FLOORS = "items"
CALIBRATION_JSON = "calibration.json"
#: Where the transcripts of a case judged as labelled go: judged/CASE/as-labelled/.
AS_LABELLED = "as-labelled"


class Floors(BaseModel):
    """One dimension's floors in `calibration/floors.toml`."""

    model_config = ConfigDict(extra="forbid")

    gold_pass: float = Field(ge=0, le=1, description="Least share of gold trials the panel must pass.")
    fault_catch: float = Field(ge=0, le=1, description="Least share of faults the panel must fail.")


class Judged(BaseModel):
    """One profile the panel judged: a case as it is, or a case with a planted fault."""

    case: str = Field(description="The calibration case.")
    operator: str | None = Field(description="The planted fault, or none.")
    scores: dict[str, float] = Field(description="Per dimension, the panel's score.")
    reviews: list[DimensionReview] = Field(description="Every member's verdict, checks first.")
    usage: Usage = Field(description="Tokens the reviewers spent on it.")


class CaseSummary(BaseModel):
    """A case as the record lists it."""

    name: str = Field(description="The case's folder name.")
    role: str = Field(description="The role it is judged against.")
    gold: bool = Field(description="Whether faults were planted in it.")
    origin: str = Field(description="Where its profile comes from.")
    labels: dict[str, PassFail] = Field(description="Per labelled dimension, the person's verdict.")
    unlabelled: dict[str, str] = Field(description="Dimensions left unlabelled, with why.")


class CalibrationRecord(BaseModel):
    """`calibration.json`: how often the panel is right, and the evidence for every figure."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = Field(default=CALIBRATION_SCHEMA_VERSION, description="Version of this layout.")
    jfm_version: str = Field(description="jfmfactory version that wrote it.")
    panel: Endpoint = Field(description="Where the panel ran.")
    threshold: int = Field(description="Score every dimension must reach to pass.")
    samples: int = Field(description="Times each reviewer was asked per profile.")
    seed: int = Field(description="Seed of the planted faults.")
    dimensions: list[str] = Field(description="Panel dimensions, in panel order.")
    floors: dict[str, Floors] = Field(description="Per dimension, what the panel must reach.")
    item_floors: ItemFloors = Field(description="What the gate must do with single items.")
    cases: list[CaseSummary] = Field(description="Every case of the set.")
    operators: list[OperatorMeasure] = Field(
        description="Per planted fault: how often and by whom it was caught."
    )
    measures: list[DimensionMeasure] = Field(description="Per dimension: gold passed and faults caught.")
    agreement: Agreement = Field(description="Cohen's kappa and the confusion matrix over every trial.")
    items: ItemMeasures = Field(description="The gate against readers' verdicts on single items.")
    passed: bool = Field(description="Whether every dimension and the single items meet their floors.")
    usage: Usage = Field(description="Tokens over every reviewer call.")
    trials: list[Trial] = Field(description="Every labelled dimension of every judged profile.")
    item_trials: list[ItemTrial] = Field(description="Every labelled item and what the gate made of it.")
    judged: list[Judged] = Field(description="Every judged profile's scores and member verdicts.")


def variants(
    case: Case, operators: list[Operator], world: World, seed: int
) -> list[tuple[Operator | None, Profile]]:
    """The case as it is, then (for a gold case) one planted fault per operator whose dimension the
    case labels pass. The operators draw on the case's own quotes."""
    out: list[tuple[Operator | None, Profile]] = [(None, case.profile)]
    world = replace(world, evidence=case.evidence)
    if case.spec.gold:
        for operator in operators:
            label = case.spec.labels.get(operator.dimension)
            if label is not None and label.verdict == "pass":
                out.append((operator, planted(case.profile, case.name, operator, world, seed)))
    return out


def trials_of(
    case: Case,
    operator: Operator | None,
    scores: dict[str, float],
    reviews: list[DimensionReview],
    threshold: int,
) -> list[Trial]:
    """The trials a judged profile yields: every labelled dimension of a case as it is; the spoiled
    dimension of a planted fault, labelled fail."""
    if operator is None:
        labelled = {dimension: label.verdict for dimension, label in case.spec.labels.items()}
    else:
        labelled = {operator.dimension: "fail"}
    trials = []
    for dimension, label in labelled.items():
        score = scores[dimension]
        failed_by = [r.member for r in reviews if r.dimension == dimension and r.score < threshold]
        trials.append(
            Trial(
                case=case.name,
                operator=operator.name if operator else None,
                dimension=dimension,
                label=label,
                decided="pass" if score >= threshold else "fail",
                score=score,
                failed_by=failed_by,
            )
        )
    return trials


#: Judges one profile of a case (the case, the planted fault or none, the reviewers to ask, the
#: profile) with some of the panel's reviewers; every check of theirs runs.
Judging = Callable[[Case, Operator | None, list[str], Profile], Awaitable[Judged]]


async def judge_set(
    cases: list[Case],
    dimensions: list[str],
    world_for: Callable[[Case], World],
    judge: Judging,
    threshold: int,
    seed: int,
) -> tuple[list[Judged], list[Trial]]:
    """Every case as labelled (judged by the whole panel), then every planted fault (judged by its
    dimension's members only: the trial concerns that dimension alone)."""
    judged: list[Judged] = []
    trials: list[Trial] = []
    for case in cases:
        for operator, profile in variants(case, OPERATORS, world_for(case), seed):
            reviewers = dimensions if operator is None else [operator.dimension]
            verdict = await judge(case, operator, reviewers, profile)
            judged.append(verdict)
            trials += trials_of(case, operator, verdict.scores, verdict.reviews, threshold)
    return judged, trials


def item_trials(case: Case, judged: Judged, dimensions: list[str]) -> tuple[list[ItemTrial], int]:
    """The case's labelled items against the panel's verdict on the case as it is: each flagged
    or not by the members of the dimensions the case is judged on (not those it leaves
    unlabelled: a published profile's grounding rests on sources we do not hold); and how many
    items the readers disagree on that nobody settled."""
    if case.items is None:
        return [], 0
    standing = agreed(case.items)
    counted = [dimension for dimension in dimensions if dimension not in case.spec.unlabelled]
    trials = [
        ItemTrial(
            case=case.name,
            item=item.id,
            text=item.text,
            verdict=standing[item.id].verdict,
            fault=standing[item.id].fault,
            published=case.spec.published,
            flagged_by=flagged(item, judged.reviews, counted),
        )
        for item in labelled_items(case.profile)
        if item.id in standing
    ]
    return trials, len({verdict.item for verdict in case.items.verdicts}) - len(standing)


def summarise(case: Case) -> CaseSummary:
    return CaseSummary(
        name=case.name,
        role=case.spec.role,
        gold=case.spec.gold,
        origin=case.spec.origin,
        labels={dimension: label.verdict for dimension, label in case.spec.labels.items()},
        unlabelled=case.spec.unlabelled,
    )


def load_floors(path: Path, dimensions: list[str]) -> tuple[dict[str, Floors], ItemFloors]:
    """`calibration/floors.toml`: floors for every panel dimension and no other, and `[items]`,
    the single items' floors."""
    table = read_toml(path, "calibration floors")
    if ITEM_FLOORS not in table:
        raise BadInput(f"{path}: no [{ITEM_FLOORS}] floors for single items")
    try:
        items = ItemFloors.model_validate(table.pop(ITEM_FLOORS))
    except ValidationError as exc:
        raise BadInput(f"{path}: [{ITEM_FLOORS}]: {first_error(exc)}") from exc
    missing = [d for d in dimensions if d not in table]
    unknown = [d for d in table if d not in dimensions]
    if missing or unknown:
        what = (
            f"no floors for {', '.join(missing)}" if missing else f"no reviewer judges {', '.join(unknown)}"
        )
        raise BadInput(f"{path}: {what}")
    try:
        return {dimension: Floors.model_validate(table[dimension]) for dimension in dimensions}, items
    except ValidationError as exc:
        raise BadInput(f"{path}: {first_error(exc)}") from exc
