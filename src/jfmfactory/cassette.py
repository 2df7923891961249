"""Record and replay: every HTTP exchange of a run in a vcrpy cassette, for CI with no model.

Requests match on method, path and body, so a changed prompt, model or setting fails loudly
instead of replaying a wrong answer. Credentials never reach the file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import vcr
from vcr.errors import CannotOverwriteExistingCassetteException

from .errors import BadInput

MATCH_ON = ("method", "path", "body")
SECRET_HEADERS = (
    "authorization", "api-key", "x-api-key", "openai-organization", "openai-project",
    "cookie", "set-cookie",
)  # fmt: skip
SECRET_QUERY = ("api-key", "api_key", "key")


class ReplayMismatch(BadInput):
    """A request the cassette holds no answer for."""


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in SECRET_HEADERS:
            del headers[name]
    return response


def _recorder(mode: str) -> vcr.VCR:
    return vcr.VCR(
        record_mode=mode,
        match_on=list(MATCH_ON),
        filter_headers=list(SECRET_HEADERS),
        filter_query_parameters=list(SECRET_QUERY),
        before_record_response=_scrub_response,
        decode_compressed_response=True,
    )


@contextlib.contextmanager
def recording(path: Path) -> Iterator[None]:
    """Record every exchange into `path`; the file appears, complete, only when the block ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".cassette.") as scratch:
        partial = Path(scratch) / path.name
        try:
            with _recorder("all").use_cassette(str(partial)):
                yield
        finally:
            # Even a failed run keeps what it recorded: it is the evidence of the failure.
            if partial.exists():
                os.replace(partial, path)


@contextlib.contextmanager
def replaying(path: Path) -> Iterator[None]:
    """Answer every request from `path`; a request it does not hold is an error."""
    if not path.is_file():
        raise BadInput(f"--replay {path}: no such cassette")
    try:
        with _recorder("none").use_cassette(str(path), allow_playback_repeats=False):
            yield
    except Exception as exc:
        if _mismatch(exc):
            raise ReplayMismatch(
                f"--replay {path}: holds no answer for a request of this run "
                "(prompts, panel, model or settings differ from the recording)"
            ) from exc
        raise


def _mismatch(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, CannotOverwriteExistingCassetteException):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
