"""`jfm new`: a role's seeds folder and its focus in the catalog, ready for `jfm add-source`.

Both files are appended to as text, so the comments and layout content ops gave them stay; each
is read back through its model and restored if that fails, so nothing half-written is left.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput
from ..inputs.datafile import append_table, toml_value
from ..inputs.seeds import LEVELS, MANIFEST, check_role_name, load_role
from ..records.store import write_atomic
from .catalog import ROLES_FILE, Catalog, Focus

LEVEL_RANGE = re.compile(r"^(P[1-7])-(P[1-7])$")


@dataclass(frozen=True)
class NewRole:
    """What `jfm new` wrote."""

    manifest: Path
    focus: Focus
    suggested_from: str | None


def parse_levels(text: str) -> list[str]:
    """`P2-P7` as the levels from P2 to P7."""
    found = LEVEL_RANGE.match(text)
    if not found or LEVELS.index(found.group(1)) > LEVELS.index(found.group(2)):
        raise BadInput(f"--levels {text}: use a rising range of {LEVELS[0]}..{LEVELS[-1]}, e.g. P2-P7")
    return list(LEVELS[LEVELS.index(found.group(1)) : LEVELS.index(found.group(2)) + 1])


def new_role(
    seeds_dir: Path, catalog_dir: Path, role: str, title: str, family: str, focus: str, levels: list[str]
) -> NewRole:
    """Scaffold `seeds/ROLE/manifest.toml` (no sources yet) and add the focus to the catalog, its
    SOC code suggested from the nearest focus (its family's first, else its domain's) and marked
    as a suggestion."""
    check_role_name(role)
    folder = seeds_dir / role
    if folder.exists():
        raise BadInput(f"{folder}: the role exists already")
    catalog = Catalog(catalog_dir)
    roles_path = catalog_dir / ROLES_FILE
    if family not in catalog.domain_of:
        known = ", ".join(sorted(catalog.domain_of))
        raise BadInput(f"--family {family}: not in any domain of {roles_path} (families: {known})")
    if any(f.name.casefold() == focus.casefold() for f in catalog.foci):
        raise BadInput(f"--focus {focus}: {roles_path} has that focus already")
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
    try:  # a catalog that no longer loads (a code two foci share, say) is restored
        append_table(roles_path, table, lambda: Catalog(catalog_dir))
    except BadInput as error:
        raise BadInput(f"--focus {focus}: {error}") from None
    added = Catalog(catalog_dir).for_role(role)
    assert added is not None
    manifest = folder / MANIFEST
    header = [
        "# The role's seed manifest: what the drafter reads and how the profile is labelled.",
        "# Edited by content ops; unknown keys are rejected. Add sources with jfm add-source.",
    ]
    fields = {"title": title, "family": family, "focus": focus, "levels": levels}
    write_atomic(manifest, "\n".join([*header, *(f"{k} = {toml_value(v)}" for k, v in fields.items()), ""]))
    load_role(seeds_dir, role)
    return NewRole(manifest=manifest, focus=added, suggested_from=nearest.name)
