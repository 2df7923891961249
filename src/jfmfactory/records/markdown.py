"""Renders a profile as Markdown in the layout of the seed profiles; the template environment
every rendered output (profile.md, report.html, level pages) is built on."""

from __future__ import annotations

import re

import jinja2

from .evidence import Evidence, Quote
from .profile import GUIDELINE_COLUMNS, SKILLS_DRAFTED, YEARS_COLUMN, Profile

#: What would start Markdown (or HTML) inside a quoted source's words: emphasis, code, links,
#: tags, strike-through, and an ampersand that begins an entity.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<~]|&(?=#?\w+;))")


def one_line(text: object) -> str:
    """`text` with every run of white space, line breaks included, made one space."""
    return " ".join(str(text).split())


def markdown_text(text: object) -> str:
    """Words from a source, on one line, that Markdown shows as written: nothing in them becomes
    emphasis, a link, a heading or HTML."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", one_line(text))


def template_environment(package: str, *, html: bool) -> jinja2.Environment:
    """The templates of `package`'s templates/ folder; an unknown variable is an error."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=jinja2.select_autoescape(["html", "html.j2"]) if html else False,
    )
    env.filters["score"] = lambda value: f"{value:g}"
    # A pipe or a line break inside a cell would break a Markdown table.
    env.filters["cell"] = lambda text: one_line(text).replace("|", "\\|")
    env.filters["one_line"] = one_line
    return env


_env = template_environment("jfmfactory.records", html=False)


def _cite(item: object) -> str:
    sources = getattr(item, "sources", None) or []
    return f" [{', '.join(sources)}]" if sources else ""


def rests_on(item: object, evidence: Evidence | None) -> list[Quote]:
    """The quotes of `evidence` an item cites, in the order it cites them; none without evidence.

    An id the evidence lacks (a profile edited by hand, evidence of another run) is passed over.
    An alias that is its quote word for word rests on nothing more to show.
    """
    if evidence is None:
        return []
    found = [evidence.quote(qid) for qid in dict.fromkeys(getattr(item, "evidence", None) or [])]
    quotes = [quote for quote in found if quote is not None]
    title = getattr(item, "title", None)
    if title is not None and [one_line(q.text) for q in quotes] == [one_line(title)]:
        return []
    return quotes


def _quoted(quotes: list[Quote], indent: str = "  ") -> str:
    """The quotes as a block quote under a list item: one paragraph each, its source after it."""
    lines = [f"{indent}> “{markdown_text(quote.text)}” ({quote.source})" for quote in quotes]
    return "".join(f"\n{indent}>\n{line}" if n else f"\n{line}" for n, line in enumerate(lines))


def render_markdown(profile: Profile, evidence: Evidence | None = None) -> str:
    """profile.md; with `evidence`, each item followed by the quote(s) it rests on, word for word
    (the guideline cells' in a list after the table, which cannot hold them)."""

    def shown(item: object) -> str:
        return _quoted(rests_on(item, evidence))

    cells = [
        (f"{level}, {heading}", _quoted(quotes))
        for level in profile.levels
        if level in profile.guidelines
        for key, heading in GUIDELINE_COLUMNS.items()
        if (quotes := rests_on(getattr(profile.guidelines[level], key), evidence))
    ]
    text = _env.get_template("profile.md.j2").render(
        p=profile,
        v=profile.provenance,
        columns=GUIDELINE_COLUMNS,
        cite=_cite,
        shown=shown,
        cells=cells,
        skills_drafted=SKILLS_DRAFTED,
        # Whether the rubric wrote a cell other than the typical years (which it always writes).
        rubric_cells=any(
            getattr(row, column).rubric
            for row in profile.guidelines.values()
            for column in GUIDELINE_COLUMNS
            if column != YEARS_COLUMN
        ),
    )
    return text.rstrip() + "\n"
