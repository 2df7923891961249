"""TOML files that people edit (manifests, reviewer files, level hints), read with one-line errors."""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import BadInput, first_error
from ..records.store import write_atomic

M = TypeVar("M", bound=BaseModel)


def edited_files(folder: Path, pattern: str) -> list[Path]:
    """The files in `folder` matching `pattern` ("**/" for every level), sorted, without what an
    editor leaves beside the files people edit: a lock (`.#x`), a backup (`x~`), a swap file or
    anything else hidden, and a link that leads nowhere."""

    def editors(path: Path) -> bool:
        return any(part.startswith((".", "#")) or part.endswith("~") for part in path.parts)

    return sorted(p for p in folder.glob(pattern) if p.is_file() and not editors(p.relative_to(folder)))


def read_toml(path: Path, kind: str) -> dict[str, Any]:
    """The file's table; an unreadable file is an error naming it and saying why."""
    try:
        # utf-8-sig: a byte-order mark an editor put first is not part of the first line.
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BadInput(f"{path}: cannot read {kind}: {exc}") from exc


def load_model(path: Path, model: type[M], kind: str) -> M:
    """The file validated as `model`; the first invalid field is named with the file."""
    try:
        return model.model_validate(read_toml(path, kind))
    except ValidationError as exc:
        raise BadInput(f"{path}: {first_error(exc)}") from exc


def toml_value(value: object) -> str:
    """A string, date, number, boolean or list of them, written as TOML."""
    # A JSON string is a TOML basic string; a date is written bare, as TOML's local date.
    return value.isoformat() if isinstance(value, dt.date) else json.dumps(value, ensure_ascii=False)


def append_table(path: Path, lines: list[str], read_back: Callable[[], object]) -> None:
    """Append a table (`lines`) to a file people edit, its comments and layout kept, then read the
    file back with `read_back`: if that fails, the file is restored and the error raised."""
    written = path.read_text(encoding="utf-8")
    write_atomic(path, written.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n")
    try:
        read_back()
    except BadInput:
        write_atomic(path, written)
        raise
