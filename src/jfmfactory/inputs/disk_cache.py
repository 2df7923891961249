"""What a process derives from a file that seldom changes, kept on disk for the next process.

Every `jfm` command starts by reading the guard's patterns and lemminflect's lexicon, about 0.8 s
of work whose result depends only on those files and on this Python. `kept(name, key, make)`
returns `make()`, or the value made last time for the same key: the key holds whatever the value
is derived from (the file's text, the library's version), and this Python's version is added to
it, so an edited file or an upgrade is derived again, never served stale.

The folder is `$JFM_CACHE_DIR`, else `$XDG_CACHE_HOME/jfmfactory`, else `~/.cache/jfmfactory`;
with no home known, nothing is kept. Each value is one file, written whole under a temporary
name and renamed, with a digest of its bytes: a file half written, corrupted or from another key
is ignored and made again. The newest few files of a name are kept, the others deleted. A folder
that cannot be written only costs the time saved; the cache never fails a command.
"""

from __future__ import annotations

import glob
import hashlib
import marshal
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

#: What a kept file starts with; a new layout of the files gets a new one.
_MAGIC = b"jfm-cache-1\n"
_DIGEST = hashlib.sha256().digest_size
_MISSING = object()
#: Hex digits of the key in a file's name.
_NAMED = 24
#: Files kept per name, the newest: an edit of the guard's patterns makes a new one each time.
KEPT_PER_NAME = 4


def cache_folder() -> Path | None:
    """Where derived values are kept (see the module's docstring); None when no home is known
    (no $HOME and no account entry): nothing is kept then."""
    named = os.environ.get("JFM_CACHE_DIR")
    if named:
        return Path(named)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):  # a relative one is to be ignored (XDG base directory spec)
        return Path(xdg) / "jfmfactory"
    home = os.path.expanduser("~")
    return Path(home) / ".cache" / "jfmfactory" if os.path.isabs(home) else None


def kept(name: str, key: bytes, make: Callable[[], T]) -> T:
    """`make()`, or its value for the same `key` kept from an earlier process.

    The value must be made of what `marshal` writes (str, int, tuple, list, dict, frozenset …).
    """
    folder = cache_folder()
    if folder is None:
        return make()
    keyed = hashlib.sha256(b"%s\0%s\0%s" % (sys.version.encode(), name.encode(), key)).hexdigest()
    path = folder / f"{name}-{keyed[:_NAMED]}.marshal"
    try:
        data = path.read_bytes()
    except OSError:
        pass
    else:
        value = _read(data, keyed)
        if value is not _MISSING:
            return value  # type: ignore[return-value]
    value = make()
    if _write(path, keyed, value):
        _prune(path, name)
    return value


def _read(data: bytes, keyed: str) -> object:
    """The value in a kept file's bytes, or `_MISSING` if they are not whole or not for `keyed`."""
    head = _MAGIC + keyed.encode() + b"\n"
    if not data.startswith(head):
        return _MISSING
    digest, body = data[len(head) : len(head) + _DIGEST], data[len(head) + _DIGEST :]
    if hashlib.sha256(body).digest() != digest:
        return _MISSING
    try:
        return marshal.loads(body)
    except (EOFError, ValueError, TypeError):
        return _MISSING


def _write(path: Path, keyed: str, value: Any) -> bool:
    """Whether `value` could be written to `path`, whole."""
    body = marshal.dumps(value)
    content = _MAGIC + keyed.encode() + b"\n" + hashlib.sha256(body).digest() + body
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, scratch = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError:
        return False  # a folder that cannot be written: the next process makes the value again
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(scratch, path)
    except BaseException as exc:  # a full disk, or Ctrl-C: no scratch file is left behind
        Path(scratch).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            return False
        raise
    return True


def _prune(written: Path, name: str) -> None:
    """Delete all but the newest `KEPT_PER_NAME` files of `name`, the one just `written` among them."""
    try:
        # Exactly `name`, a dash and the key: "guard" does not take in "guard-patterns-…".
        files = written.parent.glob(f"{glob.escape(name)}-{'?' * _NAMED}.marshal")
        others = [path for path in files if path != written]
        others.sort(key=lambda path: path.stat().st_mtime_ns, reverse=True)
        for old in others[KEPT_PER_NAME - 1 :]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # another process pruning: kept for now
