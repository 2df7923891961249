"""A document content ops collected (a web page, a PDF, a Word file, Markdown or plain text, by path
or URL) turned into a source's text: main content only, with the title the document gives.

Kept libraries do the reading: trafilatura (an HTML page's main content, without menus, footers
or cookie banners), pypdf and python-docx. Nothing here parses HTML or PDF by hand.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import BaseModel, Field

from ..errors import BadInput

#: A document is refused when its text holds fewer words than this: a scanned PDF, a page of script.
MIN_WORDS = 40
#: The most a URL may send, in bytes.
MAX_DOWNLOAD_BYTES = 10_000_000
#: Seconds to connect to a URL and between bytes it sends.
FETCH_TIMEOUT_S = 20.0


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
    try:
        return urlsplit(location).scheme in ("http", "https")
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket
        raise BadInput(f"{location}: not a URL jfm can read ({exc})") from exc


def read_document(path: Path) -> Document:
    """A file content ops saved, its kind taken from its suffix."""
    kind = kind_of_suffix(path.suffix)
    if kind is None:
        known = ", ".join(sorted(suffix for found in FORMATS for suffix in found.suffixes))
        raise BadInput(f"{path}: unsupported file type {path.suffix or '(no suffix)'!r}; use {known}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"{path}: cannot read: {exc.strerror}") from exc
    return Document(origin=path.name, kind=kind, data=data)


def fetch_document(url: str) -> Document:
    """A page or file at `url`, at most MAX_DOWNLOAD_BYTES, its kind taken from its Content-Type.
    Errors name the URL without any credentials it carries."""
    shown = without_credentials(url)
    try:
        with (
            httpx.Client(timeout=FETCH_TIMEOUT_S, follow_redirects=True) as client,
            client.stream("GET", url) as response,
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
    except httpx.InvalidURL as exc:
        raise BadInput(f"{shown}: not a URL jfm can fetch ({exc})") from exc
    except httpx.TimeoutException as exc:
        raise BadInput(f"{shown}: no answer within {FETCH_TIMEOUT_S:g} s") from exc
    except httpx.HTTPError as exc:
        raise BadInput(f"{shown}: cannot fetch ({' '.join(str(exc).split()) or type(exc).__name__})") from exc
    return Document(origin=shown, kind=kind, data=bytes(data))


def without_credentials(url: str) -> str:
    """The URL as it may be recorded and printed: no user name or password in it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


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
    import trafilatura  # imported here: it takes a second, and only add-source needs it

    # From bytes, so that the page's own charset decides how it is decoded.
    tree = trafilatura.load_html(document.data)
    if tree is None:
        return Extracted(text="", title=None)
    text = trafilatura.extract(tree, include_comments=False, include_tables=True, favor_precision=True)
    metadata = trafilatura.extract_metadata(tree)
    return Extracted(text=text or "", title=metadata.title if metadata else None)


@source_format("pdf", (".pdf",), ("application/pdf",))
def _pdf(document: Document) -> Extracted:
    import pypdf

    # pypdf logs what it repairs; a damaged file is reported once, below, in one line.
    logging.getLogger("pypdf").setLevel(logging.ERROR + 10)

    try:
        reader = pypdf.PdfReader(io.BytesIO(document.data))
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
        title = reader.metadata.title if reader.metadata else None
    except pypdf.errors.PdfReadError as exc:
        raise BadInput(f"{document.origin}: not a readable PDF ({exc})") from exc
    return Extracted(text=text, title=title)


@source_format(
    "docx", (".docx",), ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",)
)
def _docx(document: Document) -> Extracted:
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        word = docx.Document(io.BytesIO(document.data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise BadInput(f"{document.origin}: not a readable Word (.docx) file") from exc
    text = "\n".join(paragraph.text for paragraph in word.paragraphs)
    return Extracted(text=text, title=word.core_properties.title or None)


@source_format("markdown", (".md", ".markdown"), ("text/markdown",))
@source_format("text", (".txt",), ("text/plain",))
def _plain(document: Document) -> Extracted:
    try:
        text = document.data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{document.origin}: not UTF-8 text (byte {exc.start})") from exc
    heading = re.search(r"^#\s+(.+)$", text, re.MULTILINE) if document.kind == "markdown" else None
    return Extracted(text=text, title=heading.group(1) if heading else None)
