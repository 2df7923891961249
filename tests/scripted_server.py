"""A scripted OpenAI-compatible server on loopback: a test double that returns prepared answers.

It is not a model. Each chat completion request is passed to a Python `responder` that returns
the tool-call arguments to answer with (or a `Reply` for faults), so loop logic and failure
handling can be tested exactly. Every request received is kept in `requests`.

It also serves the Files and Batches APIs (`/v1/files`, `/v1/batches`): a batch's requests are
answered by the same responder when the batch is first polled, its output lines shuffled (the
Batch API keeps no order); a batch named in `expire` ends "expired" with half of them answered;
one in `fail` ends "failed" with none; one in `garble` has a line that is not JSON; while
`hold` is set, every batch stays in progress; the first `failing_polls` polls are answered 503.
"""

from __future__ import annotations

import email.parser
import json
import multiprocessing
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
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
        #: Chat completion requests received and not yet answered, now and at most.
        self.in_flight = 0
        self.max_in_flight = 0
        # Reported on every answer as a provider's prefix cache would: a count, or a function of
        # the request (the benchmarks emulate a prefix cache with one).
        self.cached_tokens: int | Callable[[dict[str, Any]], int] = 0
        self._lock = threading.RLock()
        #: Files uploaded and made, by id; batches by id, in the order created.
        self.files: dict[str, bytes] = {}
        #: The ids of the files uploaded, in order.
        self.uploads: list[str] = []
        self.batches: dict[str, dict[str, Any]] = {}
        #: Ordinals (from 1) of the batches that expire half done, and of those that fail whole.
        self.expire: set[int] = set()
        self.fail: set[int] = set()
        #: Ordinals of the batches whose first output line is not JSON; polls answered 503 first.
        self.garble: set[int] = set()
        self.failing_polls = 0
        self.hold = threading.Event()
        self.polls = 0
        #: False: the Files and Batches APIs answer 404, as on an endpoint without them.
        self.batch_api = True
        #: Set once a batch is created; the create reply is then held until `created_reply` is set.
        self.created = threading.Event()
        self.created_reply = threading.Event()
        self.created_reply.set()
        #: Output file downloads answered 503 before one is served.
        self.failing_downloads = 0
        #: Batch creations that make the batch, then answer 502 (as a proxy timing out would).
        self.failing_creates = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path.split("?")[0] == "/v1/batches":
                    self._send(server._list())
                elif self.path.startswith("/v1/batches/"):
                    self._send(server._poll(self.path.rsplit("/", 1)[1]))
                elif self.path.startswith("/v1/files/") and self.path.endswith("/content"):
                    with server._lock:
                        failing, server.failing_downloads = (
                            server.failing_downloads,
                            max(0, server.failing_downloads - 1),
                        )
                    if failing:
                        self._send(Reply(status=503, body={"error": {"message": "scripted: try again"}}))
                        return
                    content = server.files[self.path.split("/")[3]]
                    self._send(Reply(body=content.decode(), headers={"Content-Type": "application/jsonl"}))
                else:
                    self._send(
                        Reply(body={"object": "list", "data": [{"id": "scripted", "object": "model"}]})
                    )

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                data = self.rfile.read(length)
                if self.path in ("/v1/files", "/v1/batches") and not server.batch_api:
                    self._send(Reply(status=404, body={"error": {"message": f"no route {self.path}"}}))
                    return
                if self.path == "/v1/files":
                    self._send(server._upload(self.headers.get("Content-Type", ""), data))
                    return
                if self.path == "/v1/batches":
                    self._send(server._create(json.loads(data)))
                    return
                request = json.loads(data)
                with server._lock:
                    server.requests.append(request)
                    server.headers.append(dict(self.headers))
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    reply = server.answer(request)
                    time.sleep(reply.delay_s)
                finally:
                    # No longer in flight once answered, before the answer is written: the client
                    # may send its next request the moment it reads this one, while this thread
                    # has yet to run another line (counting it until then saw 5 at a cap of 4).
                    with server._lock:
                        server.in_flight -= 1
                self._send(replace(reply, delay_s=0.0))

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

    def answer(self, request: dict[str, Any]) -> Reply:
        """The responder's answer to one chat completion request, as the HTTP reply."""
        answer = self.responder(request)
        if isinstance(answer, Reply):
            return answer
        body = completion(request, answer, len(json.dumps(answer)) // 4)
        cached = self.cached_tokens(request) if callable(self.cached_tokens) else self.cached_tokens
        body["usage"]["prompt_tokens_details"] = {"cached_tokens": cached}
        return Reply(body=body)

    # -- the Files and Batches APIs ----------------------------------------------------------

    def _keep_file(self, content: bytes, purpose: str) -> dict[str, Any]:
        with self._lock:
            file_id = f"file-{len(self.files) + 1}"
            self.files[file_id] = content
        return {
            "id": file_id,
            "object": "file",
            "bytes": len(content),
            "created_at": 0,
            "filename": f"{file_id}.jsonl",
            "purpose": purpose,
            "status": "processed",
        }

    def _upload(self, content_type: str, data: bytes) -> Reply:
        message = email.parser.BytesParser().parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + data
        )
        parts = {part.get_param("name", header="content-disposition"): part for part in message.get_payload()}
        content = parts["file"].get_payload(decode=True)
        kept = self._keep_file(content, "batch")
        self.uploads.append(kept["id"])
        return Reply(body=kept)

    def _create(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            batch_id = f"batch-{len(self.batches) + 1}"
            self.batches[batch_id] = {
                "id": batch_id,
                "object": "batch",
                "endpoint": body["endpoint"],
                "input_file_id": body["input_file_id"],
                "completion_window": body["completion_window"],
                "metadata": body.get("metadata"),
                "created_at": int(time.time()),
                "status": "in_progress",
                "request_counts": {"total": 0, "completed": 0, "failed": 0},
            }
            batch = dict(self.batches[batch_id])
        self.created.set()
        self.created_reply.wait()
        with self._lock:
            failing, self.failing_creates = self.failing_creates, max(0, self.failing_creates - 1)
        if failing:
            return Reply(status=502, body={"error": {"message": "scripted: bad gateway"}})
        return Reply(body=batch)

    def _list(self) -> Reply:
        with self._lock:
            newest_first = [dict(batch) for batch in reversed(self.batches.values())]
        return Reply(body={"object": "list", "data": newest_first, "has_more": False})

    def _poll(self, batch_id: str) -> Reply:
        with self._lock:
            self.polls += 1
            if self.failing_polls:
                self.failing_polls -= 1
                return Reply(status=503, body={"error": {"message": "scripted: try again"}})
            batch = self.batches[batch_id]
            if batch["status"] == "in_progress" and not self.hold.is_set():
                self._run(batch)
            return Reply(body=dict(batch))

    def _run(self, batch: dict[str, Any]) -> None:
        """Answer a batch's requests (half of them when it is to expire), in shuffled order."""
        ordinal = list(self.batches).index(batch["id"]) + 1
        # Split on "\n" alone, as the Batch API does: a JSON string may hold U+2028.
        text = self.files[batch["input_file_id"]].decode()
        lines = [json.loads(line) for line in text.split("\n") if line.strip()]
        if ordinal in self.fail:
            batch["status"] = "failed"
            batch["errors"] = {"object": "list", "data": [{"code": "server_error", "message": "scripted"}]}
            return
        done = lines[: len(lines) // 2] if ordinal in self.expire else lines
        output = []
        for line in done:
            self.requests.append(line["body"])
            reply = self.answer(line["body"])
            body = reply.body if isinstance(reply.body, dict) else {"error": {"message": reply.body}}
            response = {"status_code": reply.status, "request_id": "req", "body": body}
            output.append(
                {"id": "batch_req", "custom_id": line["custom_id"], "response": response, "error": None}
            )
        random.Random(ordinal).shuffle(output)
        garbled = ["{not json"] if ordinal in self.garble and output else []
        output_text = "".join(f"{line}\n" for line in garbled) + "".join(
            json.dumps(o) + "\n" for o in output[len(garbled) :]
        )
        expired = {"code": "batch_expired", "message": "not executed before the completion window expired"}
        errors = [
            {"id": "batch_req", "custom_id": line["custom_id"], "response": None, "error": expired}
            for line in lines[len(done) :]
        ]
        batch["output_file_id"] = self._keep_file(output_text.encode(), "batch_output")["id"]
        if errors:
            batch["error_file_id"] = self._keep_file(
                "".join(json.dumps(e) + "\n" for e in errors).encode(), "batch_output"
            )["id"]
        batch["status"] = "expired" if ordinal in self.expire else "completed"
        batch["request_counts"] = {"total": len(lines), "completed": len(done), "failed": 0}

    def calls(self, name: str) -> list[dict[str, Any]]:
        """Requests whose tool is `name`."""
        return [r for r in self.requests if tool_name(r) == name]

    @contextmanager
    def running_apart(self) -> Iterator[ScriptedServer]:
        """Served by a process of its own (forked), as a remote endpoint is: its CPU and memory
        are not the client's. What it receives is not kept in this process."""
        process = multiprocessing.get_context("fork").Process(target=self.httpd.serve_forever, daemon=True)
        process.start()
        self.httpd.server_close()  # the listening socket is the child's now
        try:
            yield self
        finally:
            process.kill()
            process.join()

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
