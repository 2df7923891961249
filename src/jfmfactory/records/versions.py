"""Published versions of each role's profile: `published/ROLE/vN.json`, one file per version,
appended and never rewritten, so the folder reads well in git. A refusal is kept beside them in
`published/ROLE/rejected/`.

A version is a profile a person approved: the exact profile (its digest), who approved it, when
and why, whether it passed the panel or was approved over its verdict, and the sources it rests
on (in the profile's provenance).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import BadInput, first_error
from .evidence import Evidence
from .profile import Profile

#: Where versions go, in the project (beside seeds/): kept with the project, unlike out/.
PUBLISHED_DIR = "published"
REJECTED_DIR = "rejected"
VERSION_FILE = re.compile(r"^v([1-9][0-9]*)\.json$")
M = TypeVar("M", bound=BaseModel)


def profile_digest(profile: Profile) -> str:
    """A profile's identity: the SHA-256 of its JSON as jfm writes it."""
    return hashlib.sha256(profile.model_dump_json(indent=2).encode()).hexdigest()


class Approval(BaseModel):
    """A person's sign-off."""

    model_config = ConfigDict(extra="forbid")

    by: str = Field(description="Who approved it.")
    at: str = Field(description="When (UTC, ISO 8601).")
    note: str = Field(default="", description="Why, or what to know, in one line.")
    override: str | None = Field(
        default=None, description="Why a profile that did not pass the panel was approved all the same."
    )


class Version(BaseModel):
    """One published version of a role's profile."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(description="Its number, from 1.")
    role: str = Field(description="The role's seeds folder name.")
    digest: str = Field(description="The SHA-256 of the profile approved (profile_digest).")
    approval: Approval = Field(description="Who signed it off, when and why.")
    run_started_at: str = Field(description="When the run that drafted it began (its run.json).")
    run_status: str = Field(description="How that run ended: passed, not_passed…")
    profile: Profile = Field(
        description="The profile as approved, its verdict and sources in its provenance."
    )
    evidence: Evidence | None = Field(description="The quotes its items rest on (the run's evidence.json).")


class ItemRefusal(BaseModel):
    """One item a reviewer refused, and why."""

    model_config = ConfigDict(extra="forbid")

    item: str = Field(description="The item: responsibilities.P3.2, guidelines.P3.knowledge, skills.4.")
    text: str = Field(description="Its words.")
    fault: str = Field(description="The class of its fault (calibration.items.FAULTS).")
    reason: str = Field(description="Why, in one line.")


class Rejection(BaseModel):
    """A person's refusal of a drafted profile."""

    model_config = ConfigDict(extra="forbid")

    role: str = Field(description="The role's seeds folder name.")
    digest: str = Field(description="The SHA-256 of the profile refused.")
    by: str = Field(description="Who refused it.")
    at: str = Field(description="When (UTC, ISO 8601).")
    reason: str = Field(description="Why, in one line.")
    items: list[ItemRefusal] = Field(default_factory=list, description="Items refused one by one.")


class VersionStore:
    """One role's published versions and refusals."""

    def __init__(self, project_root: Path, role: str) -> None:
        self.folder = project_root / PUBLISHED_DIR / role
        self.role = role

    def versions(self) -> list[Version]:
        """Every version, oldest first; a file that is not one is an error naming it."""
        numbered = []
        for path in self.folder.glob("v*.json"):
            found = VERSION_FILE.match(path.name)
            if found:
                numbered.append((int(found.group(1)), path))
        versions = []
        for expected, (number, path) in enumerate(sorted(numbered), start=1):
            version = self._read(path, Version)
            # A file edited, renamed or copied by hand is not passed off as what was approved.
            if number != expected or version.version != number:
                raise BadInput(
                    f"{path}: holds version {version.version}; versions are v1.json, v2.json, … in order"
                )
            if version.role != self.role or version.profile.role != self.role:
                raise BadInput(f"{path}: a version of {version.profile.role}, not of {self.role}")
            if profile_digest(version.profile) != version.digest:
                raise BadInput(
                    f"{path}: its profile is not the one approved (its digest differs); edited by hand?"
                )
            versions.append(version)
        return versions

    def latest(self) -> Version | None:
        found = self.versions()
        return found[-1] if found else None

    def rejections(self) -> list[Rejection]:
        folder = self.folder / REJECTED_DIR
        return (
            [self._read(path, Rejection) for path in sorted(folder.glob("*.json"))] if folder.is_dir() else []
        )

    def add_version(self, version: Version) -> Path:
        """Write vN.json; one that exists already (another approval won) is refused, not replaced."""
        path = self.folder / f"v{version.version}.json"
        try:
            return self._create(path, version)
        except FileExistsError:
            raise BadInput(f"{path}: exists already (written meanwhile by another jfm)") from None

    def add_rejection(self, rejection: Rejection) -> Path:
        """Write a refusal under a name of its own (two in one second: the second numbered)."""
        stamp = re.sub(r"[^0-9]", "", rejection.at)[:14]
        n = 1
        while True:
            name = f"{stamp}-{rejection.digest[:12]}{f'-{n}' if n > 1 else ''}.json"
            try:
                return self._create(self.folder / REJECTED_DIR / name, rejection)
            except FileExistsError:
                n += 1

    def _create(self, path: Path, model: BaseModel) -> Path:
        """Write `path` whole, or raise FileExistsError when it exists: never replaced."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(model.model_dump_json(indent=2) + "\n")
        tmp = Path(name)
        try:
            # A hard link is created or refused whole: the file appears complete or not at all.
            os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path

    def _read(self, path: Path, model: type[M]) -> M:
        try:
            return model.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput(f"{path}: cannot read: {exc}") from exc
        except ValidationError as exc:
            raise BadInput(f"{path}: {first_error(exc)}") from exc
