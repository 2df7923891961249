"""The drafter's worked examples (prompts/examples.toml): checked at load, and an item that
borrows their occupation's words instead of its quote's fails grounding."""

from __future__ import annotations

import pytest

from conftest import REPO, canned_profile
from jfmfactory.api import read_inputs
from jfmfactory.errors import BadInput
from jfmfactory.inputs.project import Project
from jfmfactory.pipeline.checks import check_grounding_support
from jfmfactory.pipeline.drafter import load_examples


def test_an_example_whose_answer_its_kind_refuses_is_named_at_load(project: Project) -> None:
    path = project.prompts / "examples.toml"
    path.write_text(path.read_text() + '\n[[tool]]\nquote = "a bed"\nanswer = { name = "" }\n')
    with pytest.raises(BadInput, match=r"examples\.toml: tool example 3: answer: name"):
        load_examples(project.prompts)


def test_an_unknown_key_in_the_examples_is_refused(project: Project) -> None:
    path = project.prompts / "examples.toml"
    path.write_text("colour = 1\n" + path.read_text())
    with pytest.raises(BadInput, match=r"examples\.toml"):
        load_examples(project.prompts)


def test_an_item_that_borrows_the_examples_occupation_fails_grounding() -> None:
    inputs = read_inputs(Project.find(REPO), "product-management")
    profile = canned_profile(inputs.seeds)
    first = profile.responsibilities["P6"][0]
    clean = check_grounding_support(profile, inputs.checks, inputs.checks.messages["grounding-support"])
    # The item keeps its quote and most of its words, and gains the examples' nurses.
    first.text = first.text.rstrip(".") + " with a team of experienced nurses."
    found = check_grounding_support(profile, inputs.checks, inputs.checks.messages["grounding-support"])
    assert len(found.issues) == len(clean.issues) + 1
    assert any(issue.quote == first.text and "nurs" in issue.problem for issue in found.issues)


def test_the_shipped_examples_load() -> None:
    examples = load_examples(REPO / "prompts")
    assert examples.responsibility and "nurse" in examples.occupation_words
