from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO, VOCABULARY, canned_profile
from jfmfactory.calibration.cases import load_case
from jfmfactory.catalog.catalog import load_catalog
from jfmfactory.errors import BadInput
from jfmfactory.inputs.project import Project
from jfmfactory.inputs.prose import ProseJudge, load_prose_rules, prompt_runs
from jfmfactory.inputs.seeds import LEVELS, RoleSeeds, load_role
from jfmfactory.inputs.text import normalise
from jfmfactory.pipeline.checks import (
    BLATANT_BANDS,
    CHECKS,
    CheckInputs,
    Finding,
    Messages,
    _pairs,
    check,
    check_house_style,
    load_check_messages,
    run_checks,
    score_for,
    style_problem,
    support,
)
from jfmfactory.pipeline.evidence import gather, load_queries
from jfmfactory.pipeline.panel import check_dimensions, load_panel
from jfmfactory.pipeline.role_inputs import read_inputs
from jfmfactory.records.evidence import Evidence
from jfmfactory.records.profile import Cited, Profile, Tool
from jfmfactory.records.runlog import ReviewIssue
from jfmfactory.records.sections import TOOLS, Item, items
from jfmfactory.records.store import RunStore


@pytest.fixture
def seeds() -> RoleSeeds:
    return load_role(REPO / "seeds", "product-management")


CATALOG = load_catalog(REPO / "catalog")
#: The dimension each check caps, as the shipped reviewer files declare it.
CAPS = check_dimensions(load_panel(REPO / "panel"))
MESSAGES = load_check_messages(REPO / "panel")
TITLES = {level: CATALOG.rubric.block(level).titles for level in LEVELS}
#: The shipped role's evidence, as a run gathers it: what the canned profile's items rest on.
EVIDENCE = gather(
    load_role(REPO / "seeds", "product-management"), TITLES, load_queries(REPO / "prompts"), VOCABULARY
)
PROSE = ProseJudge(
    load_prose_rules(REPO / "panel"),
    prompt_runs(REPO / "prompts"),
    [*LEVELS, "S1", "S2", *(quote.id for quote in EVIDENCE.quotes)],
)


def findings(
    profile: Profile, seeds: RoleSeeds, evidence: Evidence | None = EVIDENCE
) -> dict[str, tuple[float, list[str]]]:
    inputs = CheckInputs(seeds, CATALOG, VOCABULARY, MESSAGES, PROSE, evidence)
    reviews = run_checks(profile, inputs, CAPS)
    return {r.member: (r.score, [i.problem for i in r.issues]) for r in reviews}


def test_a_sound_profile_passes_every_check(seeds: RoleSeeds) -> None:
    result = findings(canned_profile(seeds), seeds)
    assert {member: score for member, (score, _) in result.items()} == {
        "check:completeness": 5,
        "check:duplicates": 5,
        "check:house-style": 5,
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
    profile.responsibilities["P2"] = profile.responsibilities["P2"][:2]
    profile.guidelines["P6"].complexity = Cited(text=" ", sources=["S1"])
    profile.skills = profile.skills[:2]
    score, problems = findings(profile, seeds)["check:completeness"]
    assert problems == [
        "2 responsibilities, not 3 to 5",
        "Complexity & Problem Solving is empty",
        "2 skills, fewer than 3",
    ]
    assert score == 3


def _grounding(
    profile: Profile, seeds: RoleSeeds, evidence: Evidence | None = EVIDENCE
) -> tuple[float, list[str]]:
    return findings(profile, seeds, evidence)["check:grounding-support"]


def test_a_canned_profile_rests_every_cited_item_on_a_quote_that_supports_it(seeds: RoleSeeds) -> None:
    profile = canned_profile(seeds)
    inputs = CheckInputs(seeds, CATALOG, VOCABULARY, MESSAGES, PROSE, EVIDENCE)
    (review,) = [r for r in run_checks(profile, inputs, CAPS) if r.member == "check:grounding-support"]
    cited = sum(1 for item in items(profile) if item.sources is not None)
    assert review.score == 5 and review.issues == []
    assert review.rationale == f"{cited} of {cited} cited items rest on a verified quote that supports them"
    quoted_cells = [
        cell
        for row in profile.guidelines.values()
        for cell in (row.knowledge, row.complexity, row.collaboration)
    ]
    from_sources = sum(1 for cell in quoted_cells if not cell.rubric)
    duties = sum(len(level) for level in profile.responsibilities.values())
    assert cited == duties + from_sources + len(profile.skills) + len(profile.tools) + len(profile.aliases)


def test_an_item_that_rests_on_no_quote_is_an_issue(seeds: RoleSeeds) -> None:
    profile = canned_profile(seeds)
    first = profile.responsibilities["P3"][0]
    profile.responsibilities["P3"][0] = first.model_copy(update={"evidence": []})
    score, problems = _grounding(profile, seeds)
    assert problems == ["rests on no quote from its sources"] and score == 3  # one fails grounding


def test_an_item_resting_on_a_quote_the_evidence_does_not_hold_is_an_issue(seeds: RoleSeeds) -> None:
    profile = canned_profile(seeds)
    profile.skills[0] = profile.skills[0].model_copy(update={"evidence": ["E9999"]})
    score, problems = _grounding(profile, seeds)
    assert problems == ["rests on quote E9999, which the evidence does not hold"] and score == 3


def test_a_profile_judged_without_its_evidence_is_grounded_nowhere(seeds: RoleSeeds) -> None:
    profile = canned_profile(seeds)
    score, problems = _grounding(profile, seeds, evidence=None)
    assert score == 1 and problems and all(p.startswith("rests on quote E") for p in problems)


def test_a_forged_quote_that_is_not_in_its_source_is_an_issue(seeds: RoleSeeds, tmp_path: Path) -> None:
    """evidence.json is a file beside the profile: a quote edited there no longer stands in its
    source, and an item resting on it is not grounded, however well the quote supports it."""
    profile = canned_profile(seeds)
    skill = profile.skills[0]
    (qid,) = skill.evidence
    forged_text = f"{skill.name}: {skill.description}"
    forged = EVIDENCE.model_copy(
        update={
            "quotes": [
                q.model_copy(update={"text": forged_text}) if q.id == qid else q for q in EVIDENCE.quotes
            ]
        }
    )
    store = RunStore(tmp_path / "out")
    store.write_evidence(forged)
    read_back = store.read_evidence()
    assert read_back is not None and read_back.quote(qid).text == forged_text  # type: ignore[union-attr]

    score, problems = _grounding(profile, seeds, read_back)
    quote = EVIDENCE.quote(qid)
    assert quote is not None
    resting = [item for item in items(profile) if qid in item.evidence]  # the skill, and any other
    assert skill.name in [item.text.split(":")[0] for item in resting]
    problem = f'rests on a quote that is not in {quote.source} word for word: "{forged_text}"'
    assert problems == [problem] * len(resting)
    assert score == score_for(len(resting), BLATANT_BANDS)


def test_an_item_resting_on_a_quote_of_a_source_it_does_not_cite_is_an_issue(seeds: RoleSeeds) -> None:
    profile = canned_profile(seeds)
    item = profile.responsibilities["P2"][0]
    other = "S2" if item.sources == ["S1"] else "S1"
    profile.responsibilities["P2"][0] = item.model_copy(update={"sources": [other]})
    _, problems = _grounding(profile, seeds)
    assert len(problems) == 1 and problems[0].startswith("rests on a quote that is not in")


def test_an_item_its_quote_does_not_say_is_an_issue(seeds: RoleSeeds) -> None:
    profile = canned_profile(seeds)
    item = profile.responsibilities["P3"][0]
    profile.responsibilities["P3"][0] = item.model_copy(
        update={"text": "Negotiates quantum blockchain procurement."}
    )
    # The quote's own words, shuffled: every word is there, almost no pair.
    quote = EVIDENCE.quote(profile.responsibilities["P4"][0].evidence[0])
    assert quote is not None
    shuffled = " ".join(reversed(quote.text.split())).capitalize() + "."
    profile.responsibilities["P4"][0] = profile.responsibilities["P4"][0].model_copy(
        update={"text": shuffled}
    )
    score, problems = _grounding(profile, seeds)
    assert problems == [
        "its quotes do not say this: only 0% of its word pairs stand in one (needs 20%)",
        "its quotes do not say this: only 0% of its word pairs stand in one (needs 20%)",
    ]
    assert score == 2


def test_an_item_citing_an_unknown_source_is_an_issue(seeds: RoleSeeds) -> None:
    profile = canned_profile(seeds)
    profile.responsibilities["P3"][1] = profile.responsibilities["P3"][1].model_copy(
        update={"sources": ["S9"]}
    )
    profile.responsibilities["P3"][2] = profile.responsibilities["P3"][2].model_copy(update={"sources": []})
    score, problems = _grounding(profile, seeds)
    assert problems == ["cites unknown source id(s) S9", "cites no source"]
    assert score == 2  # two items rest on nothing: one fails grounding


def test_support_is_the_share_of_word_pairs_standing_in_one_quote() -> None:
    quote = _pairs(VOCABULARY.terms("Defines the product strategy and owns the roadmap"))
    assert support(VOCABULARY.terms("Defines the product strategy."), [quote]) == 1.0
    assert support(VOCABULARY.terms("Owns the roadmap and the product strategy."), [quote]) == pytest.approx(
        2 / 3
    )
    assert support(VOCABULARY.terms("Roadmap owns strategy product defines."), [quote]) == 0.0
    assert support(VOCABULARY.terms("Roadmap."), [quote]) == 1.0  # one word: whether it is there
    assert support(VOCABULARY.terms("Defines the product strategy."), []) == 0.0


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
        ("check:house-style", "clarity"),
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
    ("text", "owner"),
    [
        ("Keeps the risk register for the launch.", "Program Management"),
        ("Maintains the program's Risk Register weekly.", "Program Management"),
        ("Reviews wireframes with the team.", "Product Design"),
        # Two foci's phrases: the catalog's first focus is named, whatever the item's order.
        ("Keeps the risk register and reviews wireframes.", "Product Design"),
        ("Keeps a register of each risk for the launch.", None),
        ("Registers the risk with the team.", None),
    ],
)
def test_another_focus_s_territory_phrase_in_an_item_names_that_focus(
    seeds: RoleSeeds, text: str, owner: str | None
) -> None:
    profile = canned_profile(seeds)
    profile.responsibilities["P3"][0].text = text
    score, problems = findings(profile, seeds)["check:boundaries"]
    if owner is None:
        assert problems == [] and score == 5
    else:
        assert problems == [MESSAGES["boundaries"]("other-territory", owner=owner)] and score < 5


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
        (
            "completeness",
            "responsibility-count",
            {"count": 2, "least": 3, "most": 5},
            "2 responsibilities, not 3 to 5",
        ),
        ("completeness", "empty-responsibility", {}, "an empty responsibility"),
        (
            "completeness",
            "empty-cell",
            {"column": "Knowledge & Application"},
            "Knowledge & Application is empty",
        ),
        ("completeness", "few-skills", {"count": 2, "least": 3}, "2 skills, fewer than 3"),
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
        ("grounding-support", "no-evidence", {}, "rests on no quote from its sources"),
        (
            "grounding-support",
            "unknown-quote",
            {"id": "E7"},
            "rests on quote E7, which the evidence does not hold",
        ),
        (
            "grounding-support",
            "quote-not-in-source",
            {"quote": "Owns it", "source": "S2"},
            'rests on a quote that is not in S2 word for word: "Owns it"',
        ),
        (
            "grounding-support",
            "unsupported",
            {"share": 0.125, "needed": 0.2},
            "its quotes do not say this: only 12% of its word pairs stand in one (needs 20%)",
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


def test_a_new_check_is_its_function_its_messages_and_the_reviewer_file_naming_it(project: Project) -> None:
    # 1. The function, declared with its messages' fields.
    @check("short-tools", {"too-short": ("name",)})
    def check_short_tools(profile: Profile, inputs: CheckInputs, say: Messages) -> Finding:
        issues = [
            ReviewIssue(section=tool.section, quote=tool.text, problem=say("too-short", name=tool.text))
            for tool in TOOLS.items(profile)
            if len(tool.text) < 4
        ]
        return Finding(issues, f"{len(issues)} short tool name(s)", score_for(len(issues)))

    try:
        # 2. Its messages, in the panel's messages file.
        messages = project.panel / "_checks.toml"
        messages.write_text(messages.read_text() + '\n[short-tools]\ntoo-short = "{name} is too short"\n')
        # 3. The reviewer file of the dimension it caps names it.
        clarity = project.panel / "clarity.toml"
        clarity.write_text(clarity.read_text().replace("checks = [", 'checks = ["short-tools", ', 1))

        inputs = read_inputs(project, "product-management")
        profile = canned_profile(inputs.seeds, project.root)
        profile.tools.append(Tool(name="SQL", sources=[], evidence=[]))
        caps = check_dimensions(load_panel(project.panel))
        reviews = [r for r in run_checks(profile, inputs.checks, caps) if r.member == "check:short-tools"]
        assert [(r.dimension, r.score) for r in reviews] == [("clarity", 4)]
        assert [i.problem for i in reviews[0].issues] == ["SQL is too short"]
    finally:
        CHECKS.remove(next(c for c in CHECKS if c.name == "short-tools"))


HOUSE = read_inputs(Project.find(REPO), "product-management")


@pytest.mark.parametrize(
    ("section", "text", "problem"),
    [
        ("responsibilities.P2", "Owns the strategy for your product.", "addresses-reader"),
        ("responsibilities.P7", "They are involved in setting the long-term product vision.", "not-a-duty"),
        ("responsibilities.P6", "Vision setting (ability to articulate a strategy).", "not-a-duty"),
        ("responsibilities.P5", "Leads the product strategy for a portfolio of products.", None),
        ("responsibilities.P4", "Leads the product strategy for a portfolio of products.", "beyond-level"),
        ("responsibilities.P3", "Sets the company-wide strategy for the product.", "beyond-level"),
        ("responsibilities.P4", "Leads cross-functional teams and is a strong communicator.", "describes"),
        ("responsibilities.P3", "Takes on more responsibility and autonomy.", "describes"),
        (
            "responsibilities.P2",
            "Works under the guidance of more experienced Product Managers.",
            "describes",
        ),
        (
            "responsibilities.P6",
            "Identifies opportunities the team is not working on helping with exploring them.",
            "runs-on",
        ),
        (
            "skills",
            "The bar here is that you think critically: Explains the thought process.",
            "addresses-reader",
        ),
        ("skills", "The bar here is critical thinking: Explains the thought process.", "not-a-name"),
        ("skills", "Empathy for users: Explains empathy to users.", "restates-name"),
        ("skills", "Team integration after M&A: Integrates an acquired team.", None),
        # Ordinary duties the rules above must not catch.
        ("responsibilities.P2", "Coordinates company-wide training sessions and tracks attendance.", None),
        ("responsibilities.P2", "Posts job openings on job boards and screens applicants.", None),
        ("responsibilities.P3", "Prepares metrics reports for C-level executives.", None),
        ("responsibilities.P3", "Partners with finance on budgeting and forecasting.", None),
        ("responsibilities.P3", "Builds more inclusive hiring practices across the team.", None),
        ("skills", "I/O psychology: Designs assessments for hiring.", None),
        (
            "responsibilities.P3",
            "Heads of Product are responsible for defining the product strategy.",
            "not-a-duty",
        ),
        ("responsibilities.P4", "Ensures the team delivers on time.", None),
        ("responsibilities.P5", "Prepares updates for senior leadership.", None),
        ("responsibilities.P3", "Manages accounts at mid-level.", "names-level"),
        ("guidelines.P3", "Strategic influence.", "not-a-sentence"),
        ("guidelines.P2", "Applies a mix of CS and business degree.", "other-column"),
        ("guidelines.P2", "Moderate; exercises judgment in familiar contexts.", None),
        ("skills", "Advanced analytical skills: Defines and defines OKRs and metrics.", "stutter"),
        ("skills", "SQL: Effectively queries user data.", None),
        ("tools", "B2B", "not-a-tool"),
        ("tools", "Developing and Testing Hypothesis", "not-a-tool"),
        ("aliases", "Senior Manager", "generic-title"),
        ("aliases", "Group Product Manager", None),
    ],
)
def test_an_item_out_of_the_house_style_is_named(section: str, text: str, problem: str | None) -> None:
    # Published-profile items (sources not held, so no source is asked about a tool's name).
    found = style_problem(Item(section, text, [], []), HOUSE.checks)
    assert (found[0] if found else None) == problem


def test_a_tool_is_one_the_sources_name_as_a_product(tmp_path: Path) -> None:
    sources = HOUSE.checks.seeds.sources
    named = Item("tools", "Roadmap", [sources[0].id], ["E1"])
    assert style_problem(named, HOUSE.checks) == ("not-a-tool", {})  # "roadmap" is no product's name


def test_the_published_profiles_pass_the_house_style_and_a_drafted_fault_fails_it() -> None:
    for case in ("published-p5", "published-p6"):
        profile = load_case(REPO / "calibration" / "cases" / case).profile
        finding = check_house_style(profile, HOUSE.checks, HOUSE.checks.messages["house-style"])
        assert finding.issues == [] and finding.score == 5
        profile.responsibilities["P3"][0].text = "Tells your manager about the work you have done."
        profile.skills.append(profile.skills[0].model_copy())
        finding = check_house_style(profile, HOUSE.checks, HOUSE.checks.messages["house-style"])
        assert [i.problem.split(":")[0] for i in finding.issues] == [
            "speaks to the reader (you, your)",
            "names a skill the list already has",
        ]
        assert finding.score < 4  # one item out of the style fails the dimension


def test_the_rubric_writes_every_guideline_cell_in_the_house_style() -> None:
    catalog = HOUSE.catalog
    assert catalog is not None
    for level in LEVELS:
        cells = catalog.rubric.block(level).guidelines
        assert cells is not None, level
        for column, template in cells.model_dump().items():
            text = HOUSE.prompts.render_string(template, f"{level}.{column}", role=HOUSE.seeds.manifest)
            assert HOUSE.seeds.manifest.title in text or column != "knowledge"
            assert style_problem(Item(f"guidelines.{level}", text, [], []), HOUSE.checks) is None, text
