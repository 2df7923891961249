from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO, VOCABULARY, canned_profile
from jfmfactory.catalog.catalog import load_catalog
from jfmfactory.errors import BadInput
from jfmfactory.inputs.prose import ProseJudge, load_prose_rules, prompt_runs
from jfmfactory.inputs.seeds import LEVELS, RoleSeeds, load_role
from jfmfactory.inputs.text import normalise
from jfmfactory.pipeline.checks import (
    CheckInputs,
    load_check_messages,
    run_checks,
    score_for,
)
from jfmfactory.pipeline.panel import check_dimensions, load_panel
from jfmfactory.records.profile import Cited, Profile


@pytest.fixture
def seeds() -> RoleSeeds:
    return load_role(REPO / "seeds", "product-management")


CATALOG = load_catalog(REPO / "catalog")
#: The dimension each check caps, as the shipped reviewer files declare it.
CAPS = check_dimensions(load_panel(REPO / "panel"))
MESSAGES = load_check_messages(REPO / "panel")
PROSE = ProseJudge(load_prose_rules(REPO / "panel"), prompt_runs(REPO / "prompts"), [*LEVELS, "S1", "S2"])


def findings(profile: Profile, seeds: RoleSeeds) -> dict[str, tuple[float, list[str]]]:
    reviews = run_checks(profile, CheckInputs(seeds, CATALOG, VOCABULARY, MESSAGES, PROSE), CAPS)
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
        "check:prose": 5,
        "check:boundaries": 5,
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
    assert problems[0].startswith("no passage of S1 says this: only 0% of its word pairs")
    assert problems[1] == "cites unknown source id(s) S9"
    assert score == 3  # two items rest on nothing: one is tolerated, two fail


def test_level_order_wants_years_to_rise(seeds: RoleSeeds) -> None:
    profile = canned_profile(seeds)
    profile.guidelines["P5"].degree_years = Cited(text="3+ years with a business degree", sources=["S1"])
    profile.guidelines["P7"].degree_years = Cited(text="a lot of experience", sources=["S1"])
    _, problems = findings(profile, seeds)["check:level-order"]
    assert problems == ["3 years does not rise above P4's 8", "states no typical years"]


@pytest.mark.parametrize(("problems", "score"), [(0, 5), (1, 4), (2, 3), (3, 3), (4, 2), (6, 2), (7, 1)])
def test_problem_counts_map_to_scores(problems: int, score: int) -> None:
    assert score_for(problems) == score


def test_each_check_caps_the_dimension_whose_reviewer_file_declares_it(seeds: RoleSeeds) -> None:
    reviews = run_checks(canned_profile(seeds), CheckInputs(seeds, None, VOCABULARY, MESSAGES, PROSE), CAPS)
    assert [(r.member, r.dimension) for r in reviews] == [
        ("check:completeness", "completeness"),
        ("check:duplicates", "level-differentiation"),
        ("check:grounding-support", "grounding"),
        ("check:level-order", "level-differentiation"),
        ("check:rubric-years", "level-differentiation"),
        ("check:aliases", "role-boundaries"),
        ("check:prose", "clarity"),
        ("check:boundaries", "role-boundaries"),
    ]


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


@pytest.mark.parametrize(
    ("check", "key", "fields", "text"),
    [
        ("completeness", "empty-description", {}, "the description is empty"),
        ("completeness", "no-distinctions", {}, "no function the role is distinct from"),
        ("completeness", "responsibility-count", {"count": 4, "expected": 5}, "4 responsibilities, not 5"),
        ("completeness", "empty-responsibility", {}, "an empty responsibility"),
        (
            "completeness",
            "empty-cell",
            {"column": "Knowledge & Application"},
            "Knowledge & Application is empty",
        ),
        ("completeness", "few-skills", {"count": 2, "least": 5}, "2 skills, fewer than 5"),
        ("completeness", "few-tools", {"count": 0, "least": 3}, "0 tools, fewer than 3"),
        (
            "duplicates",
            "repeats",
            {"where": "P3", "other": "Leads", "ratio": 1.0},
            'repeats a responsibility of P3: "Leads"',
        ),
        (
            "duplicates",
            "nearly-repeats",
            {"where": "the same level", "other": "Leads", "ratio": 0.8765},
            'nearly repeats (0.88) a responsibility of the same level: "Leads"',
        ),
        ("duplicates", "same-level", {}, "the same level"),
        ("grounding-support", "unknown-sources", {"ids": "S8, S9"}, "cites unknown source id(s) S8, S9"),
        ("grounding-support", "no-sources", {}, "cites no source"),
        (
            "grounding-support",
            "unsupported",
            {"share": 0.125, "cited": "S1, S2", "needed": 0.2},
            "no passage of S1, S2 says this: only 12% of its word pairs stand in one (needs 20%)",
        ),
        ("level-order", "no-years", {}, "states no typical years"),
        (
            "level-order",
            "years-not-rising",
            {"years": 3, "below": "P4", "below_years": 8},
            "3 years does not rise above P4's 8",
        ),
        (
            "rubric-years",
            "outside-rubric",
            {"years": 12, "low": 15, "high": 20, "level": "P6"},
            "12 years is outside the rubric's 15–20 for P6; match it or say why",
        ),
        (
            "aliases",
            "title-of-other-focus",
            {"owner": "Program Management"},
            "is a title of Program Management",
        ),
    ],
)
def test_every_check_message_reads_as_the_shipped_file_words_it(
    check: str, key: str, fields: dict[str, object], text: str
) -> None:
    assert MESSAGES[check](key, **fields) == text


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: t.replace("no-sources = ", "no-source = "),
            "grounding-support.no-source: no such message",
        ),
        (
            lambda t: t.replace('no-years = "states no typical years"\n', ""),
            "[level-order]: no message 'no-years'",
        ),
        (lambda t: t.replace("{owner}", "{focus}"), "aliases.title-of-other-focus: unknown field {focus}"),
        (lambda t: t.replace("{owner}", "{owner"), "aliases.title-of-other-focus: expected '}'"),
        (lambda t: t + "\n[spelling]\nx = 'y'\n", "[spelling]: no check of that name"),
        (lambda t: t.replace("[aliases]", "[alias]"), "[alias]: no check of that name"),
    ],
)
def test_a_malformed_messages_file_is_named_with_the_message(tmp_path: Path, edit, message: str) -> None:
    path = tmp_path / "_checks.toml"
    path.write_text(edit((REPO / "panel" / "_checks.toml").read_text()))
    with pytest.raises(BadInput) as failure:
        load_check_messages(tmp_path)
    assert str(failure.value).startswith(f"{path}: ") and message in str(failure.value)
