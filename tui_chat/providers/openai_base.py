"""What the Responses and Chat Completions providers share: the SDK client and its errors.

Both talk to OpenAI or to any compatible server (Ollama, vLLM, llama.cpp, LM Studio) via
`base_url`. Local servers need no key, but the SDK refuses to start without one, so they
get a dummy; only the real OpenAI endpoint without a key is an error, and it is reported
on the first request rather than at start-up so the app can still open and say why.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import openai

from tui_chat.core.protocol import ChatRequest, Event, ProviderError, Usage, WireEvent, WireTap
from tui_chat.providers.errors import (
    ErrorContext,
    RetryPolicy,
    connect_timeout,
    guarded,
    to_provider_error,
)

#: Sent to servers that ignore keys (the SDK will not build a client without one).
DUMMY_API_KEY = "not-needed"

MISSING_KEY_MESSAGE = (
    "No API key. Set {variable} (or put it in .env), or use --base-url for a local"
    " server that needs none."
)


class OpenAIProviderBase:
    """An `openai.AsyncOpenAI` client plus the stream guard; subclasses write `_events`."""

    name: str = "openai"

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
        self._client = openai.AsyncOpenAI(
            api_key=api_key or DUMMY_API_KEY,
            base_url=base_url,
            timeout=openai.Timeout(timeout, connect=connect_timeout(timeout)),
            max_retries=0,
        )
        self.base_url = str(self._client.base_url).rstrip("/")
        self._errors = ErrorContext(url=self.base_url, timeout=timeout, secret=api_key)
        self._retry = RetryPolicy(max_retries=max_retries, backoff=retry_backoff)

    def stream(self, request: ChatRequest, *, tap: WireTap | None = None) -> AsyncIterator[Event]:
        return guarded(
            lambda: self._events(request, tap),
            self._errors,
            streaming=request.stream,
            retry=self._retry,
        )

    def _events(self, request: ChatRequest, tap: WireTap | None) -> AsyncIterator[Event]:
        """The protocol itself, as an async generator; errors are mapped by `guarded`."""
        raise NotImplementedError

    async def _raw_stream(self, path: str, body: dict[str, Any]) -> openai.AsyncStream[Any]:
        """A streamed POST whose events arrive as the server's JSON, not as typed models.

        Building the SDK's pydantic model for every event costs about 0.25 ms, a quarter
        of a core at 1,000 tokens/s; plain dicts cost nothing. The SDK still does the
        rest: auth, retries, SSE decoding, status-code errors and in-stream `error`s.
        """
        return await self._client.post(
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
            return sorted([model.id async for model in self._client.models.list()])
        except Exception as exc:
            mapped = to_provider_error(exc, self._errors)
            if mapped is None:
                raise
            raise mapped from None

    async def aclose(self) -> None:
        await self._client.close()


def make_usage(input_tokens: int | None, output_tokens: int | None) -> Usage | None:
    if input_tokens is None and output_tokens is None:
        return None
    return Usage(input_tokens=input_tokens, output_tokens=output_tokens)


def field(obj: Any, name: str) -> Any:
    """`name` of a raw JSON dict (streams) or of an SDK model (whole responses)."""
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
