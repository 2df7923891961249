from __future__ import annotations

import pytest

from jfmfactory.evidence import quote_found, section_texts, verify
from jfmfactory.runlog import ReviewIssue

TEXT = """[overview]
Product Management: Owns discovery.
[responsibilities.P2]
- Supports the product development process under guidance [S1, S2]
- Conducts market research [S1]
[guidelines.P2]
- Typical Degree & Years: 2+ years with a business degree [S1]
"""


def test_the_profile_text_splits_into_its_sections() -> None:
    sections = section_texts(TEXT)
    assert list(sections) == ["overview", "responsibilities.P2", "guidelines.P2"]
    assert "Conducts market research" in sections["responsibilities.P2"]
    assert "Conducts" not in sections["guidelines.P2"]


@pytest.mark.parametrize(
    ("quote", "found"),
    [
        ("Supports the product development process", True),
        ('"supports THE product   development process…"', True),
        ("Conducts market research.", True),
        ("Supports product development", False),  # a paraphrase is not a quote
        ("2+ years with a business degree", False),  # in another section
        ("S1", False),  # too short to stand for anything
    ],
)
def test_a_quote_must_stand_word_for_word_in_its_section(quote: str, found: bool) -> None:
    assert quote_found(quote, section_texts(TEXT)["responsibilities.P2"]) is found


def test_verify_marks_each_issue() -> None:
    issues = [
        ReviewIssue(section="overview", quote="Owns discovery", problem="vague"),
        ReviewIssue(section="skills", quote="Owns discovery", problem="no such section"),
    ]
    assert [issue.verified for issue in verify(issues, section_texts(TEXT))] == [True, False]
