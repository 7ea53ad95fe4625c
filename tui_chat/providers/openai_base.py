"""What the Responses and Chat Completions providers share: the SDK client and its errors.

Both talk to OpenAI or to any compatible server (Ollama, vLLM, llama.cpp, LM Studio) via
`base_url`. Local servers need no key, but the SDK refuses to start without one, so they
get a dummy; only the real OpenAI endpoint without a key is an error, and it is reported
on the first request rather than at start-up so the app can still open and say why.

Importing the SDK takes 0.4 s, longer than the app takes to draw its first frame, so it
is never imported here: `prepare()` imports it and builds the client on a thread (the
chat screen calls it once its first frame is out), and a request made before that has
finished waits for it without blocking the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from tui_chat.core.protocol import ChatRequest, Event, ProviderError, Usage, WireEvent, WireTap
from tui_chat.providers import preconnect, read_pacing, request_sent
from tui_chat.providers.errors import (
    ErrorContext,
    RetryPolicy,
    connect_timeout,
    guarded,
    to_provider_error,
)

if TYPE_CHECKING:
    import openai
    from httpx2 import Request

#: Where the SDK sends requests when no `base_url` is given (its own default).
OPENAI_URL = "https://api.openai.com/v1"

#: What marks a stream's last event: Chat Completions' `[DONE]`, the Responses API's
#: terminal events (see providers/read_pacing.py: what follows is read at once).
STREAM_ENDS = (
    b"data: [DONE]",
    b"response.completed",
    b"response.incomplete",
    b"response.failed",
)

#: Sent to servers that ignore keys (the SDK will not build a client without one).
DUMMY_API_KEY = "not-needed"

MISSING_KEY_MESSAGE = (
    "No API key. Set {variable} (or put it in .env), or use --base-url for a local"
    " server that needs none."
)


class OpenAIProviderBase(ABC):
    """An `openai.AsyncOpenAI` client plus the stream guard; subclasses write `_events`."""

    name: str = "openai"
    #: Calls `request_sent` once a request is on the wire.
    tells_when_sent: bool = True

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
        retry_backoff: float = 1.0,
        key_variable: str = "OPENAI_API_KEY",
    ) -> None:
        """`timeout` is the idle timeout: seconds without a byte before the reply fails
        (the SDK's read timeout applies per read, so it counts from the last byte).
        The SDK never retries by itself: `guarded` does, so a retry can be shown."""
        self._missing_key = not api_key and not base_url
        #: Named when the key is missing: a profile's own variable, not always OPENAI_API_KEY.
        self._key_variable = key_variable or "OPENAI_API_KEY"
        # What the SDK would pick itself (it also reads OPENAI_BASE_URL), without it.
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or OPENAI_URL).rstrip("/")
        self._api_key = api_key or DUMMY_API_KEY
        self._timeout = timeout
        self._built: Future[openai.AsyncOpenAI] | None = None
        self._preconnector: preconnect.Preconnector | None = None
        self._errors = ErrorContext(url=self.base_url, timeout=timeout, secret=api_key)
        self._retry = RetryPolicy(max_retries=max_retries, backoff=retry_backoff)

    def prepare(self, *, rehearse: bool = True) -> None:
        """Import the SDK and build the client on a thread, if not begun yet; returns at once.

        `rehearse`: then, on that thread, run one streamed request through the SDK to a
        transport that never leaves the process, so the first real request does not pay
        for what only a first request does (see `_rehearse`). Not when a request is
        already waiting for the client (`client()`): it would wait for that too.
        """
        if self._built is not None:
            return
        built: Future[openai.AsyncOpenAI] = Future()
        self._built = built

        def build() -> None:
            try:
                client = self._new_client()
            except BaseException as error:  # handed to whoever awaits the client
                built.set_exception(error)
                return
            built.set_result(client)
            if rehearse:
                _rehearse(client)

        threading.Thread(target=build, name=f"{self.name}-sdk", daemon=True).start()

    def _new_client(self) -> openai.AsyncOpenAI:
        import anyio._backends._asyncio  # noqa: F401  (imported by the first request: 60 ms)
        import openai

        # The SDK's own defaults, plus a hook that says when a request is on the wire.
        http = openai.DefaultAsyncHttpxClient(event_hooks={"request": [_trace_sent]})
        # First: the connections opened ahead are paced too. Either protocol's last
        # event ends the pacing of that response (one client serves both).
        read_pacing.install(http, STREAM_ENDS)
        self._preconnector = preconnect.install(http, self.base_url)
        return openai.AsyncOpenAI(
            api_key=self._api_key,
            base_url=self.base_url,
            timeout=openai.Timeout(self._timeout, connect=connect_timeout(self._timeout)),
            max_retries=0,
            http_client=http,
        )

    async def warm(self) -> None:
        """Open the connection the next request will use (see providers/preconnect.py),
        once the client being built is (nothing is built for it)."""
        built = self._built
        if built is None:
            return
        with contextlib.suppress(Exception):  # the request will say what is wrong
            # Shielded: cancelling this wait (a newer warm-up, Esc) must not cancel the
            # build that every request waits for.
            await asyncio.shield(asyncio.wrap_future(built))
        if self._preconnector is not None:
            await self._preconnector.warm(connect_timeout(self._timeout))

    async def client(self) -> openai.AsyncOpenAI:
        """The SDK client, once built (prepared now if nobody asked before)."""
        self.prepare(rehearse=False)
        assert self._built is not None
        if self._built.done():
            return self._built.result()
        # Shielded, as in `warm`: a reply stopped while the SDK loads must not cancel it.
        return await asyncio.shield(asyncio.wrap_future(self._built))

    def stream(self, request: ChatRequest, *, tap: WireTap | None = None) -> AsyncIterator[Event]:
        return guarded(
            lambda: self._events(request, tap),
            self._errors,
            streaming=request.stream,
            retry=self._retry,
        )

    @abstractmethod
    def _events(self, request: ChatRequest, tap: WireTap | None) -> AsyncIterator[Event]:
        """The protocol itself, as an async generator; errors are mapped by `guarded`."""

    async def _raw_stream(self, path: str, body: dict[str, Any]) -> openai.AsyncStream[Any]:
        """A streamed POST whose events arrive as the server's JSON, not as typed models.

        Building the SDK's pydantic model for every event costs about 0.25 ms, a quarter
        of a core at 1,000 tokens/s; plain dicts cost nothing. The SDK still does the
        rest: auth, retries, SSE decoding, status-code errors and in-stream `error`s.
        """
        client = await self.client()  # first: it imports the SDK off the event loop
        import openai

        return await client.post(
            path,
            body={**body, "stream": True},
            cast_to=object,
            stream=True,
            stream_cls=openai.AsyncStream[Any],
        )

    def _tap(self, tap: WireTap, kind: str, model: Any, text: str = "") -> None:
        """Hand one event to the tap as the JSON the server sent (a raw dict as it is, an SDK
        model without the fields the server left unset)."""
        payload = (
            model if isinstance(model, dict) else model.model_dump(mode="json", exclude_unset=True)
        )
        tap(WireEvent(self.name, kind, payload, time.monotonic(), text))

    def _require_key(self) -> None:
        if self._missing_key:
            raise ProviderError(
                MISSING_KEY_MESSAGE.format(variable=self._key_variable), kind="auth"
            )

    async def list_models(self) -> list[str]:
        """Model ids from `GET /models`, for the model switcher (not every server has it)."""
        self._require_key()
        try:
            client = await self.client()
            return sorted([model.id async for model in client.models.list()])
        except Exception as exc:
            mapped = to_provider_error(exc, self._errors)
            if mapped is None:
                raise
            raise mapped from None

    async def aclose(self) -> None:
        """Close the client if it was built; one still being built has no connection."""
        built = self._built
        if built is not None and built.done() and built.exception() is None:
            if self._preconnector is not None:
                await self._preconnector.aclose()
            await built.result().close()


def _rehearse(client: openai.AsyncOpenAI) -> None:
    """One streamed POST through a copy of `client` whose transport answers in-process
    (nothing is sent anywhere), and one connection to a socket of our own, for the costs
    only a first request has: the SDK looks up the platform for its headers on a worker
    thread during the first request (2-6 ms after Enter otherwise), and the first run of
    its request, SSE and connection code is slow (1-2 ms more). A rehearsal that fails
    changes nothing: the first request then pays as before."""
    import anyio
    import httpx2
    import openai

    def answer(request: httpx2.Request) -> httpx2.Response:
        sse = b'data: {"choices": []}\n\ndata: [DONE]\n\n'
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=sse)

    async def once() -> None:
        async with httpx2.AsyncClient(transport=httpx2.MockTransport(answer)) as http:
            stand_in = client.with_options(http_client=http)
            stream = await stand_in.post(
                "/chat/completions",
                body={"model": "rehearsal", "messages": [], "stream": True},
                cast_to=object,
                stream=True,
                stream_cls=openai.AsyncStream[Any],
            )
            async for _ in stream:
                pass
            if getattr(client, "_platform", False) is None:  # what the lookup found
                client._platform = getattr(stand_in, "_platform", None)
        with socket.create_server(("127.0.0.1", 0)) as listener:  # loopback, ours
            connection = await anyio.connect_tcp("127.0.0.1", listener.getsockname()[1])
            await connection.aclose()

    with contextlib.suppress(Exception):
        asyncio.run(once())


async def _trace_sent(request: Request) -> None:
    """Have httpcore say when this request's body is written, if the reply asked to know
    (`request_sent`, set in the context the reply runs in)."""
    said = request_sent.get()
    if said is not None:
        request.extensions = {**request.extensions, "trace": _tracer(said)}


def _tracer(said: Callable[[], None]) -> Callable[[str, dict[str, Any]], Awaitable[None]]:
    async def trace(event: str, info: dict[str, Any]) -> None:
        if event.endswith("send_request_body.complete"):
            said()

    return trace


def make_usage(input_tokens: int | None, output_tokens: int | None) -> Usage | None:
    if input_tokens is None and output_tokens is None:
        return None
    return Usage(input_tokens=input_tokens, output_tokens=output_tokens)


def field(obj: Any, name: str) -> Any:
    """`name` of a raw JSON dict (streams) or of an SDK model (whole responses)."""
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
