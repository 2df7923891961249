"""Planted faults: seeded, deterministic, each aimed at one dimension, at least three per dimension."""

from __future__ import annotations

from collections import Counter

from conftest import REPO
from jfmfactory.calibration.cases import load_cases
from jfmfactory.calibration.operators import OPERATORS, World, load_operator_data, planted, prompt_echoes
from jfmfactory.inputs.seeds import load_role

DIMENSIONS = ["clarity", "completeness", "grounding", "level-differentiation", "role-boundaries"]
CASES = {case.name: case for case in load_cases(REPO / "calibration" / "cases", DIMENSIONS)}
WORLD = World(
    load_operator_data(REPO / "calibration"),
    load_role(REPO / "seeds", "product-management"),
    prompt_echoes(REPO / "prompts"),
    ["Product Designer", "Program Manager", "Software Engineer"],
)


def test_at_least_three_operators_aim_at_every_dimension() -> None:
    counts = Counter(operator.dimension for operator in OPERATORS)
    assert set(counts) == set(DIMENSIONS) and min(counts.values()) >= 3
    assert len({operator.name for operator in OPERATORS}) == len(OPERATORS)
    assert all(operator.does and not operator.does.startswith(operator.name) for operator in OPERATORS)


def test_every_operator_changes_the_profile_the_same_way_for_the_same_seed() -> None:
    gold = CASES["handwritten"]
    for operator in OPERATORS:
        once = planted(gold.profile, gold.name, operator, WORLD, seed=7)
        again = planted(gold.profile, gold.name, operator, WORLD, seed=7)
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
    assert "Write the level guideline row for level {level}." in WORLD.echoes
    assert not any("{{" in sentence or "{%" in sentence for sentence in WORLD.echoes)
