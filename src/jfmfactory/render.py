"""Renders a profile as Markdown in the layout of the seed profiles."""

from __future__ import annotations

import jinja2

from .profile import GUIDELINE_COLUMNS, Profile

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("jfmfactory", "templates"),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,
)
# A pipe or a line break inside a cell would break the Markdown table.
_env.filters["score"] = lambda value: f"{value:g}"
_env.filters["cell"] = lambda text: " ".join(str(text).split()).replace("|", "\\|")


def _cite(item: object) -> str:
    sources = getattr(item, "sources", None) or []
    return f" [{', '.join(sources)}]" if sources else ""


def render_markdown(profile: Profile) -> str:
    text = _env.get_template("profile.md.j2").render(
        p=profile, v=profile.provenance, columns=GUIDELINE_COLUMNS, cite=_cite
    )
    return text.rstrip() + "\n"
