"""`tui-chat serve`: the chat backend protocol (`/api/chat`, `/api/chat/stream`) in Python.

Any provider can sit behind it, so a browser front end or the TUI's "backend"
provider can talk to an LLM while the API key stays on this machine. Responses
carry only the reply text or a fixed error string: provider messages (which may
quote server text) go to the log, never to the client.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from tui_chat.config import Settings
from tui_chat.providers.base import (
    ChatMessage,
    ChatRequest,
    Event,
    Provider,
    ProviderError,
    TextDelta,
    collect,
)

logger = logging.getLogger("tui_chat.server")

GREETING = "Backend is running successfully."
#: Appended to a stream that fails after it began (the status line is already sent).
STREAM_ERROR_MARKER = "\n[Error occurred]"
#: "system" is accepted because the TUI's backend provider sends its system prompt as a
#: leading history turn; such turns are folded into the request's system prompt.
HISTORY_ROLES = ("user", "assistant", "system")

T = TypeVar("T")


class BadRequest(Exception):
    """A client mistake; `message` goes back verbatim as `{"error": message}` with 400."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ClientGone(Exception):
    """The client hung up while we waited on the provider."""


def parse_body(raw: bytes) -> tuple[str, tuple[ChatMessage, ...]]:
    """Validate a chat body into (message, history) or raise BadRequest."""
    try:
        body = json.loads(raw)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
        raise BadRequest("Invalid JSON body") from None
    if not isinstance(body, dict):
        raise BadRequest("Invalid JSON body")
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        raise BadRequest("Message is required")
    return message, parse_history(body.get("history"))


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
        turns.append(ChatMessage(role, content))
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
    return text.replace(secret, "***") if secret else text


def create_app(provider: Provider, settings: Settings) -> Starlette:
    """The backend app; it owns `provider` and closes it on shutdown."""

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

    def log_failure(what: str, exc: BaseException) -> None:
        if isinstance(exc, ProviderError):
            detail = f"{exc.kind} error: {exc.message}"
            logger.error("%s: %s", what, _redact(detail, settings.api_key))
        else:
            logger.error("%s: unexpected %s", what, type(exc).__name__, exc_info=exc)

    async def root(request: Request) -> Response:
        return PlainTextResponse(GREETING)

    async def chat(request: Request) -> Response:
        try:
            message, history = parse_body(await request.body())
        except BadRequest as exc:
            return JSONResponse({"error": exc.message}, status_code=400)
        except ClientDisconnect:
            return Response(status_code=499)
        try:
            reply = await unless_disconnected(
                request, collect(provider, chat_request(message, history, stream=False))
            )
        except ClientGone:
            return Response(status_code=499)  # nobody is listening; the status is for logs
        except Exception as exc:
            log_failure("/api/chat failed", exc)
            return JSONResponse(
                {"error": "Failed to get AI response", "success": False}, status_code=500
            )
        return JSONResponse({"response": reply.text, "success": True})

    async def chat_stream(request: Request) -> Response:
        try:
            message, history = parse_body(await request.body())
        except BadRequest as exc:
            return JSONResponse({"error": exc.message}, status_code=400)
        except ClientDisconnect:
            return Response(status_code=499)
        events = provider.stream(chat_request(message, history, stream=True))
        # Pull the first event before committing to a 200: a failure that happens
        # before any text can still get a proper status code and a JSON body.
        try:
            first = await unless_disconnected(request, anext(events))
        except StopAsyncIteration:
            first = None
        except ClientGone:
            await _aclose(events)
            return Response(status_code=499)
        except Exception as exc:
            await _aclose(events)
            log_failure("/api/chat/stream failed before streaming", exc)
            return JSONResponse(
                {"error": "Failed to stream AI response", "success": False}, status_code=500
            )
        return _ClosingStreamingResponse(
            _body(first, events, log_failure),
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


async def _body(
    first: Event | None,
    events: AsyncIterator[Event],
    log_failure: Callable[[str, BaseException], None],
) -> AsyncIterator[str]:
    """The streamed text; a failure after the 200 can only be reported in-band."""
    try:
        if isinstance(first, TextDelta) and first.text:
            yield first.text
        async for event in events:
            if isinstance(event, TextDelta) and event.text:
                yield event.text
    except Exception as exc:
        log_failure("/api/chat/stream failed mid-stream", exc)
        yield STREAM_ERROR_MARKER
    finally:
        await _aclose(events)


def run_serve(settings: Settings, host: str, port: int) -> int:
    """Run `tui-chat serve` until Ctrl+C; returns the exit status."""
    import sys

    import uvicorn

    from tui_chat.providers import make_provider

    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    try:
        provider = make_provider(settings)
    except ProviderError as exc:
        print(f"tui-chat: {_redact(exc.message, settings.api_key)}", file=sys.stderr)
        return 1
    shown_host = f"[{host}]" if ":" in host else host
    print(
        f"tui-chat serve: listening on http://{shown_host}:{port}"
        f" (provider {provider.name}, model {settings.model})",
        flush=True,
    )
    try:
        uvicorn.run(
            create_app(provider, settings),
            host=host,
            port=port,
            log_level="info",
            timeout_graceful_shutdown=5,
        )
    except KeyboardInterrupt:  # uvicorn re-raises the SIGINT it handled
        pass
    return 0
