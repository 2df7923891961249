"""Independent model calls at once, results in the order asked, bounded by `workers`."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


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
    ended: queue.SimpleQueue[int] = queue.SimpleQueue()
    results: dict[int, R] = {}
    failures: dict[int, BaseException] = {}
    halted = threading.Event()

    def work() -> None:
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
                ended.put(index)

    threads = [
        threading.Thread(target=work, name=f"jfm-call-{number}", daemon=True)
        for number in range(min(workers, len(items)))
    ]
    for thread in threads:
        thread.start()
    try:
        for _ in items:
            ended.get()
            if halted.is_set():
                break
    except BaseException:
        halted.set()
        raise
    if failures:
        for thread in threads:
            thread.join()
        raise failures[min(failures)]
    return [results[index] for index in range(len(items))]
