"""A document content ops collected (a web page, a PDF, a Word file, Markdown or plain text, by path
or URL) turned into a source's text: main content only, with the title the document gives.

Kept libraries do the reading: trafilatura (an HTML page's main content, without menus, footers
or cookie banners), pypdf and python-docx. Nothing here parses HTML or PDF by hand.

Every document is bounded before a library reads it: its bytes, what they expand to, an HTML
page's elements, and the time its download and its reading may take.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import logging
import re
import signal
import socket
import subprocess
import sys
import threading
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from pydantic import BaseModel, Field

from ..errors import BadInput

#: A document is refused when its text holds fewer words than this: a scanned PDF, a page of script.
MIN_WORDS = 40
#: The most a URL may send, in bytes.
MAX_DOWNLOAD_BYTES = 10_000_000
#: The most a document may hold once read or expanded, in bytes: a file as it is, a Word file's
#: parts unzipped together, each stream of a PDF decoded, and its text. python-docx holds some 16
#: times a Word file's XML in memory: 360 MB for 22.5 MB of it (68 MB of it took 1.1 GB).
MAX_EXPANDED_BYTES = 25_000_000
#: The most elements an HTML page may have: trafilatura takes some 0.1 ms an element, so a page at
#: the limit is read in about 5 s (820,000 one-word paragraphs took 80 s).
MAX_HTML_ELEMENTS = 50_000
#: Seconds to connect to a URL and between bytes it sends.
FETCH_TIMEOUT_S = 20.0
#: Seconds the whole download of a URL may take, however steadily it sends.
FETCH_DEADLINE_S = 60.0
#: Seconds reading an HTML page's main content may take; its process is stopped then.
EXTRACT_DEADLINE_S = 60.0


class Document(BaseModel):
    """A document as collected: its bytes and where they came from."""

    origin: str = Field(description="The URL it was fetched from, or the file name it was read from.")
    kind: str = Field(description="The kind of its format (`FORMATS`): html, pdf, docx, markdown or text.")
    data: bytes = Field(description="The document's bytes as found.")


class Extracted(BaseModel):
    """What a document holds for the drafter: its main text and the title it gives itself."""

    text: str = Field(description="The main content as plain text, paragraphs on lines of their own.")
    title: str | None = Field(description="The title the document gives, if any.")


Extractor = Callable[["Document"], "Extracted"]


@dataclass(frozen=True)
class SourceFormat:
    """A kind of document `jfm add-source` reads: the file suffixes and the Content-Types a URL
    answers with that mark it, and how its main text and title are read."""

    kind: str
    suffixes: tuple[str, ...]
    media_types: tuple[str, ...]
    extract: Extractor


#: Every format, in the order declared (`source_format`).
FORMATS: list[SourceFormat] = []


def source_format(
    kind: str, suffixes: tuple[str, ...], media_types: tuple[str, ...]
) -> Callable[[Extractor], Extractor]:
    """Declare a format: the function it decorates reads a document of that kind."""

    def register(extract: Extractor) -> Extractor:
        FORMATS.append(SourceFormat(kind, suffixes, media_types, extract))
        return extract

    return register


def _format(kind: str) -> SourceFormat:
    return next(found for found in FORMATS if found.kind == kind)


def kind_of_suffix(suffix: str) -> str | None:
    return next((found.kind for found in FORMATS if suffix.lower() in found.suffixes), None)


def kind_of_media(media: str) -> str | None:
    return next((found.kind for found in FORMATS if media.lower() in found.media_types), None)


def is_url(location: str) -> bool:
    """Whether `location` is an http(s) URL; a URL of another scheme is refused."""
    try:
        scheme = urlsplit(location).scheme
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket
        raise BadInput(f"{location}: not a URL jfm can read ({exc})") from exc
    if scheme in ("http", "https"):
        return True
    # `file:///x.txt` or `ftp://…`; a one-letter scheme is a Windows drive, and a file that is
    # there by that name is read.
    if len(scheme) > 1 and location.lower().startswith(f"{scheme}:/") and not Path(location).exists():
        raise BadInput(
            f"{without_credentials(location)}: only http(s) URLs are taken; give a file by its path"
        )
    return False


def read_document(path: Path) -> Document:
    """A file content ops saved, its kind taken from its suffix."""
    kind = kind_of_suffix(path.suffix)
    if kind is None:
        known = ", ".join(sorted(suffix for found in FORMATS for suffix in found.suffixes))
        raise BadInput(f"{path}: unsupported file type {path.suffix or '(no suffix)'!r}; use {known}")
    try:
        size = path.stat().st_size
        if size > MAX_EXPANDED_BYTES:
            raise BadInput(f"{path}: {size} bytes, more than the {MAX_EXPANDED_BYTES} allowed")
        data = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"{path}: cannot read: {exc.strerror}") from exc
    return Document(origin=path.name, kind=kind, data=data)


def fetch_document(url: str) -> Document:
    """A page or file at `url`, at most MAX_DOWNLOAD_BYTES within FETCH_DEADLINE_S, its kind taken
    from its Content-Type. Errors name the URL without any credentials it carries."""
    shown = without_credentials(url)
    overdue = BadInput(
        f"{shown}: not downloaded within {FETCH_DEADLINE_S:g} s (the most a download may take)"
    )
    deadline = _Deadline(FETCH_DEADLINE_S)
    try:
        with (
            deadline,
            httpx.Client(timeout=FETCH_TIMEOUT_S, follow_redirects=True) as client,
            client.stream("GET", url, extensions={"trace": deadline.watch}) as response,
        ):
            if response.status_code != 200:
                raise BadInput(f"{shown}: HTTP {response.status_code}")
            media = response.headers.get("content-type", "").split(";")[0].strip().lower()
            kind = kind_of_media(media) or kind_of_suffix(Path(urlsplit(url).path).suffix)
            if kind is None:
                raise BadInput(f"{shown}: unsupported content type {media or '(none)'!r}")
            declared = response.headers.get("content-length", "").strip()
            if declared.isdigit() and int(declared) > MAX_DOWNLOAD_BYTES:
                raise BadInput(f"{shown}: {declared} bytes, more than the {MAX_DOWNLOAD_BYTES} allowed")
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_DOWNLOAD_BYTES:
                    raise BadInput(f"{shown}: more than the {MAX_DOWNLOAD_BYTES} bytes allowed")
        if deadline.passed.is_set():  # a body without a length ends, cut, as if it were whole
            raise overdue
    except httpx.InvalidURL as exc:
        raise BadInput(f"{shown}: not a URL jfm can fetch ({exc})") from exc
    except httpx.HTTPError as exc:
        if deadline.passed.is_set():  # the read it waited in was cut
            raise overdue from exc
        if isinstance(exc, httpx.TimeoutException):
            raise BadInput(f"{shown}: no answer within {FETCH_TIMEOUT_S:g} s") from exc
        raise BadInput(f"{shown}: cannot fetch ({_one_line(exc)})") from exc
    return Document(origin=shown, kind=kind, data=bytes(data))


class _Deadline:
    """The end of a download: at it, every connection the download opened is shut, which ends the
    read it waits in (httpx's timeouts are per read, and a server dripping bytes meets each)."""

    def __init__(self, seconds: float) -> None:
        self.passed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._shut)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def watch(self, event: str, info: dict[str, Any]) -> None:
        """httpx's `trace` extension: keep each connection's socket (one a redirect)."""
        if event.endswith((".connect_tcp.complete", ".start_tls.complete")) and info.get("return_value"):
            with self._lock:
                self._sockets.append(info["return_value"].get_extra_info("socket"))
            if self.passed.is_set():  # connected only after the deadline
                self._shut()

    def _shut(self) -> None:
        self.passed.set()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):  # closed already
                    sock.shutdown(socket.SHUT_RDWR)


#: Query parameters that carry a credential (a signed URL's signature, a token, a key): their
#: values are not recorded or printed. Matched against the parameter's name, case aside.
SECRET_PARAMETER = re.compile(
    r"token|secret|passw|signature|credential|^(sig|key|auth|session|sessionid)$|[_-](key|sig|auth)$", re.I
)


def without_credentials(url: str) -> str:
    """The URL as it may be recorded and printed: no user name or password in it, and the value
    of a query parameter that carries a credential (`?token=…`, `X-Amz-Signature=…`) redacted."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    query = urlencode(
        [
            (name, "[redacted]" if SECRET_PARAMETER.search(name) else value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="[]",
    )
    return urlunsplit((parts.scheme, host, parts.path, query, parts.fragment))


def extract(document: Document) -> Extracted:
    """The document's main text and title; refused when it yields almost no words."""
    extracted = _format(document.kind).extract(document)
    text = "\n".join(line.strip() for line in extracted.text.splitlines() if line.strip())
    words = len(text.split())
    if words < MIN_WORDS:
        raise BadInput(
            f"{document.origin}: only {words} word(s) of text found (at least {MIN_WORDS} needed); "
            "a scanned PDF or a page built by scripts holds no text to read"
        )
    title = " ".join(extracted.title.split()) if extracted.title else None
    return Extracted(text=text + "\n", title=title or None)


@source_format("html", (".html", ".htm"), ("text/html", "application/xhtml+xml"))
def _html(document: Document) -> Extracted:
    """Read in a process of its own (`read_html`), stopped at EXTRACT_DEADLINE_S or when jfm is:
    trafilatura's calls into lxml run for seconds on a big page, holding off Ctrl-C and SIGTERM."""
    # -P: no module of the folder jfm runs in may stand in for one of the reader's.
    reader = f"from {__name__} import read_html; read_html()"
    command = [sys.executable, "-P", "-c", reader, str(MAX_HTML_ELEMENTS)]
    # A stop met while the reader starts would leave it running: Popen has not returned it yet.
    # Ctrl-C and SIGTERM are put off until it has, then met where it is stopped with jfm.
    deferred = _defer_stops()
    try:
        reading = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except BaseException:
        _resume_stops(deferred)
        raise
    with reading:
        try:
            _resume_stops(deferred)  # a stop met meanwhile is raised here, and stops the reader below
            stdout, stderr = reading.communicate(document.data, timeout=EXTRACT_DEADLINE_S)
        except subprocess.TimeoutExpired:
            overdue = f"not read within {EXTRACT_DEADLINE_S:g} s (the most reading a page may take)"
            raise BadInput(f"{document.origin}: {overdue}") from None
        finally:  # stopped by the deadline, Ctrl-C or SIGTERM: it ends before jfm does
            if reading.poll() is None:
                reading.kill()
                reading.wait()
    try:
        answer = json.loads(stdout.splitlines()[-1])  # the last line: after anything a library printed
    except (ValueError, IndexError):  # it died; the last line it said is why
        said = stderr.decode("utf-8", "replace").strip().splitlines()
        why = said[-1] if said else f"exit status {reading.returncode}"
        raise BadInput(f"{document.origin}: not a readable HTML page ({why})") from None
    if answer.get("refused"):
        raise BadInput(f"{document.origin}: {answer['refused']}")
    return Extracted(text=answer["text"], title=answer["title"])


_STOPS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class _Deferred:
    """Stops put off: the handlers they had, and the signals met meanwhile."""

    handlers: dict[signal.Signals, Any]
    met: list[int]


def _defer_stops() -> _Deferred | None:
    """Record Ctrl-C and SIGTERM instead of acting on them, until `_resume_stops`. By handler, not
    by signal mask: a handler runs in the main thread whichever thread a signal reaches, and
    Python's handlers only ever run there (elsewhere: None, nothing put off)."""
    handlers = {stop: signal.getsignal(stop) for stop in _STOPS}
    if threading.current_thread() is not threading.main_thread() or None in handlers.values():
        return None  # None: a handler not set from Python, which could not be given back
    deferred = _Deferred(handlers, [])
    try:
        for stop in _STOPS:  # a stop pending as a handler is set is acted on there, by the old one
            signal.signal(stop, lambda number, frame: deferred.met.append(number))
    except BaseException:
        _resume_stops(deferred)
        raise
    return deferred


def _resume_stops(deferred: _Deferred | None) -> None:
    """Give Ctrl-C and SIGTERM their handlers back, then raise the first stop met meanwhile, as
    if it came now."""
    if deferred is None:
        return
    failed: BaseException | None = None
    for stop, handler in deferred.handlers.items():
        try:  # every handler is put back, even when one stop is acted on as the first is
            signal.signal(stop, handler)
        except BaseException as exc:
            failed = failed or exc
    if failed is not None:
        raise failed
    if deferred.met:
        signal.raise_signal(deferred.met[0])


def read_html() -> None:
    """The process `_html` starts: the page's bytes on stdin, the most elements it may have as its
    argument; its main text and title on stdout as JSON, or why it is refused."""
    import trafilatura

    # jfm stops it on Ctrl-C; and should jfm be killed, it ends at the deadline whatever it runs.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "alarm"):  # not on Windows
        signal.alarm(int(EXTRACT_DEADLINE_S) + 1)
    most = int(sys.argv[1])
    # From bytes, so that the page's own charset decides how it is decoded.
    tree = trafilatura.load_html(sys.stdin.buffer.read())
    answer: dict[str, str | None]
    if tree is None:
        answer = {"text": "", "title": None}
    elif next(itertools.islice(tree.iter(), most, None), None) is not None:
        refused = f"more than {most} HTML elements (the most a page may have to be read in seconds)"
        answer = {"refused": refused}
    else:
        text = trafilatura.extract(tree, include_comments=False, include_tables=True, favor_precision=True)
        metadata = trafilatura.extract_metadata(tree)
        answer = {"text": text or "", "title": metadata.title if metadata else None}
    print(json.dumps(answer))


@source_format("pdf", (".pdf",), ("application/pdf",))
def _pdf(document: Document) -> Extracted:
    import pypdf

    # pypdf logs what it repairs; a damaged file is reported once, below, in one line.
    logging.getLogger("pypdf").setLevel(logging.ERROR + 10)

    too_big = f"{document.origin}: expands to more than the {MAX_EXPANDED_BYTES} bytes allowed"
    # Each stream decoded within the limit (pypdf's own, 75 MB, were it older than its Configuration).
    configured = getattr(pypdf, "apply_configuration", None)
    limit = MAX_EXPANDED_BYTES
    limited = (
        configured(
            zlib_maximum_output_length=limit, lzw_maximum_output_length=limit,
            run_length_maximum_output_length=limit, brotli_maximum_output_length=limit,
            jbig2_maximum_output_length=limit, array_based_stream_maximum_output_length=limit,
        )
        if configured
        else contextlib.nullcontext()
    )  # fmt: skip
    try:
        with limited:
            reader = pypdf.PdfReader(io.BytesIO(document.data))
            pages, size = [], 0
            for page in reader.pages:
                pages.append(page.extract_text() or "")
                size += len(pages[-1])
                if size > MAX_EXPANDED_BYTES:  # every stream within the limit, but all of them not
                    raise BadInput(f"{too_big} (its text)")
            title = reader.metadata.title if reader.metadata else None
    except BadInput:
        raise
    except pypdf.errors.LimitReachedError as exc:
        raise BadInput(f"{too_big} ({_one_line(exc)})") from exc
    except Exception as exc:  # pypdf raises many types on a damaged file; each means it cannot be read
        raise BadInput(f"{document.origin}: not a readable PDF ({_one_line(exc)})") from exc
    return Extracted(text="\n".join(pages), title=title)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _unzipped(document: Document, name: str) -> None:
    """Refuse a zip-based document (`name` its format) whose parts, as declared or as they unzip,
    hold more than MAX_EXPANDED_BYTES, or that does not unzip whole, before its reader unzips it."""
    too_big = f"{document.origin}: unzips to more than the {MAX_EXPANDED_BYTES} bytes allowed"
    try:
        with zipfile.ZipFile(io.BytesIO(document.data)) as archive:
            parts = archive.infolist()
            declared = sum(part.file_size for part in parts)
            if declared > MAX_EXPANDED_BYTES:
                raise BadInput(f"{too_big} ({declared} declared)")
            unzipped = 0
            for part in parts:
                # Read through, not kept: zipfile checks that each part unzips to its declared
                # size and CRC, and a damaged deflate stream fails here rather than in the reader.
                with archive.open(part) as content:
                    while chunk := content.read(1 << 20):
                        unzipped += len(chunk)
                        if unzipped > MAX_EXPANDED_BYTES:
                            raise BadInput(too_big)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
        # A bad CRC, a damaged deflate stream, an unknown compression, an encrypted part.
        raise BadInput(f"{document.origin}: not a readable {name} file ({_one_line(exc)})") from exc


@source_format(
    "docx", (".docx",), ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",)
)
def _docx(document: Document) -> Extracted:
    import docx

    _unzipped(document, "Word (.docx)")
    try:
        word = docx.Document(io.BytesIO(document.data))
        text = "\n".join(paragraph.text for paragraph in word.paragraphs)
        title = word.core_properties.title or None
    except Exception as exc:  # python-docx raises many types on damaged XML; each means it cannot be read
        raise BadInput(f"{document.origin}: not a readable Word (.docx) file ({_one_line(exc)})") from exc
    return Extracted(text=text, title=title)


@source_format("markdown", (".md", ".markdown"), ("text/markdown",))
@source_format("text", (".txt",), ("text/plain",))
def _plain(document: Document) -> Extracted:
    try:
        text = document.data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{document.origin}: not UTF-8 text (byte {exc.start})") from exc
    heading = re.search(r"^#\s+(.+)$", text, re.MULTILINE) if document.kind == "markdown" else None
    return Extracted(text=text, title=heading.group(1) if heading else None)
