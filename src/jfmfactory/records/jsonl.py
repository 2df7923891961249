"""JSON Lines, written and read one way: one object a line, lines split on "\\n" alone.

A JSON string may hold U+2028, U+2029 or U+0085, which `str.splitlines()` would take for line
ends and so cut a valid line in two; here only "\\n" (with an optional "\\r" before it) ends one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any


class JsonlError(ValueError):
    """A line that is not JSON, with its number (from 1)."""

    def __init__(self, number: int, error: ValueError) -> None:
        super().__init__(f"line {number} is not JSON ({error})")
        self.number = number


def jsonl_text(values: Iterable[Any]) -> str:
    """One JSON line per value, each ending in "\\n"."""
    return "".join(json.dumps(value, ensure_ascii=False) + "\n" for value in values)


def parse_jsonl(text: str, skip_bad: bool = False) -> list[Any]:
    """The values of a JSONL text, blank lines left out; a line that is not JSON is left out too
    with `skip_bad`, else raises `JsonlError` naming it."""
    values = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            values.append(json.loads(line))
        except ValueError as error:
            if not skip_bad:
                raise JsonlError(number, error) from None
    return values
