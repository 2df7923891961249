"""What a run takes: `DraftOptions`, their checks, and how many calls go at once."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput
from ..llm.cassette import check_replay
from ..llm.limits import RateLimiter
from ..llm.provider import REQUEST_TIMEOUT_S
from ..pipeline.loop import DEFAULT_MAX_ROUNDS
from ..pipeline.panel import DEFAULT_THRESHOLD

MAX_SAMPLES = 10
MAX_CONCURRENCY = 16
#: Calls at once against an endpoint that serves requests in parallel, unless --concurrency says.
DEFAULT_CONCURRENCY = 4
#: Calls at once of one role in a batched run: all that a step of its round asks.
BATCHED_CALLS_AT_ONCE = 1000
#: Roles of a batched catalog in progress at once. A role waiting on its batches holds about
#: 0.6 MB (its inputs, its calls in flight): 10,000 roles, 2,000 at once, peaked at 1.9 GB. Each
#: 2,000 more roles cost another few steps of batches (drafter, reviewers, re-asks), one after
#: the other. A role that ends makes way for the next, whose calls join the next batch.
BATCHED_ROLES_AT_ONCE = 2000
#: No bound: as many at once as there are items.
UNBOUNDED = 1 << 30


@dataclass(frozen=True)
class DraftOptions:
    """Everything `jfm draft` and `jfm review` take (review ignores max_rounds)."""

    role: str
    out: Path | None = None
    max_rounds: int = DEFAULT_MAX_ROUNDS
    threshold: int = DEFAULT_THRESHOLD
    model: str | None = None
    base_url: str | None = None
    record: Path | None = None
    replay: Path | None = None
    samples: int = 1
    panel_model: str | None = None
    panel_base_url: str | None = None
    profile: Path | None = None
    timeout_s: float = REQUEST_TIMEOUT_S
    resume: bool = False
    concurrency: int | None = None
    #: Draft every level's responsibilities in one call first (`jfm draft --ladder`).
    ladder: bool = False
    #: Most requests a minute (`--rpm`), and tokens a minute (`--tpm`), a live run sends.
    rpm: int | None = None
    tpm: int | None = None


def check_options(options: DraftOptions) -> None:
    if not 1 <= options.threshold <= 5:
        raise BadInput(f"--threshold {options.threshold}: must be 1 to 5")
    if options.max_rounds < 1:
        raise BadInput(f"--max-rounds {options.max_rounds}: must be at least 1")
    if not 1 <= options.samples <= MAX_SAMPLES:
        raise BadInput(f"--samples {options.samples}: must be 1 to {MAX_SAMPLES}")
    if options.resume and (options.record or options.replay):
        raise BadInput("--resume: cannot be combined with --record or --replay")
    if options.record and options.replay:
        raise BadInput("--record and --replay: use one or the other")
    if options.record and options.record.is_dir():
        raise BadInput(f"--record {options.record}: is a folder; name a cassette file")
    if options.replay:
        check_replay(options.replay)
    if options.concurrency is not None and not 1 <= options.concurrency <= MAX_CONCURRENCY:
        raise BadInput(f"--concurrency {options.concurrency}: must be 1 to {MAX_CONCURRENCY}")
    for flag, limit in (("--rpm", options.rpm), ("--tpm", options.tpm)):
        if limit is not None and limit < 1:
            raise BadInput(f"{flag} {limit}: must be at least 1")
    if not math.isfinite(options.timeout_s) or options.timeout_s <= 0:
        raise BadInput(f"--timeout {options.timeout_s:g}: must be more than 0 seconds, and finite")
    for flag, value in (
        ("--model", options.model),
        ("--base-url", options.base_url),
        ("--panel-model", options.panel_model),
        ("--panel-base-url", options.panel_base_url),
    ):
        if value is not None and not value.strip():
            # An empty name would fall back to a default (the embedded model's) without a word.
            raise BadInput(f"{flag}: is empty; name one, or leave the flag out")


def check_catalog_options(options: DraftOptions, command: str) -> None:
    """`check_options`, and none of the flags that name one run: a catalog drafts into out/ROLE/
    for each role, so one --out, --record, --replay or --resume would be shared by all."""
    check_options(options)
    if options.out is not None or options.resume or options.record or options.replay:
        raise BadInput(
            f"{command}: drafts into out/ROLE/ for each role; "
            "--out, --resume, --record and --replay name one run"
        )


def check_roles_at_once(count: int | None) -> None:
    """Refuse a `--roles-at-once` below 1 (None: the flag not given)."""
    if count is not None and count < 1:
        raise BadInput(f"--roles-at-once {count}: must be at least 1")


def rate_limiter(options: DraftOptions) -> RateLimiter:
    """A live run's limiter: it spaces requests under `--rpm` and `--tpm` when they are given, and
    pauses every request when the endpoint says to wait (a 429's Retry-After, a spent budget)."""
    return RateLimiter(options.rpm, options.tpm)


def calls_at_once(options: DraftOptions, embedded: bool) -> int:
    """How many calls go at once. The embedded server serves one request at a time, so one; a
    replay, one (the cassette player is not thread-safe, and answers at once anyway)."""
    if options.replay is not None or embedded:
        return 1
    return options.concurrency or DEFAULT_CONCURRENCY
