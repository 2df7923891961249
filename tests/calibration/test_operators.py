"""Planted faults: seeded, deterministic, each aimed at one dimension, at least three per dimension."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from conftest import REPO
from jfmfactory.calibration.cases import load_cases
from jfmfactory.calibration.operators import OPERATORS, World, load_operator_data, planted, prompt_echoes
from jfmfactory.inputs.project import Project
from jfmfactory.inputs.seeds import load_role
from jfmfactory.pipeline.checks import check_grounding_support
from jfmfactory.pipeline.item_kinds import drafting_instructions
from jfmfactory.pipeline.role_inputs import read_inputs
from jfmfactory.records.sections import items

DIMENSIONS = ["clarity", "completeness", "grounding", "level-differentiation", "role-boundaries"]
CASES = {case.name: case for case in load_cases(REPO / "calibration" / "cases", DIMENSIONS)}
WORLD = World(
    load_operator_data(REPO / "calibration"),
    load_role(REPO / "seeds", "product-management"),
    prompt_echoes(drafting_instructions(REPO / "prompts")),
    ["Product Designer", "Program Manager", "Software Engineer"],
)


def test_at_least_three_operators_aim_at_every_dimension() -> None:
    counts = Counter(operator.dimension for operator in OPERATORS)
    assert set(counts) == set(DIMENSIONS) and min(counts.values()) >= 3
    assert len({operator.name for operator in OPERATORS}) == len(OPERATORS)
    assert all(operator.does and not operator.does.startswith(operator.name) for operator in OPERATORS)


def test_every_operator_changes_the_profile_the_same_way_for_the_same_seed() -> None:
    gold = CASES["handwritten"]
    world = replace(WORLD, evidence=gold.evidence)
    for operator in OPERATORS:
        once = planted(gold.profile, gold.name, operator, world, seed=7)
        again = planted(gold.profile, gold.name, operator, world, seed=7)
        assert once == again, operator.name
        assert once != gold.profile, operator.name
    # The gold profile itself is never changed in place.
    fresh = {case.name: case for case in load_cases(REPO / "calibration" / "cases", DIMENSIONS)}
    assert gold.profile == fresh["handwritten"].profile


def test_another_seed_plants_another_fault() -> None:
    gold = CASES["published-p6"]
    shuffle = next(operator for operator in OPERATORS if operator.name == "shuffled-words")
    assert planted(gold.profile, gold.name, shuffle, WORLD, 1) != planted(
        gold.profile, gold.name, shuffle, WORLD, 2
    )


def test_prompt_echoes_are_the_drafting_prompts_own_sentences() -> None:
    assert (
        "Answer with one responsibility of the role: one plain sentence that starts with a verb and "
        "says only what the quote says." in WORLD.echoes
    )
    assert "Use them only as evidence." in WORLD.echoes  # the system message's
    assert not any("{{" in sentence or "{%" in sentence for sentence in WORLD.echoes)


def test_planted_items_rest_on_the_case_quotes_or_on_none() -> None:
    """Operators change, move or copy items with the quotes they rest on, and name no quote the
    case does not hold."""
    gold = CASES["handwritten"]
    assert gold.evidence is not None
    world = replace(WORLD, evidence=gold.evidence)
    held = {quote.id for quote in gold.evidence.quotes}
    for operator in OPERATORS:
        spoiled = planted(gold.profile, gold.name, operator, world, seed=0)
        assert {qid for item in items(spoiled) for qid in item.evidence} <= held, operator.name


def test_every_grounding_fault_fails_the_grounding_check_on_the_case_quotes() -> None:
    gold = CASES["handwritten"]
    checks = read_inputs(Project.find(REPO), "product-management").with_evidence(gold.quotes).checks
    say = checks.messages["grounding-support"]
    assert check_grounding_support(gold.profile, checks, say).score == 5
    world = replace(WORLD, evidence=gold.evidence)
    grounding = [operator for operator in OPERATORS if operator.dimension == "grounding"]
    assert len(grounding) >= 4
    for seed in (0, 7):
        for operator in grounding:
            spoiled = planted(gold.profile, gold.name, operator, world, seed)
            finding = check_grounding_support(spoiled, checks, say)
            assert finding.score < 4, (operator.name, seed)
            # Every faulty item still rests on quotes: the check catches the quote, not its absence.
            assert not any(issue.problem == say("no-evidence") for issue in finding.issues), operator.name
