"""The house style's grammar, judged with lemminflect: duty verbs, sentences, stutters, and a
quote's own words turned into a duty."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from jfmfactory.inputs.grammar import (
    SECOND_PERSON,
    as_duty,
    as_skill,
    duty_verb,
    gerund_chain,
    is_clause_sentence,
    lemma,
    starts_with_duty_verb,
    stutter,
)


@pytest.mark.parametrize(
    ("word", "is_duty_verb"),
    [("Leads", True), ("Defines", True), ("Does", True), ("Mentors", True), ("Queries", True),
     ("Lead", False), ("Leading", False), ("They", False), ("Is", False), ("Has", False),
     ("Leaders", False), ("Vision", False), ("Pm", False)],
)  # fmt: skip
def test_a_duty_verb_is_a_verb_in_the_third_person_and_no_auxiliary(word: str, is_duty_verb: bool) -> None:
    assert duty_verb(word) is is_duty_verb


def test_a_plural_subject_before_its_verb_is_no_duty() -> None:
    assert starts_with_duty_verb("Builds dashboards for the sales team.")
    assert not starts_with_duty_verb("Skills vary at different levels of product management.")


@pytest.mark.parametrize(
    ("cell", "sentence"),
    [("Applies product analytics independently.", True),
     ("Moderate; exercises judgment in familiar contexts.", True),
     ("Visionary problem-solving — selects which problem is right to solve.", True),
     ("Strategic influence.", False), ("Ability to interface with customers.", False),
     ("They are entrusted with more complex initiatives.", False)],
)  # fmt: skip
def test_a_guideline_cell_is_a_sentence_perhaps_after_a_lead_in(cell: str, sentence: bool) -> None:
    assert is_clause_sentence(cell) is sentence


def test_the_reader_addressed_and_a_word_said_twice_are_found() -> None:
    assert SECOND_PERSON.search("Ensures you're working with teams")
    assert SECOND_PERSON.search("Owns the strategy for your product")
    assert not SECOND_PERSON.search("Youth programmes and younger customers")
    assert stutter("Defines and defines OKRs.") == "defines"
    assert stutter("Leads the the team.") == "the"
    assert stutter("Defines and tracks OKRs.") is None
    assert lemma("hypotheses") == "hypothesis"


@pytest.mark.parametrize(
    ("quote", "duty"),
    [
        ("creating and maintaining the product roadmap", "Creates and maintains the product roadmap."),
        ("They are responsible for defining the product strategy", "Defines the product strategy."),
        ("They lead the product strategy for a portfolio of products, work closely with executive "
         "stakeholders", "Leads the product strategy for a portfolio of products."),
        ("Senior Product Managers may also be responsible for mentoring and guiding junior team members",
         "Mentors and guides junior team members."),
        ("The CPO often works closely with C-level executives", "Works closely with C-level executives."),
        ("build executable 1-3-year roadmaps", "Builds executable 1-3-year roadmaps."),
        ("clear communication", None),
        ("Strategic thinking and ability to develop product roadmaps", None),
        ("marketing and sales alignment", None),
        ("Product vision", None),
        ("Junior Product Managers have less decision-making authority", None),
        ("the role changes to mentoring PMs", None),
        ("gathering customer feedback", "Gathers customer feedback."),
        ("Heads of Product are responsible for defining the strategy", "Defines the strategy."),
        ("compelling written and verbal communication skills", None),
        ("knowing how to craft a strategy and 1-year+ roadmap", "Crafts a strategy and 1-year+ roadmap."),
        ("the ability to drive successful product outcomes", "Drives successful product outcomes."),
        ("PMs at this level are expected to mentor junior PMs", "Mentors junior PMs."),
        ("At this level, Product Management professionals oversee a group of products",
         "Oversees a group of products."),
        ("Group/Product Leads or Directors of Product Management collaborate with executives and are "
         "accountable for results", "Collaborates with executives and is accountable for results."),
    ],
)  # fmt: skip
def test_a_quote_becomes_a_duty_in_its_own_words_only_where_its_grammar_allows(
    quote: str, duty: str | None
) -> None:
    assert as_duty(quote) == duty


@pytest.mark.parametrize(
    ("quote", "skill"),
    [
        ("clarity (ability to absorb complexity and convey it simply)",
         ("Clarity", "Absorbs complexity and conveys it simply.")),
        ("M&A/ability to integrate an acquired team", ("M&A", "Integrates an acquired team.")),
        ("Advanced analytical skills to define OKRs and metrics",
         ("Advanced analytical skills", "Defines OKRs and metrics.")),
        # Two abilities, the second no use of the first.
        ("exceptional listening skills and ability to quickly get to the core of any problem", None),
        ("the bar here is that you have great critical thinking", None),
        ("empathy for users/stakeholders/engineers/designers", None),
        ("Ability to interface with customers to get a deep understanding of their issues", None),
    ],
)  # fmt: skip
def test_a_quote_becomes_a_skill_where_it_gives_a_name_and_its_use(
    quote: str, skill: tuple[str, str] | None
) -> None:
    assert as_skill(quote) == skill


def test_three_gerunds_run_together_are_a_run_on_and_two_are_not() -> None:
    assert gerund_chain("Identifies opportunities the team is not working on helping with exploring them.")
    assert not gerund_chain("Runs A/B tests and analyzing funnel drop-offs.")
    assert not gerund_chain("Focuses on exploring new markets.")


# A process that reads lemminflect's tables from its CSV files fails; the words asked of both.
LEXICON_PROBE = """
import sys
from lemminflect.codecs import InflectionLUCodec, LemmaLUCodec
if sys.argv[1] == "warm":
    def refused(*args): raise AssertionError("read the CSV files again")
    LemmaLUCodec.LemmaLUCodec.load = InflectionLUCodec.InflectionLUCodec.load = refused
from jfmfactory.inputs.grammar import as_duty, duty_verb, present_third_person
print([duty_verb("Leads"), duty_verb("Roadmap"), present_third_person("coordinate"),
       as_duty("you will mentor junior designers")])
"""


def test_the_lexicon_is_read_from_the_kept_copy_after_the_first_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JFM_CACHE_DIR", str(tmp_path))
    cold, warm = (
        subprocess.run([sys.executable, "-c", LEXICON_PROBE, run], capture_output=True, text=True, check=True)
        for run in ("cold", "warm")
    )
    assert [path.name.startswith("lemminflect-") for path in tmp_path.iterdir()] == [True]
    assert warm.stdout == cold.stdout
    assert "True, False, 'coordinates'" in cold.stdout
