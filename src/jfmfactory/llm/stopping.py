"""A stop asked of the process (Ctrl-C, SIGTERM): from then on no request leaves it.

During a run the stop cancels the run's task, and with it every call, where each waits (see
`parallel.run_to_completion`): each role records what it completed. Outside a run it is raised
where the process is, as Ctrl-C is. Any retry or re-ask on the way sends nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from typing import NoReturn

import httpx


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that no `except Exception` on the way swallows it."""


class RequestRefused(asyncio.CancelledError):
    """A request not sent because the process is stopping: its call is cancelled like every other
    of the run, and no retry loop on the way (the openai client's, instructor's) retries it."""


#: What stopped the process ("Ctrl-C", "SIGTERM"), once something did.
_stopped_by: str | None = None
#: The run going on, if any: its event loop and the task a stop cancels.
_run: tuple[asyncio.AbstractEventLoop, asyncio.Task[object]] | None = None


def stop_requests(reason: str = "Ctrl-C") -> None:
    """Refuse every request from now on; there is no undoing it."""
    global _stopped_by
    _stopped_by = _stopped_by or reason


def stopped_by() -> str | None:
    """What stopped the process, if anything did: a task cancelled now is cancelled by the stop,
    not by its own run."""
    return _stopped_by


def stop(signum: int, frame: object = None) -> None:
    """A signal handler: refuse every request, then cancel the run going on (in the next turn of
    its loop), or raise the stop here when none is."""
    stop_requests("SIGTERM" if signum == signal.SIGTERM else "Ctrl-C")
    if _run is not None:
        loop, task = _run
        loop.call_soon_threadsafe(task.cancel)
        return
    raise_stop()


def raise_stop() -> NoReturn:
    """Raise the stop asked: `Terminated` for SIGTERM, else `KeyboardInterrupt`."""
    if _stopped_by == "SIGTERM":
        raise Terminated("SIGTERM")
    raise KeyboardInterrupt


@contextlib.contextmanager
def cancelled_on_stop(task: asyncio.Task[object]) -> Iterator[None]:
    """While inside, a stop cancels `task` (a run's) instead of being raised wherever it lands:
    raised inside one task of many, it would leave the others' records unwritten."""
    global _run
    previous, _run = _run, (task.get_loop(), task)
    try:
        yield
    finally:
        _run = previous


async def refuse_when_stopping(request: httpx.Request) -> None:
    """An httpx request hook, run before anything is sent."""
    if _stopped_by is not None:
        raise RequestRefused(f"{request.method} {request.url.path} not sent: the process is stopping")
