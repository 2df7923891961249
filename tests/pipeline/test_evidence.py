"""The evidence stage: sources cut into verbatim quotes, mapped to levels, ranked per section."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from conftest import REPO, VOCABULARY
from jfmfactory.catalog.catalog import load_catalog
from jfmfactory.errors import BadInput
from jfmfactory.inputs.seeds import LEVELS, Manifest, RoleSeeds, Source, SourceEntry, load_role
from jfmfactory.pipeline.evidence import gather, load_queries
from jfmfactory.records.evidence import Evidence, Quote

CATALOG = load_catalog(REPO / "catalog")
TITLES = {level: CATALOG.rubric.block(level).titles for level in LEVELS}
QUERIES = load_queries(REPO / "prompts")
SHIPPED = gather(load_role(REPO / "seeds", "product-management"), TITLES, QUERIES, VOCABULARY)


def _seeds(*texts: str, levels: tuple[str, ...] = ("P2", "P3", "P4", "P5", "P6", "P7")) -> RoleSeeds:
    """A made-up role whose sources are `texts` (S1, S2, ...)."""
    entries = [
        SourceEntry(id=f"S{n}", file=f"s{n}.txt", title=f"Source {n}", date=dt.date(2026, 1, 1))
        for n in range(1, len(texts) + 1)
    ]
    manifest = Manifest(
        title="Product Management",
        family="Product",
        focus="Product Management",
        levels=list(levels),
        sources=entries,
    )
    sources = [Source(**e.model_dump(), text=text) for e, text in zip(entries, texts, strict=True)]
    return RoleSeeds(role="made-up", manifest=manifest, sources=sources)


def _gather(*texts: str, levels: tuple[str, ...] = ("P2", "P3", "P4", "P5", "P6", "P7")) -> Evidence:
    return gather(_seeds(*texts, levels=levels), TITLES, QUERIES, VOCABULARY)


def _quote(evidence: Evidence, text: str) -> Quote:
    """The quote whose text is exactly `text` (failing with the quotes there are)."""
    found = [quote for quote in evidence.quotes if quote.text == text]
    assert len(found) == 1, [quote.text for quote in evidence.quotes]
    return found[0]


def _levels_of(evidence: Evidence, start: str) -> list[str]:
    """The levels of the one quote that starts with `start`."""
    found = [quote for quote in evidence.quotes if quote.text.startswith(start)]
    assert len(found) == 1, [quote.text for quote in evidence.quotes]
    return found[0].levels


# -- the shipped seeds ----------------------------------------------------------------------------


def test_every_quote_of_the_shipped_seeds_is_its_source_word_for_word() -> None:
    sources = {source.id: source.text for source in load_role(REPO / "seeds", "product-management").sources}
    assert len(SHIPPED.quotes) > 100
    for quote in SHIPPED.quotes:
        assert quote.text == sources[quote.source][quote.start : quote.end]
        assert quote.text == quote.text.strip() and quote.text
    ids = [quote.id for quote in SHIPPED.quotes]
    assert len(set(ids)) == len(ids)
    # Every id a section ranks is a quote of the evidence.
    assert all(SHIPPED.quote(qid) is not None for ranked in SHIPPED.sections.values() for qid in ranked)


def test_bylines_view_counts_and_headings_are_not_quotes() -> None:
    texts = [quote.text for quote in SHIPPED.quotes]
    for not_prose in ("Anton Kravchenko", "702 Views", "Question Page", "Formerly Salesforce", "2745 Views"):
        assert not any(not_prose in text for text in texts), not_prose
    # The question the page asks is no evidence either.
    assert not any(text.endswith("?") for text in texts)


def test_a_sentence_that_lists_things_becomes_one_quote_per_thing() -> None:
    texts = [quote.text for quote in SHIPPED.quotes]
    assert "They are responsible for defining the product strategy" in texts
    assert "creating and maintaining the product roadmap" in texts
    assert "prioritizing features" in texts
    assert "collaborating with cross-functional teams to deliver the product" in texts  # "and" dropped
    assert not any(text.startswith("They are responsible for defining") and "," in text for text in texts)


def test_the_shipped_bullets_map_to_the_levels_their_titles_name() -> None:
    # "Senior Product Manager:" → P4; "Chief Product Officer (CPO):" → P7.
    assert _levels_of(SHIPPED, "Senior Product Managers have a higher level") == ["P4"]
    assert _levels_of(SHIPPED, "They lead the product strategy for a portfolio") == ["P4"]  # the line's lead
    assert _levels_of(SHIPPED, "The Chief Product Officer is a senior executive") == ["P7"]
    assert _levels_of(SHIPPED, "They have a company-wide perspective") == ["P7"]
    # "Entry-level/Junior Product Manager:" → P2 (entry-level is P1, which the role does not draft).
    assert _levels_of(SHIPPED, "They are responsible for supporting the product") == ["P2"]
    # "For a PM or Sr. PM, the skills needed are:" → its list is P4.
    assert _levels_of(SHIPPED, "Strategic thinking and ability to develop product roadmaps") == ["P4"]
    # "For a Director or executive, ...:" → its list is P6 and P7.
    assert _levels_of(SHIPPED, "Industry knowledge and thought leadership") == ["P6", "P7"]


def test_the_shipped_aliases_are_titles_the_sources_use_not_plurals() -> None:
    aliases = [SHIPPED.quote(qid) for qid in SHIPPED.sections["aliases"]]
    titles = [quote.text for quote in aliases if quote is not None]
    assert "Chief Product Officer" in titles and "Senior Product Manager" in titles
    assert not any(title.split(" of ")[0].endswith("s") for title in titles), titles
    assert "Product Management" not in titles  # the role's own title
    cpo = _quote_among(aliases, "Chief Product Officer")
    assert cpo.levels == ["P7"]
    assert "Chief Product Officer" in SHIPPED.level_titles["P7"]


def _quote_among(quotes: list[Quote | None], text: str) -> Quote:
    return next(quote for quote in quotes if quote is not None and quote.text == text)


def _own_then_general(evidence: Evidence, level: str, ranked: list[str]) -> tuple[list[Quote], list[Quote]]:
    """A level's ranking split into its own quotes and those naming no level, checking that it
    holds nothing else (no other level's quote) and that its own come first."""
    quotes = [evidence.quote(qid) for qid in ranked]
    assert all(quote is not None for quote in quotes)
    own = [q for q in quotes if q is not None and level in q.levels]
    general = [q for q in quotes if q is not None and not q.levels]
    assert [*own, *general] == quotes, [(q.id, q.levels) for q in quotes if q is not None]
    return own, general


def test_every_level_and_guideline_cell_of_the_shipped_role_ranks_its_own_quotes_first() -> None:
    levels = ["P2", "P3", "P4", "P5", "P6", "P7"]
    for level in levels:
        for key in (f"responsibilities.{level}", *(f"guidelines.{level}.{c}" for c in QUERIES.guidelines)):
            own, _general = _own_then_general(SHIPPED, level, SHIPPED.sections[key])
            assert own, key  # every level of the shipped role is named in its sources
    assert len(SHIPPED.sections["skills"]) >= 5 and len(SHIPPED.sections["tools"]) >= 3
    assert SHIPPED.sections["overview"]


def test_gathering_twice_gives_the_same_evidence() -> None:
    again = gather(load_role(REPO / "seeds", "product-management"), TITLES, QUERIES, VOCABULARY)
    assert again.model_dump() == SHIPPED.model_dump()


# -- a made-up source, to pin each rule down ------------------------------------------------------

MADE_UP = """Jane Doe
Senior Director of Product | Formerly Acme, Initech
1,204 Views

- Senior Product Manager: Senior PMs own the roadmap for a product line. They coach the PMs on their team.
- Chief Product Officer (CPO): The CPO sets the product vision for the company.
- Junior Product Manager: Juniors write user stories under guidance.
Entry-level PMs learn the craft by shipping small features.
As a Senior Director, you shape the strategy of several product groups.
What does a PM do all day?
For a Head of Product, the skills needed are:
  • Hiring and growing product managers
  • Setting the vision for many product teams
Our PMs talk to customers every week.
A mid-level PM handles discovery, writes specifications, runs experiments, and ships features.
The Senior Product Managers and the Chief Product Officer meet every quarter.
Directors of Product Management own the portfolio strategy.
"""


@pytest.fixture(scope="module")
def made_up() -> Evidence:
    return _gather(MADE_UP)


def test_made_up_quotes_are_slices_of_their_source(made_up: Evidence) -> None:
    for quote in made_up.quotes:
        assert quote.source == "S1" and MADE_UP[quote.start : quote.end] == quote.text


def test_made_up_bylines_view_counts_and_questions_are_left_out(made_up: Evidence) -> None:
    texts = " | ".join(quote.text for quote in made_up.quotes)
    assert "Jane Doe" not in texts and "Views" not in texts and "Formerly" not in texts
    assert "What does a PM do all day" not in texts


def test_a_lead_label_names_the_level_of_its_line(made_up: Evidence) -> None:
    # The label is not part of the quote: the quote is what follows it.
    assert _quote(made_up, "Senior PMs own the roadmap for a product line").levels == ["P4"]
    # A sentence naming no title speaks of what the sentence before it spoke of...
    assert _quote(made_up, "They coach the PMs on their team").levels == ["P4"]
    assert _quote(made_up, "The CPO sets the product vision for the company").levels == ["P7"]
    assert _quote(made_up, "Juniors write user stories under guidance").levels == ["P2"]


def test_a_level_the_role_does_not_draft_maps_to_the_nearest_it_does(made_up: Evidence) -> None:
    # "Entry-level" is P1; this role's lowest level is P2.
    assert _quote(made_up, "Entry-level PMs learn the craft by shipping small features").levels == ["P2"]
    narrow = _gather(MADE_UP, levels=("P3", "P4", "P5"))
    assert _quote(narrow, "The CPO sets the product vision for the company").levels == ["P5"]
    assert _quote(narrow, "Juniors write user stories under guidance").levels == ["P3"]


def test_of_two_titles_side_by_side_the_second_names_the_level(made_up: Evidence) -> None:
    # "Senior Director": a director (P6), not a senior (P4).
    assert _levels_of(made_up, "As a Senior Director, you shape") == ["P6"]


def test_list_items_inherit_the_levels_of_their_lead_in(made_up: Evidence) -> None:
    assert _quote(made_up, "Hiring and growing product managers").levels == ["P6"]
    assert _quote(made_up, "Setting the vision for many product teams").levels == ["P6"]
    # The lead-in itself is no quote, and the list's levels stop with the list.
    assert not any(quote.text.startswith("For a Head of Product") for quote in made_up.quotes)
    assert _quote(made_up, "Our PMs talk to customers every week").levels == []


def test_a_made_up_listing_sentence_is_cut_into_its_parts(made_up: Evidence) -> None:
    parts = [q.text for q in made_up.quotes if q.start >= MADE_UP.index("A mid-level PM handles")]
    assert parts[:4] == [
        "A mid-level PM handles discovery",
        "writes specifications",
        "runs experiments",
        "ships features",  # "and" and the end stop are no part of it
    ]
    assert all(_quote(made_up, part).levels == ["P3"] for part in parts[:4])


def test_a_sentence_naming_two_levels_speaks_of_both(made_up: Evidence) -> None:
    assert _levels_of(made_up, "The Senior Product Managers and the Chief") == ["P4", "P7"]


def test_a_title_in_the_plural_names_its_level(made_up: Evidence) -> None:
    assert _levels_of(made_up, "Directors of Product Management own") == ["P6"]
    # "Group/Product Leads or Directors of Product Management collaborate ..." in the shipped S2.
    assert _levels_of(SHIPPED, "Group/Product Leads or Directors") == ["P5", "P6"]


def test_titles_become_alias_quotes_and_plurals_do_not(made_up: Evidence) -> None:
    titles = [made_up.quote(qid) for qid in made_up.sections["aliases"]]
    texts = [quote.text for quote in titles if quote is not None]
    assert "Senior Product Manager" in texts and "Chief Product Officer" in texts
    assert "Junior Product Manager" in texts and "Head of Product" in texts
    assert "Senior Product Managers" not in texts and "Directors of Product Management" not in texts
    for quote in titles:
        assert quote is not None and MADE_UP[quote.start : quote.end] == quote.text
    assert _quote_among(titles, "Chief Product Officer").levels == ["P7"]
    assert made_up.level_titles["P4"] == ["Senior Product Manager"]


def test_a_level_ranks_its_own_quotes_then_those_naming_no_level(made_up: Evidence) -> None:
    own, _ = _own_then_general(made_up, "P4", made_up.sections["responsibilities.P4"])
    assert "Senior PMs own the roadmap for a product line" in [quote.text for quote in own]
    own, _ = _own_then_general(made_up, "P3", made_up.sections["responsibilities.P3"])
    assert len(own) == 4  # the mid-level sentence's parts
    # No title names P5 here: it has only quotes that name no level, and no other level's.
    assert not any("P5" in quote.levels for quote in made_up.quotes)
    for key in ("responsibilities.P5", "guidelines.P5.knowledge"):
        own, general = _own_then_general(made_up, "P5", made_up.sections[key])
        assert own == [] and all(quote.levels == [] for quote in general)


def test_a_source_that_names_no_level_still_gives_every_level_evidence() -> None:
    tasks = [
        "Product managers define the product strategy for their area.",
        "They own the roadmap and decide what ships next.",
        "They prioritize features with engineering and design teams.",
        "They interview customers to learn what problems matter.",
        "They write clear requirements for each release.",
        "They track adoption metrics after every launch.",
        "They present plans to sales and support before launch.",
        "They manage the backlog with the engineering lead.",
    ]
    evidence = _gather("\n".join(tasks) + "\n", levels=("P3", "P4"))
    assert all(quote.levels == [] for quote in evidence.quotes if quote.text)
    for level in ("P3", "P4"):
        assert evidence.sections[f"responsibilities.{level}"], level


def test_a_source_with_nothing_but_bylines_gives_no_quotes() -> None:
    evidence = _gather("Jane Doe\n702 Views\nAcme | Formerly Initech\n")
    assert [quote for quote in evidence.quotes if quote.text] == []
    assert all(ranked == [] for ranked in evidence.sections.values())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("[guidelines]", "[guideline]"), "guidelines: Field required"),
        (lambda t: t.replace("\nknowledge = ", "\n# knowledge = "), "guidelines: no query for knowledge"),
        (
            lambda t: t + 'degree = "degree years"\n',
            "guidelines.degree: no such column",
        ),
    ],
)
def test_a_malformed_queries_file_is_named(tmp_path: Path, edit, message: str) -> None:
    path = tmp_path / "evidence.toml"
    path.write_text(edit((REPO / "prompts" / "evidence.toml").read_text()))
    with pytest.raises(BadInput) as failure:
        load_queries(tmp_path)
    assert str(failure.value).startswith(f"{path}: ") and message in str(failure.value)
