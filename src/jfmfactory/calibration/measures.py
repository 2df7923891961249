"""How often the panel is right: per dimension, per planted fault, and overall agreement.

Every judged profile and dimension with a person's label is a *trial*: the label (pass or fail)
against the panel's decision (the dimension's score reached the threshold or not). A gold case
yields a trial per labelled dimension; a planted fault yields one trial, on the dimension it
spoils, labelled fail. Agreement is Cohen's kappa (scikit-learn) over all trials.
"""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, Field

from .cases import PassFail


class Trial(BaseModel):
    """One labelled dimension of one judged profile."""

    case: str = Field(description="The calibration case.")
    operator: str | None = Field(description="The planted fault, or none for the case as labelled.")
    dimension: str = Field(description="The dimension labelled.")
    label: PassFail = Field(description="What a person said: pass or fail.")
    decided: PassFail = Field(description="What the panel decided.")
    score: float = Field(description="The dimension's score.")
    failed_by: list[str] = Field(
        description="Members whose score on the dimension fell below the threshold (check:… or a reviewer)."
    )

    @property
    def agrees(self) -> bool:
        return self.label == self.decided


class DimensionMeasure(BaseModel):
    """How the panel did on one dimension."""

    dimension: str = Field(description="The dimension.")
    gold: int = Field(description="Trials labelled pass.")
    gold_passed: int = Field(description="Of those, the ones the panel passed.")
    faults: int = Field(description="Trials labelled fail (planted faults and failing cases).")
    faults_caught: int = Field(description="Of those, the ones the panel failed.")
    gold_pass_rate: float | None = Field(description="gold_passed ÷ gold; none without gold trials.")
    fault_catch_rate: float | None = Field(description="faults_caught ÷ faults; none without faults.")
    meets_floors: bool = Field(description="Whether both rates reach the floors in calibration/floors.toml.")


class OperatorMeasure(BaseModel):
    """How often the panel caught one planted fault, and which members caught it."""

    operator: str = Field(description="The operator's name.")
    dimension: str = Field(description="The dimension it spoils.")
    does: str = Field(description="What it does to a profile.")
    planted: int = Field(description="Profiles it was planted in.")
    caught: int = Field(description="Of those, the ones the panel failed on its dimension.")
    catch_rate: float = Field(description="caught ÷ planted.")
    caught_by: dict[str, int] = Field(description="Per member, how many of the planted faults it failed.")


class Agreement(BaseModel):
    """The panel's pass/fail against the labels over every trial."""

    kappa: float | None = Field(description="Cohen's kappa; none when every trial has one label.")
    confusion: dict[str, dict[str, int]] = Field(
        description="Counts by label (outer key) and panel decision (inner key)."
    )
    trials: int = Field(description="Trials counted.")


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def dimension_measures(
    trials: list[Trial], dimensions: list[str], floors: dict[str, tuple[float, float]]
) -> list[DimensionMeasure]:
    """Per dimension: the share of gold passed and of faults caught, against its floors."""
    measures = []
    for dimension in dimensions:
        own = [t for t in trials if t.dimension == dimension]
        gold = [t for t in own if t.label == "pass"]
        faults = [t for t in own if t.label == "fail"]
        gold_rate = _rate(sum(t.decided == "pass" for t in gold), len(gold))
        catch_rate = _rate(sum(t.decided == "fail" for t in faults), len(faults))
        gold_floor, catch_floor = floors[dimension]
        meets = (gold_rate or 0.0) >= gold_floor and (catch_rate or 0.0) >= catch_floor
        measures.append(
            DimensionMeasure(
                dimension=dimension,
                gold=len(gold),
                gold_passed=sum(t.decided == "pass" for t in gold),
                faults=len(faults),
                faults_caught=sum(t.decided == "fail" for t in faults),
                gold_pass_rate=gold_rate,
                fault_catch_rate=catch_rate,
                meets_floors=meets,
            )
        )
    return measures


def operator_measures(trials: list[Trial], does: dict[str, tuple[str, str]]) -> list[OperatorMeasure]:
    """Per operator (in `does` order, name → (dimension, what it does)): planted, caught, by whom."""
    measures = []
    for name, (dimension, what) in does.items():
        own = [t for t in trials if t.operator == name]
        caught = [t for t in own if t.decided == "fail"]
        by: dict[str, int] = defaultdict(int)
        for trial in caught:
            for member in trial.failed_by:
                by[member] += 1
        measures.append(
            OperatorMeasure(
                operator=name,
                dimension=dimension,
                does=what,
                planted=len(own),
                caught=len(caught),
                catch_rate=_rate(len(caught), len(own)) or 0.0,
                caught_by=dict(sorted(by.items())),
            )
        )
    return measures


def agreement(trials: list[Trial]) -> Agreement:
    """Cohen's kappa and the confusion matrix of the panel's decisions against the labels."""
    # scikit-learn (and SciPy) take seconds to import; only `jfm calibrate` needs them.
    from sklearn.metrics import cohen_kappa_score, confusion_matrix

    labels = [t.label for t in trials]
    decided = [t.decided for t in trials]
    order: list[PassFail] = ["pass", "fail"]
    matrix = confusion_matrix(labels, decided, labels=order) if trials else [[0, 0], [0, 0]]
    confusion: dict[str, dict[str, int]] = {
        row: {col: int(matrix[i][j]) for j, col in enumerate(order)} for i, row in enumerate(order)
    }
    varied = len(set(labels)) > 1 or len(set(decided)) > 1
    kappa = round(float(cohen_kappa_score(labels, decided, labels=order)), 3) if trials and varied else None
    return Agreement(kappa=kappa, confusion=confusion, trials=len(trials))
