from __future__ import annotations

from jfmfactory.records.markdown import render_markdown
from jfmfactory.records.profile import (
    Cited,
    Distinction,
    LevelGuideline,
    Profile,
    Provenance,
    Skill,
    SourceRef,
    Tool,
)


def _cited(text: str, *sources: str) -> Cited:
    return Cited(text=text, sources=list(sources or ("S1",)))


def make_profile(levels: tuple[str, ...] = ("P2", "P3")) -> Profile:
    return Profile(
        role="product-management",
        title="Product Management",
        family="Product",
        focus="Product Management",
        code="PRODUCT.PRODUCTMANAGEMENT.LEVEL",
        description="Owns discovery and definition of products.",
        distinct_from=[
            Distinction(function="Product Design", boundary="UX craft"),
            Distinction(function="Program Management", boundary="delivery orchestration"),
        ],
        levels=list(levels),
        responsibilities={lv: [_cited(f"Duty {n} at {lv}.") for n in range(5)] for lv in levels},
        guidelines={
            lv: LevelGuideline(
                knowledge=_cited(f"Knows | much at {lv}\nreally."),
                complexity=_cited("Moderate.", "S1", "S2", "S1"),
                collaboration=_cited("Works with engineering."),
                degree_years=_cited("2+ years with a BA."),
            )
            for lv in levels
        },
        skills=[Skill(name="SQL", description="Queries data.", sources=["S2"])],
        tools=[Tool(name="Jira", sources=["S1"])],
    )


def test_markdown_follows_the_seed_layout() -> None:
    text = render_markdown(make_profile())
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == [
        "# Product Management",
        "## Focus — Product Management",
        "## Responsibilities by level",
        "### P2",
        "### P3",
        "## Level guidelines",
        "## Skills",
        "## Tools and technologies",
        "## Title aliases",
        "## Provenance",
    ]
    assert "Distinct from Product Design (UX craft) and Program Management (delivery orchestration)." in text
    assert "- Duty 4 at P3. [S1]" in text
    assert "- **SQL** — Queries data. [S2]" in text
    assert "Not yet reviewed." in text and "No title aliases recorded for this profile yet." in text


def test_a_cell_with_a_pipe_or_line_break_keeps_the_table_intact() -> None:
    text = render_markdown(make_profile())
    rows = [line for line in text.splitlines() if line.startswith("| P")]
    assert len(rows) == 2
    assert all(row.count(" | ") + 2 == 6 for row in rows)
    assert "Knows \\| much at P2 really. [S1]" in rows[0]
    assert "Moderate. [S1, S2]" in rows[0]  # a source cited twice is listed once


def test_provenance_lists_sources_and_the_panel_verdict() -> None:
    profile = make_profile()
    profile.provenance = Provenance(
        sources=[
            SourceRef(
                id="S1", title="Levels", origin="https://example.org/a", date="2026-01-02", sha256="0" * 64
            )
        ],
        scores={"clarity": 4, "grounding": 3},
        min_score=3,
        threshold=4,
        passed=False,
        round=2,
    )
    text = render_markdown(profile)
    assert "1 source\n" in text and "- [S1] Levels — https://example.org/a (2026-01-02)" in text
    assert "Panel verdict: **not passed** (round 2, lowest score 3, threshold 4)." in text
    assert "| grounding | 3 |" in text
