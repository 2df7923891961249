from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from conftest import REPO, VOCABULARY, Script
from jfmfactory.api import DraftOptions, draft
from jfmfactory.inputs.passages import OMISSION, SourceView, select, split
from jfmfactory.inputs.project import Project
from jfmfactory.inputs.prompts import Prompts
from jfmfactory.inputs.seeds import Source
from jfmfactory.llm.cassette import ReplayMismatch
from scripted_server import ScriptedServer


def source(source_id: str, text: str) -> Source:
    return Source(id=source_id, title="t", date=dt.date(2026, 1, 1), file="f.txt", text=text)


RECORDED = REPO / "tests" / "cassettes" / "product-management.yaml"
FILLER = "\n\n".join(f"Paragraph {n} talks about office furniture and lunch menus." for n in range(40))
BIG = source("S1", f"{FILLER}\n\nThe principal sets company-wide product strategy and vision.\n\n{FILLER}")


def test_a_source_splits_into_paragraphs_and_long_ones_into_runs() -> None:
    long = " ".join(["word"] * 250)
    passages = split(source("S2", f"First.\n\n{long}\n- a bullet\n- another"))
    assert [p.ref for p in passages] == ["S2#1", "S2#2", "S2#3", "S2#4", "S2#5", "S2#6"]
    assert len(passages[1].text.split()) == 120 and passages[4].text == "- a bullet"


def test_the_passages_a_query_needs_are_kept_in_order_and_omissions_marked() -> None:
    (chosen,), refs = select(
        [BIG], "company-wide product strategy for a principal", budget_tokens=60, vocabulary=VOCABULARY
    )
    assert "The principal sets company-wide product strategy and vision." in chosen.text
    assert chosen.text.startswith(OMISSION) and chosen.text.endswith(OMISSION)
    assert refs == ["S1#41"]
    assert len(chosen.text) // 4 <= 60 + 10


def test_sources_within_the_budget_are_shown_whole_to_every_call(project: Project) -> None:
    view = SourceView(
        Prompts(project.prompts), [source("S1", "Short text.")], budget_tokens=100, vocabulary=VOCABULARY
    )
    (first, none), (second, _) = view.system_for("a"), view.system_for("b")
    assert first == second and none is None and view.note is None


def test_a_source_far_larger_than_the_budget_is_selected_from_not_cut_and_the_run_says_so(
    project: Project, script: Script, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    big = project.seeds / "product-management" / "pm-skills-by-level-qa.txt"
    big.write_text(big.read_text() + "\n\n" + FILLER * 20)

    options = DraftOptions(role="product-management", model="m", max_rounds=1, source_budget=800)
    run = draft(project, options, endpoint_env)

    assert run.source_selection is not None and "over the budget of 800" in run.source_selection
    assert "(estimated at 4 characters a token)" in run.source_selection  # no tokenizer for this endpoint
    drafted = [
        r for r in scripted.requests if r["tool_choice"]["function"]["name"] == "ResponsibilitiesDraft"
    ]
    systems = {r["messages"][0]["content"] for r in drafted}
    assert len(systems) > 1  # each level read the passages it needs
    assert all(len(system) // 4 < 800 + 300 for system in systems)
    assert not any("office furniture" in system for system in systems)
    out = project.out_dir("product-management", None) / "transcripts" / "round-1"
    transcript = (out / "drafter-responsibilities.P6.json").read_text()
    assert '"passages": [' in transcript and "S2#1" in transcript


def test_passages_are_ranked_by_the_terms_they_share_and_a_passage_sharing_none_is_left_out() -> None:
    text = (
        "Roadmaps and the product roadmap review.\n\n"
        "Hiring plans for the quarter.\n\n"
        "The roadmap, the roadmap and the roadmap again, with stakeholders.\n\n"
        "Office furniture."
    )
    (chosen,), refs = select([source("S1", text)], "roadmap stakeholders", 1000, VOCABULARY)
    assert refs == ["S1#1", "S1#3"]  # "Roadmaps" stems to the query's "roadmap"; S1#2 and S1#4 share nothing
    assert chosen.text.split("\n\n") == [
        "Roadmaps and the product roadmap review.",
        OMISSION,
        "The roadmap, the roadmap and the roadmap again, with stakeholders.",
        OMISSION,
    ]
    # With room for one, the passage sharing both terms wins.
    assert select([source("S1", text)], "roadmap stakeholders", 20, VOCABULARY)[1] == ["S1#3"]
    assert select([source("S1", text)], "compensation", 1000, VOCABULARY)[1] == []


def test_the_budget_is_spent_in_the_tokens_of_the_counter_given_and_the_note_says_how() -> None:
    sources = [source("S1", "Strategy for the product.\n\nStrategy for the team.")]
    words = lambda text: len(text.split())  # noqa: E731
    _, refs = select(sources, "strategy", 6, VOCABULARY, count_tokens=words)
    assert len(refs) == 1  # each passage costs 4 words and 2 for the blank line between
    prompts = Prompts(REPO / "prompts")
    view = SourceView(prompts, sources, 6, VOCABULARY, count_tokens=words, token_basis="counted in words")
    assert view.source_tokens == 8 and view.note is not None
    assert view.note.startswith("the sources hold 8 tokens (counted in words), over the budget of 6")
    estimated = SourceView(prompts, sources, 6, VOCABULARY)
    assert estimated.note is not None and "(estimated at 4 characters a token)" in estimated.note


def test_an_embedded_replay_counts_the_sources_with_the_models_own_tokenizer(
    project: Project, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    options = DraftOptions(
        role="product-management", out=out, replay=RECORDED, source_budget=1000, max_rounds=1
    )
    with pytest.raises(ReplayMismatch):  # the recording read the sources whole
        draft(project, options, env={})
    note = json.loads((out / "run.json").read_text())["source_selection"]
    assert "tokens (counted by the embedded model's tokenizer), over the budget of 1000" in note
