"""Item kinds: each one declaration (`pipeline/item_kinds.py`) and one template
(`prompts/items/KIND.toml`: instruction, answer schema text, worked examples), checked at load;
an item that borrows the examples' occupation's words instead of its quote's fails grounding."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from pydantic import Field

from conftest import REPO, canned_profile
from jfmfactory.errors import BadInput
from jfmfactory.inputs.project import Project
from jfmfactory.inputs.prompts import Prompts
from jfmfactory.llm.client import Structured
from jfmfactory.pipeline.checks import check_grounding_support
from jfmfactory.pipeline.drafter import Drafter
from jfmfactory.pipeline.item_kinds import ITEM_KINDS, cited, example_words, load_kind_prompts, name
from jfmfactory.pipeline.role_inputs import read_inputs
from jfmfactory.records.runlog import Transcript
from jfmfactory.records.sections import TOOLS


def _edit(project: Project, kind: str, edit: Any) -> str:
    path = project.prompts / "items" / f"{kind}.toml"
    path.write_text(edit(path.read_text()))
    return str(path)


@pytest.mark.parametrize(
    ("kind", "edit", "message"),
    [
        ("tool", lambda t: t + '\n[[examples]]\nquote = "a"\nanswer = { name = "" }\n', "example 3: answer"),
        ("responsibility", lambda t: t.replace("{ text = ", "{ txt = ", 1), "example 1: answer"),
        ("responsibility", lambda t: t.replace('signs"\n', 'signs"\nquotes = ["x"]\n', 1), "quote or quotes"),
        ("skill", lambda t: "colour = 1\n" + t, "colour: Extra inputs"),
        ("skill", lambda t: t.replace('\ndescription = "One plain', '\n# x = "'), "no description for field"),
        ("tool", lambda t: t.replace("fields]\n", "fields]\nvendor = 'x'\n"), "no field 'vendor'"),
        ("overview", lambda t: t.replace("{{ role.title }}", "{{ role.titel }}"), "'titel'"),
    ],
)  # fmt: skip
def test_a_malformed_kind_template_is_named_when_the_drafter_starts(
    project: Project, kind: str, edit: Any, message: str
) -> None:
    path = _edit(project, kind, edit)
    inputs = read_inputs(project, "product-management")
    with pytest.raises(BadInput) as failure:
        drafter = Drafter(None, inputs.prompts, inputs.seeds, inputs.drafting_context(), inputs.code,  # type: ignore[arg-type]
                          inputs.schema_text)  # fmt: skip
        drafter.rehearse()
    assert str(failure.value).startswith(path) and message in str(failure.value)


def test_the_shipped_kinds_load_and_every_kind_that_asks_has_examples() -> None:
    loaded = load_kind_prompts(Prompts(REPO / "prompts"))
    assert sorted(loaded) == sorted(kind.name for kind in ITEM_KINDS if kind.answer is not None)
    assert all(prompt.template.examples for prompt in loaded.values())
    assert "nurse" in example_words(REPO / "prompts")


class TechnologyDraft(Structured):
    name: str = Field(min_length=2, max_length=40)
    vendor: str = Field(min_length=2, max_length=40)


class RecordingLLM:
    """Answers every call with one technology, keeping what each call was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, Any, list[dict[str, str]]]] = []

    async def ask(
        self, call: str, round_number: int, model: Any, messages: list[dict[str, str]], **_: Any
    ) -> Any:
        self.asked.append((call, model, messages))
        return model(name="  Jira  ", vendor="Atlassian"), Transcript(
            call=call, round=round_number, model="m"
        )


def test_a_new_kind_is_its_declaration_and_its_template(project: Project) -> None:
    # The declaration: the tools section drafted as named technologies with their vendor.
    technology = replace(
        next(kind for kind in ITEM_KINDS if kind.section is TOOLS),
        name="technology",
        answer=TechnologyDraft,
        item=lambda answer, quotes: cited(quotes, name=name(answer.name)),
        count=2,
    )
    kinds = tuple(technology if kind.section is TOOLS else kind for kind in ITEM_KINDS)
    # The template: nothing else of the project changes.
    (project.prompts / "items" / "technology.toml").write_text(
        'instruction = "Name the technology the quote names, and its vendor ({{ role.title }})."\n'
        "[answer]\n"
        'description = "One technology and its vendor."\n'
        "[answer.fields]\n"
        'name = "The technology."\n'
        'vendor = "Who makes it."\n'
        "[[examples]]\n"
        'quote = "charts every dose in Epic"\n'
        'answer = { name = "Epic", vendor = "Epic Systems" }\n'
    )
    inputs = read_inputs(project, "product-management")
    llm = RecordingLLM()
    context = replace(inputs.drafting_context(), accepts=None)  # the kind's own say, not the gate's
    drafter = Drafter(llm, inputs.prompts, inputs.seeds, context, inputs.code,  # type: ignore[arg-type]
                      inputs.schema_text, kinds=kinds)  # fmt: skip
    drafted, _ = asyncio.run(drafter.draft_section(TOOLS.key(), 1))

    assert [call for call, _, _ in llm.asked] == ["drafter:tools.1", "drafter:tools.2"]
    _, model, messages = llm.asked[0]
    assert model.__name__ == "TechnologyDraft"
    assert model.model_json_schema()["properties"]["vendor"]["description"] == "Who makes it."
    assert messages[0]["content"].endswith(
        "Name the technology the quote names, and its vendor (Product Management)."
    )
    assert messages[1:3] == [
        {"role": "user", "content": "<quote>charts every dose in Epic</quote>"},
        {"role": "assistant", "content": '{"name": "Epic", "vendor": "Epic Systems"}'},
    ]
    assert [item["name"] for item in drafted["tools"]] == ["Jira", "Jira"]
    assert all(item["evidence"] and item["sources"] for item in drafted["tools"])


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
