"""A scripted OpenAI-compatible server on loopback: a test double that returns prepared answers.

It is not a model. Each chat completion request is passed to a Python `responder` that returns
the tool-call arguments to answer with (or a `Reply` for faults), so loop logic and failure
handling can be tested exactly. Every request received is kept in `requests`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """A raw HTTP answer, for faults: any status, body and headers, after an optional delay."""

    status: int = 200
    body: str | dict[str, Any] = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


Responder = Callable[[dict[str, Any]], "dict[str, Any] | Reply"]


def tool_name(request: dict[str, Any]) -> str:
    return str(request["tool_choice"]["function"]["name"])


def user_text(request: dict[str, Any]) -> str:
    return str(request["messages"][-1]["content"])


def level_of(request: dict[str, Any]) -> str | None:
    found = re.search(r"\blevel (P\d)\b", user_text(request))
    return found.group(1) if found else None


def completion(request: dict[str, Any], arguments: dict[str, Any], completion_tokens: int) -> dict[str, Any]:
    prompt_tokens = sum(len(str(m.get("content", ""))) for m in request["messages"]) // 4
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 0,
        "model": request["model"],
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_0",
                            "type": "function",
                            "function": {"name": tool_name(request), "arguments": json.dumps(arguments)},
                        }
                    ],
                },
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class ScriptedServer:
    """Serves /v1/chat/completions and /v1/models from a responder, on 127.0.0.1."""

    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        # Reported on every answer as a provider's prefix cache would: a count, or a function of
        # the request (the benchmarks emulate a prefix cache with one).
        self.cached_tokens: int | Callable[[dict[str, Any]], int] = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._send(Reply(body={"object": "list", "data": [{"id": "scripted", "object": "model"}]}))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                request = json.loads(self.rfile.read(length))
                with server._lock:
                    server.requests.append(request)
                    server.headers.append(dict(self.headers))
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    answer = server.responder(request)
                    if not isinstance(answer, Reply):
                        tokens = len(json.dumps(answer)) // 4
                        body = completion(request, answer, tokens)
                        cached = server.cached_tokens
                        cached = cached(request) if callable(cached) else cached
                        body["usage"]["prompt_tokens_details"] = {"cached_tokens": cached}
                        answer = Reply(body=body)
                    self._send(answer)
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _send(self, reply: Reply) -> None:
                time.sleep(reply.delay_s)
                body = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                data = body.encode()
                try:
                    self.send_response(reply.status)
                    # A reply's own Content-Type (an HTML page, say) takes the place of JSON's.
                    headers = {"Content-Type": "application/json", **reply.headers}
                    headers["Content-Length"] = str(len(data))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting, as a timeout test means it to

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def calls(self, name: str) -> list[dict[str, Any]]:
        """Requests whose tool is `name`."""
        return [r for r in self.requests if tool_name(r) == name]

    @contextmanager
    def running(self) -> Iterator[ScriptedServer]:
        thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.httpd.shutdown()
            self.httpd.server_close()
            thread.join()
