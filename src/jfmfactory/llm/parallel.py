"""Independent model calls at once, results in the order asked, bounded by `workers`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def ordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int) -> list[R]:
    """`[fn(x) for x in items]`, run on up to `workers` threads; the first failure is raised.

    One worker runs in the calling thread, with no pool: an endpoint that serves one request
    at a time (the embedded server) gains nothing from more, so nothing spins waiting.
    """
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    pool = ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix="jfm-call")
    try:
        return list(pool.map(fn, items))
    finally:
        # On a failure or Ctrl-C, calls not yet started are dropped rather than waited for.
        pool.shutdown(wait=True, cancel_futures=True)
