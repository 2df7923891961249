"""Prompt templates: Jinja2 files in `prompts/` that content ops edit without touching Python."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta

from ..errors import BadInput
from ..records.profile import RESPONSIBILITIES_AT_LEAST, RESPONSIBILITIES_PER_LEVEL
from .datafile import read_toml

_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
#: What every template, reviewer file and schema description may name: the profile's rules,
#: spelled once in code (`records.profile`) and in words where a prompt reads them.
PROFILE_RULES = {
    "responsibilities_per_level": _NUMBER_WORDS[RESPONSIBILITIES_PER_LEVEL],
    "responsibilities_at_least": _NUMBER_WORDS[RESPONSIBILITIES_AT_LEAST],
}


def untrusted(text: str) -> str:
    """Source text as data: it cannot close the tag that delimits it (a quote's or a source's)."""
    return re.sub(r"</(?=quote|source)", "</ ", str(text), flags=re.IGNORECASE)


class Prompts:
    """Renders the templates of one prompts folder; a missing variable is an error, not a blank."""

    def __init__(self, folder: Path) -> None:
        if not folder.is_dir():
            raise BadInput(f"{folder}: prompts folder not found")
        self.folder = folder
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(folder),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,
        )
        self.env.filters["untrusted"] = untrusted
        self.env.globals.update(PROFILE_RULES)
        self._variables: dict[tuple[str, str | None], set[str]] = {}
        #: Templates given as text (an item kind's instruction, a reviewer's prompt), compiled once.
        self._compiled: dict[tuple[str, str], jinja2.Template] = {}

    def render(self, name: str, **context: Any) -> str:
        return self.render_string(None, name, **context)

    def render_string(self, source: str | None, name: str, **context: Any) -> str:
        """Render the template file `name`, or `source` (named `name` in errors) when given.

        Every variable the template names must be given, even one only a branch or a loop not
        taken this time would use: a broken template fails the first time it is rendered.
        """
        label = str(self.folder / name) if source is None else name
        try:
            template = self.env.get_template(name) if source is None else self._from_string(source, name)
            missing = sorted(self._names(source, name) - context.keys() - self.env.globals.keys())
            if missing:
                given = f"given: {', '.join(sorted(context))}" if context else "it is given none"
                raise BadInput(f"{label}: {missing[0]!r} is undefined ({given})")
            return template.render(**context).strip()
        except jinja2.TemplateNotFound as exc:
            raise BadInput(f"{self.folder / name}: template not found") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput(f"{self.folder / name}: cannot read template: {exc}") from exc
        except jinja2.TemplateError as exc:
            where = getattr(exc, "lineno", None)
            line = f" line {where}" if where else ""
            raise BadInput(f"{label}{line}: {exc.message or exc}") from exc
        except BadInput:
            raise
        except Exception as exc:  # what a template's own expression raises: {{ 1 / 0 }}, a bad filter value
            raise BadInput(f"{label}: fails as it renders: {type(exc).__name__}: {exc}") from exc

    def _from_string(self, source: str, name: str) -> jinja2.Template:
        key = (name, source)
        if key not in self._compiled:
            self._compiled[key] = self.env.from_string(source)
        return self._compiled[key]

    def _names(self, source: str | None, name: str) -> set[str]:
        """The variables a template reads from its context (read once per template)."""
        key = (name, source)
        if key not in self._variables:
            if source is None:
                assert self.env.loader is not None
                source, _, _ = self.env.loader.get_source(self.env, name)
            self._variables[key] = meta.find_undeclared_variables(self.env.parse(source))
        return self._variables[key]

    def table(self, name: str) -> dict[str, Any]:
        """A TOML data file that sits beside the templates."""
        return read_toml(self.folder / name, "data file")
