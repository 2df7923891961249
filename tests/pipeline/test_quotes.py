from __future__ import annotations

import re

import pytest

from conftest import REPO, canned_profile
from jfmfactory.inputs.seeds import load_role
from jfmfactory.pipeline.quotes import near_miss, quote_found, section_items, verify
from jfmfactory.records.runlog import ReviewIssue

ITEMS = ["Supports the product development process under guidance", "Conducts market research", "Jira"]


@pytest.mark.parametrize(
    ("quote", "found"),
    [
        ("Supports the product development process", True),
        ('"supports THE product   development process…"', True),
        ("Conducts market research.", True),
        ("Jira", True),  # a whole item, however short
        ("Supports product development", False),  # a paraphrase is not a quote
        ("the product", False),  # too short to stand for anything unless it is a whole item
        ("research Jira", False),  # quotes stand inside one item
        ("", False),
    ],
)
def test_a_quote_must_stand_word_for_word_in_one_item(quote: str, found: bool) -> None:
    assert quote_found(quote, ITEMS) is found


def test_items_are_keyed_by_the_sections_reviewers_name() -> None:
    profile = canned_profile(load_role(REPO / "seeds", "product-management"))
    items = section_items(profile)
    assert list(items)[:3] == ["overview", "responsibilities.P2", "responsibilities.P3"]
    assert items["responsibilities.P3"] == [item.text for item in profile.responsibilities["P3"]]
    assert len(items["guidelines.P7"]) == 4 and items.get("tools", []) == [
        tool.name for tool in profile.tools
    ]
    assert items["skills"][0] == f"{profile.skills[0].name}: {profile.skills[0].description}"
    assert items["aliases"] == [alias.title for alias in profile.aliases]
    # Headings and citations are no part of an item.
    assert not any("Knowledge & Application" in text for text in items["guidelines.P2"])
    assert not any(re.search(r"\b(S1|S2|E\d+)\b", text) for texts in items.values() for text in texts)


def test_verify_marks_each_issue() -> None:
    items = {"overview": ["Owns discovery of products"], "skills": []}
    issues = [
        ReviewIssue(section="overview", quote="owns discovery of", problem="vague"),
        ReviewIssue(section="skills", quote="Owns discovery of", problem="no such item there"),
    ]
    assert [issue.verified for issue in verify(issues, items)] == [True, False]


@pytest.mark.parametrize(
    ("quote", "near"),
    [
        ("Supports the product development process, always", True),  # one word off
        ("supports product development", True),  # a paraphrase of one item
        ("Conducts market research", True),  # in the wrong section: a re-ask can move it
        ("1. The profile is incomplete.", False),  # the rubric's words
        ("research and Jira", False),  # words spread over two items
        ("the product", False),  # too short to stand for an item
    ],
)
def test_a_near_miss_holds_most_of_its_words_in_one_item(quote: str, near: bool) -> None:
    items = {"overview": ITEMS[:1], "skills": ITEMS[1:]}
    assert near_miss(quote, items) is near
