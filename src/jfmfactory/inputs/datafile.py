"""TOML files that people edit (manifests, reviewer files, level hints), read with one-line errors."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import BadInput, first_error

M = TypeVar("M", bound=BaseModel)


def read_toml(path: Path, kind: str) -> dict[str, Any]:
    """The file's table; an unreadable file is an error naming it and saying why."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BadInput(f"{path}: cannot read {kind}: {exc}") from exc


def load_model(path: Path, model: type[M], kind: str) -> M:
    """The file validated as `model`; the first invalid field is named with the file."""
    try:
        return model.model_validate(read_toml(path, kind))
    except ValidationError as exc:
        raise BadInput(f"{path}: {first_error(exc)}") from exc
