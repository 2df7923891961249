"""Renders a profile as Markdown in the layout of the seed profiles; the template environment
every rendered output (profile.md, report.html, level pages) is built on."""

from __future__ import annotations

import jinja2

from .profile import GUIDELINE_COLUMNS, Profile


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
    env.filters["cell"] = lambda text: " ".join(str(text).split()).replace("|", "\\|")
    return env


_env = template_environment("jfmfactory.records", html=False)


def _cite(item: object) -> str:
    sources = getattr(item, "sources", None) or []
    return f" [{', '.join(sources)}]" if sources else ""


def render_markdown(profile: Profile) -> str:
    text = _env.get_template("profile.md.j2").render(
        p=profile, v=profile.provenance, columns=GUIDELINE_COLUMNS, cite=_cite
    )
    return text.rstrip() + "\n"
