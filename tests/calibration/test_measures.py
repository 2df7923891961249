"""The figures of `jfm calibrate`, from trials whose answers are known."""

from __future__ import annotations

import pytest

from jfmfactory.calibration.measures import Trial, agreement, dimension_measures, operator_measures


def trial(
    label: str, decided: str, dimension: str = "clarity", operator: str | None = None, by: str = ""
) -> Trial:
    return Trial(
        case="c",
        operator=operator,
        dimension=dimension,
        label=label,  # type: ignore[arg-type]
        decided=decided,  # type: ignore[arg-type]
        score=5 if decided == "pass" else 2,
        failed_by=[by] if by else [],
    )


def test_gold_passed_and_faults_caught_per_dimension_against_the_floors() -> None:
    trials = [trial("pass", "pass"), trial("pass", "fail"), trial("fail", "fail"), trial("fail", "fail")]
    (measure,) = dimension_measures(trials, ["clarity"], {"clarity": (0.5, 0.9)})
    assert (measure.gold_passed, measure.gold, measure.faults_caught, measure.faults) == (1, 2, 2, 2)
    assert measure.gold_pass_rate == 0.5 and measure.fault_catch_rate == 1.0 and measure.meets_floors
    (strict,) = dimension_measures(trials, ["clarity"], {"clarity": (0.9, 0.9)})
    assert not strict.meets_floors


def test_each_operator_counts_what_caught_it() -> None:
    trials = [
        trial("fail", "fail", operator="cut-off", by="check:prose"),
        trial("fail", "fail", operator="cut-off", by="clarity"),
        trial("fail", "pass", operator="cut-off"),
    ]
    (measure,) = operator_measures(trials, {"cut-off": ("clarity", "cuts items off")})
    assert (measure.caught, measure.planted, measure.catch_rate) == (2, 3, 0.667)
    assert measure.caught_by == {"check:prose": 1, "clarity": 1}


def test_kappa_is_one_for_full_agreement_and_zero_for_chance() -> None:
    perfect = agreement([trial("pass", "pass"), trial("fail", "fail")])
    assert perfect.kappa == 1.0 and perfect.confusion == {
        "pass": {"pass": 1, "fail": 0},
        "fail": {"pass": 0, "fail": 1},
    }
    always_fail = agreement([trial("pass", "fail"), trial("fail", "fail")])
    assert always_fail.kappa == pytest.approx(0.0)
    assert agreement([]).kappa is None
