"""Structured calls to an OpenAI-compatible endpoint through instructor, each fully transcribed.

Every HTTP attempt of a call (the first ask and each re-ask after output that fails validation)
lands in the call's `Transcript` through instructor's hooks, with its usage and latency.
"""

from __future__ import annotations

import contextlib
import functools
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal, Self, TypeVar

import httpx
import instructor
import openai
from instructor.core import Hooks, IncompleteOutputException, InstructorRetryException
from instructor.processing import response_schema
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python

from ..errors import EndpointError, first_error
from ..records.runlog import Attempt, Transcript, Usage
from . import validator_check

validator_check.memoise()

M = TypeVar("M", bound=BaseModel)


def bind_choices(model: type[M], choices: list[str]) -> type[M]:
    """Specialise a generic response model to a closed set of strings (source ids, sections).

    The choices become an enum in the JSON schema, so a grammar-constrained endpoint can only
    produce valid ones; the subclass keeps the plain class name that tool calls require.
    """
    choice = Literal[tuple(choices)]  # type: ignore[valid-type]
    bound = model[choice]  # type: ignore[index]
    return type(model.__name__, (bound,), {"__module__": model.__module__, "__doc__": model.__doc__})


#: Response model classes kept for the process: the roles of a catalog that share their levels
#: share one; a role's own (a ladder's quote ids) makes room for newer ones when there are more.
MODELS_KEPT = 256


@functools.lru_cache(maxsize=MODELS_KEPT)
def _prepared(model: type[BaseModel]) -> type[BaseModel]:
    """`model` as instructor asks for it, made once: instructor otherwise derives a class of its
    own from the model, and builds its tool schema, on every call (a quarter of a call's CPU)."""
    return response_schema(model)


class Structured(BaseModel):
    """Base of every response model.

    Small models put raw newlines and tabs inside JSON strings, which JSON forbids and pydantic
    refuses; Python's lenient parser takes them, so a sound answer is not re-asked for that.
    """

    @classmethod
    def model_validate_json(
        cls,
        json_data: str | bytes | bytearray,
        *,
        strict: bool | None = None,
        context: Any = None,
        **kwargs: Any,
    ) -> Self:
        try:
            data = json.loads(json_data, strict=False)
        except json.JSONDecodeError:
            return super().model_validate_json(json_data, strict=strict, context=context, **kwargs)
        return cls.model_validate(data, strict=strict, context=context)


#: A configured key shorter than this is not looked for in text: it would match ordinary words.
MIN_SECRET_LENGTH = 8
REDACTED = "[redacted]"


class Redactor:
    """Takes the configured API keys out of text an endpoint sent back (an error body can echo the
    key it was given), before any of it is printed or written."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        found = {secret for secret in secrets if secret and len(secret) >= MIN_SECRET_LENGTH}
        self.secrets = sorted(found, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def data(self, value: Any) -> Any:
        """`value` (JSON-like data) with every string redacted; a part with nothing to redact is
        kept as it is, so that a transcript's strings and tool schemas stay shared."""
        if not self.secrets:
            return value
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            pairs = [(self.data(key), self.data(item)) for key, item in value.items()]
            same = all(
                new_key is key and new is item
                for (new_key, new), (key, item) in zip(pairs, value.items(), strict=True)
            )
            return value if same else dict(pairs)
        if isinstance(value, list | tuple):
            items = [self.data(item) for item in value]
            return value if all(new is item for new, item in zip(items, value, strict=True)) else items
        return value

    def transcript(self, transcript: Transcript) -> None:
        """Redact a transcript in place: every attempt's request, response and error, and the result."""
        if not self.secrets:
            return
        for attempt in transcript.attempts:
            attempt.request = self.data(attempt.request)
            attempt.response = self.data(attempt.response)
            attempt.error = None if attempt.error is None else self(attempt.error)
        transcript.result = self.data(transcript.result)


class UnusableAnswer(openai.APIResponseValidationError):
    """A successful HTTP status whose body is no chat completion: raised by `check_answer`, and as an
    openai error neither retried nor re-asked."""


#: Requests whose answers `check_answer` looks at.
CHAT_PATH = "/chat/completions"


async def check_answer(response: httpx.Response) -> None:
    """An httpx response hook: say what the endpoint did when it answered a chat completion request
    with success but with something else: a body that is not JSON (an HTML page, say), or no choices.

    A body that is JSON whatever its Content-Type is left to the openai client, which reads it.
    """
    if not response.is_success or not response.request.url.path.endswith(CHAT_PATH):
        return
    content_type = response.headers.get("content-type", "").split(";")[0].strip()
    body = await response.aread()
    try:
        data = json.loads(body)
    except ValueError:
        if content_type.endswith("json"):
            return  # the openai client says that JSON it was promised is not JSON
        shown = _clipped(body.decode("utf-8", errors="replace"), 120) or "(empty)"
        what = content_type or "no Content-Type"
        message = f"the endpoint answered HTTP {response.status_code} with {what}, not JSON: {shown}"
        raise UnusableAnswer(message=message, response=response, body=None) from None
    if isinstance(data, dict) and data.get("choices") == []:
        message = f"the endpoint answered HTTP {response.status_code} with no choices (an empty choices list)"
        raise UnusableAnswer(message=message, response=response, body=data)


class CallFailed(EndpointError):
    """A call that failed after retries; carries its transcript so the failure is kept on disk."""

    def __init__(self, message: str, transcript: Transcript) -> None:
        super().__init__(message)
        self.transcript = transcript


def _jsonable(value: Any) -> Any:
    """`value` as JSON data, its strings the very ones sent: a copy made by pydantic would hold
    each prompt twice while its call waits (in a batched catalog, the largest cost of a role)."""
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return to_jsonable_python(value, fallback=str)


@functools.lru_cache(maxsize=MODELS_KEPT)
def _shared_tools(sent: str) -> Any:
    """One copy of the tool schemas `sent` (their JSON) for every attempt that sends them: each
    call that asks for a response model sends its whole schema, a few KB of nested dicts."""
    return json.loads(sent)


def _recorded_tools(tools: Any) -> Any:
    try:
        return _shared_tools(json.dumps(tools, ensure_ascii=False))
    except TypeError:  # not plain JSON (none of instructor's schemas so far): kept as its own
        return _jsonable(tools)


class TranscriptRecorder:
    """Instructor hook handlers that append each attempt to a transcript: one per call."""

    def __init__(self, transcript: Transcript) -> None:
        self.transcript = transcript
        self._started = 0.0

    def hooks(self) -> Hooks:
        hooks = Hooks()
        hooks.on("completion:kwargs", self.on_kwargs)
        hooks.on("completion:response", self.on_response)
        hooks.on("parse:error", self.on_error)
        hooks.on("completion:error", self.on_error)
        return hooks

    def on_kwargs(self, *args: Any, **kwargs: Any) -> None:
        self._started = time.perf_counter()
        request = {
            key: _recorded_tools(value) if key == "tools" else _jsonable(value)
            for key, value in kwargs.items()
            if key in _RECORDED_REQUEST_KEYS
        }
        self.transcript.attempts.append(Attempt(request=request))

    def on_response(self, response: Any) -> None:
        attempt = self.transcript.attempts[-1]
        attempt.latency_s = round(time.perf_counter() - self._started, 3)
        dump = getattr(response, "model_dump", None)
        attempt.response = _jsonable(dump()) if dump else None
        usage = getattr(response, "usage", None)
        if usage is not None:
            details = getattr(usage, "prompt_tokens_details", None)
            attempt.usage = Usage(
                prompt_tokens=usage.prompt_tokens or 0,
                completion_tokens=usage.completion_tokens or 0,
                total_tokens=usage.total_tokens or 0,
                cached_tokens=getattr(details, "cached_tokens", None) or 0,
            )

    def on_error(self, error: Exception, *args: Any, **kwargs: Any) -> None:
        if self.transcript.attempts and self.transcript.attempts[-1].error is None:
            attempt = self.transcript.attempts[-1]
            attempt.error = _clipped(error)
            if not attempt.latency_s:
                attempt.latency_s = round(time.perf_counter() - self._started, 3)


@dataclass(frozen=True)
class CallInFlight:
    """The call a task's request belongs to: what a batch names the request by."""

    call: str
    round: int
    transcript: Transcript

    @property
    def attempt(self) -> int:
        """The request's attempt of the call, from 1: each ask and re-ask is an attempt."""
        return max(len(self.transcript.attempts), 1)


_in_flight: ContextVar[CallInFlight | None] = ContextVar("jfm_call_in_flight", default=None)


def call_in_flight() -> CallInFlight | None:
    """The call the current task is asking, if any (set by `LLM.ask` around the request)."""
    return _in_flight.get()


@contextlib.contextmanager
def _asking(call: CallInFlight) -> Iterator[None]:
    token = _in_flight.set(call)
    try:
        yield
    finally:
        _in_flight.reset(token)


def posting(client: openai.AsyncOpenAI) -> Callable[..., Awaitable[ChatCompletion]]:
    """A chat completion create that posts its parameters as they are given.

    The openai client's own create walks every parameter against its typed definitions before it
    sends what it was given (a third of a call's CPU, profiled); the post keeps the rest: its
    retries, its errors, its parsing of the answer, the HTTP client's hooks.
    """

    async def create(**body: Any) -> ChatCompletion:
        return await client.post(CHAT_PATH, body=body, cast_to=ChatCompletion)

    return create


_RECORDED_REQUEST_KEYS = ("model", "messages", "tools", "tool_choice", "temperature", "max_tokens", "seed")


class LLM:
    """One endpoint and model, asked for validated pydantic objects."""

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        model: str,
        endpoint: str,
        *,
        temperature: float = 0.0,
        max_tokens: int,
        reasks: int = 2,
        secrets: Iterable[str | None] = (),
    ) -> None:
        self.client = client
        self.model = model
        self.endpoint = endpoint
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.reasks = reasks
        #: The configured keys, kept out of every transcript and error message.
        self.redact = Redactor(secrets)
        # Patched once; each call passes hooks of its own, so concurrent calls share no state.
        # (Typed as instructor types its sync create: this one, given a coroutine, returns one.)
        patched: Any = instructor.patch(create=posting(client), mode=instructor.Mode.TOOLS)
        self.create: Callable[..., Awaitable[Any]] = patched

    async def ask(
        self,
        call: str,
        round_number: int,
        response_model: type[M],
        messages: list[dict[str, str]],
        *,
        temperature: float | None = None,
        transcript: Transcript | None = None,
    ) -> tuple[M, Transcript]:
        """Ask for one `response_model`; re-ask up to `reasks` times when validation fails.

        Attempts are appended to `transcript` when given, so that one call's follow-ups stay
        in one transcript.
        """
        if transcript is None:
            transcript = Transcript(call=call, round=round_number, model=self.model)
        try:
            with _asking(CallInFlight(call, round_number, transcript)):
                result = await self.create(
                    model=self.model,
                    messages=messages,
                    response_model=_prepared(response_model),
                    max_retries=self.reasks,
                    temperature=self.temperature if temperature is None else temperature,
                    max_tokens=self.max_tokens,
                    hooks=TranscriptRecorder(transcript).hooks(),
                )
        except Exception as exc:  # every failure becomes one line naming endpoint and call
            self.redact.transcript(transcript)
            raise CallFailed(
                self.redact(f"{self.endpoint}: {call} (model {self.model}) failed: {describe_failure(exc)}"),
                transcript,
            ) from exc
        transcript.result = result.model_dump(mode="json")
        self.redact.transcript(transcript)
        return result, transcript


def describe_failure(exc: BaseException) -> str:
    """The root cause of a failed call, on one line."""
    reasks = None
    if isinstance(exc, InstructorRetryException):
        reasks = exc.n_attempts
        exc = exc.__cause__ or exc
    if isinstance(exc, UnusableAnswer):
        return exc.message
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}: {_clipped(exc.message)}"
    if isinstance(exc, openai.APITimeoutError):
        return "timed out"
    if isinstance(exc, openai.APIConnectionError):
        return f"cannot connect ({_clipped(exc.__cause__ or exc)})"
    if isinstance(exc, IncompleteOutputException):
        return "the answer was cut off by the token limit (finish_reason length)"
    if isinstance(exc, json.JSONDecodeError):
        return f"the response is not JSON ({_clipped(exc)})"
    if reasks is not None:
        reason = first_error(exc) if isinstance(exc, ValidationError) else _clipped(exc)
        return f"no valid answer after {reasks} attempt(s): {reason}"
    return _clipped(exc)


def _clipped(value: object, limit: int = 300) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
