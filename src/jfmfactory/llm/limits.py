"""Rate limits of a live run (`--rpm`, `--tpm`): requests spaced so as to stay under them, and a
pause whenever the endpoint's `x-ratelimit-*` headers say a budget is spent or a 429 says when to
come back, so that a catalog run does not meet a wall of 429s (which the openai client would only
back off from, one request at a time).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import re
import time
from collections.abc import Awaitable, Callable

import httpx

from .client import CHAT_PATH

#: The headers an OpenAI-style endpoint sends with each answer.
REMAINING = ("x-ratelimit-remaining-requests", "x-ratelimit-remaining-tokens")
RESET = ("x-ratelimit-reset-requests", "x-ratelimit-reset-tokens")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
#: The longest pause the endpoint's headers hold every request for: the openai client waits no
#: longer for a Retry-After (it gives up on a longer one), and a reset of hours (a proxy's
#: mistake) must not stall a run without a word.
MAX_PAUSE_S = 120.0


def reset_seconds(text: str) -> float | None:
    """A reset header's duration ("1s", "6m0s", "20ms", "0.5") in seconds; None if unreadable."""
    text = text.strip()
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    parts = _DURATION.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        return None
    return sum(float(number) * _SECONDS[unit] for number, unit in parts)


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """How long a 429 asks to wait: `retry-after-ms`, else `retry-after` in seconds or as an HTTP
    date, as the openai client reads them; None when it says nothing usable."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            seconds = float(headers.get(name, "")) * scale
        except ValueError:
            continue
        return seconds if 0 <= seconds <= MAX_PAUSE_S else None
    when = email.utils.parsedate_tz(headers.get("retry-after", ""))
    if when is None:
        return None
    seconds = email.utils.mktime_tz(when) - time.time()
    return max(seconds, 0.0) if seconds <= MAX_PAUSE_S else None


def estimated_tokens(request: httpx.Request) -> int:
    """What a chat completion request may spend: its prompt (4 characters a token) and the most
    it lets the answer take."""
    try:
        body = json.loads(request.content)
    except ValueError:
        return 0
    prompt = sum(len(str(message.get("content") or "")) for message in body.get("messages", [])) // 4
    return prompt + int(body.get("max_tokens") or 0)


class RateLimiter:
    """Spaces the requests of every task of a run: at most `rpm` a minute and `tpm` tokens a
    minute (each evenly, with no burst), and none while the endpoint says its budget is spent or
    a 429's Retry-After has not passed."""

    def __init__(
        self,
        rpm: int | None,
        tpm: int | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rpm = rpm
        self.tpm = tpm
        self.clock = clock
        self.sleep = sleep
        self.next_request = 0.0
        self.next_tokens = 0.0
        self.paused_until = 0.0

    async def before(self, request: httpx.Request) -> None:
        """An httpx request hook: wait for this request's turn."""
        if request.method != "POST" or not request.url.path.endswith(CHAT_PATH):
            return
        tokens = estimated_tokens(request) if self.tpm else 0
        # No await between reading the turns and taking one: no other task runs in between.
        now = self.clock()
        start = max(now, self.paused_until)
        if self.rpm:
            start = max(start, self.next_request)
            self.next_request = start + 60.0 / self.rpm
        if self.tpm:
            start = max(start, self.next_tokens)
            self.next_tokens = start + 60.0 * tokens / self.tpm
        if start > now:
            await self.sleep(start - now)

    async def after(self, response: httpx.Response) -> None:
        """An httpx response hook: a budget the endpoint says is spent pauses every request until
        it says the budget is back; so does a 429, for as long as its Retry-After says."""
        if response.status_code == 429:
            seconds = retry_after_seconds(response.headers)
            if seconds is not None:
                self._pause(seconds)
        for remaining, reset in zip(REMAINING, RESET, strict=True):
            left, wait = response.headers.get(remaining), response.headers.get(reset)
            if left is None or wait is None:
                continue
            seconds = reset_seconds(wait)
            if seconds is not None and left.strip() in ("0", "0.0"):
                self._pause(min(seconds, MAX_PAUSE_S))

    def _pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self.clock() + seconds)
