"""A scripted fake LLM server: real HTTP on 127.0.0.1, every protocol tui-chat speaks.

It runs `http.server.ThreadingHTTPServer` in a background thread, so it is independent of
the test's asyncio loop: a test that awaits the app can never deadlock it. Streams are
written with hand-made chunked transfer encoding, which gives byte-level control over
timing, malformed lines and abrupt disconnects.

Endpoints:

- ``POST /v1/responses`` (OpenAI Responses API), ``POST /v1/chat/completions``,
  ``GET /v1/models``; with ``api_key`` set, ``/v1/*`` needs ``Authorization: Bearer <key>``.
- ``POST /api/chat``, ``POST /api/chat/stream``, ``GET /`` (the tui-chat backend protocol).

What a chat request gets back is decided by a `Script` taken from a queue (`enqueue`);
when the queue is empty the default `Script()` is used. Only the four chat endpoints take
scripts; ``GET`` requests and requests rejected for a bad key leave the queue alone.
Every request, including rejected ones, is appended to `requests`; the `time.monotonic()`
of every script chunk written to a stream is appended to `chunk_times` (benchmarks).

Timing: headers (and, for SSE, the events before the text) go out at once; `first_delay`
comes before the first text chunk. A fault strikes after `Script.fault_at` chunks
(`hold_after` if set, else half of them); with both, the stream holds first and the fault
strikes after release(). A hold waits for a release() made after its request arrived, so
"wait_for_requests(1); release()" can never lose the release. Without streaming, delays
and holds come before the whole body; "disconnect" and "stall" still apply, "malformed"
sends a non-JSON body, and for /v1/* "error_event" is a 500. With `steady`, `delay` is a
period rather than a gap, so a fast rate (1 ms) is not slowed by timer overshoot.
Two faults strike before any answer, streaming or not: "no_answer" reads the request and
never sends a byte back, "hang_up" reads it and closes the connection. An error `status`
sends `retry_after` as its Retry-After header (429s get `RETRY_AFTER` by default).

Reasoning: `Script.reasoning` chunks go out right after the headers, before
`first_delay` and the text: Responses as a reasoning item's summary
(`response.reasoning_summary_text.delta`, and a `reasoning` output item when not
streaming), chat as `delta.<reasoning_field>` (``reasoning_content`` or ``reasoning``).
With `refusal`, the chunks are a refusal: `response.refusal.delta` / `delta.refusal`
(and a refusal content part / `message.refusal` when not streaming).
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

FAULTS = frozenset(
    {
        "disconnect",  # close the socket abruptly mid-stream (no chunked terminator)
        "stall",  # go silent, keep the connection open until the client closes
        "malformed",  # a garbage non-JSON `data:` line (SSE) / a non-JSON body (non-stream)
        "not_text",  # SSE: valid JSON whose text field is a number, then the stream ends
        "error_event",  # Responses: an `error` event; chat: a `data: {"error": ...}` line
        "failed",  # Responses: `response.failed`
        "incomplete",  # Responses: `response.incomplete` (reason max_output_tokens)
        "trailing_error",  # backend stream: "\n[Error occurred]"
        "generation_error",  # backend stream: "\n[Error during generation]"
        "unsuccessful",  # backend /api/chat: {"success": false, "error": ...}, no "response"
        "no_answer",  # accept the request, never send a byte back (until the client leaves)
        "hang_up",  # accept the request, close the connection without an answer
    }
)

#: Reported by `response.incomplete`.
INCOMPLETE_REASON = "max_output_tokens"
#: Sent with every 429.
RETRY_AFTER = "1"
MODEL_IDS = ("gpt-4o-mini", "gpt-4o", "fake-model")
BACKEND_GREETING = "Backend is running successfully."
BACKEND_MARKERS = {
    "trailing_error": "\n[Error occurred]",
    "generation_error": "\n[Error during generation]",
}

_POLL = 0.02  # seconds between checks for release / client disconnect / stop


@dataclass
class Script:
    """How the server answers one chat request."""

    chunks: list[str] = field(
        default_factory=lambda: ["Hello", " from", " the", " fake", " server."]
    )
    first_delay: float = 0.0  # seconds before the first chunk (time to first token)
    delay: float = 0.0  # seconds between chunks
    steady: bool = False  # delay is a period: chunk k is due k*delay after the first
    hold_after: int | None = None  # send this many chunks, then wait for server.release()
    status: int = 200  # != 200: reply with this status and an error JSON body, no stream
    retry_after: str | None = None  # with an error status: the Retry-After header to send
    error_message: str = "scripted failure"
    fault: str | None = None  # one of FAULTS
    usage: tuple[int, int] | None = (12, 5)  # (input, output) tokens, where the protocol allows
    reasoning: list[str] = field(default_factory=list)  # reasoning chunks, before the text
    reasoning_field: str = "reasoning_content"  # chat: the delta key ("reasoning" for Ollama)
    refusal: bool = False  # the chunks are a refusal, not an answer

    def __post_init__(self) -> None:
        if self.fault is not None and self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r}; choose from {sorted(FAULTS)}")

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    @property
    def fault_at(self) -> int:
        """Chunks sent before the fault strikes: `hold_after`, else half of them."""
        return self.hold_after if self.hold_after is not None else len(self.chunks) // 2


class Headers(dict[str, str]):
    """Request headers; keys are stored lower-case and looked up case-insensitively."""

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)


@dataclass
class Recorded:
    """One request as the server saw it; `json` is the parsed body (raw text if not JSON)."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any


class _Abort(Exception):
    """Unwinds a handler whose client went away, or whose server is stopping or reset."""


class FakeLLMServer:
    """See the module docstring. Use as a context manager or call start()/stop()."""

    def __init__(self, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.url = ""
        self.openai_url = ""
        self.requests: list[Recorded] = []
        #: Set when a client closed a stream before it finished.
        self.disconnected = threading.Event()
        #: `time.monotonic()` after each script chunk was written to a stream, in order.
        self.chunk_times: list[float] = []
        self._queue: deque[Script] = deque()
        self._cond = threading.Condition()
        self._release_count = 0
        self._generation = 0  # bumped by reset(): older streams stop counting
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self.opened = 0  # connections accepted since start (reset() leaves it)

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> None:
        if self._httpd is not None:
            return
        self._stopping.clear()
        handler = type("BoundHandler", (_Handler,), {"fake": self})
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        httpd.daemon_threads = True
        self._httpd = httpd
        port = httpd.server_address[1]
        self.url = f"http://127.0.0.1:{port}"
        self.openai_url = self.url + "/v1"
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-llm-server-{port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and drop every open connection; never waits on held streams."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        httpd.shutdown()
        httpd.server_close()
        with self._cond:
            connections = list(self._connections)
        for conn in connections:  # wakes handler threads idling on keep-alive reads
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeLLMServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- control -------------------------------------------------------------------
    def enqueue(self, *scripts: Script) -> None:
        """The next chat requests use these scripts, in order."""
        with self._cond:
            self._queue.extend(scripts)

    def release(self) -> None:
        """Let every stream currently held (`hold_after`) continue."""
        with self._cond:
            self._release_count += 1
            self._cond.notify_all()

    def reset(self) -> None:
        """Fresh state: empty queue and log, `disconnected` cleared, held streams released.

        Streams still running from before the reset no longer set `disconnected`, and
        stalled ones are dropped, so one test cannot leak into the next.
        """
        with self._cond:
            self._queue.clear()
            self.requests.clear()
            self._generation += 1
            self._release_count += 1
            self.disconnected.clear()
            self.chunk_times.clear()
            self._cond.notify_all()

    def wait_for_requests(self, n: int, timeout: float = 5) -> None:
        """Block until at least `n` requests arrived; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.requests) < n:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"expected {n} request(s) within {timeout} s, got {len(self.requests)}"
                    )
                self._cond.wait(remaining)

    # -- used by the handler ---------------------------------------------------------
    def _record(self, rec: Recorded) -> tuple[int, int]:
        """Log a request; returns (generation, release count) as of its arrival.

        A hold waits for a release() made after the request arrived, so a test that
        waits for the request and then releases can never lose that release.
        """
        with self._cond:
            self.requests.append(rec)
            self._cond.notify_all()
            return self._generation, self._release_count

    def _next_script(self) -> Script:
        with self._cond:
            return self._queue.popleft() if self._queue else Script()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked encoding, like real servers
    # Each chunk goes out as written, as from uvicorn, Go's net/http, nginx or any
    # asyncio server (all set TCP_NODELAY). With Nagle on, a chunk written while the one
    # before is unacknowledged waits for that ACK, which a client not reading at once
    # delays by up to 40 ms.
    disable_nagle_algorithm = True
    fake: FakeLLMServer  # bound per server in FakeLLMServer.start()

    # -- plumbing ----------------------------------------------------------------------
    def setup(self) -> None:
        super().setup()
        with self.fake._cond:
            self.fake._connections.add(self.connection)
            self.fake.opened += 1

    def finish(self) -> None:
        with self.fake._cond:
            self.fake._connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except _Abort:
            self.close_connection = True
        except OSError:  # the client vanished while we wrote
            self.close_connection = True

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body: Any = None
        if raw:
            text = raw.decode("utf-8", "replace")
            try:
                body = json.loads(text)
            except ValueError:
                body = text
        path = urlsplit(self.path).path
        headers = Headers({k.lower(): v for k, v in self.headers.items()})
        self.gen, self.released_at = self.fake._record(Recorded(self.command, path, headers, body))
        self.req: dict[str, Any] = body if isinstance(body, dict) else {}

        key = self.fake.api_key
        if path.startswith("/v1/") and key is not None:
            auth = headers.get("authorization", "")
            if auth != f"Bearer {key}":
                provided = auth.removeprefix("Bearer ") or "(none)"
                # Like the real API, echo what was sent: clients must not show it to people.
                message = f"Incorrect API key provided: {provided}."
                self._send_openai_error(401, message)
                return

        route = {
            ("GET", "/"): self._root,
            ("GET", "/v1/models"): self._models,
            ("POST", "/v1/responses"): self._responses,
            ("POST", "/v1/chat/completions"): self._chat_completions,
            ("POST", "/api/chat"): self._backend_chat,
            ("POST", "/api/chat/stream"): self._backend_stream,
        }.get((self.command, path.rstrip("/") or "/"))
        if route is None:
            if path.startswith("/v1/"):
                self._send_openai_error(404, f"Unknown endpoint {self.command} {path}")
            else:
                self._send_json(404, {"error": "Not found"})
            return
        route()

    # -- low-level writers -------------------------------------------------------------
    def _send_body(
        self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, status: int, obj: Any, extra: dict[str, str] | None = None) -> None:
        self._send_body(status, json.dumps(obj).encode(), "application/json", extra)

    def _error_headers(self, status: int, retry_after: str | None = None) -> dict[str, str]:
        if retry_after is not None:
            return {"Retry-After": retry_after}
        return {"Retry-After": RETRY_AFTER} if status == 429 else {}

    def _send_openai_error(self, status: int, message: str, retry_after: str | None = None) -> None:
        kind, code = {
            400: ("invalid_request_error", None),
            401: ("invalid_request_error", "invalid_api_key"),
            403: ("permission_denied", None),
            404: ("invalid_request_error", "not_found"),
            429: ("rate_limit_error", "rate_limit_exceeded"),
        }.get(status, ("server_error" if status >= 500 else "invalid_request_error", None))
        body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
        self._send_json(status, body, self._error_headers(status, retry_after))

    def _begin_stream(self, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

    def _chunk(self, data: str | bytes) -> None:
        raw = data.encode() if isinstance(data, str) else data
        if not raw:
            return
        try:
            self.wfile.write(b"%X\r\n%s\r\n" % (len(raw), raw))
        except OSError:
            self._client_left()
            raise _Abort from None

    def _end_stream(self) -> None:
        try:
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self._client_left()
            raise _Abort from None

    def _drop_connection(self) -> None:
        """Close the socket without finishing the response (the "disconnect" fault)."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        raise _Abort

    # -- waiting that notices a departed client ------------------------------------------
    def _client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _client_left(self) -> None:
        fake = self.fake
        with fake._cond:
            if self.gen == fake._generation:
                fake.disconnected.set()

    def _check(self) -> None:
        if self.fake._stopping.is_set():
            raise _Abort
        if self._client_gone():
            self._client_left()
            raise _Abort

    def _pause(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            self._check()
            self.fake._stopping.wait(min(_POLL, remaining))
        self._check()

    def _hold(self) -> None:
        """Wait for a release() made since the request arrived; give up if the client
        leaves or the server stops."""
        fake = self.fake
        while True:
            with fake._cond:
                if fake._release_count > self.released_at:
                    return
                fake._cond.wait(_POLL)
            self._check()

    def _stall(self) -> None:
        """Go silent until the client leaves, the server stops, or a reset() drops us."""
        fake = self.fake
        while True:
            with fake._cond:
                if self.gen != fake._generation:
                    self._drop_connection()
                fake._cond.wait(_POLL)
            self._check()

    def _take_script(self) -> Script:
        """The next script; the faults that strike before any answer strike here."""
        script = self.fake._next_script()
        if script.fault == "no_answer":
            self._stall()
        if script.fault == "hang_up":
            self._drop_connection()
        return script

    # -- shared script runner ------------------------------------------------------------
    def _play(
        self,
        script: Script,
        frame: Callable[[int], str],
        fault_frames: dict[str, Callable[[], list[str]]],
        garbage: str | None,
    ) -> bool:
        """Stream `frame(i)` per chunk with the script's timing, hold and fault.

        Returns False when a fault ended the stream (its frames sent, or the connection
        dropped) so the caller must not send the normal ending.
        """
        n = len(script.chunks)
        due: float | None = None  # with `steady`: when the next chunk is due
        for i in range(n + 1):
            if script.hold_after == i:
                self._hold()
                due = None
            if script.fault is not None and i == script.fault_at:
                if script.fault == "disconnect":
                    self._drop_connection()
                if script.fault == "stall":
                    self._stall()
                if script.fault == "malformed" and garbage is not None:
                    self._chunk(garbage)
                elif script.fault in fault_frames:
                    for data in fault_frames[script.fault]():
                        self._chunk(data)
                    self._end_stream()
                    return False
            if i < n:
                if script.steady and due is not None:
                    due += script.delay  # a fixed schedule: timer overshoot does not add up
                    self._pause(max(0.0, due - time.monotonic()))
                else:
                    self._pause(script.first_delay if i == 0 else script.delay)
                    due = time.monotonic()
                self._chunk(frame(i))
                self.fake.chunk_times.append(time.monotonic())
        return True

    def _prepare_plain(self, script: Script) -> None:
        """Non-streaming timing and faults that apply before the body is written."""
        self._pause(script.first_delay)
        if script.hold_after is not None:
            self._hold()
        if script.fault == "disconnect":
            self._drop_connection()
        if script.fault == "stall":
            self._stall()

    # -- endpoints ---------------------------------------------------------------------
    def _root(self) -> None:
        self._send_body(200, BACKEND_GREETING.encode(), "text/plain; charset=utf-8")

    def _models(self) -> None:
        created = int(time.time())
        data = [
            {"id": mid, "object": "model", "created": created, "owned_by": "fake-llm"}
            for mid in MODEL_IDS
        ]
        self._send_json(200, {"object": "list", "data": data})

    # Responses API ---------------------------------------------------------------------
    def _responses(self) -> None:
        script = self._take_script()
        if script.status != 200:
            self._send_openai_error(script.status, script.error_message, script.retry_after)
            return
        model = str(self.req.get("model") or "fake-model")
        resp_id = f"resp_{uuid.uuid4().hex}"
        msg_id = f"msg_{uuid.uuid4().hex}"
        created = int(time.time())

        def response(status: str, output: list[Any], **extra: Any) -> dict[str, Any]:
            return _response_object(self.req, resp_id, model, created, status, output, **extra)

        part = _refusal_part if script.refusal else _output_text
        reasoning_id = f"rs_{uuid.uuid4().hex}"
        msg_index = 1 if script.reasoning else 0

        def reasoning_item() -> list[dict[str, Any]]:
            if not script.reasoning:
                return []
            summary = [{"type": "summary_text", "text": "".join(script.reasoning)}]
            return [{"id": reasoning_id, "type": "reasoning", "summary": summary}]

        def message(text: str | None, status: str) -> dict[str, Any]:
            content = [] if text is None else [part(text)]
            return {
                "id": msg_id,
                "type": "message",
                "status": status,
                "role": "assistant",
                "content": content,
            }

        usage = _responses_usage(script.usage)
        if not self.req.get("stream"):
            self._prepare_plain(script)
            if script.fault == "malformed":
                self._send_body(200, b"{this is not json", "application/json")
                return
            if script.fault == "error_event":
                self._send_openai_error(500, script.error_message)
                return
            if script.fault == "failed":
                failure = {"code": "server_error", "message": script.error_message}
                obj = response("failed", [], error=failure)
            elif script.fault == "incomplete":
                partial = "".join(script.chunks[: script.fault_at])
                obj = response(
                    "incomplete",
                    [message(partial, "incomplete")],
                    incomplete_details={"reason": INCOMPLETE_REASON},
                    usage=usage,
                )
            else:
                output = [*reasoning_item(), message(script.text, "completed")]
                obj = response("completed", output, usage=usage)
            self._send_json(200, obj)
            return

        seq = iter(range(1_000_000))

        def event(kind: str, **payload: Any) -> str:
            data = {"type": kind, "sequence_number": next(seq), **payload}
            return f"event: {kind}\ndata: {json.dumps(data)}\n\n"

        where = {"item_id": msg_id, "output_index": msg_index}

        def delta(i: int) -> str:
            if script.refusal:
                return event(
                    "response.refusal.delta", **where, content_index=0, delta=script.chunks[i]
                )
            return event(
                "response.output_text.delta",
                **where,
                content_index=0,
                delta=script.chunks[i],
                logprobs=[],
            )

        def finish_item(text: str, status: str) -> list[str]:
            done = (
                event("response.refusal.done", **where, content_index=0, refusal=text)
                if script.refusal
                else event(
                    "response.output_text.done", **where, content_index=0, text=text, logprobs=[]
                )
            )
            return [
                done,
                event("response.content_part.done", **where, content_index=0, part=part(text)),
                event(
                    "response.output_item.done", output_index=msg_index, item=message(text, status)
                ),
            ]

        self._begin_stream("text/event-stream; charset=utf-8")
        self._chunk(event("response.created", response=response("in_progress", [])))
        self._chunk(event("response.in_progress", response=response("in_progress", [])))
        if script.reasoning:
            thinking = {"item_id": reasoning_id, "output_index": 0, "summary_index": 0}
            empty = {"id": reasoning_id, "type": "reasoning", "summary": []}
            self._chunk(event("response.output_item.added", output_index=0, item=empty))
            summary_part = {"type": "summary_text", "text": ""}
            self._chunk(
                event("response.reasoning_summary_part.added", **thinking, part=summary_part)
            )
            for thought in script.reasoning:
                self._chunk(
                    event("response.reasoning_summary_text.delta", **thinking, delta=thought)
                )
            whole = "".join(script.reasoning)
            self._chunk(event("response.reasoning_summary_text.done", **thinking, text=whole))
            summary_part = {"type": "summary_text", "text": whole}
            self._chunk(
                event("response.reasoning_summary_part.done", **thinking, part=summary_part)
            )
            self._chunk(
                event("response.output_item.done", output_index=0, item=reasoning_item()[0])
            )
        self._chunk(
            event(
                "response.output_item.added",
                output_index=msg_index,
                item=message(None, "in_progress"),
            )
        )
        self._chunk(event("response.content_part.added", **where, content_index=0, part=part("")))
        failure = {"code": "server_error", "message": script.error_message}

        def incomplete() -> list[str]:
            partial = "".join(script.chunks[: script.fault_at])
            cut = response(
                "incomplete",
                [message(partial, "incomplete")],
                incomplete_details={"reason": INCOMPLETE_REASON},
                usage=usage,
            )
            return [*finish_item(partial, "incomplete"), event("response.incomplete", response=cut)]

        # Built only when used, so their sequence numbers follow the deltas already sent.
        fault_frames: dict[str, Callable[[], list[str]]] = {
            "error_event": lambda: [
                event("error", code="server_error", message=script.error_message, param=None)
            ],
            "failed": lambda: [
                event("response.failed", response=response("failed", [], error=failure))
            ],
            "incomplete": incomplete,
            "not_text": lambda: [
                event("response.output_text.delta", **where, content_index=0, delta=5, logprobs=[])
            ],
        }
        if not self._play(script, delta, fault_frames, "data: {this is not json\n\n"):
            return
        for frame in finish_item(script.text, "completed"):
            self._chunk(frame)
        output = [*reasoning_item(), message(script.text, "completed")]
        done = response("completed", output, usage=usage)
        self._chunk(event("response.completed", response=done))
        self._end_stream()

    # Chat Completions --------------------------------------------------------------------
    def _chat_completions(self) -> None:
        script = self._take_script()
        if script.status != 200:
            self._send_openai_error(script.status, script.error_message, script.retry_after)
            return
        model = str(self.req.get("model") or "fake-model")
        cid = f"chatcmpl-{uuid.uuid4().hex}"
        created = int(time.time())
        usage = _chat_usage(script.usage)
        base = {"id": cid, "created": created, "model": model, "system_fingerprint": "fp_fake"}

        if not self.req.get("stream"):
            self._prepare_plain(script)
            if script.fault == "malformed":
                self._send_body(200, b"{this is not json", "application/json")
                return
            if script.fault == "error_event":
                self._send_openai_error(500, script.error_message)
                return
            reply: dict[str, Any] = {"role": "assistant", "content": script.text, "refusal": None}
            if script.refusal:
                reply.update(content=None, refusal=script.text)
            if script.reasoning:
                reply[script.reasoning_field] = "".join(script.reasoning)
            choice = {
                "index": 0,
                "message": reply,
                "logprobs": None,
                "finish_reason": "stop",
            }
            self._send_json(
                200, {**base, "object": "chat.completion", "choices": [choice], "usage": usage}
            )
            return

        options = self.req.get("stream_options")
        include_usage = bool(isinstance(options, dict) and options.get("include_usage"))

        def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
            obj: dict[str, Any] = {
                **base,
                "object": "chat.completion.chunk",
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            }
            if include_usage:
                obj["usage"] = None
            return f"data: {json.dumps(obj)}\n\n"

        self._begin_stream("text/event-stream; charset=utf-8")
        self._chunk(chunk({"role": "assistant", "content": "", "refusal": None}))
        for thought in script.reasoning:
            self._chunk(chunk({"content": None, script.reasoning_field: thought}))
        text_key = "refusal" if script.refusal else "content"
        error = {"message": script.error_message, "type": "server_error", "code": None}
        fault_frames = {
            "error_event": lambda: [f"data: {json.dumps({'error': error})}\n\n"],
            "not_text": lambda: [chunk({"content": 5})],
        }
        played = self._play(
            script,
            lambda i: chunk({text_key: script.chunks[i]}),
            fault_frames,
            "data: {this is not json\n\n",
        )
        if not played:
            return
        self._chunk(chunk({}, "stop"))
        if include_usage and usage is not None:
            tail = {**base, "object": "chat.completion.chunk", "choices": [], "usage": usage}
            self._chunk(f"data: {json.dumps(tail)}\n\n")
        self._chunk("data: [DONE]\n\n")
        self._end_stream()

    # Backend protocol ---------------------------------------------------------------------
    def _backend_chat(self) -> None:
        script = self._take_script()
        if script.status != 200:
            self._send_json(
                script.status,
                {"error": script.error_message},
                self._error_headers(script.status, script.retry_after),
            )
            return
        self._prepare_plain(script)
        if script.fault == "malformed":
            self._send_body(200, b"{this is not json", "application/json")
        elif script.fault == "unsuccessful":
            self._send_json(200, {"success": False, "error": script.error_message})
        else:
            self._send_json(200, {"response": script.text, "success": True})

    def _backend_stream(self) -> None:
        script = self._take_script()
        if script.status != 200:
            self._send_json(
                script.status,
                {"error": script.error_message},
                self._error_headers(script.status, script.retry_after),
            )
            return
        self._begin_stream("text/plain; charset=utf-8")
        fault_frames = {
            name: (lambda marker=marker: [marker]) for name, marker in BACKEND_MARKERS.items()
        }
        if self._play(script, lambda i: script.chunks[i], fault_frames, None):
            self._end_stream()


def _output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _refusal_part(text: str) -> dict[str, Any]:
    return {"type": "refusal", "refusal": text}


def _responses_usage(usage: tuple[int, int] | None) -> dict[str, Any] | None:
    if usage is None:
        return None
    inp, out = usage
    return {
        "input_tokens": inp,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": out,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": inp + out,
    }


def _chat_usage(usage: tuple[int, int] | None) -> dict[str, Any] | None:
    if usage is None:
        return None
    inp, out = usage
    return {"prompt_tokens": inp, "completion_tokens": out, "total_tokens": inp + out}


def _response_object(
    req: dict[str, Any],
    resp_id: str,
    model: str,
    created: int,
    status: str,
    output: list[Any],
    *,
    usage: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
    incomplete_details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A Responses API `Response` object, with the fields the real API sends."""
    return {
        "id": resp_id,
        "object": "response",
        "created_at": created,
        "status": status,
        "completed_at": created if status == "completed" else None,
        "error": error,
        "incomplete_details": incomplete_details,
        "instructions": req.get("instructions"),
        "max_output_tokens": req.get("max_output_tokens"),
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": req.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "store": req.get("store", True),
        "temperature": req.get("temperature", 1.0),
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage,
        "user": None,
        "metadata": {},
    }
