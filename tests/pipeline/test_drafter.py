"""The drafter: the section registry, which quote each item rests on, one call per item, and
revisions that redraft only the items a fault quotes."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import re
import tomllib
from typing import Any

from conftest import REPO, canned_profile
from jfmfactory.inputs.project import Project
from jfmfactory.inputs.seeds import load_role
from jfmfactory.pipeline.drafter import (
    Drafter,
    Fault,
    assign_quotes,
    spare_key,
)
from jfmfactory.pipeline.item_kinds import ITEM_KINDS, ItemKind, KindTemplate
from jfmfactory.pipeline.role_inputs import RoleInputs, read_inputs
from jfmfactory.records.evidence import Evidence
from jfmfactory.records.profile import GUIDELINE_COLUMNS, RESPONSIBILITIES_PER_LEVEL, YEARS_COLUMN
from jfmfactory.records.sections import RESPONSIBILITIES, items, section_keys
from scripted_answers import ScriptedLLM

ROLE = "product-management"
INPUTS: RoleInputs = read_inputs(Project.find(REPO), ROLE)
EVIDENCE: Evidence = INPUTS.evidence
LEVELS = INPUTS.seeds.manifest.levels
PROFILE = canned_profile(load_role(REPO / "seeds", ROLE))
EXAMPLES = KindTemplate.model_validate(
    tomllib.loads((REPO / "prompts" / "items" / "responsibility.toml").read_text())
).examples


class CountingLLM(ScriptedLLM):
    """The scripted drafter, keeping every call it is asked: its name and its messages."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, list[dict[str, str]]]] = []

    async def ask(self, call: str, round_number: int, response_model: Any, messages: list[dict[str, str]],
                  **options: Any) -> Any:  # fmt: skip
        self.asked.append((call, messages))
        return await super().ask(call, round_number, response_model, messages, **options)

    def quotes(self) -> list[list[str]]:
        """The quotes each call's last turn showed."""
        return [re.findall(r"<quote>(.*?)</quote>", m[-1]["content"], re.DOTALL) for _, m in self.asked]


#: The kinds with every item asked of the model, and no gate: the drafter's mechanics alone.
ASKING_KINDS = tuple(dataclasses.replace(kind, rewrite=None) for kind in ITEM_KINDS)


def _drafter(llm: CountingLLM, inputs: RoleInputs = INPUTS) -> Drafter:
    # Cells drafted from quotes, as without a rubric's cells: the drafter's mechanics.
    context = dataclasses.replace(inputs.drafting_context(), accepts=None, cells={})
    return Drafter(llm, inputs.prompts, inputs.seeds, context, inputs.code,  # type: ignore[arg-type]
                   inputs.schema_text, kinds=ASKING_KINDS)  # fmt: skip


def _text(evidence: Evidence, qid: str) -> str:
    quote = evidence.quote(qid)
    assert quote is not None
    return quote.text


# -- the registry ---------------------------------------------------------------------------------


def test_sections_are_keyed_in_profile_order() -> None:
    assert section_keys(["P2", "P3"]) == [
        "overview",
        "responsibilities.P2",
        "responsibilities.P3",
        "guidelines.P2",
        "guidelines.P3",
        "skills",
        "tools",
        "aliases",
    ]
    assert RESPONSIBILITIES.key("P4") == "responsibilities.P4"
    assert all((REPO / "prompts" / kind.template).is_file() for kind in ITEM_KINDS if kind.answer is not None)


def test_every_item_is_walked_with_its_section_text_sources_and_quote() -> None:
    walked = items(PROFILE)
    overview = [item for item in walked if item.section == "overview"]
    assert overview[0].text == PROFILE.description
    assert [item.text for item in overview[1:]] == [
        f"{d.function}: {d.boundary}" for d in PROFILE.distinct_from
    ]
    assert all(item.sources is None and item.evidence == [] for item in overview)
    cited = [item for item in walked if item.sources]
    for item in cited:
        (qid,) = item.evidence
        quote = EVIDENCE.quote(qid)
        assert quote is not None and item.sources == [quote.source]
    # Typical years and the rubric's cells cite nothing: the level rubric gives them.
    from_rubric = [item for item in walked if item.section.startswith("guidelines.") and item.sources is None]
    years = [item for item in from_rubric if item.place == YEARS_COLUMN]
    assert len(from_rubric) == 4 * len(LEVELS) and len(years) == len(LEVELS)
    assert all("years of experience" in item.text for item in years)
    first = {item.section: item for item in reversed(walked)}  # the first item of each section
    assert first["aliases"].text == _text(EVIDENCE, first["aliases"].evidence[0])  # quoted, not written
    lists = len(PROFILE.skills) + len(PROFILE.tools) + len(PROFILE.aliases)
    duties = sum(len(level) for level in PROFILE.responsibilities.values())
    assert len(walked) == 1 + len(PROFILE.distinct_from) + duties + 6 * 4 + lists


# -- which quote each item rests on --------------------------------------------------------------


def test_no_quote_serves_the_responsibilities_of_two_levels() -> None:
    assignment = assign_quotes(EVIDENCE, LEVELS)
    used = [qid for level in LEVELS for qid in assignment[RESPONSIBILITIES.key(level)]]
    assert len(used) == len(set(used)) == RESPONSIBILITIES_PER_LEVEL * len(LEVELS)


def test_each_levels_responsibilities_come_from_quotes_of_that_level_best_first() -> None:
    assignment = assign_quotes(EVIDENCE, LEVELS)
    taken: set[str] = set()
    for level in LEVELS:
        key = RESPONSIBILITIES.key(level)
        chosen = assignment[key]
        # The shipped sources name every level often enough: no level borrows a level-less quote.
        assert all(level in EVIDENCE.quote(qid).levels for qid in chosen), level  # type: ignore[union-attr]
        # The level's best quotes in ranking order, skipping those a lower level took.
        assert chosen == [qid for qid in EVIDENCE.sections[key] if qid not in taken][: len(chosen)]
        taken.update(chosen)


def test_a_guideline_cell_rests_on_a_quote_of_its_level_that_nothing_else_used_if_it_can() -> None:
    assignment = assign_quotes(EVIDENCE, LEVELS)
    below: dict[str, set[str]] = {c: set() for c in GUIDELINE_COLUMNS}
    reused = []
    for level in LEVELS:
        duties = set(assignment[RESPONSIBILITIES.key(level)])
        row: list[str] = []
        for column in (c for c in GUIDELINE_COLUMNS if c != YEARS_COLUMN):
            (pick,) = assignment[f"guidelines.{level}.{column}"]
            levels = EVIDENCE.quote(pick).levels  # type: ignore[union-attr]
            assert (level in levels or not levels) and pick not in row  # never another level's quote
            if pick in duties or pick in below[column]:
                # Only when every quote of the cell's ranking was used already.
                left = [q for q in EVIDENCE.sections[f"guidelines.{level}.{column}"] if q not in row]
                assert set(left) <= duties | below[column], (level, column)
                reused.append(level)
            row.append(pick)
            below[column].add(pick)
    assert reused == []  # the shipped sources have a fresh quote for every cell
    assert YEARS_COLUMN not in {key.rsplit(".", 1)[-1] for key in assignment if key.startswith("guidelines.")}


def test_a_level_with_few_quotes_takes_what_it_has_and_no_lower_levels() -> None:
    sections = {
        "responsibilities.P2": ["E1", "E2", "E3"],
        "responsibilities.P3": ["E2", "E3", "E4"],  # E2 and E3 went to P2 already
        "skills": ["E1", "E2", "E3", "E4", "E5", "E6", "E7"],
    }
    evidence = Evidence(role="r", level_titles={}, quotes=[], sections=sections)
    assignment = assign_quotes(evidence, ["P2", "P3"])
    assert assignment["responsibilities.P2"] == ["E1", "E2", "E3"]
    assert assignment["responsibilities.P3"] == ["E4"]
    assert assignment["skills"] == ["E1", "E2", "E3", "E4", "E5", "E6"]
    assert assignment["guidelines.P2.knowledge"] == [] and assignment["tools"] == []


# -- one call per item ---------------------------------------------------------------------------


def test_each_responsibility_is_one_call_shown_only_its_quote() -> None:
    llm = CountingLLM()
    drafter = _drafter(llm)
    drafted, transcripts = asyncio.run(drafter.draft_section("responsibilities.P4", 1))

    assigned = drafter.assignment["responsibilities.P4"]
    assert [call for call, _ in llm.asked] == [f"drafter:responsibilities.P4.{n}" for n in range(1, 6)]
    assert llm.quotes() == [[_text(EVIDENCE, qid)] for qid in assigned]
    assert len(transcripts) == 5
    assert [item["evidence"] for item in drafted["responsibilities"]] == [[qid] for qid in assigned]
    assert all(item["sources"] == [EVIDENCE.quote(item["evidence"][0]).source]  # type: ignore[union-attr]
               for item in drafted["responsibilities"])  # fmt: skip
    # The model sees the quote, never level codes, quote ids or source ids.
    for _, messages in llm.asked:
        last = messages[-1]["content"]
        assert not re.search(r"\b(P[1-7]|S[12]|E\d+)\b", last), last
        assert messages[0]["role"] == "system" and "one responsibility" in messages[0]["content"]
        assert [m["role"] for m in messages[1:-1]] == ["user", "assistant"] * len(EXAMPLES)  # worked examples
        assert [m["content"] for m in messages[2:-1:2]] == [
            json.dumps(e.answer, ensure_ascii=False) for e in EXAMPLES
        ]


def test_guidelines_cost_three_calls_and_typical_years_come_from_the_rubric() -> None:
    llm = CountingLLM()
    drafted, _ = asyncio.run(_drafter(llm).draft_section("guidelines.P4", 1))
    assert [call for call, _ in llm.asked] == [
        f"drafter:guidelines.P4.{c}" for c in GUIDELINE_COLUMNS if c != YEARS_COLUMN
    ]
    low, _high = INPUTS.catalog.rubric.block("P4").years  # type: ignore[union-attr]
    assert drafted[YEARS_COLUMN] == {
        "text": f"Typically {low}+ years of experience.",
        "sources": [],
        "evidence": [],
        "rubric": True,
    }


def test_the_cells_the_rubric_writes_cost_no_call_and_name_the_role() -> None:
    llm = CountingLLM()
    drafter = Drafter(llm, INPUTS.prompts, INPUTS.seeds, INPUTS.drafting_context(), INPUTS.code,  # type: ignore[arg-type]
                      INPUTS.schema_text)  # fmt: skip
    drafted, _ = asyncio.run(drafter.draft_section("guidelines.P4", 1))
    block = INPUTS.catalog.rubric.block("P4").guidelines  # type: ignore[union-attr]
    assert block is not None and llm.asked == []
    assert drafted["knowledge"] == {
        "text": block.knowledge.replace("{{ role.title }}", INPUTS.seeds.manifest.title),
        "sources": [],
        "evidence": [],
        "rubric": True,
    }
    assert all(drafted[column]["rubric"] for column in GUIDELINE_COLUMNS)


def test_a_cell_the_sources_say_nothing_about_says_so_without_a_call() -> None:
    evidence = EVIDENCE.model_copy(update={"sections": {**EVIDENCE.sections, "guidelines.P4.complexity": []}})
    llm = CountingLLM()
    drafted, _ = asyncio.run(_drafter(llm, INPUTS.with_evidence(evidence)).draft_section("guidelines.P4", 1))
    assert drafted["complexity"] == {
        "text": "The sources say nothing about complexity & problem solving at this level.",
        "sources": [],
        "evidence": [],
    }
    assert "drafter:guidelines.P4.complexity" not in [call for call, _ in llm.asked]


def test_aliases_are_quoted_titles_and_cost_no_call() -> None:
    llm = CountingLLM()
    drafter = _drafter(llm)
    drafted, transcripts = asyncio.run(drafter.draft_section("aliases", 1))
    assert llm.asked == [] and transcripts == []
    assert [a["title"] for a in drafted["aliases"]] == [
        _text(EVIDENCE, qid) for qid in drafter.assignment["aliases"]
    ]


def test_the_overview_is_one_call_on_its_quotes_and_the_catalogs_neighbours() -> None:
    llm = CountingLLM()
    drafter = _drafter(llm)
    drafted, _ = asyncio.run(drafter.draft_section("overview", 1))
    assert llm.quotes() == [[_text(EVIDENCE, qid) for qid in drafter.assignment["overview"]]]
    assert drafted["distinct_from"] == INPUTS.drafting_context().distinctions[:3]
    assert drafted["distinct_from"] and drafted["description"].endswith(".")


# -- revision ------------------------------------------------------------------------------------


def _first_draft(key: str) -> dict[str, Any]:
    return asyncio.run(_drafter(CountingLLM()).draft_section(key, 1))[0]


def test_a_fault_quoting_one_responsibility_redrafts_only_it_from_another_quote() -> None:
    key = "responsibilities.P3"
    current = _first_draft(key)
    faulted = current["responsibilities"][1]
    llm = CountingLLM()
    fault = Fault("grounding", faulted["text"][:30].lower(), "check:grounding-support: says too little")

    drafted, transcripts = asyncio.run(_drafter(llm).draft_section(key, 2, current=current, faults=[fault]))

    assert [call for call, _ in llm.asked] == [f"drafter:{key}.2"] and len(transcripts) == 1
    before, after = current["responsibilities"], drafted["responsibilities"]
    assert [a for n, a in enumerate(after) if n != 1] == [b for n, b in enumerate(before) if n != 1]
    redrafted = after[1]
    assert redrafted["evidence"] != faulted["evidence"] and redrafted["text"] != faulted["text"]
    # From the next quote of the ranking that no item (nor another level) rests on.
    ranked = EVIDENCE.sections[key]
    assigned = assign_quotes(EVIDENCE, LEVELS)
    in_use = {qid for item in before for qid in item["evidence"]} | {
        qid for level in LEVELS if level != "P3" for qid in assigned[f"responsibilities.{level}"]
    }
    after_faulted = ranked[ranked.index(faulted["evidence"][0]) + 1 :]
    assert redrafted["evidence"] == [next(qid for qid in after_faulted if qid not in in_use)]
    assert llm.quotes() == [[_text(EVIDENCE, redrafted["evidence"][0])]]
    assert "P3" in EVIDENCE.quote(redrafted["evidence"][0]).levels  # type: ignore[union-attr]


def test_a_fault_quoting_one_skill_redrafts_only_that_skill() -> None:
    current = _first_draft("skills")
    llm = CountingLLM()
    faulted = current["skills"][0]
    fault = Fault("clarity", faulted["description"], "vague")

    drafted, _ = asyncio.run(_drafter(llm).draft_section("skills", 2, current=current, faults=[fault]))

    assert [call for call, _ in llm.asked] == ["drafter:skills.1"]
    assert drafted["skills"][1:] == current["skills"][1:]
    assert drafted["skills"][0]["evidence"] != faulted["evidence"]


def test_a_fault_quoting_one_guideline_cell_redrafts_only_that_cell() -> None:
    current = _first_draft("guidelines.P5")
    llm = CountingLLM()
    faulted = current["knowledge"]
    drafted, _ = asyncio.run(
        _drafter(llm).draft_section(
            "guidelines.P5", 2, current=current, faults=[Fault("grounding", faulted["text"], "unsupported")]
        )
    )
    assert [call for call, _ in llm.asked] == ["drafter:guidelines.P5.knowledge"]
    assert {c: drafted[c] for c in ("complexity", "collaboration", YEARS_COLUMN)} == {
        c: current[c] for c in ("complexity", "collaboration", YEARS_COLUMN)
    }
    new = drafted["knowledge"]["evidence"]
    assert new and new != faulted["evidence"]
    assert new[0] not in {qid for c in ("complexity", "collaboration") for qid in current[c]["evidence"]}


def test_a_fault_quoting_no_item_redrafts_nothing() -> None:
    current = _first_draft("responsibilities.P4")
    llm = CountingLLM()
    drafted, transcripts = asyncio.run(
        _drafter(llm).draft_section(
            "responsibilities.P4",
            2,
            current=current,
            faults=[Fault("clarity", "words in no item at all", "x")],
        )
    )
    assert llm.asked == [] and transcripts == [] and drafted == current


def test_a_missing_item_is_added_from_an_unused_quote() -> None:
    current = _first_draft("responsibilities.P4")
    short = {"responsibilities": current["responsibilities"][:4]}
    llm = CountingLLM()
    drafted, _ = asyncio.run(
        _drafter(llm).draft_section(
            "responsibilities.P4",
            2,
            current=short,
            faults=[Fault("completeness", "", "4 responsibilities, not 5")],
        )
    )
    assert [call for call, _ in llm.asked] == ["drafter:responsibilities.P4.5"]
    assert drafted["responsibilities"][:4] == short["responsibilities"]
    used = {qid for item in short["responsibilities"] for qid in item["evidence"]}
    assert drafted["responsibilities"][4]["evidence"][0] not in used


def test_an_item_with_no_quote_left_to_rest_on_is_kept_as_it_is() -> None:
    key = "responsibilities.P3"
    current = _first_draft(key)
    assigned = assign_quotes(EVIDENCE, LEVELS)[key]
    # The ranking offers the assigned quotes only: nothing better to redraft from.
    evidence = EVIDENCE.model_copy(update={"sections": {**EVIDENCE.sections, key: assigned}})
    llm = CountingLLM()
    faults = [Fault("grounding", item["text"], "x") for item in current["responsibilities"]]
    drafted, _ = asyncio.run(
        _drafter(llm, INPUTS.with_evidence(evidence)).draft_section(key, 2, current=current, faults=faults)
    )
    assert llm.asked == [] and drafted == current


def test_a_redrafted_item_takes_no_quote_a_higher_level_rests_on() -> None:
    # Two levels share quotes (a list the sources give "a Director or executive"); the higher took some.
    assigned = assign_quotes(EVIDENCE, LEVELS)
    level, above = next(
        (low, high)
        for low, high in itertools.pairwise(LEVELS)
        if set(assigned[f"responsibilities.{high}"]) & set(EVIDENCE.sections[f"responsibilities.{low}"])
    )
    key = f"responsibilities.{level}"
    current = _first_draft(key)
    faults = [Fault("clarity", item["text"], "check:prose: unclear") for item in current["responsibilities"]]

    drafted, _ = asyncio.run(_drafter(CountingLLM()).draft_section(key, 2, current=current, faults=faults))

    higher = set(assigned[f"responsibilities.{above}"])
    assert higher & set(EVIDENCE.sections[key])  # the ranking offers P7's quotes ...
    assert not higher & {
        qid for item in drafted["responsibilities"] for qid in item["evidence"]
    }  # ... none taken


# -- the gate's judgment of each item -------------------------------------------------------------


def _judging(reject: Any, kinds: tuple[ItemKind, ...] = ITEM_KINDS) -> Drafter:
    """A drafter whose gate rejects the items `reject` names."""
    context = dataclasses.replace(INPUTS.drafting_context(), accepts=lambda item: not reject(item))
    return Drafter(CountingLLM(), INPUTS.prompts, INPUTS.seeds, context, INPUTS.code,  # type: ignore[arg-type]
                   INPUTS.schema_text, kinds=kinds)  # fmt: skip


def test_an_item_the_gate_would_flag_is_drafted_again_from_the_next_unused_quote() -> None:
    # Every item asked of the model: no own-words ranking moves the rejected quote out of the way.
    drafter = _judging(lambda item: False, ASKING_KINDS)
    first = drafter.assignment["responsibilities.P4"][0]
    drafter = _judging(lambda item: item.evidence == [first], ASKING_KINDS)
    items = asyncio.run(drafter.draft_section("responsibilities.P4", 1))[0]["responsibilities"]
    ranked = drafter.evidence.sections["responsibilities.P4"]
    spares = drafter.assignment[spare_key("responsibilities.P4")]
    taken = {qid for level in LEVELS for qid in drafter.assignment[f"responsibilities.{level}"]}
    # The level's first spare: the next of its ranking no level drafts from, nor keeps as a spare.
    assert spares[0] in ranked and spares[0] not in taken
    assert items[0]["evidence"] == [spares[0]]
    assert [item["evidence"] for item in items[1:]] == [
        [q] for q in drafter.assignment["responsibilities.P4"][1:]
    ]
    assert len(items) == 5


def test_a_tool_or_a_duty_the_gate_would_flag_is_left_out() -> None:
    drafter = _judging(lambda item: item.section in ("tools", "responsibilities.P2"))
    assert asyncio.run(drafter.draft_section("tools", 1))[0] == {
        "tools": []
    }  # where the sources name fewer, fewer
    # A level left with too few is the completeness check's to name.
    assert asyncio.run(drafter.draft_section("responsibilities.P2", 1))[0] == {"responsibilities": []}
    llm = drafter.llm
    assert isinstance(llm, CountingLLM)
    assert any(call.endswith("~3") for call, _ in llm.asked)  # three drafts of a place at most
