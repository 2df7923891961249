"""Record and replay: every HTTP exchange of a run in a vcrpy cassette, for CI with no model.

Requests match on method, path and body, so a changed prompt, model or setting fails loudly
instead of replaying a wrong answer. Credentials never reach the file.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from functools import cache, lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from ..errors import BadInput
from .client import Redactor
from .provider import public_url

MATCH_ON = ("method", "path", "same_body")
SECRET_HEADERS = (
    "authorization", "api-key", "x-api-key", "openai-organization", "openai-project",
    "cookie", "set-cookie",
)  # fmt: skip


class ReplayMismatch(BadInput):
    """A request the cassette holds no answer for."""


@cache
def _vcr() -> ModuleType:
    """vcrpy, imported when a run first records or replays.

    On import vcrpy imports every HTTP library it can patch. jfm's requests all go through httpx,
    and importing aiohttp (installed for instructor) took about 0.15 s of a replay: vcrpy is
    imported without it, and its aiohttp patcher is skipped (`skip_patchers`). A `vcr.VCR` made
    elsewhere in the process must skip it too: vcrpy kept nothing of aiohttp to patch it with.
    """
    blocked = "aiohttp" not in sys.modules
    if blocked:
        sys.modules["aiohttp"] = None  # type: ignore[assignment]  # an ImportError for vcrpy
    try:
        import vcr
    finally:
        if blocked:
            sys.modules.pop("aiohttp", None)
    return vcr


def _scrub_request(request: Any) -> Any:
    """No user, password or query value of the URL reaches the file."""
    request.uri = public_url(request.uri)
    return request


def _response_scrubber(redact: Redactor) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """No secret header, and no configured key an endpoint echoed in a body, reaches the file."""

    def scrub(response: dict[str, Any]) -> dict[str, Any]:
        headers = response.get("headers", {})
        for name in list(headers):
            if name.lower() in SECRET_HEADERS:
                del headers[name]
        body = response.get("body", {})
        text = body.get("string") if isinstance(body, dict) else None
        if isinstance(text, bytes) and redact.secrets:
            scrubbed = redact(text.decode("utf-8", errors="replace")).encode()
            if scrubbed != text:
                body["string"] = scrubbed
                for name in list(headers):
                    if name.lower() == "content-length":
                        headers[name] = [str(len(scrubbed))]
        return response

    return scrub


def _body_matcher() -> Callable[[Any, Any], None]:
    """vcrpy's `body` matcher for the requests jfm sends, without the diff it builds for every
    recorded request that differs (most of a replay's matching time): bodies match when their
    bytes are equal (an empty body is an empty body) or when, both sent as JSON, they parse to
    equal data. A body of another type is compared as bytes. Each body is parsed once a cassette."""
    from vcr.util import read_body

    parsed: dict[bytes | str, Any] = {}

    def data(body: bytes | str) -> Any:
        if body not in parsed:
            try:
                parsed[body] = json.loads(body)
            except ValueError:
                parsed[body] = _NOT_JSON
        return parsed[body]

    def same_body(new: Any, recorded: Any) -> None:
        ours, theirs = read_body(new) or None, read_body(recorded) or None
        if ours == theirs:
            return
        if ours and theirs and _sent_as_json(new) and _sent_as_json(recorded):
            ours_data = data(ours)
            if ours_data is not _NOT_JSON and ours_data == data(theirs):
                return
        raise AssertionError("the bodies differ")

    return same_body


_NOT_JSON = object()


def _sent_as_json(request: Any) -> bool:
    kind = request.headers.get("Content-Type", "")
    return "application/json" in (kind.decode() if isinstance(kind, bytes) else kind).lower()


def _recorder(mode: str, redact: Redactor | None = None) -> Any:
    recorder = _vcr().VCR(
        record_mode=mode,
        skip_patchers=("aiohttp",),
        match_on=list(MATCH_ON),
        filter_headers=list(SECRET_HEADERS),
        before_record_request=_scrub_request,
        before_record_response=_response_scrubber(redact or Redactor()),
        decode_compressed_response=True,
    )
    recorder.register_matcher("same_body", _body_matcher())
    return recorder


def partial_path(path: Path) -> Path:
    """Where a failed recording is kept, beside the cassette it did not replace."""
    return path.with_name(f"{path.stem}.partial{path.suffix}")


@contextlib.contextmanager
def recording(path: Path, secrets: Iterable[str | None] = ()) -> Iterator[None]:
    """Record every exchange into `path`; the file is replaced only when the run completes.

    No configured key (`secrets`) an endpoint echoes in a body is written.

    A run that fails keeps what it recorded in `<name>.partial<suffix>`: the evidence of the
    failure, without overwriting a good cassette.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = tempfile.TemporaryDirectory(dir=path.parent, prefix=".cassette.")
    except OSError as exc:
        raise BadInput(f"--record {path}: cannot write there ({exc.strerror})") from exc
    with scratch as folder:
        partial = Path(folder) / path.name
        try:
            with _recorder("all", Redactor(secrets)).use_cassette(str(partial)):
                yield
        except BaseException:
            if partial.exists():
                os.replace(partial, partial_path(path))
            raise
        if partial.exists():
            os.replace(partial, path)


@contextlib.contextmanager
def replaying(path: Path) -> Iterator[None]:
    """Answer every request from `path`; a request it does not hold is an error."""
    recorder = _recorder("none")
    # The file as checked, not parsed again; a copy, as vcrpy rewrites the bodies it loads in place.
    recorder.register_serializer("checked", _Parsed(copy.deepcopy(check_replay(path))))
    try:
        with recorder.use_cassette(str(path), serializer="checked", allow_playback_repeats=False):
            yield
    except yaml.YAMLError as exc:
        raise BadInput(f"--replay {path}: not a cassette ({_first_line(exc)})") from exc
    except Exception as exc:
        if _mismatch(exc):
            raise ReplayMismatch(
                f"--replay {path}: holds no answer for a request of this run "
                "(prompts, panel, model or settings differ from the recording)"
            ) from exc
        raise


def check_replay(path: Path) -> Any:
    """A cassette to replay: a file that vcrpy can load, each exchange a request and its answer.

    Returns the file parsed. A run checks its options, then replays: the same file unchanged is
    parsed once.
    """
    if not path.is_file():
        raise BadInput(f"--replay {path}: no such cassette")
    try:
        stamp = path.stat()
        version = (stamp.st_ino, stamp.st_size, stamp.st_mtime_ns, stamp.st_ctime_ns)
        return _checked(path, path.resolve(), version)
    except OSError as exc:
        raise BadInput(f"--replay {path}: cannot read it ({_first_line(exc)})") from exc


@lru_cache(maxsize=2)
def _checked(path: Path, resolved: Path, version: tuple[int, ...]) -> Any:
    """The cassette at `path` parsed and checked; `resolved` and `version` tell one file, and one
    content of it, from another."""
    _vcr()
    from vcr.serialize import deserialize
    from vcr.serializers import yamlserializer

    try:
        text = path.read_text(encoding="utf-8")
        data = yamlserializer.deserialize(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"--replay {path}: cannot read it ({_first_line(exc)})") from exc
    except yaml.YAMLError as exc:
        raise BadInput(f"--replay {path}: not a cassette ({_first_line(exc)})") from exc
    problem = _cassette_problem(data)
    if problem is None:
        try:  # what vcrpy itself makes of it, from the data parsed above
            deserialize(text, _Parsed(data))
        except Exception as exc:
            problem = _first_line(exc)
    if problem is not None:
        raise BadInput(f"--replay {path}: not a cassette ({problem})")
    return data


class _Parsed:
    """A vcrpy serializer that hands back a cassette already parsed."""

    def __init__(self, data: Any) -> None:
        self.data = data

    def deserialize(self, text: str) -> Any:
        return self.data


def _cassette_problem(data: Any) -> str | None:
    """What keeps `data` (a loaded YAML file) from being a vcrpy cassette, if anything."""
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        return "no list of interactions"
    for number, interaction in enumerate(data["interactions"], start=1):
        where = f"interaction {number}"
        if not isinstance(interaction, dict):
            return f"{where} is not a request and its response"
        request, response = interaction.get("request"), interaction.get("response")
        if not isinstance(request, dict) or not isinstance(response, dict):
            return f"{where} lacks a request or a response"
        missing = [key for key in ("method", "uri", "body", "headers") if key not in request]
        missing += [f"response {key}" for key in ("status", "headers", "body") if key not in response]
        if missing:
            return f"{where} has no {', '.join(missing)}"
        status, body = response["status"], response["body"]
        if not isinstance(status, dict) or not isinstance(status.get("code"), int):
            return f"{where} has no response status code"
        if not isinstance(body, dict) or "string" not in body:
            return f"{where} has no response body string"
    return None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _mismatch(exc: BaseException | None) -> bool:
    from vcr.errors import CannotOverwriteExistingCassetteException

    while exc is not None:
        if isinstance(exc, CannotOverwriteExistingCassetteException):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
