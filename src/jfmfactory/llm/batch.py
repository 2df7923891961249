"""Every role's calls through an endpoint's Batch API (`jfm draft --all --batch`).

The roles run the live path's code unchanged, as tasks of one event loop; only their HTTP
transport differs. A chat completion request is not sent: it waits in the `Dispatcher`, which,
once every task of the run waits on an answer (`parallel.Activity`), submits all that is asked
as one batch per model (a JSONL file of `{custom_id, method, url, body}` lines), polls it, and
hands each answer back by `custom_id` (`role:round:call:attempt`). A round thus costs a batch
for the drafter's calls (and one for each wave of items drafted again where the gate would flag
them), one for the reviewers, and one for each wave of re-asks.

What a batch answered is kept in out/_catalog/answers/; the ledger (`records.batches`) names the
batches in flight, each before it is created, by a tag it carries in its metadata. A run started
again answers a request it finds there at once, and waits for a batch in flight that holds it
(found by its tag when a stop fell while it was being created) instead of submitting it twice.
A request a batch did not finish (it expired, failed or was cancelled) goes into the next batch.
A custom_id ends in its body's digest: an answer is filed for the request it answered only.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final, TypeVar

import httpx
import openai

from ..errors import JfmError
from ..records.batches import (
    ANSWERS_DIR,
    ENDED,
    EXPORT_DIR,
    IMPORT_DIR,
    LEDGER_FILE,
    BatchEntry,
    read_ledger,
    write_ledger,
)
from ..records.jsonl import jsonl_text, parse_jsonl
from ..records.runlog import Usage, now
from ..records.store import write_atomic
from .client import CHAT_PATH, call_in_flight
from .parallel import Activity

BATCH_URL: Final = "/v1/chat/completions"
#: The Batch API's limits on one input file.
MAX_REQUESTS = 50_000
MAX_BYTES = 200 * 1024 * 1024
COMPLETION_WINDOW: Final = "24h"
POLL_S = 10.0
#: The least `--poll` takes: each poll is a request to the endpoint.
MIN_POLL_S = 0.05

T = TypeVar("T")
#: Batches a request may go unfinished in before its call fails.
MAX_TRIES = 3
#: Per-request statuses that are the endpoint's trouble, not the request's: tried again.
TRANSIENT = (408, 409, 429, 500, 502, 503, 504)
#: Failures of a poll or a download that outlast the client's own retries: tried at the next poll.
PASSING_TROUBLE = (openai.APIConnectionError, openai.InternalServerError, openai.RateLimitError)
#: Tries at creating a batch, each after looking for one a failed try made.
CREATE_TRIES = 3
#: How far before a batch's entry in the ledger its creation may be found at the endpoint (clocks
#: differ): older batches are not searched for its tag.
CLOCK_SKEW_S = 3600


def body_digest(body: dict[str, Any]) -> str:
    """A request body's identity: its canonical JSON's SHA-256."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


_BODY_KEY = ', "body": '


def _identity(sent: bytes) -> tuple[str, str]:
    """A request's digest and model, from its JSON body (parsed here, so that a request that waits
    holds its bytes alone, not a parsed copy too)."""
    body = json.loads(sent)
    return body_digest(body), str(body.get("model"))


@dataclass(frozen=True)
class Answer:
    """What the endpoint answered one request: an HTTP status and body."""

    status: int
    body: dict[str, Any]


@dataclass
class Waiting:
    """A request a task waits on: its body kept as the JSON it was sent as (a catalog holds one
    for each of its roles' calls at once; parsed, each would take twice the memory)."""

    custom_id: str
    digest: str
    model: str
    body: bytes
    tries: int = 0
    answer: Answer | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def _head(self) -> str:
        # ASCII: json.dumps escapes the rest, so its length in characters is its length in bytes.
        return json.dumps({"custom_id": self.custom_id, "method": "POST", "url": BATCH_URL})[:-1]

    def line(self) -> str:
        """Its line of a batch's input file (JSONL), without the line end."""
        return f"{self._head()}{_BODY_KEY}{self.body.decode()}}}"

    def line_size(self) -> int:
        """The size of its line in the file, the line end included, without building the line."""
        return len(self._head()) + len(_BODY_KEY) + len(self.body) + 2


@dataclass(frozen=True)
class BatchProgress:
    """A batch's state, for a progress display."""

    id: str
    status: str
    total: int
    completed: int


class BatchEndpoint:
    """An endpoint's Files and Batches APIs, through the openai client."""

    #: Batches wait for a person to run them elsewhere (`ExportedBatches`).
    offline = False

    def __init__(self, client: openai.AsyncOpenAI) -> None:
        self.client = client

    async def submit(self, lines: Iterable[str], tag: str) -> tuple[str, str]:
        """Upload the JSONL of `lines` and start a batch of it, tagged `tag`; its id and the file's."""
        # Spooled to disk and streamed from there (httpx reads it from the start on each try): a
        # file of up to MAX_BYTES is never also a string, a list of lines and a body in memory.
        with tempfile.TemporaryFile() as spool:
            spool.writelines(f"{line}\n".encode() for line in lines)
            spool.flush()  # httpx sizes the upload by the file's size on disk
            uploaded = await self.client.files.create(file=("jfm-batch.jsonl", spool), purpose="batch")
        started = time.time()
        # Not the client's retries: a create answered 5xx or not at all may have made the batch,
        # and a blind retry would make (and bill) a second. Look for it by its tag first.
        once = self.client.with_options(max_retries=0)
        tries = 0
        while True:
            try:
                batch = await once.batches.create(
                    input_file_id=uploaded.id,
                    endpoint=BATCH_URL,
                    completion_window=COMPLETION_WINDOW,
                    metadata={"made_by": "jfm draft --all --batch", "jfm_tag": tag},
                )
                return batch.id, uploaded.id
            except PASSING_TROUBLE:
                found = await self.find(tag, started)
                if found is not None:
                    return found
                tries += 1
                if tries == CREATE_TRIES:
                    raise
                await asyncio.sleep(2**tries)

    async def find(self, tag: str, since: float) -> tuple[str, str] | None:
        """The batch tagged `tag` (its id and its file's), created after `since` (epoch seconds),
        if the endpoint has one: what a stop while creating it left behind."""
        async for batch in self.client.batches.list(limit=100):  # newest first, page after page
            if (batch.metadata or {}).get("jfm_tag") == tag:
                return batch.id, batch.input_file_id
            if batch.created_at < since - CLOCK_SKEW_S:
                break
        return None

    async def poll(self, batch_id: str) -> tuple[str, int, int, list[str]]:
        """A batch's status (with the endpoint's reasons when it failed), its requests done and
        in all, and its output and error file ids."""
        batch = await self.client.batches.retrieve(batch_id)
        counts = batch.request_counts
        files = [file_id for file_id in (batch.output_file_id, batch.error_file_id) if file_id]
        status: str = batch.status
        reasons = [f"{e.code}: {e.message}" for e in (batch.errors.data or [])] if batch.errors else []
        if reasons:
            status = f"{status} ({'; '.join(reasons)})"[:300]
        return status, counts.completed if counts else 0, counts.total if counts else 0, files

    async def lines(self, file_id: str) -> list[dict[str, Any]]:
        return json_lines((await self.client.files.content(file_id)).text)


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON objects of a JSONL text; a line that is none is left out (its request counts as
    unanswered, and goes into the next batch)."""
    return [value for value in parse_jsonl(text, skip_bad=True) if isinstance(value, dict)]


class ExportedBatches(BatchEndpoint):
    """Batches run elsewhere (`jfm batch export` / `import`): a batch is a JSONL file written to
    export/, the input of vLLM's `run-batch` or any engine that takes the Batch API's format;
    it is done once `jfm batch import` has put that engine's output in import/."""

    offline = True

    def __init__(self, folder: Path) -> None:
        self.exported = folder / EXPORT_DIR
        self.imported = folder / IMPORT_DIR

    async def submit(self, lines: Iterable[str], tag: str) -> tuple[str, str]:
        # Numbered in order, and tagged so that an id is never reused (nor an old import taken
        # for a new batch's answers) even if a file is deleted.
        number = len(list(self.exported.glob("*.jsonl"))) + 1
        path = self.exported / f"offline-{number}-{tag}.jsonl"
        write_atomic(path, (f"{line}\n" for line in lines))
        return path.stem, str(path)

    async def find(self, tag: str, since: float) -> tuple[str, str] | None:
        path = next(self.exported.glob(f"offline-*-{tag}.jsonl"), None)
        return (path.stem, str(path)) if path is not None else None

    async def poll(self, batch_id: str) -> tuple[str, int, int, list[str]]:
        path = self.imported / f"{batch_id}.jsonl"
        if not path.is_file():
            return "in_progress", 0, 0, []
        return "completed", 0, 0, [str(path)]

    async def lines(self, file_id: str) -> list[dict[str, Any]]:
        return json_lines(Path(file_id).read_text(encoding="utf-8"))


class Dispatcher:
    """Gathers the requests of every task of a run into batches, and hands their answers back."""

    def __init__(
        self,
        endpoint: BatchEndpoint,
        folder: Path,
        activity: Activity,
        poll_s: float = POLL_S,
        progress: Callable[[BatchProgress], None] = lambda state: None,
    ) -> None:
        self.endpoint = endpoint
        self.ledger_path = folder / LEDGER_FILE
        self.answers_dir = folder / ANSWERS_DIR
        self.activity = activity
        self.poll_s = poll_s
        self.progress = progress
        self.ledger = read_ledger(self.ledger_path)
        #: Answers of batches collected, by (custom_id, digest).
        self.answers: dict[tuple[str, str], Answer] = {}
        for path in sorted(self.answers_dir.glob("*.jsonl")):
            for kept in parse_jsonl(path.read_text(encoding="utf-8")):
                self.answers[(kept["custom_id"], kept["digest"])] = Answer(kept["status"], kept["body"])
        #: Requests of batches in flight, by (custom_id, digest): the batch's tag.
        self.in_flight: dict[tuple[str, str], str] = {
            (custom_id, digest): batch.tag
            for batch in self.ledger.batches
            if not batch.collected
            for custom_id, digest in batch.requests.items()
        }
        self.pending: list[Waiting] = []
        self.waiting: dict[tuple[str, str], Waiting] = {}
        #: Requests answered, held until every waiting request is.
        self.ready: list[Waiting] = []
        #: Set when every waiting request is in a batch exported for an engine elsewhere.
        self.exported = False
        self.failure: BaseException | None = None

    # -- the roles' side -----------------------------------------------------------------

    def transport(self, role: str) -> httpx.AsyncBaseTransport:
        """The HTTP transport of one role's client: its chat completions go into batches."""
        return BatchingTransport(self, role)

    async def ask(self, call_id: str, sent: bytes) -> Answer:
        """The answer to call `call_id`'s request (`sent`, its JSON body): at once when a batch
        already answered it, else when the batch that holds it is collected. The calling task
        waits, counted waiting."""
        digest, model = _identity(sent)
        custom_id = f"{call_id}:{digest[:12]}"
        key = (custom_id, digest)
        if self.failure is not None:
            raise RuntimeError(f"batches stopped: {self.failure}")
        known = self.answers.get(key)
        if known is not None:
            return known
        if key in self.waiting:
            raise RuntimeError(f"request {custom_id} asked twice at once")
        waiting = self.waiting[key] = Waiting(custom_id, digest, model, sent)
        if key not in self.in_flight:
            self.pending.append(waiting)
        self.activity.add(-1)  # after it is queued: a dispatcher seeing no task busy submits it
        await waiting.done.wait()
        assert waiting.answer is not None
        return waiting.answer

    async def drive(self, work: Awaitable[T]) -> T | None:
        """`work` (every role of the run) while this dispatcher batches its calls; its result, or
        None when the run stopped at batches exported for an engine elsewhere (the roles' tasks
        are cancelled where they wait: their next run answers them from the ledger)."""
        batches = asyncio.create_task(self.run(), name="jfm-batches")
        roles = asyncio.ensure_future(work)
        try:
            await asyncio.wait([roles, batches], return_when=asyncio.FIRST_COMPLETED)
        finally:  # on Ctrl-C or SIGTERM too: the ledger already names the batches in flight
            for task in (batches, roles):
                if not task.done():
                    task.cancel()
            await asyncio.gather(batches, roles, return_exceptions=True)
        if not roles.done() or roles.cancelled():
            if self.exported:
                return None
            raise JfmError("the batched run ended without its roles' results")
        return roles.result()

    # -- the dispatcher's side -----------------------------------------------------------

    async def run(self) -> None:
        """Submit, poll and collect until the roles end or their batches are exported."""
        try:
            await self._confirm_created()
            while True:
                if not await self.activity.wait_idle(0.05):
                    continue
                await self._submit_pending()
                if await self._collect_ended():
                    continue
                if self.endpoint.offline and self.waiting:
                    self.exported = True  # nothing more can happen until its answers are imported
                    return
                await asyncio.sleep(self.poll_s if self._in_flight_ids() else 0.05)
        except Exception as failure:  # every waiting call is told, and fails with it
            self._fail_all(failure)
            await asyncio.Future()  # the roles end on their failures; drive() cancels this

    def _in_flight_ids(self) -> list[str]:
        return [batch.id for batch in self.ledger.batches if batch.id and not batch.collected]

    async def _confirm_created(self) -> None:
        """Settle the batches a stop fell upon while they were being created: one the endpoint
        has (found by its tag) is waited for; one it has not is submitted again."""
        for entry in [batch for batch in self.ledger.batches if batch.id is None]:
            found = await self.endpoint.find(
                entry.tag, datetime.fromisoformat(entry.submitted_at).timestamp()
            )
            if found is not None:
                (entry.id, entry.input_file_id), entry.status = found, "validating"
            else:
                self.ledger.batches.remove(entry)
                for key in entry.requests.items():
                    self.in_flight.pop(key, None)
                    if key in self.waiting:
                        self.pending.append(self.waiting[key])
            write_ledger(self.ledger_path, self.ledger)

    async def _submit_pending(self) -> None:
        taken, self.pending = self.pending, []
        by_model: dict[str, list[Waiting]] = {}
        for waiting in taken:
            by_model.setdefault(waiting.model, []).append(waiting)
        for model, requests in by_model.items():
            for chunk in _chunks(requests):
                # In the ledger before it is created: a stop while the endpoint creates it (the
                # batch made, its id not yet back) leaves its tag to find it by, not a second bill.
                entry = BatchEntry(
                    tag=uuid.uuid4().hex[:16],
                    id=None,
                    input_file_id=None,
                    model=model,
                    submitted_at=now(),
                    status="creating",
                    requests={waiting.custom_id: waiting.digest for waiting in chunk},
                )
                self.ledger.batches.append(entry)
                for waiting in chunk:
                    waiting.tries += 1
                    self.in_flight[(waiting.custom_id, waiting.digest)] = entry.tag
                write_ledger(self.ledger_path, self.ledger)
                lines = (waiting.line() for waiting in chunk)
                batch_id, file_id = await self.endpoint.submit(lines, entry.tag)
                entry.id, entry.input_file_id, entry.status = batch_id, file_id, "validating"
                write_ledger(self.ledger_path, self.ledger)
                self.progress(BatchProgress(batch_id, entry.status, len(chunk), 0))

    async def _collect_ended(self) -> bool:
        """Poll every batch in flight; collect those that ended. True when one did."""
        collected = False
        for batch in [batch for batch in self.ledger.batches if batch.id and not batch.collected]:
            assert batch.id is not None
            try:
                status, completed, total, files = await self.endpoint.poll(batch.id)
                ended = status.split(" ")[0] in ENDED
                # Read before anything is filed: a download that fails is tried at the next poll.
                lines = (
                    [line for file_id in files for line in await self.endpoint.lines(file_id)]
                    if ended
                    else []
                )
            except PASSING_TROUBLE:
                continue  # the endpoint's passing trouble (after the client's own retries): next poll
            batch.status = status
            self.progress(BatchProgress(batch.id, status, total or len(batch.requests), completed))
            if ended:
                self._collect(batch, lines)
                collected = True
        return collected

    def _collect(self, batch: BatchEntry, lines: list[dict[str, Any]]) -> None:
        """Keep a batch's answers (its output files' `lines`), hand them to the tasks waiting on
        them, and queue again what it did not finish."""
        answered: dict[str, Answer] = {}
        for line in lines:
            answer = _answer(line)
            custom_id = line.get("custom_id")
            if answer is None or custom_id not in batch.requests:
                continue
            # A custom_id answered twice: the first success wins (an error never replaces one).
            first = answered.get(custom_id)
            if first is None or (first.status != 200 and answer.status == 200):
                answered[custom_id] = answer
        # Only successes are kept for a run started again: an error is the endpoint's answer this
        # time, and a later run should ask again (once the endpoint is mended).
        kept = [
            {"custom_id": custom_id, "digest": batch.requests[custom_id], "status": a.status, "body": a.body}
            for custom_id, a in answered.items()
            if a.status == 200
        ]
        write_atomic(self.answers_dir / f"{batch.id}.jsonl", jsonl_text(kept))
        for custom_id, digest in batch.requests.items():
            key = (custom_id, digest)
            self.in_flight.pop(key, None)
            answer = answered.get(custom_id)
            waiting = self.waiting.get(key)
            if waiting is None:
                if answer is not None and answer.status == 200:
                    self.answers[key] = answer  # for its asker, yet to come (kept on disk too)
                continue
            if answer is None and waiting.tries < MAX_TRIES:
                self.pending.append(waiting)  # into the next batch
                continue
            waiting.answer = answer or _unfinished(batch, waiting.tries)
            del self.waiting[key]
            self.ready.append(waiting)
        batch.collected = True
        batch.answered = len(answered)
        batch.unfinished = len(batch.requests) - len(answered)
        batch.usage = sum((_usage(a) for a in answered.values()), Usage())
        write_ledger(self.ledger_path, self.ledger)
        # Answers are handed over once every waiting request has one, so that the roles keep
        # in step: one that went on alone would need batches of its own.
        woken, self.ready = (self.ready, []) if not self.waiting else ([], self.ready)
        self._wake(woken)

    def _wake(self, woken: list[Waiting]) -> None:
        # Counted busy before they wake, so that no moment looks idle in between.
        self.activity.add(len(woken))
        for waiting in woken:
            waiting.done.set()

    def _fail_all(self, failure: BaseException) -> None:
        self.failure = failure
        woken = [*self.waiting.values(), *self.ready]
        self.waiting.clear()
        self.ready.clear()
        self.pending.clear()
        message = f"the Batch API failed: {' '.join(str(failure).split())[:300]}"
        for waiting in woken:
            waiting.answer = waiting.answer or Answer(
                502, {"error": {"message": message, "type": "batch_failed"}}
            )
        self._wake(woken)


def _chunks(requests: list[Waiting]) -> list[list[Waiting]]:
    """`requests` in files within the Batch API's limits on lines and bytes."""
    chunks: list[list[Waiting]] = [[]]
    size = 0
    for waiting in requests:
        line = waiting.line_size()
        if chunks[-1] and (len(chunks[-1]) >= MAX_REQUESTS or size + line > MAX_BYTES):
            chunks.append([])
            size = 0
        chunks[-1].append(waiting)
        size += line
    return [chunk for chunk in chunks if chunk]


def _answer(line: dict[str, Any]) -> Answer | None:
    """One output line's answer; None for a request the batch did not finish (expired,
    cancelled, or a transient failure of the endpoint's own), which is tried again."""
    response = line.get("response")
    status = response.get("status_code") if isinstance(response, dict) else None
    if not isinstance(status, int) or status in TRANSIENT:
        return None
    body = response.get("body") if isinstance(response, dict) else None
    return Answer(status, body if isinstance(body, dict) else {"error": {"message": str(body)}})


def _unfinished(batch: BatchEntry, tries: int) -> Answer:
    message = f"batch {batch.id} ended {batch.status} without answering it, {tries} batch(es) tried"
    return Answer(504, {"error": {"message": message, "type": "batch_unfinished"}})


def _usage(answer: Answer) -> Usage:
    usage = answer.body.get("usage") if answer.status == 200 else None
    if not isinstance(usage, dict):
        return Usage()
    details = usage.get("prompt_tokens_details") or {}
    return Usage(
        prompt_tokens=usage.get("prompt_tokens") or 0,
        completion_tokens=usage.get("completion_tokens") or 0,
        total_tokens=usage.get("total_tokens") or 0,
        cached_tokens=details.get("cached_tokens") or 0,
    )


class BatchingTransport(httpx.AsyncBaseTransport):
    """An httpx transport that puts a role's chat completion requests into batches."""

    def __init__(self, dispatcher: Dispatcher, role: str) -> None:
        self.dispatcher = dispatcher
        self.role = role

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        call = call_in_flight()
        if request.method != "POST" or not request.url.path.endswith(CHAT_PATH) or call is None:
            message = f"{request.method} {request.url.path}: a batched run sends chat completions only"
            return httpx.Response(400, json={"error": {"message": message}}, request=request)
        call_id = f"{self.role}:{call.round}:{call.call}:{call.attempt}"
        answer = await self.dispatcher.ask(call_id, await request.aread())
        return httpx.Response(answer.status, json=answer.body, request=request)
