"""The tui-chat backend protocol (`POST /api/chat`, `POST /api/chat/stream`).

The stream is raw text. Errors before it starts come as a 400/500 JSON `{"error": ...}`;
once it has begun, the only way left for the server to fail is to append a marker such as
``"\\n[Error occurred]"`` and end the body. Markers are stripped and turned into a
ProviderError whose `partial` keeps the text already shown. A marker may arrive split
across chunks, so the few trailing characters that could begin one are held back, and
nothing else: ordinary text is never delayed.

A wire tap sees each raw chunk as received, marker included, with the text it released;
text held back until the body ended comes in a last event of kind "end".
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx

from tui_chat.core.protocol import (
    ChatRequest,
    Done,
    Event,
    ProviderError,
    TextDelta,
    WireEvent,
    WireTap,
)
from tui_chat.providers import preconnect, read_pacing
from tui_chat.providers.errors import (
    ErrorContext,
    RetryPolicy,
    clean_detail,
    connect_timeout,
    error_detail,
    guarded,
    parse_retry_after,
    status_error,
)
from tui_chat.settings.config import DEFAULT_BACKEND_URL

ERROR_MARKERS: tuple[str, ...] = ("\n[Error occurred]", "\n[Error during generation]")


class MarkerFilter:
    """Splits streamed text into what is safe to show now and a trailing error marker.

    A marker also counts at the very start of the reply without its newline: the stream
    is treated as if it began with "\\n" (a virtual character that is never emitted).
    """

    def __init__(self, markers: tuple[str, ...] = ERROR_MARKERS) -> None:
        self._markers = markers
        self._buffer = "\n"
        self._virtual = True  # the buffer still starts with the virtual "\n"

    def feed(self, text: str) -> tuple[str, str | None]:
        """Returns (text to show, marker found or None); after a marker, stop feeding."""
        self._buffer += text
        hits = [(i, m) for m in self._markers if (i := self._buffer.find(m)) >= 0]
        if hits:
            index, marker = min(hits)
            return self._take(index), marker
        keep = self._longest_marker_prefix_suffix()
        return self._take(len(self._buffer) - keep), None

    def flush(self) -> str:
        """End of stream: whatever was held back was not a marker after all."""
        return self._take(len(self._buffer))

    def _take(self, end: int) -> str:
        out, self._buffer = self._buffer[:end], self._buffer[end:]
        if self._virtual and end > 0:
            out = out[1:]
            self._virtual = False
        return out

    def _longest_marker_prefix_suffix(self) -> int:
        buffer = self._buffer
        best = 0
        for marker in self._markers:
            for size in range(min(len(marker) - 1, len(buffer)), best, -1):
                if buffer.endswith(marker[:size]):
                    best = size
                    break
        return best


class BackendProvider:
    name = "backend"

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 2,
        retry_backoff: float = 1.0,
    ) -> None:
        """`timeout` is the idle timeout: httpx's read timeout is per read, so it counts
        from the last byte. Retries are `guarded`'s (429 and 5xx only, shown), so the
        transport makes none of its own."""
        self.base_url = (base_url or DEFAULT_BACKEND_URL).rstrip("/")
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=connect_timeout(timeout)),
            transport=httpx.AsyncHTTPTransport(retries=0),
        )
        self._errors = ErrorContext(url=self.base_url, timeout=timeout, uses_api_key=False)
        self._retry = RetryPolicy(max_retries=max_retries, backoff=retry_backoff)
        # First: the connections opened ahead are paced too. The protocol has no end
        # event but its error lines; a plain end is the body's terminator.
        read_pacing.install(self._client, tuple(m.encode() for m in ERROR_MARKERS))
        self._preconnector = preconnect.install(self._client, self.base_url)
        self._connect_timeout = connect_timeout(timeout)

    async def warm(self) -> None:
        """Open the connection the next request will use (see providers/preconnect.py)."""
        if self._preconnector is not None:
            await self._preconnector.warm(self._connect_timeout)

    def stream(self, request: ChatRequest, *, tap: WireTap | None = None) -> AsyncIterator[Event]:
        return guarded(
            lambda: self._events(request, tap),
            self._errors,
            streaming=request.stream,
            retry=self._retry,
        )

    async def aclose(self) -> None:
        if self._preconnector is not None:
            await self._preconnector.aclose()
        await self._client.aclose()

    @staticmethod
    def _payload(request: ChatRequest) -> dict[str, Any]:
        history = [{"role": "system", "content": request.system}] if request.system else []
        history += [{"role": m.role, "content": m.content} for m in request.history]
        return {"message": request.prompt, "history": history}

    def _status_error(self, response: httpx.Response) -> ProviderError:
        return status_error(
            response.status_code,
            error_detail(response.content),
            self._errors,
            retry_after=parse_retry_after(response.headers),
        )

    async def _events(self, request: ChatRequest, tap: WireTap | None) -> AsyncIterator[Event]:
        payload = self._payload(request)
        if not request.stream:
            response = await self._client.post("/api/chat", json=payload)
            if response.status_code != 200:
                raise self._status_error(response)
            try:
                data = response.json()
            except ValueError:
                if tap is not None:  # show the inspector what could not be read
                    tap(WireEvent(self.name, "response", response.text, time.monotonic()))
                raise
            text = data.get("response") if isinstance(data, dict) else None
            answered = isinstance(text, str) and not (
                isinstance(data, dict) and data.get("success") is False
            )
            if tap is not None:
                tap(
                    WireEvent(
                        self.name, "response", data, time.monotonic(), text if answered else ""
                    )
                )
            if not answered:
                why = error_detail(data) if isinstance(data, dict) else ""
                detail = clean_detail(why or "no response in its answer", None)
                raise ProviderError(f"The backend could not answer: {detail}", kind="server")
            if text:
                yield TextDelta(text)
            yield Done()
            return

        async with self._client.stream("POST", "/api/chat/stream", json=payload) as response:
            if response.status_code != 200:
                await response.aread()
                raise self._status_error(response)
            markers = MarkerFilter()
            async for chunk in response.aiter_text():
                text, marker = markers.feed(chunk)
                if tap is not None:  # the raw chunk, marker and all: boundaries as received
                    tap(WireEvent(self.name, "text", chunk, time.monotonic(), text))
                if text:
                    yield TextDelta(text)
                if marker is not None:
                    raise ProviderError(
                        f"The backend failed mid-reply ({marker.strip()}). Try again.",
                        kind="server",
                    )
            if rest := markers.flush():
                if tap is not None:  # held back as a possible marker; the body's end frees it
                    tap(WireEvent(self.name, "end", "", time.monotonic(), rest))
                yield TextDelta(rest)
        yield Done()
