"""One mapping from transport and SDK exceptions to `ProviderError`s a person can act on.

Every network provider shares it, so a refused connection or a rejected key reads the
same whichever protocol is in use. The openai SDK runs on `httpx2` and the backend
provider on `httpx`; both are recognised. Neither the SDK nor httpx is imported here: an
exception of a library that was never imported cannot occur, so `sys.modules` is enough
and the backend provider does not pay for importing the SDK.

No message ever contains the API key: servers echo rejected keys in their error bodies,
so server text is redacted and a 401 gets a fixed message.

The guard also retries, itself rather than in the SDK or transport, so each retry can be
shown (`Retrying`): only what the server said to retry (429 and 5xx, after its
Retry-After), never a timeout or a dropped connection, and never once text has arrived.
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from tui_chat.core.protocol import (
    ErrorKind,
    Event,
    ProviderError,
    ReasoningDelta,
    Retrying,
    TextDelta,
)
from tui_chat.core.redact import display_url, mask_credentials

#: Longest piece of server text quoted in a message (error pages can be whole HTML files).
MAX_DETAIL = 300
#: Cap on the connect phase: an unreachable host should fail fast even with a long read timeout.
MAX_CONNECT_TIMEOUT = 10.0
#: Longest Retry-After we wait out; a server asking for more gets an error saying so, since
#: retrying sooner than it asked would only be refused again.
MAX_RETRY_DELAY = 20.0
#: What to tell a person whose server is slower than the idle timeout.
LONGER = "allow longer with --timeout SECONDS"


def connect_timeout(timeout: float) -> float:
    return min(MAX_CONNECT_TIMEOUT, timeout)


@dataclass(frozen=True, slots=True)
class ErrorContext:
    """What a message needs to say where and how long; `secret` is redacted from all text."""

    url: str
    timeout: float
    secret: str | None = field(default=None, repr=False)
    #: 401 says to set OPENAI_API_KEY; the backend protocol has no key, so it says otherwise.
    uses_api_key: bool = True


def redact(text: str, secret: str | None) -> str:
    """The key masked where it can stand, never blindly (a key "x" must not eat "exist")."""
    return mask_credentials(text, (secret,)) if secret else text


def clean_detail(text: str, secret: str | None) -> str:
    """Server-supplied text, one line, redacted and short enough for a status line."""
    text = " ".join(redact(text, secret).split())
    if len(text) > MAX_DETAIL:
        text = text[: MAX_DETAIL - 1] + "…"
    return text


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from `Retry-After-Ms` or `Retry-After` (seconds or an HTTP date); None if absent
    or unreadable. Servers in the wild send fractions, so those are accepted too."""
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / scale
        except ValueError:
            if scale == 1000.0:
                continue
            import email.utils  # an HTTP date: rare, and 3 ms at every start otherwise

            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError):
                return None
            seconds = when.timestamp() - time.time()
        return max(0.0, seconds) if math.isfinite(seconds) else None
    return None


def status_error(
    status: int,
    detail: str,
    ctx: ErrorContext,
    *,
    retry_after: float | None = None,
) -> ProviderError:
    """A ProviderError for an HTTP error status; `detail` is the server's own message."""
    detail = clean_detail(detail, ctx.secret)
    said = f": {detail.rstrip('.')}" if detail else ""
    kind: ErrorKind
    if status == 401:
        kind = "auth"
        if ctx.uses_api_key:
            message = "The server rejected the API key (401). Set OPENAI_API_KEY (or .env) to a valid key."
        else:
            message = f"The server at {display_url(ctx.url)} refused the request (401){said}."
    elif status == 403:
        kind = "auth"
        message = f"Access denied (403){said}. Check that your key may use this model."
    elif status == 404:
        kind = "bad_request"
        message = f"Not found (404){said}. Check --model and --base-url ({display_url(ctx.url)})."
    elif status == 429:
        kind = "rate_limit"
        wait = f"wait {math.ceil(retry_after)} s" if retry_after else "wait a moment"
        message = f"Rate limited by the server (429){said}. {wait.capitalize()} and try again."
    elif status >= 500:
        kind = "server"
        message = f"The server failed ({status}){said}. Try again in a moment."
    else:
        kind = "bad_request"
        message = f"The server refused the request ({status}){said}."
    return ProviderError(message, kind=kind, status=status, retry_after=retry_after)


def error_detail(body: Any) -> str:
    """The human part of an error body: OpenAI-style, backend-style, or plain text."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            inner = inner.get("message") or inner.get("detail") or ""
        if not inner and "detail" in body:
            inner = body["detail"]
        return inner if isinstance(inner, str) else json.dumps(inner)
    return "" if body is None else str(body)


def _classes(name: str) -> tuple[type[BaseException], ...]:
    """`httpx.<name>` and `httpx2.<name>`, for whichever of the two is loaded."""
    found = []
    for module_name in ("httpx", "httpx2"):
        module = sys.modules.get(module_name)
        cls = getattr(module, name, None) if module is not None else None
        if isinstance(cls, type):
            found.append(cls)
    return tuple(found)


def _is(exc: BaseException, *names: str) -> bool:
    return any(isinstance(exc, _classes(name)) for name in names)


def _transport_error(exc: BaseException, ctx: ErrorContext) -> ProviderError | None:
    url = display_url(ctx.url)
    if _is(exc, "ConnectError", "ConnectTimeout", "ProxyError"):
        return ProviderError(
            f"Cannot reach {url}: is the server running? Check --base-url.", kind="connection"
        )
    if _is(exc, "TimeoutException"):
        return _timeout_error(ctx)
    if _is(exc, "DecodingError"):
        return _protocol_error(exc, ctx)
    if _is(exc, "RemoteProtocolError", "NetworkError"):
        return ProviderError(
            f"The connection to {url} dropped before the reply finished. Try again.",
            kind="connection",
        )
    if _is(exc, "HTTPStatusError"):
        response = exc.response  # type: ignore[attr-defined]
        return status_error(
            response.status_code,
            error_detail(response.text),
            ctx,
            retry_after=parse_retry_after(response.headers),
        )
    if _is(exc, "TransportError"):
        return ProviderError(f"Talking to {url} failed: {exc}. Try again.", kind="connection")
    return None


def _timeout_error(ctx: ErrorContext) -> ProviderError:
    return ProviderError(
        f"No answer from {display_url(ctx.url)} within {ctx.timeout:g} s."
        f" The server may be busy or stuck: try again, or {LONGER}.",
        kind="timeout",
    )


def stall_message(ctx: ErrorContext, *, streaming: bool, midway: bool) -> str:
    """What an idle timeout means for this reply. The timeout counts from the last byte
    received (httpx's read timeout is per read), so "no data for N s" is exact."""
    url, waited = display_url(ctx.url), f"{ctx.timeout:g} s"
    if not streaming:
        return (
            f"No reply from {url} within {waited}. A reply that is not streamed comes only"
            f" once it is complete: turn streaming on, or {LONGER}."
        )
    if midway:
        return f"The reply stalled: no data from {url} for {waited}. Try again, or {LONGER}."
    return (
        f"No data from {url} for {waited} before the reply began: the server may be busy"
        f" or stuck. Try again, or {LONGER}."
    )


def _protocol_error(exc: BaseException, ctx: ErrorContext) -> ProviderError:
    reason = clean_detail(f"{type(exc).__name__}: {exc}", ctx.secret)
    return ProviderError(
        f"The server at {display_url(ctx.url)} sent a reply tui-chat cannot read ({reason})."
        " Check that --api matches the server.",
        kind="protocol",
    )


def _openai_error(exc: BaseException, ctx: ErrorContext) -> ProviderError | None:
    openai = sys.modules.get("openai")
    # The SDK may be half-imported (it loads on a thread after the first frame): then
    # its classes are not all there yet, and no error of it can have been raised.
    base = getattr(openai, "OpenAIError", None)
    if not isinstance(base, type) or not isinstance(exc, base):
        return None
    if isinstance(exc, openai.APIStatusError):
        return status_error(
            exc.status_code,
            error_detail(exc.body),
            ctx,
            retry_after=parse_retry_after(exc.response.headers),
        )
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        cause = exc.__cause__
        mapped = _transport_error(cause, ctx) if cause is not None else None
        if mapped is not None:
            return mapped
        if isinstance(exc, openai.APITimeoutError):
            return _timeout_error(ctx)
        return ProviderError(
            f"The connection to {display_url(ctx.url)} failed. Try again.", kind="connection"
        )
    if isinstance(exc, openai.APIResponseValidationError):
        return _protocol_error(exc, ctx)
    if isinstance(exc, openai.APIError):  # an error object inside a stream
        detail = clean_detail(exc.message, ctx.secret)
        return ProviderError(f"The server reported an error: {detail}", kind="server")
    return ProviderError(clean_detail(str(exc), ctx.secret) or type(exc).__name__, kind="server")


def to_provider_error(exc: BaseException, ctx: ErrorContext) -> ProviderError | None:
    """The ProviderError for `exc`, or None for exceptions that are bugs, not failures."""
    if isinstance(exc, ProviderError):
        return exc
    mapped = _openai_error(exc, ctx) or _transport_error(exc, ctx)
    if mapped is None and isinstance(exc, ValueError):  # JSON, UTF-8, pydantic validation
        mapped = _protocol_error(exc, ctx)
    if mapped is not None:
        mapped.message = redact(mapped.message, ctx.secret)
        mapped.args = (mapped.message,)
    return mapped


def _mentions(exc: BaseException, secret: str | None) -> bool:
    if not secret:
        return False
    text = f"{exc} {getattr(exc, 'body', '')}"
    return secret in text


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When a failed attempt is tried again: `max_retries` times at most, for 429 and 5xx
    only, after the server's Retry-After (up to `max_delay`) or else `backoff` seconds,
    doubling each time."""

    max_retries: int = 2
    backoff: float = 1.0
    max_delay: float = MAX_RETRY_DELAY

    def delay(self, error: ProviderError, retries_done: int) -> float | None:
        """Seconds to wait before trying again, or None for "do not"."""
        status = error.status
        if retries_done >= self.max_retries or status is None:
            return None
        if status != 429 and not 500 <= status <= 599:
            return None
        if error.retry_after is not None:
            return error.retry_after if error.retry_after <= self.max_delay else None
        return min(self.backoff * 2**retries_done, self.max_delay)


NO_RETRIES = RetryPolicy(max_retries=0)


async def guarded(
    attempt: Callable[[], AsyncIterator[Event]],
    ctx: ErrorContext,
    *,
    streaming: bool = True,
    retry: RetryPolicy = NO_RETRIES,
) -> AsyncIterator[Event]:
    """Pass the events of `attempt()` through, turning failures into ProviderError with the
    partial text, and trying again (with a `Retrying` first) where `retry` allows it.

    `aclosing` matters: when the consumer stops early, the inner generator (and with it
    the HTTP response) is closed now, not whenever the garbage collector gets to it.
    """
    retries = 0
    while True:
        received: list[str] = []
        shown = False  # any text at all, reasoning included: a retry would repeat it
        try:
            events = attempt()
            async with aclosing(events):  # type: ignore[type-var]
                async for event in events:
                    if isinstance(event, TextDelta):
                        received.append(event.text)
                    shown = shown or isinstance(event, TextDelta | ReasoningDelta)
                    yield event
            return
        except Exception as exc:
            mapped = to_provider_error(exc, ctx)
            if mapped is None:
                raise
            delay = None if shown else retry.delay(mapped, retries)
            if delay is None:
                _finish(mapped, ctx, received, retries, streaming=streaming)
                if mapped is exc:
                    raise
                # A cause that quotes the key would print it in any traceback: drop that one.
                if _mentions(exc, ctx.secret):
                    raise mapped from None
                raise mapped from exc
        # Outside the `except`, so the failure is not chained to whatever comes next.
        assert delay is not None
        retries += 1
        yield Retrying(retries, retry.max_retries, delay, f"server said {mapped.status}")
        await asyncio.sleep(delay)


def _finish(
    error: ProviderError, ctx: ErrorContext, received: list[str], retries: int, *, streaming: bool
) -> None:
    """The last touches on an error that ends the reply: partial text, what a timeout
    means here, and how many retries came before it."""
    if not error.partial:
        error.partial = "".join(received)
    if error.kind == "timeout":
        error.message = stall_message(ctx, streaming=streaming, midway=bool(received))
    if retries:
        error.message += f" (Gave up after {retries} {'retry' if retries == 1 else 'retries'}.)"
    error.args = (error.message,)
