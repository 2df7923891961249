"""A stop asked of the process (Ctrl-C, SIGTERM): from then on no request leaves it.

Calls in flight are cancelled where they wait (see `parallel`); this keeps any retry or re-ask
on the way from sending anything more while the process ends.
"""

from __future__ import annotations

import httpx


class RequestRefused(KeyboardInterrupt):
    """A request not sent because the process is stopping; raised like Ctrl-C, so that no retry
    loop on the way (the openai client's, instructor's) takes it for a failure to retry."""


#: What stopped the process ("Ctrl-C", "SIGTERM"), once something did.
_stopped_by: str | None = None


def stop_requests(reason: str = "Ctrl-C") -> None:
    """Refuse every request from now on; there is no undoing it (a signal handler calls it)."""
    global _stopped_by
    _stopped_by = _stopped_by or reason


def stopped_by() -> str | None:
    """What stopped the process, if anything did: a task cancelled now is cancelled by the stop,
    not by its own run."""
    return _stopped_by


async def refuse_when_stopping(request: httpx.Request) -> None:
    """An httpx request hook, run before anything is sent."""
    if _stopped_by is not None:
        raise RequestRefused(f"{request.method} {request.url.path} not sent: the process is stopping")
