"""`jfm new`: a role's seeds folder and its focus in the catalog, ready for `jfm add-source`.

A role whose focus the catalog lists without seeds attaches to it: only its manifest is written,
and the catalog reads the role from it (roles.toml stays as it is). Otherwise the focus is
appended to roles.toml as text, so the comments and layout content ops gave it stay.

Everything is checked before anything is written: the manifest as its model reads it (its title
and focus one line of plain text), the catalog with the new focus as a copy of it in a scratch
folder. A refusal writes nothing; a write that fails leaves no role folder behind.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import tomllib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from ..errors import BadInput, first_error
from ..inputs.datafile import append_table, toml_value
from ..inputs.seeds import MANIFEST, Manifest, check_role_name
from ..records.profile import LEVEL_SPAN, LEVELS
from ..records.store import held, wait_for, write_atomic
from .catalog import LEVELS_FILE, ROLES_FILE, SOC_FILE, Catalog, Focus

#: The longest title or focus `jfm new` takes: a heading, not a paragraph.
LONGEST = 120
#: Unicode categories a title or focus may not hold: controls (an escape sequence would reach
#: every terminal that prints the catalog), format characters (a bidi override), line and
#: paragraph separators, surrogates and private use.
NOT_PLAIN = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co"}


@dataclass(frozen=True)
class NewRole:
    """What `jfm new` wrote."""

    manifest: Path
    focus: Focus
    #: The focus whose SOC code the new focus's was suggested from; None when it attached.
    suggested_from: str | None
    #: The role attached to a focus the catalog had without seeds: the catalog is unchanged.
    attached: bool = False


def parse_levels(text: str) -> list[str]:
    """`P2-P7` as the levels from P2 to P7."""
    low, _, high = text.partition("-")
    # One level is no ladder: nothing to tell its level from (level differentiation).
    if low not in LEVELS or high not in LEVELS or LEVELS.index(low) >= LEVELS.index(high):
        raise BadInput(
            f"--levels {text}: use a rising range of two levels or more of {LEVEL_SPAN}, e.g. P2-P7"
        )
    return list(LEVELS[LEVELS.index(low) : LEVELS.index(high) + 1])


def new_role(
    seeds_dir: Path,
    catalog_dir: Path,
    role: str,
    title: str,
    family: str,
    focus: str,
    levels: list[str],
    tell: Callable[[str], None] = lambda line: None,
) -> NewRole:
    """Scaffold `seeds/ROLE/manifest.toml` (no sources yet) for `focus`: the catalog's own when it
    lists that focus in `family` without seeds (roles.toml untouched), else a focus added to the
    catalog, its SOC code suggested from the nearest focus (its family's first, else its
    domain's) and marked as a suggestion. A focus another role's seeds draft is refused.

    The catalog is locked while it is checked and written: another jfm new at once waits (told
    with `tell`), then is checked against what this one wrote. Everything is checked once before
    the lock is taken too, so that a refusal touches nothing at all."""
    title, focus = title.strip(), focus.strip()
    _plan(seeds_dir, catalog_dir, role, title, family, focus, levels)
    with held(catalog_dir, wait_for(catalog_dir, tell)):
        return _scaffold(_plan(seeds_dir, catalog_dir, role, title, family, focus, levels))


@dataclass(frozen=True)
class _Plan:
    """What `jfm new` is to write, every part of it checked."""

    seeds_dir: Path
    catalog_dir: Path
    role: str
    focus: str
    manifest: Path
    text: str
    #: The focus the role attaches to; None when a focus is added.
    existing: Focus | None
    #: The focus added to roles.toml, as its lines, and the focus its code was suggested from.
    table: list[str]
    nearest: str | None


def _plan(
    seeds_dir: Path, catalog_dir: Path, role: str, title: str, family: str, focus: str, levels: list[str]
) -> _Plan:
    check_role_name(role)
    folder = seeds_dir / role
    if folder.exists():
        raise BadInput(f"{folder}: the role exists already")
    catalog = Catalog(catalog_dir, seeds_dir)
    roles_path = catalog_dir / ROLES_FILE
    if family not in catalog.domain_of:
        known = ", ".join(sorted(catalog.domain_of))
        raise BadInput(f"--family {family}: not in any domain of {roles_path} (families: {known})")
    existing = next((f for f in catalog.foci if f.name.casefold() == focus.casefold()), None)
    if existing is not None and existing.family != family:
        raise BadInput(
            f"--family {family}: {roles_path} has the focus {existing.name} in the family {existing.family}"
        )
    if existing is not None and existing.entry.seeds not in (None, role):
        raise BadInput(
            f"--focus {focus}: {roles_path} has that focus already, drafted from "
            f"{seeds_dir / existing.entry.seeds}"
        )
    manifest = folder / MANIFEST
    text = _manifest_text(manifest, title, family, existing.name if existing else focus, levels)
    if existing is not None:
        return _Plan(seeds_dir, catalog_dir, role, focus, manifest, text, existing, [], None)

    # The suggestion comes from the family's first focus, else its domain's, else the catalog's.
    nearest = min(
        catalog.foci,
        key=lambda f: (f.family != family, f.domain != catalog.domain_of[family], catalog.foci.index(f)),
    )
    primary = nearest.entry.classification.primary
    reason = f"Suggested by jfm new: the code of {nearest.name}, the nearest focus; confirm or replace it"
    table = [
        "[[foci]]",
        f"name = {toml_value(focus)}",
        f"family = {toml_value(family)}",
        f"seeds = {toml_value(role)}",
        "aliases = []",
        "# Work only this focus does: add phrases so that other roles' checks see its boundary.",
        "territory = []",
        "[foci.classification]",
        f"primary = {{ code = {toml_value(primary.code)}, reason = {toml_value(reason)}, suggested = true }}",
    ]
    _check_appended(catalog_dir, seeds_dir, table, f"--focus {focus}")
    return _Plan(seeds_dir, catalog_dir, role, focus, manifest, text, None, table, nearest.name)


def _scaffold(plan: _Plan) -> NewRole:
    """Write what `plan` holds: the manifest, and the focus unless the role attaches to one."""
    if plan.existing is not None:
        _write_manifest(plan.manifest, plan.text)
        attached = Catalog(plan.catalog_dir, plan.seeds_dir).for_role(plan.role)
        assert attached is not None and attached.name == plan.existing.name
        return NewRole(manifest=plan.manifest, focus=attached, suggested_from=None, attached=True)
    roles_path = plan.catalog_dir / ROLES_FILE
    kept = roles_path.read_text(encoding="utf-8")
    try:  # a catalog changed by hand since it was checked is restored by append_table
        append_table(roles_path, plan.table, lambda: Catalog(plan.catalog_dir, plan.seeds_dir))
    except BadInput as error:
        raise BadInput(f"--focus {plan.focus}: {error}") from None
    try:
        _write_manifest(plan.manifest, plan.text)
    except BaseException:  # no focus is left in the catalog without its role
        write_atomic(roles_path, kept)
        raise
    added = Catalog(plan.catalog_dir, plan.seeds_dir).for_role(plan.role)
    assert added is not None
    return NewRole(manifest=plan.manifest, focus=added, suggested_from=plan.nearest)


def _write_manifest(path: Path, text: str) -> None:
    """Write the new role's manifest; if that fails, the role's folder goes too (a retry would be
    told the role exists already)."""
    try:
        write_atomic(path, text)
    except BaseException:
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # empty: write_atomic removes its temporary
        raise


def _manifest_text(path: Path, title: str, family: str, focus: str, levels: list[str]) -> str:
    """The new manifest's text, checked as a manifest is read before it is written."""
    header = [
        "# The role's seed manifest: what the drafter reads and how the profile is labelled.",
        "# Edited by content ops; unknown keys are rejected. Add sources with jfm add-source.",
    ]
    fields = {"title": title, "family": family, "focus": focus, "levels": levels}
    text = "\n".join([*header, *(f"{k} = {toml_value(v)}" for k, v in fields.items()), ""])
    try:
        Manifest.model_validate(tomllib.loads(text))
    except ValidationError as exc:
        raise BadInput(f"{path}: {first_error(exc)}") from None
    for field in ("title", "focus"):
        _check_one_line(path, field, fields[field])
    return text


def _check_one_line(path: Path, field: str, text: object) -> None:
    """A title or focus is one line of plain text, a heading's length: named, never echoed (an
    escape sequence in it would reach the terminal)."""
    assert isinstance(text, str)
    odd = next((ch for ch in text if unicodedata.category(ch) in NOT_PLAIN), None)
    if odd is not None:
        name = unicodedata.name(odd, "a control character")
        raise BadInput(
            f"{path}: {field}: holds U+{ord(odd):04X} ({name}); write it as one line of plain text"
        )
    if len(text) > LONGEST:
        raise BadInput(f"{path}: {field}: {len(text)} characters; use at most {LONGEST}")


def _check_appended(catalog_dir: Path, seeds_dir: Path, table: list[str], flag: str) -> None:
    """Read the catalog with `table` appended, from a copy in a scratch folder: a catalog that
    would not load (a code two foci share, a title another focus has) is refused untouched."""
    with tempfile.TemporaryDirectory(prefix="jfm-new-") as scratch:
        copy = Path(scratch)
        for name in (LEVELS_FILE, ROLES_FILE, SOC_FILE):
            shutil.copyfile(catalog_dir / name, copy / name)
        try:
            append_table(copy / ROLES_FILE, table, lambda: Catalog(copy, seeds_dir))
        except BadInput as error:
            raise BadInput(f"{flag}: {str(error).replace(str(copy), str(catalog_dir))}") from None
