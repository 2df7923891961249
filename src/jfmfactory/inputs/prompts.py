"""Prompt templates: Jinja2 files in `prompts/` that content ops edit without touching Python."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from types import CodeType
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


def _environment(loader: jinja2.BaseLoader | None = None) -> jinja2.Environment:
    """Every Prompts' environment: one configuration, so that one compiled template serves all."""
    env = jinja2.Environment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["untrusted"] = untrusted
    env.globals.update(PROFILE_RULES)
    return env


_COMPILER = _environment()
#: Templates kept compiled for the process, by their text: a run, a review, every role of a
#: catalog build their prompts from the same few, and compiling one costs a millisecond or more.
TEMPLATES_KEPT = 512


@functools.lru_cache(maxsize=TEMPLATES_KEPT)
def _code(source: str, name: str | None) -> CodeType:
    # No file name: the code serves the same text in any folder (errors name the file themselves).
    return _COMPILER.compile(source, name)


@functools.lru_cache(maxsize=TEMPLATES_KEPT)
def _variables(source: str) -> frozenset[str]:
    """The variables a template reads from its context."""
    return frozenset(meta.find_undeclared_variables(_COMPILER.parse(source)))


class Prompts:
    """Renders the templates of one prompts folder; a missing variable is an error, not a blank."""

    def __init__(self, folder: Path) -> None:
        if not folder.is_dir():
            raise BadInput(f"{folder}: prompts folder not found")
        self.folder = folder
        self.env = _environment(jinja2.FileSystemLoader(folder))
        #: Each template, file or text (an item kind's instruction, a reviewer's prompt), with the
        #: variables it reads: read once a run, whatever changed on disk since.
        self._templates: dict[tuple[str, str | None], tuple[jinja2.Template, frozenset[str]]] = {}

    def render(self, name: str, **context: Any) -> str:
        return self.render_string(None, name, **context)

    def render_string(self, source: str | None, name: str, **context: Any) -> str:
        """Render the template file `name`, or `source` (named `name` in errors) when given.

        Every variable the template names must be given, even one only a branch or a loop not
        taken this time would use: a broken template fails the first time it is rendered.
        """
        label = str(self.folder / name) if source is None else name
        try:
            template, variables = self._template(source, name)
            missing = sorted(variables - context.keys() - self.env.globals.keys())
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

    def _template(self, source: str | None, name: str) -> tuple[jinja2.Template, frozenset[str]]:
        """The template file `name`, or the text `source`, compiled, and the variables it reads."""
        key = (name, source)
        if key not in self._templates:
            from_file = source is None
            if source is None:
                assert self.env.loader is not None
                source, _, _ = self.env.loader.get_source(self.env, name)
            code = _code(source, name if from_file else None)
            template = self.env.template_class.from_code(self.env, code, self.env.make_globals(None))
            self._templates[key] = (template, _variables(source))
        return self._templates[key]

    def table(self, name: str) -> dict[str, Any]:
        """A TOML data file that sits beside the templates."""
        return read_toml(self.folder / name, "data file")
