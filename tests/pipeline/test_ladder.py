"""The ladder path (`jfm draft --ladder`): every level's responsibilities in one call, from all
levels' quotes, for a model that can plan the whole ladder."""

from __future__ import annotations

import json

from conftest import Script
from jfmfactory.api import DraftOptions, draft
from jfmfactory.inputs.project import Project
from scripted_server import ScriptedServer


def test_the_ladder_drafts_every_level_in_one_call_from_each_levels_quotes(
    project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    options = DraftOptions(role="product-management", model="scripted", max_rounds=1, ladder=True)

    run = draft(project, options, endpoint_env)

    assert run.drafting == "ladder"
    calls = [call.call for call in run.rounds[0].calls]
    assert calls.count("drafter:responsibilities") == 1
    assert not [call for call in calls if call.startswith("drafter:responsibilities.")]
    ladder = scripted.calls("LadderDraft")
    assert len(ladder) == 1
    # The request shows every level's quotes, lowest level first, each with its id.
    shown = ladder[0]["messages"][-1]["content"]
    assert shown.index("Level 1 of 6") < shown.index("Level 6 of 6")
    folder = project.root / "out" / "product-management"
    evidence = json.loads((folder / "evidence.json").read_text())
    levels = {quote["id"]: quote["levels"] for quote in evidence["quotes"]}
    profile = json.loads((folder / "profile.json").read_text())
    for level, items in profile["responsibilities"].items():
        assert len(items) == 5
        for item in items:
            assert item["evidence"] and all(level in levels[qid] for qid in item["evidence"])
    # The deterministic grounding check verified every cited quote.
    grounding = next(r for r in run.rounds[0].reviews if r.member == "check:grounding-support")
    assert not [i for i in grounding.issues if i.section.startswith("responsibilities.")], grounding.issues
