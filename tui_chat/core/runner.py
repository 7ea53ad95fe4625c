"""The reply runner: one reply from request to end, the same for the TUI, compare mode,
`ask` and `serve`.

It is the one loop over a provider's stream and the one place a reply ends. It owns the
timer, hands every wire event to the taps (the inspector, a recording), keeps the sinks
(history, a recording) up to date while text streams, and reports the reply's life as
`Started`, `Delta`, `Retrying` and exactly one `Ended`. It knows no UI: a front end
passes `on_event` and draws what it hears.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from tui_chat.core.metrics import ReplyMetrics, ReplyTimer
from tui_chat.core.protocol import (
    ChatRequest,
    Done,
    ErrorKind,
    Event,
    Provider,
    ProviderError,
    Retrying,
    TextDelta,
    Usage,
    WireTap,
    tee,
)
from tui_chat.core.sanitize import clean
from tui_chat.core.status import EndStatus

#: How often the sinks hear the text so far while it streams: a killed process loses at
#: most this much of a reply.
PROGRESS_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class Started:
    request: ChatRequest
    #: The reply's clock: read it for live figures (elapsed, first token, chunks);
    #: only the runner moves it.
    timer: ReplyTimer


@dataclass(frozen=True, slots=True)
class Delta:
    """New text, already cleaned of control and bidi characters."""

    text: str


@dataclass(frozen=True, slots=True)
class Ended:
    status: EndStatus
    #: All the text received (cleaned), also for a stopped or failed reply.
    text: str
    metrics: ReplyMetrics
    #: For a person, saying what to do; None unless `status == "error"`.
    error: str | None = None
    error_kind: ErrorKind | None = None
    usage: Usage | None = None


ReplyEvent = Started | Delta | Retrying | Ended
OnEvent = Callable[[ReplyEvent], Awaitable[None] | None]


class ReplySink(Protocol):
    """Keeps a reply somewhere (history, a recording); never raises into the reply."""

    def on_progress(self, text: str) -> None:
        """The text so far, at most every `PROGRESS_SECONDS` while it streams."""

    def on_end(self, ended: Ended) -> None:
        """How the reply ended; called once."""


class ReplyRunner:
    """Runs replies on one provider; `run` is one reply."""

    def __init__(self, provider: Provider, *, progress_seconds: float = PROGRESS_SECONDS) -> None:
        self.provider = provider
        self._progress_seconds = progress_seconds

    async def run(
        self,
        request: ChatRequest,
        on_event: OnEvent | None = None,
        *,
        sinks: Sequence[ReplySink] = (),
        taps: Sequence[WireTap | None] = (),
    ) -> Ended:
        """Stream one reply and return how it ended.

        A cancellation (Esc, Ctrl+C, a client gone) ends the reply as `stopped`: the
        sinks and `on_event` hear `Ended` first, then the cancellation goes on. A
        provider error, or any other exception, ends it as `error`; it is not raised.
        `on_event` is awaited before the next chunk is read, so a chunk's time is when
        the front end had it (on screen, written out).
        """
        timer = ReplyTimer()
        parts: list[str] = []
        await _emit(on_event, Started(request, timer))
        saver = asyncio.create_task(self._keep_saving(parts, sinks)) if sinks else None
        tap = tee(*taps)
        try:
            events = (
                self.provider.stream(request)
                if tap is None
                else self.provider.stream(request, tap=tap)
            )
            usage = await _consume(events, parts, timer, on_event)
        except asyncio.CancelledError:
            await self._end(Ended("stopped", "".join(parts), timer.finish()), sinks, on_event)
            raise
        except ProviderError as error:
            ended = Ended(
                "error", "".join(parts), timer.finish(), error.message, error_kind=error.kind
            )
        except Exception as error:  # a fault must never escape as a crash
            message = f"Unexpected error: {type(error).__name__}: {clean(str(error))}"
            ended = Ended("error", "".join(parts), timer.finish(), message)
        else:
            metrics = timer.finish(
                usage.output_tokens if usage else None, usage.input_tokens if usage else None
            )
            ended = Ended("complete", "".join(parts), metrics, usage=usage)
        finally:
            if saver is not None:
                saver.cancel()
        await self._end(ended, sinks, on_event)
        return ended

    async def _keep_saving(self, parts: list[str], sinks: Sequence[ReplySink]) -> None:
        saved = 0
        while True:
            await asyncio.sleep(self._progress_seconds)
            if len(parts) != saved:
                saved = len(parts)
                text = "".join(parts)
                for sink in sinks:
                    sink.on_progress(text)

    @staticmethod
    async def _end(ended: Ended, sinks: Sequence[ReplySink], on_event: OnEvent | None) -> None:
        for sink in sinks:
            sink.on_end(ended)
        await _emit(on_event, ended)


async def _consume(
    events: AsyncIterator[Event],
    parts: list[str],
    timer: ReplyTimer,
    on_event: OnEvent | None,
) -> Usage | None:
    """The loop over one stream; the stream is closed as soon as the loop ends, however
    it ends, so a stopped reply closes its HTTP connection now, not at garbage collection."""
    usage: Usage | None = None
    try:
        async for event in events:
            if isinstance(event, TextDelta):
                text = clean(event.text)
                if text:
                    parts.append(text)
                    await _emit(on_event, Delta(text))
                    timer.on_text()  # after the front end has it: on screen, written out
            elif isinstance(event, Retrying):
                await _emit(on_event, event)
            elif isinstance(event, Done):
                usage = event.usage
    finally:
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()
    return usage


async def _emit(on_event: OnEvent | None, event: ReplyEvent) -> None:
    if on_event is not None:
        result = on_event(event)
        if inspect.isawaitable(result):
            await result
