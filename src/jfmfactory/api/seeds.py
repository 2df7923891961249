"""A role's seeds: `new_role` scaffolds one, `add_source` gives it a document."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from ..catalog.scaffold import NewRole
from ..catalog.scaffold import new_role as scaffold_role
from ..inputs.importing import extract, fetch_document, is_url, read_document
from ..inputs.project import Project
from ..inputs.seeds import SourceEntry, append_source


def add_source(
    project: Project,
    role: str,
    location: str,
    title: str | None = None,
    date: dt.date | None = None,
    tell: Callable[[str], None] = lambda line: None,
) -> SourceEntry:
    """Turn a document (a path or an http(s) URL: HTML, PDF, DOCX, Markdown or text) into a
    source of `role`: its main text kept beside the manifest, listed there with its origin, date,
    title (the document's own unless `title` is given) and digest. Another jfm writing to the
    role's seeds at once is waited for, told with `tell`."""
    document = fetch_document(location) if is_url(location) else read_document(Path(location))
    extracted = extract(document)
    name = title or extracted.title or Path(document.origin).stem.replace("-", " ").replace("_", " ")
    when = date or dt.date.today()
    return append_source(project.seeds, role, extracted.text, name, document.origin, when, tell)


def new_role(
    project: Project,
    role: str,
    title: str,
    family: str,
    focus: str,
    levels: list[str],
    tell: Callable[[str], None] = lambda line: None,
) -> NewRole:
    """Scaffold a role: its manifest in seeds/ and its focus in the catalog (see `catalog.scaffold`)."""
    return scaffold_role(project.seeds, project.catalog, role, title, family, focus, levels, tell)
