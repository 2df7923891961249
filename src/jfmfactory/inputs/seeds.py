"""Seeds: a role's source documents and the manifest that describes them (`seeds/<role>/`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import BadInput, RoleError
from ..records.profile import LEVEL_SPAN, LEVELS
from ..records.store import held, wait_for, write_atomic
from .datafile import append_table, load_model, toml_value

MANIFEST = "manifest.toml"
ROLE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class SourceEntry(BaseModel):
    """One source document as the manifest lists it."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_-]+$", description="Short id that drafted items cite, e.g. S1.")
    file: str = Field(description="File name inside the role's seeds folder.")
    title: str = Field(min_length=1, description="Human title of the document.")
    origin: str | None = Field(default=None, description="Where it came from (URL) when known.")
    date: dt.date = Field(description="When the document was published or, if unknown, collected.")
    sha256: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$", description="Digest of the text as added (jfm add-source)."
    )


class Manifest(BaseModel):
    """The role's manifest: how the profile is labelled and which sources it rests on."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, description="Role title shown on the profile.")
    family: str = Field(min_length=1, description="Job family the role belongs to.")
    focus: str = Field(min_length=1, description="Focus within the family.")
    levels: list[str] = Field(min_length=1, description="Levels drafted, e.g. P2..P7.")
    sources: list[SourceEntry] = Field(
        default_factory=list, description="The source documents (jfm add-source adds them)."
    )

    @field_validator("levels")
    @classmethod
    def _known_levels(cls, levels: list[str]) -> list[str]:
        unknown = [level for level in levels if level not in LEVELS]
        if unknown:
            raise ValueError(f"unknown level(s) {unknown}; use {LEVEL_SPAN}")
        if len(set(levels)) != len(levels):
            raise ValueError("levels repeat")
        return sorted(levels, key=LEVELS.index)

    @field_validator("sources")
    @classmethod
    def _unique_ids(cls, sources: list[SourceEntry]) -> list[SourceEntry]:
        ids = [source.id for source in sources]
        if len(set(ids)) != len(ids):
            raise ValueError("source ids repeat")
        return sources


class Source(BaseModel):
    """A source document with its text, as the drafter and the panel read it."""

    id: str = Field(description="Short id that drafted items cite.")
    title: str = Field(description="Human title of the document.")
    origin: str | None = Field(default=None, description="Where it came from (URL) when known.")
    date: dt.date = Field(description="When the document was published or collected.")
    file: str = Field(description="File name inside the role's seeds folder.")
    sha256: str | None = Field(default=None, description="Digest of the text as added (jfm add-source).")
    text: str = Field(description="The document's full text.")


class RoleSeeds(BaseModel):
    """Everything the pipeline reads about one role."""

    role: str = Field(description="The role's folder name, e.g. product-management.")
    manifest: Manifest = Field(description="The role's manifest.")
    sources: list[Source] = Field(description="The sources, with their text, in manifest order.")

    @property
    def source_ids(self) -> list[str]:
        return [source.id for source in self.sources]


def check_role_name(role: str) -> str:
    """Refuse role names that could leave the seeds folder or are not folder-safe."""
    if not ROLE_NAME.match(role):
        raise RoleError(repr(role), "use lower-case letters, digits and '-' only")
    return role


def list_roles(seeds_dir: Path) -> list[str]:
    """Role names that have a manifest under `seeds_dir`, sorted."""
    if not seeds_dir.is_dir():
        return []
    return sorted(p.parent.name for p in seeds_dir.glob(f"*/{MANIFEST}") if ROLE_NAME.match(p.parent.name))


def read_source_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"{path}: cannot read source: {exc.strerror}") from exc
    if b"\x00" in raw:
        raise BadInput(f"{path}: source is binary, not text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path}: source is not UTF-8 (byte {exc.start})") from exc
    if not text.strip():
        raise BadInput(f"{path}: source is empty")
    return text


def load_role(seeds_dir: Path, role: str) -> RoleSeeds:
    """Read a role's manifest and every source it lists."""
    check_role_name(role)
    folder = seeds_dir / role
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        known = ", ".join(list_roles(seeds_dir)) or "none"
        raise RoleError(role, f"no {manifest_path} (roles in {seeds_dir}: {known})")
    manifest = load_model(manifest_path, Manifest, "manifest")
    sources = []
    for entry in manifest.sources:
        path = folder / entry.file
        if path.resolve().parent != folder.resolve():
            raise BadInput(f"{manifest_path}: sources.{entry.id}.file must name a file in {folder}")
        sources.append(Source(**entry.model_dump(), text=read_source_text(path)))
    return RoleSeeds(role=role, manifest=manifest, sources=sources)


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def append_source(
    seeds_dir: Path,
    role: str,
    text: str,
    title: str,
    origin: str,
    date: dt.date,
    tell: Callable[[str], None] = lambda line: None,
) -> SourceEntry:
    """Keep `text` as a new source of `role`: a text file beside the manifest, and an entry at the
    manifest's end (its comments and layout kept). The same text twice is refused. The role's
    folder is locked from reading the manifest to writing it back: another jfm adding a source to
    it at once waits (told with `tell`), then reads the manifest this one wrote."""
    folder = seeds_dir / check_role_name(role)
    if not (folder / MANIFEST).is_file():
        load_role(seeds_dir, role)  # refused, naming the roles there are, before any lock is taken
    with held(folder, wait_for(folder, tell)):
        return _append_source(seeds_dir, role, text, title, origin, date)


def _append_source(
    seeds_dir: Path, role: str, text: str, title: str, origin: str, date: dt.date
) -> SourceEntry:
    seeds = load_role(seeds_dir, role)
    digest = text_digest(text)
    for source in seeds.sources:
        if text_digest(source.text) == digest:
            raise BadInput(f"{origin}: the same text as source {source.id} ({source.file}) of {role}")
    taken = {source.id for source in seeds.sources}
    number = next(n for n in range(1, len(taken) + 2) if f"S{n}" not in taken)
    folder = seeds_dir / role
    stem = re.sub(r"[^a-z0-9]+", "-", title.casefold()).strip("-")[:60].strip("-") or "source"
    file = next(
        name
        for name in (f"{stem}.txt", *(f"{stem}-{n}.txt" for n in range(2, 1000)))
        if not (folder / name).exists()
    )
    entry = SourceEntry(id=f"S{number}", file=file, title=title, origin=origin, date=date, sha256=digest)
    fields = [f"{key} = {toml_value(value)}" for key, value in entry.model_dump().items() if value]
    write_atomic(folder / file, text)
    try:
        append_table(folder / MANIFEST, ["[[sources]]", *fields], lambda: load_role(seeds_dir, role))
    except (BadInput, OSError):  # the manifest is restored or never changed; its new text file goes too
        (folder / file).unlink(missing_ok=True)
        raise
    return entry
