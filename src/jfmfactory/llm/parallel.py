"""Independent model calls at once, results in the order asked, bounded by `workers`.

While an `Activity` is tracked (`jfm draft --all --batch`), every thread this module starts is
counted as busy until it waits, so a batch dispatcher can tell when each thread of the run waits
on an answer: the moment to submit what they asked.
"""

from __future__ import annotations

import contextlib
import queue
import threading
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


def ordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int) -> list[R]:
    """`[fn(x) for x in items]`, run on up to `workers` threads.

    On a failure no further item is started, the calls in flight are waited for, and the failure
    of the earliest item is raised. On Ctrl-C or SIGTERM (a `KeyboardInterrupt` in the calling
    thread) nothing is waited for: the worker threads are daemons, so a call hanging on the
    endpoint cannot hold the process open (`stopping` keeps them from sending anything more).

    One worker runs in the calling thread, with no threads: an endpoint that serves one request
    at a time (the embedded server) gains nothing from more.
    """
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
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
        try:
            while not halted.is_set():
                try:
                    index = waiting.get_nowait()
                except queue.Empty:
                    return
                try:
                    results[index] = fn(items[index])
                except BaseException as failure:  # handed to the calling thread, which raises it
                    failures[index] = failure
                    halted.set()
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
    note_busy(-1)  # the calling thread waits for its workers
    try:
        ended.get()
    except BaseException:
        halted.set()
        raise
    if failures:
        raise failures[min(failures)]
    return [results[index] for index in range(len(items))]
