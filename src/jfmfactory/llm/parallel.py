"""Independent model calls at once, results in the order asked, bounded by `workers`.

Every call is an asyncio task on one thread: a call waiting on its answer holds memory, not a
thread, so a catalog of thousands of roles waits on its batches with no more threads than one.

The bound holds for a map and every map run inside its calls together: `jfm draft --all` maps
its roles and each role maps its sections and its reviewers, yet `--concurrency N` means N
calls at once in all, not N per role. A task holds one of the outermost map's slots while it
works on an item, and lends it to the tasks of a map it waits on.

While an `Activity` is tracked (`jfm draft --all --batch`), every task this module starts is
counted as busy until it waits, so a batch dispatcher can tell when each task of the run waits
on an answer: the moment to submit what they asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from typing import Any, TypeVar

from .stopping import cancelled_on_stop, raise_stop, stop, stopped_by

T = TypeVar("T")
R = TypeVar("R")


class Activity:
    """How many tasks of a run are busy: neither waiting on an answer nor on other tasks.

    The task that starts tracking counts as busy. A waiting task is counted busy again by the
    task that wakes it, before that one stops, so the count never touches zero in a hand-over.
    """

    def __init__(self) -> None:
        self.busy = 1
        self._idle = asyncio.Event()

    def add(self, count: int) -> None:
        self.busy += count
        if self.busy <= 0:  # the one moment anybody waits for
            self._idle.set()
        else:
            self._idle.clear()

    @property
    def idle(self) -> bool:
        return self.busy <= 0

    async def wait_idle(self, timeout_s: float) -> bool:
        """Wait until no task is busy; False after `timeout_s` if some still are."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        # Tasks may have woken between the moment it was idle and this one's turn to run.
        return self.idle


def run_to_completion(main: Coroutine[Any, Any, R]) -> R:
    """Run `main` to its end on an event loop of its own: in this thread, unless a loop runs here
    already (a notebook's, a browser driver's), then in a thread of its own.

    In the main thread a stop (Ctrl-C, SIGTERM) cancels `main`, and so every task it waits on,
    each where it waits; once they have recorded what they completed the stop is raised here.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        with ThreadPoolExecutor(1, thread_name_prefix="jfm-run") as aside:
            return aside.submit(asyncio.run, main).result()
    if threading.current_thread() is not threading.main_thread():
        return asyncio.run(main)

    async def stoppable() -> R:
        task: asyncio.Task[Any] | None = asyncio.current_task()
        assert task is not None
        with cancelled_on_stop(task):
            try:
                return await main
            except asyncio.CancelledError:
                if stopped_by() is None:
                    raise
                raise_stop()

    # A caller that handles no signal (a script, not the CLI) gets the CLI's handling of Ctrl-C.
    default = signal.getsignal(signal.SIGINT) is signal.default_int_handler
    previous = signal.signal(signal.SIGINT, stop) if default else None
    try:
        return asyncio.run(stoppable())
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


_tracked: Activity | None = None


@contextlib.contextmanager
def tracking() -> Iterator[Activity]:
    """Count the busy tasks of whatever runs inside (one tracked run per process at a time)."""
    global _tracked
    _tracked = Activity()
    try:
        yield _tracked
    finally:
        _tracked = None


def note_busy(count: int) -> None:
    """Count `count` more tasks busy (negative: waiting), when an `Activity` is tracked."""
    if _tracked is not None:
        _tracked.add(count)


class _Slots:
    """Items worked on at once by a map and every map nested in its calls, handed out in the
    order asked (a task waiting for one waits on other tasks: not busy meanwhile)."""

    def __init__(self, count: int) -> None:
        self.free = count
        self.waiting: deque[asyncio.Future[None]] = deque()

    async def take(self) -> None:
        if self.free > 0:
            self.free -= 1
            return
        turn = asyncio.get_running_loop().create_future()
        self.waiting.append(turn)
        note_busy(-1)  # counted busy again by the task that hands it the slot
        await turn

    def give(self) -> None:
        while self.waiting:
            turn = self.waiting.popleft()
            if not turn.done():  # one cancelled (a stop) takes no slot
                note_busy(1)
                turn.set_result(None)
                return
        self.free += 1


#: The slots of the map whose item this task works on, if any.
_slots: ContextVar[_Slots | None] = ContextVar("jfm_slots", default=None)


async def ordered_map(
    fn: Callable[[T], Awaitable[R]], items: Iterable[T], workers: int, calls: int | None = None
) -> list[R]:
    """`[await fn(x) for x in items]`, up to `workers` at once.

    On a failure no further item is started, the calls in flight are waited for, and the failure
    of the earliest item is raised. On Ctrl-C or SIGTERM the tasks are cancelled where they wait.

    One worker runs the items one after another in the calling task: an endpoint that serves one
    request at a time (the embedded server) gains nothing from more, and asks them in order.

    Called inside an item of another map (a role's sections inside `--all`'s roles), the items of
    both together stay within the outer map's `workers`: the calling task gives its slot to this
    map's tasks while it waits for them, and takes one again before it goes on. `calls` sets that
    bound apart (a batched catalog: a few thousand roles at once, their calls unbounded).
    """
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        return [await fn(item) for item in items]
    outer = _slots.get()
    slots = outer if outer is not None else _Slots(workers if calls is None else calls)
    indices = iter(range(len(items)))
    results: dict[int, R] = {}
    failures: dict[int, BaseException] = {}
    count = min(workers, len(items))
    live = [count]

    async def work() -> None:
        _slots.set(slots)  # this task's own context: the caller's is untouched
        try:
            for index in indices:  # shared by the workers: each item is taken once
                if failures:
                    return
                await slots.take()
                try:
                    if not failures:
                        results[index] = await fn(items[index])
                except Exception as failure:  # raised by the calling task, earliest first
                    failures[index] = failure
                finally:
                    slots.give()
        finally:
            live[0] -= 1
            if live[0] == 0:
                note_busy(1)  # the calling task goes on
            note_busy(-1)

    note_busy(count)
    tasks = [asyncio.create_task(work(), name=f"jfm-call-{number}") for number in range(count)]
    if outer is not None:
        outer.give()  # the calling task's slot goes to its workers while it waits for them
    note_busy(-1)  # the calling task waits for its workers
    await asyncio.gather(*tasks)
    if outer is not None:
        await outer.take()
    if failures:
        raise failures[min(failures)]
    return [results[index] for index in range(len(items))]
