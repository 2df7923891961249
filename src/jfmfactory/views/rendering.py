"""The views' templates (`views/templates/`): one environment, every filter and global set here."""

from __future__ import annotations

from ..records.markdown import template_environment
from ..records.profile import code_at_level
from ..records.runlog import ReviewIssue


def issue_anchor(issue: ReviewIssue) -> str:
    """The id of the section an issue points to, on a page that shows the profile."""
    return f"section-{issue.section.replace('.', '-')}"


_env = template_environment("jfmfactory.views", html=True)
_env.filters["at_level"] = code_at_level
_env.globals["anchor"] = issue_anchor


def render_template(name: str, **context: object) -> str:
    """One of the views' templates, rendered."""
    return _env.get_template(name).render(**context)
