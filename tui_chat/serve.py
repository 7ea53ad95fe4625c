"""`tui-chat serve`: the chat backend protocol (`/api/chat`, `/api/chat/stream`) in Python.

Any provider can sit behind it, so a browser front end or the TUI's "backend"
provider can talk to an LLM while the API key stays on this machine. Responses
carry only the reply text or a fixed error string: provider messages (which may
quote server text) go to the log, never to the client, and every log line is cleaned of
control codes first.

Requests are checked before a byte goes upstream: a JSON Content-Type (415), a body of
at most `max_body` bytes (413), headers and body each within `read_timeout` (408), and
valid JSON with valid Unicode text (400). Every refusal is a JSON `{"error": ...}`.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import h11
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from tui_chat.core.listening import listen
from tui_chat.core.protocol import ChatMessage, ChatRequest, Provider, ProviderError
from tui_chat.core.redact import mask_credentials
from tui_chat.core.runner import Delta, Ended, ReplyEvent, ReplyRunner
from tui_chat.core.sanitize import clean
from tui_chat.settings.config import Settings

logger = logging.getLogger("tui_chat.serve")

GREETING = "Backend is running successfully."
#: Appended to a stream that fails after it began (the status line is already sent).
STREAM_ERROR_MARKER = "\n[Error occurred]"
#: "system" is accepted because the TUI's backend provider sends its system prompt as a
#: leading history turn; such turns are folded into the request's system prompt.
HISTORY_ROLES = ("user", "assistant", "system")
#: Default cap on a request body, in bytes (`--max-body`); a chat turn is far smaller.
MAX_BODY = 1_000_000
#: Seconds a client gets to send a request's headers, and again its body, before a 408.
READ_TIMEOUT = 15.0
#: Pending connections the kernel queues before serve's loop accepts them (uvicorn's own).
BACKLOG = 2048

T = TypeVar("T")


class BadRequest(Exception):
    """A client mistake; `message` goes back verbatim as `{"error": message}` with `status`."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def refusal(exc: BadRequest) -> JSONResponse:
    """The JSON answer to a client mistake.

    Anything but a 400 may leave body bytes unread, so the connection is closed rather
    than kept alive to drain an upload nobody wants.
    """
    headers = None if exc.status == 400 else {"Connection": "close"}
    return JSONResponse({"error": exc.message}, status_code=exc.status, headers=headers)


async def read_body(request: Request, max_body: int, read_timeout: float) -> bytes:
    """The request body, refused as early as possible: 415, 413 (before reading, when the
    declared length says so), or 408 when it does not all arrive within `read_timeout`."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise BadRequest("Content-Type must be application/json", 415)
    too_large = BadRequest(f"Request body is larger than {max_body} bytes", 413)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_body:
        raise too_large
    body = bytearray()
    try:
        async with asyncio.timeout(read_timeout):
            async for chunk in request.stream():
                body += chunk
                if len(body) > max_body:
                    raise too_large
    except TimeoutError:
        raise BadRequest(f"Request body not received within {read_timeout:g} s", 408) from None
    return bytes(body)


def _text(text: str, what: str) -> str:
    """`text` if it can be sent on: a JSON escape can spell a lone surrogate (`\\ud800`),
    which no UTF-8 request upstream can carry."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(f"{what} is not valid Unicode text (it has a lone surrogate)") from None
    return text


class ClientGone(Exception):
    """The client hung up while we waited on the provider."""


def parse_body(raw: bytes) -> tuple[str, tuple[ChatMessage, ...]]:
    """Validate a chat body into (message, history) or raise BadRequest."""
    try:
        body = json.loads(raw)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
        raise BadRequest("Invalid JSON body") from None
    except RecursionError:  # [[[[... nested deeper than the parser's stack
        raise BadRequest("Invalid JSON body: nested too deeply") from None
    if not isinstance(body, dict):
        raise BadRequest("Invalid JSON body")
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        raise BadRequest("Message is required")
    return _text(message, "Message"), parse_history(body.get("history"))


def parse_history(history: Any) -> tuple[ChatMessage, ...]:
    """`history` is optional; when present it must be a list of {role, content} turns."""
    if history is None:
        return ()
    if not isinstance(history, list):
        raise BadRequest("History must be a list of {role, content} objects")
    turns = []
    for index, item in enumerate(history):
        if not isinstance(item, dict):
            raise BadRequest(f"History item {index} must be an object with role and content")
        role, content = item.get("role"), item.get("content")
        if role not in HISTORY_ROLES:
            raise BadRequest(f"History item {index} must have role 'user', 'assistant' or 'system'")
        if not isinstance(content, str):
            raise BadRequest(f"History item {index} must have string content")
        turns.append(ChatMessage(role, _text(content, f"History item {index} content")))
    return tuple(turns)


async def _wait_for_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def unless_disconnected(request: Request, awaitable: Awaitable[T]) -> T:
    """Await `awaitable`, cancelling it (and so closing its upstream) if the client leaves.

    Uvicorn does not cancel a handler when its client disconnects, so without this a
    client that gives up while the model is still thinking would keep the upstream
    request running to the end. The body must already be read.
    """
    work = asyncio.ensure_future(awaitable)
    watcher = asyncio.ensure_future(_wait_for_disconnect(request.receive))
    try:
        await asyncio.wait((work, watcher), return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        if not work.done():
            work.cancel()
            await asyncio.gather(work, return_exceptions=True)
    if work.cancelled():
        raise ClientGone
    return work.result()


class _ClosingStreamingResponse(StreamingResponse):
    """A StreamingResponse that always closes its body iterator when the response ends.

    On a client disconnect Starlette cancels the task sending the body; if that task
    was not inside the provider at that moment, the generator would only be closed
    by the garbage collector, leaving the upstream stream open until then.
    """

    body_iterator: AsyncIterator[str]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await _aclose(self.body_iterator)


async def _aclose(events: AsyncIterator[Any]) -> None:
    """Close a provider stream (and so its HTTP response) now, not at garbage collection."""
    close = getattr(events, "aclose", None)
    if close is not None:
        await close()


def _redact(text: str, secret: str | None) -> str:
    return mask_credentials(text, (secret,)) if secret else text


def create_app(
    provider: Provider,
    settings: Settings,
    *,
    max_body: int = MAX_BODY,
    read_timeout: float = READ_TIMEOUT,
) -> Starlette:
    """The backend app; it owns `provider` and closes it on shutdown."""
    runner = ReplyRunner(provider)

    def chat_request(message: str, history: tuple[ChatMessage, ...], stream: bool) -> ChatRequest:
        """The server's own --system comes first; a client's system turns add to it."""
        systems = [settings.system] if settings.system else []
        systems += [turn.content for turn in history if turn.role == "system" and turn.content]
        turns = tuple(turn for turn in history if turn.role != "system")
        return ChatRequest(
            messages=(*turns, ChatMessage("user", message)),
            model=settings.model,
            system="\n\n".join(systems) or None,
            stream=stream,
            temperature=settings.temperature,
        )

    def log_failure(what: str, ended: Ended) -> None:
        detail = f"{ended.error_kind or 'unexpected'} error: {ended.error}"
        logger.error("%s: %s", what, _redact(detail, settings.api_key))

    async def root(request: Request) -> Response:
        return PlainTextResponse(GREETING)

    async def chat(request: Request) -> Response:
        try:
            message, history = parse_body(await read_body(request, max_body, read_timeout))
        except BadRequest as exc:
            return refusal(exc)
        except ClientDisconnect:
            return Response(status_code=499)
        try:
            ended = await unless_disconnected(
                request, runner.run(chat_request(message, history, stream=False))
            )
        except ClientGone:
            return Response(status_code=499)  # nobody is listening; the status is for logs
        if ended.status != "complete":
            log_failure("/api/chat failed", ended)
            return JSONResponse(
                {"error": "Failed to get AI response", "success": False}, status_code=500
            )
        return JSONResponse({"response": ended.text, "success": True})

    async def chat_stream(request: Request) -> Response:
        try:
            message, history = parse_body(await read_body(request, max_body, read_timeout))
        except BadRequest as exc:
            return refusal(exc)
        except ClientDisconnect:
            return Response(status_code=499)
        reply = _RunningReply(runner, chat_request(message, history, stream=True))
        # Wait for the first text before committing to a 200: a failure before any text
        # still gets a proper status code and a JSON body. Retries are waited out here.
        try:
            first = await unless_disconnected(request, reply.first())
        except ClientGone:
            await reply.aclose()
            return Response(status_code=499)
        if isinstance(first, Ended) and first.status == "error":
            await reply.aclose()
            log_failure("/api/chat/stream failed before streaming", first)
            return JSONResponse(
                {"error": "Failed to stream AI response", "success": False}, status_code=500
            )
        return _ClosingStreamingResponse(
            _body(first, reply, log_failure),
            media_type="text/plain; charset=utf-8",
            headers={"Cache-Control": "no-cache"},
        )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await provider.aclose()

    return Starlette(
        routes=[
            Route("/", root, methods=["GET"]),
            Route("/api/chat", chat, methods=["POST"]),
            Route("/api/chat/stream", chat_stream, methods=["POST"]),
        ],
        middleware=[
            Middleware(
                CORSMiddleware, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"]
            )
        ],
        lifespan=lifespan,
    )


class _RunningReply:
    """One reply run by the reply runner in its own task, read as events in order.

    The queue is short, so a slow client slows the upstream read instead of filling
    memory; once closed (the client left), nothing more is queued.
    """

    def __init__(self, runner: ReplyRunner, request: ChatRequest) -> None:
        self._events: asyncio.Queue[ReplyEvent] = asyncio.Queue(maxsize=64)
        self._closed = False
        self._task = asyncio.ensure_future(runner.run(request, self._put))

    async def _put(self, event: ReplyEvent) -> None:
        if not self._closed and isinstance(event, Delta | Ended):
            await self._events.put(event)

    async def first(self) -> Delta | Ended:
        return await self.next()

    async def next(self) -> Delta | Ended:
        event = await self._events.get()
        assert isinstance(event, Delta | Ended)
        return event

    async def aclose(self) -> None:
        """Stop the reply (and so close its upstream stream) now, not at garbage collection."""
        self._closed = True
        if not self._task.done():
            self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def _body(
    first: Delta | Ended,
    reply: _RunningReply,
    log_failure: Callable[[str, Ended], None],
) -> AsyncIterator[str]:
    """The streamed text; a failure after the 200 can only be reported in-band."""
    try:
        event = first
        while isinstance(event, Delta):
            yield event.text
            event = await reply.next()
        if event.status == "error":
            log_failure("/api/chat/stream failed mid-stream", event)
            yield STREAM_ERROR_MARKER
    finally:
        await reply.aclose()


class HeaderDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's headers.

    uvicorn times out only idle keep-alive connections, so a client that connects and
    sends its headers a byte at a time (or never) would hold a connection for good.
    The deadline runs from the connection (or the previous response) to the end of the
    headers; the body has its own in `read_body`.
    """

    header_timeout = READ_TIMEOUT
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._sync_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        self._sync_header_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._sync_header_deadline()

    def _sync_header_deadline(self) -> None:
        """Run the clock while the next request's headers are awaited, and only then."""
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(
                    self.header_timeout, self._headers_too_slow
                )
        else:
            self._cancel_header_deadline()

    def _cancel_header_deadline(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        # No request exists yet, so h11 cannot frame a response: written by hand.
        error = f"Request headers not received within {self.header_timeout:g} s"
        body = json.dumps({"error": error}).encode()
        self.transport.write(
            b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body)
        )
        self.transport.close()


def uvicorn_config(
    app: ASGIApp, *, read_timeout: float = READ_TIMEOUT, **options: Any
) -> uvicorn.Config:
    """How serve runs `app` under uvicorn (tests use the same): h11 with a header deadline."""
    protocol = type(
        "HeaderDeadlineProtocol", (HeaderDeadlineProtocol,), {"header_timeout": read_timeout}
    )
    options = {"lifespan": "on", "timeout_graceful_shutdown": 5, **options}
    return uvicorn.Config(app, http=protocol, **options)


def _clean_arg(arg: object) -> object:
    return arg if isinstance(arg, int | float) else clean(str(arg))


class CleanLogText(logging.Filter):
    """Strips control codes from a log record: serve logs upstream error texts, and a
    terminal must not act on an escape sequence a server (or a client) put there."""

    _tracebacks = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = clean(str(record.msg))
        if isinstance(record.args, tuple):
            record.args = tuple(_clean_arg(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _clean_arg(value) for key, value in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = clean(self._tracebacks.formatException(record.exc_info))
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging, plus serve's own lines on the root logger, all through CleanLogText."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["filters"] = {"clean": {"()": CleanLogText}}
    config["formatters"]["plain"] = {"format": "%(levelname)s:     %(name)s: %(message)s"}
    config["handlers"]["plain"] = {
        "class": "logging.StreamHandler",
        "formatter": "plain",
        "stream": "ext://sys.stderr",
    }
    for handler in config["handlers"].values():
        handler["filters"] = ["clean"]
    config["root"] = {"handlers": ["plain"], "level": "INFO"}
    return config


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def run_serve(settings: Settings, host: str, port: int, max_body: int = MAX_BODY) -> int:
    """Run `tui-chat serve` until Ctrl+C; returns the exit status."""
    from tui_chat.providers import make_provider

    try:
        sock = listen(host, port, BACKLOG)
    except OSError as exc:  # gaierror (unknown host) included
        reason = exc.strerror or str(exc)
        where = clean(_host_port(host, port))
        print(f"tui-chat serve: error: cannot listen on {where}: {reason}", file=sys.stderr)
        return 2
    with sock:
        try:
            provider = make_provider(settings)
        except ProviderError as exc:
            print(f"tui-chat: {clean(_redact(exc.message, settings.api_key))}", file=sys.stderr)
            return 1
        bound_host, bound_port = sock.getsockname()[:2]
        print(
            clean(
                f"tui-chat serve: listening on http://{_host_port(bound_host, bound_port)}"
                f" (provider {provider.name}, model {settings.model})"
            ),
            flush=True,
        )
        app = create_app(provider, settings, max_body=max_body)
        server = uvicorn.Server(uvicorn_config(app, log_config=log_config(), log_level="info"))
        try:
            server.run(sockets=[sock])
        except KeyboardInterrupt:  # uvicorn re-raises the SIGINT it handled
            pass
    return 0 if server.started else 1
