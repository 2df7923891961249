"""A draft against the version people read: items added, removed and changed per section and
level, the changed words marked."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import BadInput
from ..records.profile import Profile
from ..records.sections import profile_sections
from ..records.versions import Version, VersionStore, profile_digest
from .outputs import Outputs

Change = Literal["added", "removed", "changed"]
#: A run of words and what happened to them: kept, removed or added.
Words = tuple[Literal["kept", "removed", "added"], str]


@dataclass(frozen=True)
class ItemChange:
    """One item that differs between the version and the draft."""

    section: str
    change: Change
    old: str | None
    new: str | None

    def words(self) -> list[Words]:
        """The item's words, runs marked kept, removed or added (all added or removed but for a change)."""
        before, after = (self.old or "").split(), (self.new or "").split()
        runs: list[Words] = []
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
            if tag == "equal":
                runs.append(("kept", " ".join(before[i1:i2])))
                continue
            if i2 > i1:
                runs.append(("removed", " ".join(before[i1:i2])))
            if j2 > j1:
                runs.append(("added", " ".join(after[j1:j2])))
        return runs


@dataclass(frozen=True)
class ProfileDiff:
    """The draft against the latest approved version."""

    version: Version
    draft_digest: str
    changes: list[ItemChange]


def item_changes(old: Profile, new: Profile) -> list[ItemChange]:
    """What changed from `old` to `new`, section by section in profile order: items matched in
    order, an item whose words changed paired with the one it replaced."""
    # What names the profile: a changed code moves every page of the site.
    changes = [
        ItemChange(name, "changed", str(getattr(old, name)), str(getattr(new, name)))
        for name in ("title", "family", "focus", "code", "levels")
        if getattr(old, name) != getattr(new, name)
    ]
    levels = list(dict.fromkeys([*old.levels, *new.levels]))
    for section in profile_sections(levels):
        before = [item.text for item in section.items(old)] if section.level in (None, *old.levels) else []
        after = [item.text for item in section.items(new)] if section.level in (None, *new.levels) else []
        matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
            for n in range(paired):
                changes.append(ItemChange(section.key, "changed", before[i1 + n], after[j1 + n]))
            for text in before[i1 + paired : i2]:
                changes.append(ItemChange(section.key, "removed", text, None))
            for text in after[j1 + paired : j2]:
                changes.append(ItemChange(section.key, "added", None, text))
    return changes


def draft_against_approved(root: Path, outputs: Outputs) -> ProfileDiff | None:
    """The role's kept draft against its latest approved version; None when it has none."""
    version = VersionStore(root, outputs.profile.role).latest()
    if version is None:
        return None
    return ProfileDiff(
        version, profile_digest(outputs.profile), item_changes(version.profile, outputs.profile)
    )


def required_diff(root: Path, outputs: Outputs) -> ProfileDiff:
    """`draft_against_approved`, a role never approved being an error that says what to do."""
    found = draft_against_approved(root, outputs)
    if found is None:
        role = outputs.profile.role
        raise BadInput(f"{role}: no approved version to compare with yet (jfm approve {role} --by NAME)")
    return found
