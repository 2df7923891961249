from __future__ import annotations

import re
import tomllib

import pytest

from conftest import Script
from jfmfactory.api import DraftOptions, draft
from jfmfactory.errors import BadInput
from jfmfactory.inputs.project import Project
from jfmfactory.inputs.prompts import Prompts
from jfmfactory.pipeline.item_kinds import ITEM_KINDS, load_kind_prompts
from jfmfactory.pipeline.role_inputs import RESPONSE_MODELS
from jfmfactory.pipeline.schema import ModelText, described_text, load_schema_text
from scripted_server import ScriptedServer


def test_every_tool_describes_each_model_and_field_as_the_file_words_it(
    project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    draft(project, DraftOptions(role="product-management", model="m", max_rounds=1), endpoint_env)
    ladder = DraftOptions(
        role="product-management", model="m", max_rounds=1, ladder=True, out=project.root / "l"
    )
    draft(project, ladder, endpoint_env)

    tools = {r["tools"][0]["function"]["name"]: r["tools"][0]["function"] for r in scripted.requests}
    kinds = [kind for kind in ITEM_KINDS if kind.answer is not None]
    # What the files say, rendered as the prompts are (they may name the profile's rules).
    prompts = Prompts(project.prompts)
    # A kind whose items this run wrote in the quotes' own words (skills) asked no call: its tool
    # is the one its calls would send.
    for prompt in load_kind_prompts(prompts).values():
        if prompt.model.__name__ not in tools:
            schema = prompt.model.model_json_schema()
            tools[prompt.model.__name__] = {"description": schema["description"], "parameters": schema}
    assert sorted(tools) == sorted(
        {model.__name__ for model in RESPONSE_MODELS} | {k.answer.__name__ for k in kinds}
    )  # type: ignore[union-attr]
    texts = {
        name: described_text(prompts, ModelText.model_validate(table), name).model_dump()
        for name, table in tomllib.loads((project.prompts / "schema.toml").read_text()).items()
    }
    for kind in kinds:
        template = tomllib.loads((project.prompts / kind.template).read_text())["answer"]
        texts[kind.answer.__name__] = described_text(
            prompts, ModelText.model_validate(template), kind.name
        ).model_dump()  # type: ignore[union-attr]
    assert texts["LadderLevelDraft"]["fields"]["responsibilities"].startswith("Five different")
    for name, tool in tools.items():
        assert tool["description"] == texts[name]["description"]
        parameters = tool["parameters"]
        for model in [parameters, *parameters.get("$defs", {}).values()]:
            assert all(field["description"] for field in model["properties"].values())
        assert {f: p["description"] for f, p in parameters["properties"].items()} == texts[name]["fields"]
    # The drafter asks for one item per call: flat answers, no sources or quote ids to choose.
    for name in ("StatementDraft", "SkillDraft", "ToolDraft", "OverviewDraft"):
        parameters = tools[name]["parameters"]
        assert "$defs" not in parameters and not {"sources", "evidence"} & set(parameters["properties"])
    issue = tools["ReviewDraft"]["parameters"]["$defs"]
    assert [d["description"] for d in issue.values()] == [texts["IssueDraft"]["description"]]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("[IssueDraft]", "[Issue]"), "[Issue]: no response model of that name"),
        (
            lambda t: t.replace('quote = "', 'quotation = "'),
            "[IssueDraft.fields]: IssueDraft has no field 'quotation'",
        ),
        (
            lambda t: t.replace("\nquote = ", "\n# quote = "),
            "[IssueDraft.fields]: no description for field 'quote'",
        ),
        (
            lambda t: t[: t.index("[IssueDraft]")],
            "no [IssueDraft] table: the response model IssueDraft needs",
        ),
        (
            lambda t: t.replace("[IssueDraft]\n", "[IssueDraft]\nsummary = 'x'\n"),
            "[IssueDraft]: summary: Extra inputs",
        ),
        (
            lambda t: re.sub(r"\[LadderDraft\]\ndescription = .*\n", "[LadderDraft]\n", t),
            "[LadderDraft]: description: Field required",
        ),
    ],
)
def test_a_model_or_field_missing_from_the_schema_file_or_unknown_to_it_is_refused(
    project: Project, edit, message: str
) -> None:
    path = project.prompts / "schema.toml"
    path.write_text(edit(path.read_text()))
    with pytest.raises(BadInput) as failure:
        load_schema_text(Prompts(project.prompts), RESPONSE_MODELS)
    assert str(failure.value).startswith(f"{path}: ") and message in str(failure.value)


def test_a_run_with_an_undescribed_field_stops_before_any_call(
    project: Project, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    path = project.prompts / "schema.toml"
    path.write_text(path.read_text().replace("\nscore = ", "\n# score = "))
    with pytest.raises(BadInput, match="no description for field 'score'"):
        draft(project, DraftOptions(role="product-management", model="m"), endpoint_env)
    assert scripted.requests == []
