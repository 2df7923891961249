"""Independent model calls at once, results in the order asked, bounded by `workers`.

The bound holds for a map and every map run inside its calls together: `jfm draft --all` maps
its roles and each role maps its sections and its reviewers, yet `--concurrency N` means N
calls at once in all, not N per role. A thread holds one of the outermost map's slots while it
works on an item, and lends it to the threads of a map it waits on.

While an `Activity` is tracked (`jfm draft --all --batch`), every thread this module starts is
counted as busy until it waits, so a batch dispatcher can tell when each thread of the run waits
on an answer: the moment to submit what they asked.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Activity:
    """How many threads of a run are busy: neither waiting on an answer nor on other threads.

    The thread that starts tracking counts as busy. A waiting thread is counted busy again by the
    thread that wakes it, before that one stops, so the count never touches zero in a hand-over.
    """

    def __init__(self) -> None:
        self.busy = 1
        self.changed = threading.Condition()

    def add(self, count: int) -> None:
        with self.changed:
            self.busy += count
            if self.busy <= 0:  # the one moment anybody waits for
                self.changed.notify_all()

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until no thread is busy; False after `timeout_s` if some still are."""
        with self.changed:
            return self.changed.wait_for(lambda: self.busy <= 0, timeout_s)


_tracked: Activity | None = None


@contextlib.contextmanager
def tracking() -> Iterator[Activity]:
    """Count the busy threads of whatever runs inside (one tracked run per process at a time)."""
    global _tracked
    _tracked = Activity()
    try:
        yield _tracked
    finally:
        _tracked = None


def note_busy(count: int) -> None:
    """Count `count` more threads busy (negative: waiting), when an `Activity` is tracked."""
    if _tracked is not None:
        _tracked.add(count)


class _Slots:
    """Items worked on at once by a map and every map nested in its calls, handed out in the
    order asked (a thread waiting for one waits on other threads: not busy meanwhile)."""

    def __init__(self, count: int) -> None:
        self.free = count
        self.lock = threading.Lock()
        self.waiting: deque[threading.Event] = deque()

    def take(self) -> None:
        with self.lock:
            if self.free > 0:
                self.free -= 1
                return
            turn = threading.Event()
            self.waiting.append(turn)
        note_busy(-1)  # counted busy again by the thread that hands it the slot
        turn.wait()

    def give(self) -> None:
        with self.lock:
            if not self.waiting:
                self.free += 1
                return
            note_busy(1)
            self.waiting.popleft().set()


#: The slots of the map whose item this thread works on, if any.
_local = threading.local()


def ordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int) -> list[R]:
    """`[fn(x) for x in items]`, run on up to `workers` threads.

    On a failure no further item is started, the calls in flight are waited for, and the failure
    of the earliest item is raised. On Ctrl-C or SIGTERM (a `KeyboardInterrupt` in the calling
    thread) nothing is waited for: the worker threads are daemons, so a call hanging on the
    endpoint cannot hold the process open (`stopping` keeps them from sending anything more).

    One worker runs in the calling thread, with no threads: an endpoint that serves one request
    at a time (the embedded server) gains nothing from more.

    Called inside an item of another map (a role's sections inside `--all`'s roles), the items of
    both together stay within the outer map's `workers`: the calling thread gives its slot to this
    map's threads while it waits for them, and takes one again before it goes on.
    """
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    outer: _Slots | None = getattr(_local, "slots", None)
    slots = outer if outer is not None else _Slots(workers)
    waiting: queue.SimpleQueue[int] = queue.SimpleQueue()
    for index in range(len(items)):
        waiting.put(index)
    # One token, put by the last worker to end: every item done, or a failure and no call in flight.
    ended: queue.SimpleQueue[None] = queue.SimpleQueue()
    results: dict[int, R] = {}
    failures: dict[int, BaseException] = {}
    halted = threading.Event()
    count = min(workers, len(items))
    live = [count]
    lock = threading.Lock()

    def work() -> None:
        _local.slots = slots
        try:
            while not halted.is_set():
                try:
                    index = waiting.get_nowait()
                except queue.Empty:
                    return
                slots.take()
                try:
                    if not halted.is_set():
                        results[index] = fn(items[index])
                except BaseException as failure:  # handed to the calling thread, which raises it
                    failures[index] = failure
                    halted.set()
                finally:
                    slots.give()
        finally:
            with lock:
                live[0] -= 1
                last = live[0] == 0
            if last:
                note_busy(1)  # the calling thread goes on
                ended.put(None)
            note_busy(-1)

    for number in range(count):
        note_busy(1)
        try:
            threading.Thread(target=work, name=f"jfm-call-{number}", daemon=True).start()
        except RuntimeError as failure:  # "can't start new thread": as many as the system allows
            note_busy(-1)
            halted.set()
            failures[len(items)] = failure  # ranked after any item's own failure
            with lock:
                live[0] -= count - number
                none_left = live[0] == 0
            if none_left:
                raise
            break
    if outer is not None:
        outer.give()  # the calling thread's slot goes to its workers while it waits for them
    note_busy(-1)  # the calling thread waits for its workers
    try:
        ended.get()
    except BaseException:  # a stop: nothing more is waited for, no slot taken back
        halted.set()
        raise
    if outer is not None:
        outer.take()
    if failures:
        raise failures[min(failures)]
    return [results[index] for index in range(len(items))]
