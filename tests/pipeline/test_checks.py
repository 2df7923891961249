from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO, VOCABULARY, canned_profile
from jfmfactory.catalog.catalog import load_catalog
from jfmfactory.inputs.seeds import RoleSeeds, load_role
from jfmfactory.inputs.text import normalise
from jfmfactory.pipeline.checks import CheckInputs, run_checks, score_for, score_for_share
from jfmfactory.records.profile import Cited, Profile

DIMENSIONS = ["completeness", "level-differentiation", "grounding"]


@pytest.fixture
def seeds() -> RoleSeeds:
    return load_role(REPO / "seeds", "product-management")


CATALOG = load_catalog(REPO / "catalog")


def findings(profile: Profile, seeds: RoleSeeds) -> dict[str, tuple[float, list[str]]]:
    reviews = run_checks(profile, CheckInputs(seeds, CATALOG, VOCABULARY), [*DIMENSIONS, "role-boundaries"])
    return {r.member: (r.score, [i.problem for i in r.issues]) for r in reviews}


def test_a_sound_profile_passes_every_check(seeds: RoleSeeds) -> None:
    result = findings(canned_profile(seeds), seeds)
    assert {member: score for member, (score, _) in result.items()} == {
        "check:completeness": 5,
        "check:duplicates": 5,
        "check:grounding-support": 5,
        "check:level-order": 5,
        "check:rubric-years": 5,
        "check:aliases": 5,
    }


def test_the_same_five_bullets_at_every_level_scores_at_most_2(seeds: RoleSeeds) -> None:
    profile = canned_profile(seeds)
    same = profile.responsibilities["P4"]
    profile.responsibilities = {level: list(same) for level in profile.levels}
    score, problems = findings(profile, seeds)["check:duplicates"]
    assert score <= 2 and len(problems) == 25
    assert all("repeats a responsibility of P" in problem for problem in problems)


def test_near_duplicates_after_case_and_punctuation_are_caught(seeds: RoleSeeds) -> None:
    profile = canned_profile(seeds)
    original = profile.responsibilities["P3"][0].text
    profile.responsibilities["P5"][2] = Cited(text=original.upper() + "!!", sources=["S1"])
    _, problems = findings(profile, seeds)["check:duplicates"]
    assert problems == [f'repeats a responsibility of P3: "{original}"']
    assert normalise("Leads, the TEAM!") == normalise("leads the team")


def test_completeness_counts_missing_items(seeds: RoleSeeds) -> None:
    profile = canned_profile(seeds)
    profile.responsibilities["P2"] = profile.responsibilities["P2"][:4]
    profile.guidelines["P6"].complexity = Cited(text=" ", sources=["S1"])
    profile.skills = profile.skills[:2]
    score, problems = findings(profile, seeds)["check:completeness"]
    assert problems == [
        "4 responsibilities, not 5",
        "Complexity & Problem Solving is empty",
        "2 skills, fewer than 5",
    ]
    assert score == 3


def test_grounding_support_flags_unknown_ids_and_unsupported_wording(seeds: RoleSeeds) -> None:
    profile = canned_profile(seeds)
    profile.responsibilities["P3"][0] = Cited(
        text="Negotiates quantum blockchain procurement", sources=["S1"]
    )
    profile.responsibilities["P3"][1] = Cited(text=profile.responsibilities["P3"][1].text, sources=["S9"])
    score, problems = findings(profile, seeds)["check:grounding-support"]
    assert problems[0].startswith("only ") and "of its words occur in S1" in problems[0]
    assert problems[1] == "cites unknown source id(s) S9"
    assert score == 5  # 60 of 62 items are supported: 97%


def test_level_order_wants_years_and_scope_to_rise(seeds: RoleSeeds) -> None:
    profile = canned_profile(seeds)
    profile.guidelines["P5"].degree_years = Cited(text="3+ years with a business degree", sources=["S1"])
    profile.responsibilities["P7"] = [
        Cited(text=f"Assists with feature task {n}", sources=["S1"]) for n in range(5)
    ]
    profile.guidelines["P7"].knowledge = Cited(text="Assists with tasks", sources=["S1"])
    profile.guidelines["P7"].complexity = Cited(text="Assists with tasks", sources=["S1"])
    profile.guidelines["P7"].collaboration = Cited(text="Assists with tasks", sources=["S1"])
    _, problems = findings(profile, seeds)["check:level-order"]
    assert "3 years does not rise above P4's 8" in problems
    assert "scope narrower than P6's" in problems


@pytest.mark.parametrize(("problems", "score"), [(0, 5), (1, 4), (2, 3), (3, 3), (4, 2), (6, 2), (7, 1)])
def test_problem_counts_map_to_scores(problems: int, score: int) -> None:
    assert score_for(problems) == score


@pytest.mark.parametrize(("share", "score"), [(1.0, 5), (0.95, 5), (0.9, 4), (0.7, 3), (0.5, 2), (0.49, 1)])
def test_supported_shares_map_to_scores(share: float, score: int) -> None:
    assert score_for_share(share) == score


def test_checks_cap_only_dimensions_on_the_panel(seeds: RoleSeeds, tmp_path: Path) -> None:
    members = [
        r.member
        for r in run_checks(canned_profile(seeds), CheckInputs(seeds, None, VOCABULARY), ["grounding"])
    ]
    assert members == ["check:grounding-support"]


def test_typical_years_must_agree_with_the_rubric_or_say_why(seeds: RoleSeeds) -> None:
    profile = canned_profile(seeds)
    profile.guidelines["P6"].degree_years = Cited(text="12+ years with a business degree", sources=["S1"])
    profile.guidelines["P5"].degree_years = Cited(
        text="10+ years; below the rubric because the sources count product years only", sources=["S1"]
    )
    score, problems = findings(profile, seeds)["check:rubric-years"]
    assert problems == ["12 years is outside the rubric's 15–20 for P6; match it or say why"]
    assert score == 4


def test_an_alias_of_another_focus_is_an_issue(seeds: RoleSeeds) -> None:
    from jfmfactory.records.profile import Alias

    profile = canned_profile(seeds)
    profile.aliases = [
        Alias(title="Senior Product Manager", sources=["S1"]),
        Alias(title="program manager", sources=["S2"]),
    ]
    score, problems = findings(profile, seeds)["check:aliases"]
    assert problems == ["is a title of Program Management"] and score == 4


@pytest.mark.parametrize(
    ("text", "agrees"),
    [("5–8 years", True), ("5-8 yrs", True), ("5–9 years", False), ("7+ years", True), ("4+ years", False)],
)
def test_a_stated_range_must_lie_within_the_rubric_band(seeds: RoleSeeds, text: str, agrees: bool) -> None:
    profile = canned_profile(seeds)
    profile.guidelines["P3"].degree_years = Cited(text=f"{text} with a business degree", sources=["S1"])
    assert (findings(profile, seeds)["check:rubric-years"][1] == []) is agrees
