"""Which endpoint and model a run talks to: flags, then OPENAI_* variables, else the embedded default."""

from __future__ import annotations

import contextlib
import functools
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import openai

from ..errors import BadInput
from ..inputs.importing import without_credentials
from ..records.runlog import Endpoint
from . import embedded
from .client import check_answer
from .limits import RateLimiter
from .stopping import refuse_when_stopping

OPENAI_DEFAULT_URL = "https://api.openai.com/v1"
#: Where a replay without a configured endpoint points: never contacted, the cassette answers.
REPLAY_URL = "http://127.0.0.1:9/v1"
#: How the run record names the endpoint of batches exported for an engine elsewhere.
EXPORTED = "exported batches"
REQUEST_TIMEOUT_S = 300.0
#: The variables that hold API keys: never written, and taken out of whatever an endpoint echoes.
KEY_VARIABLES = ("OPENAI_API_KEY", "JFM_PANEL_API_KEY")


def _variable(env: Mapping[str, str], name: str) -> str | None:
    """An endpoint's URL from the environment; one set but blank is refused, not read as unset
    (an unset shell variable behind it would send the prompts and the key elsewhere)."""
    value = env.get(name)
    if value is not None and not value.strip():
        raise BadInput(f"${name} is set but empty; give it a URL, or unset it")
    return value or None


@dataclass(frozen=True)
class EndpointSettings:
    """What the user configured; a key is held only to hand to the client, never written."""

    base_url: str | None
    api_key: str | None
    model: str | None
    timeout_s: float = REQUEST_TIMEOUT_S

    @classmethod
    def resolve(
        cls,
        base_url: str | None,
        model: str | None,
        env: Mapping[str, str],
        timeout_s: float = REQUEST_TIMEOUT_S,
    ) -> EndpointSettings:
        url = base_url or _variable(env, "OPENAI_BASE_URL")
        if url is not None and urlsplit(url).scheme not in ("http", "https"):
            source = "--base-url" if base_url else "$OPENAI_BASE_URL"
            raise BadInput(f"{source} {public_url(url)}: not an http(s) URL")
        settings = cls(url, env.get("OPENAI_API_KEY") or None, model, timeout_s)
        if model is None and not settings.embedded:
            raise BadInput("--model: name the model to ask at the configured endpoint")
        return settings

    @property
    def model_name(self) -> str:
        """The model asked: the one configured, else the embedded default."""
        return self.model or embedded.MODEL_NAME

    @property
    def embedded(self) -> bool:
        """No endpoint and no key configured: use the embedded default model."""
        return self.base_url is None and self.api_key is None


@dataclass(frozen=True)
class PanelEndpointSettings:
    """Where the panel runs when it is kept apart from the drafter (writer and judge apart)."""

    base_url: str | None
    api_key: str | None
    model: str | None

    @classmethod
    def resolve(
        cls, base_url: str | None, model: str | None, env: Mapping[str, str]
    ) -> PanelEndpointSettings:
        url = base_url or _variable(env, "JFM_PANEL_BASE_URL")
        if url is not None and urlsplit(url).scheme not in ("http", "https"):
            source = "--panel-base-url" if base_url else "$JFM_PANEL_BASE_URL"
            raise BadInput(f"{source} {public_url(url)}: not an http(s) URL")
        return cls(url, env.get("JFM_PANEL_API_KEY") or None, model or env.get("JFM_PANEL_MODEL") or None)


@dataclass(frozen=True)
class Route:
    """How a run's requests leave: straight to the endpoint, spaced by a rate limiter (live), or
    into batches (a batched run's transport)."""

    transport: httpx.AsyncBaseTransport | None = None
    limiter: RateLimiter | None = None


#: Requests sent as they come, straight to the endpoint.
DIRECT = Route()


@dataclass
class Connection:
    """An open endpoint: the client to call it with and how the run record names it."""

    client: openai.AsyncOpenAI
    endpoint: Endpoint
    #: Every configured key (the drafter's and the panel's): what its transcripts must not hold.
    secrets: tuple[str, ...] = ()


def public_url(url: str) -> str:
    """The URL without user, password, query or fragment: safe to print and record."""
    parts = urlsplit(without_credentials(url))
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


@functools.cache
def _tls() -> ssl.SSLContext:
    """The TLS settings every client shares: httpx's defaults, built once (loading the CA bundle
    takes tens of milliseconds, and a catalog opens a client per role)."""
    return httpx.create_ssl_context()


def _client(
    base_url: str, api_key: str | None, retries: int, timeout_s: float, route: Route = DIRECT
) -> openai.AsyncOpenAI:
    # Transient HTTP failures are retried here (with backoff, honouring Retry-After) and only
    # here; instructor's own retries are kept for re-asking after invalid output.
    # An answer that is no chat completion (an HTML page, no choices) is named at once, not re-asked.
    # Once the process is stopping, nothing more is sent, retries and re-asks included.
    # A route's transport (a batched run's) takes the requests instead of the network; its
    # limiter holds each request to its turn (and a stop during that wait still sends nothing).
    limiter = route.limiter
    requests = [refuse_when_stopping, *((limiter.before, refuse_when_stopping) if limiter else ())]
    answers = [check_answer, *((limiter.after,) if limiter else ())]
    http = openai.DefaultAsyncHttpxClient(
        event_hooks={"request": requests, "response": answers}, transport=route.transport, verify=_tls()
    )
    return openai.AsyncOpenAI(
        base_url=base_url, api_key=api_key or "none", max_retries=retries, timeout=timeout_s, http_client=http
    )


@contextlib.contextmanager
def connect(
    settings: EndpointSettings,
    *,
    replaying: bool,
    server_log: Path,
    route: Route = DIRECT,
) -> Iterator[Connection]:
    """Open the configured endpoint, starting the embedded server when nothing is configured.

    A replay starts nothing: the cassette answers every request, so retries are off too; so
    does a batched run's transport, whose batches try again what they did not finish.
    """
    model = settings.model_name
    retries = 0 if replaying or route.transport is not None else 2
    if settings.embedded and not replaying and route.transport is None:
        with embedded.embedded_server(server_log) as url:
            endpoint = Endpoint(model=model, base_url=url, embedded=True)
            yield Connection(_client(url, None, retries, settings.timeout_s, route), endpoint)
        return
    url = settings.base_url or (REPLAY_URL if settings.embedded else OPENAI_DEFAULT_URL)
    endpoint = Endpoint(model=model, base_url=public_url(url), embedded=settings.embedded)
    if settings.embedded and route.transport is not None:  # batches exported, answered elsewhere
        endpoint = Endpoint(model=model, base_url=EXPORTED, embedded=False)
    yield Connection(_client(url, settings.api_key, retries, settings.timeout_s, route), endpoint)


def batch_client(settings: EndpointSettings) -> openai.AsyncOpenAI:
    """A client of the configured endpoint's own Files and Batches APIs."""
    url = settings.base_url or OPENAI_DEFAULT_URL
    return _client(url, settings.api_key, 2, settings.timeout_s)


def model_names(drafter: EndpointSettings, panel: PanelEndpointSettings) -> tuple[str, str]:
    """The drafter's model and the panel's, which is the drafter's unless one is configured."""
    return drafter.model_name, panel.model or drafter.model_name


@contextlib.contextmanager
def connect_pair(
    drafter: EndpointSettings,
    panel: PanelEndpointSettings,
    *,
    replaying: bool,
    server_log: Path,
    route: Route = DIRECT,
) -> Iterator[tuple[Connection, Connection]]:
    """The drafter's connection and the panel's: the same one unless the panel is configured.

    A panel model alone asks the drafter's endpoint for another model; a panel URL is an
    endpoint of its own, with `JFM_PANEL_API_KEY` and never the drafter's key, which belongs
    to another host.
    """
    with contextlib.ExitStack() as stack:
        writer = stack.enter_context(
            connect(drafter, replaying=replaying, server_log=server_log, route=route)
        )
        judge_model = model_names(drafter, panel)[1]
        if panel.base_url is None:
            judge = Connection(writer.client, writer.endpoint.model_copy(update={"model": judge_model}))
        else:
            settings = EndpointSettings(
                base_url=panel.base_url,
                api_key=panel.api_key,
                model=judge_model,
                timeout_s=drafter.timeout_s,
            )
            judge = stack.enter_context(
                connect(settings, replaying=replaying, server_log=server_log, route=route)
            )
        writer.secrets = judge.secrets = tuple(key for key in (drafter.api_key, panel.api_key) if key)
        yield writer, judge
