"""A stop asked of the process (Ctrl-C, SIGTERM): from then on no request leaves it.

Calls in flight on other threads are not waited for (see `parallel`); this keeps them, and any
retry or re-ask they would make, from sending anything more while the process ends.
"""

from __future__ import annotations

import threading

import httpx


class RequestRefused(KeyboardInterrupt):
    """A request not sent because the process is stopping; raised like Ctrl-C, so that no retry
    loop on the way (the openai client's, instructor's) takes it for a failure to retry."""


_stopping = threading.Event()


def stop_requests() -> None:
    """Refuse every request from now on, on every thread; there is no undoing it."""
    _stopping.set()


def refuse_when_stopping(request: httpx.Request) -> None:
    """An httpx request hook, run before anything is sent."""
    if _stopping.is_set():
        raise RequestRefused(f"{request.method} {request.url.path} not sent: the process is stopping")
