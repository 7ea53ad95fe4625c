"""The reply runner: one reply from request to end, the same for the TUI, compare mode,
`ask` and `serve`.

It is the one loop over a provider's stream and the one place a reply ends. It owns the
timer, hands every wire event to the taps (the inspector, a recording), keeps the sinks
(history, a recording) up to date while text streams, and reports the reply's life as
`Started`, `Delta`, `Reasoning`, `Retrying` and exactly one `Ended`. It knows no UI: a
front end passes `on_event` and draws what it hears. Reasoning is split from the answer
here, once for every front end: the provider's reasoning events, and `<think>…</think>`
that opens the text (`think_tags`); `Ended.text` is the answer alone, which is all that
goes back as context.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from tui_chat.core.metrics import ReplyMetrics, ReplyTimer
from tui_chat.core.protocol import (
    ChatRequest,
    Done,
    ErrorKind,
    Event,
    Provider,
    ProviderError,
    ReasoningDelta,
    Retrying,
    TextDelta,
    Usage,
    WireTap,
    tee,
)
from tui_chat.core.sanitize import clean
from tui_chat.core.status import EndStatus
from tui_chat.core.think_tags import ThinkSplitter

#: How often the sinks hear the text so far while it streams: a killed process loses at
#: most this much of a reply.
PROGRESS_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class Started:
    """The first event of every reply: its request is going out."""

    request: ChatRequest
    #: The reply's clock: read it for live figures (elapsed, first token, chunks);
    #: only the runner moves it.
    timer: ReplyTimer


@dataclass(frozen=True, slots=True)
class Delta:
    """New text, already cleaned of control and bidi characters."""

    text: str
    #: The text is the model's refusal, not an answer.
    refusal: bool = False


@dataclass(frozen=True, slots=True)
class Reasoning:
    """New reasoning text (the model thinking), cleaned; never part of the answer."""

    text: str


@dataclass(frozen=True, slots=True)
class Ended:
    """The last event of every reply, however it ended."""

    status: EndStatus
    #: All the text received (cleaned), also for a stopped or failed reply.
    text: str
    metrics: ReplyMetrics
    #: For a person, saying what to do; None unless `status == "error"`.
    error: str | None = None
    error_kind: ErrorKind | None = None
    usage: Usage | None = None
    #: All the reasoning received (cleaned): saved and shown, never sent as context.
    reasoning: str = ""
    #: The model refused: `text` is its refusal.
    refusal: bool = False


ReplyEvent = Started | Delta | Reasoning | Retrying | Ended
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
        reply = _Reply()
        parts = reply.parts
        await _emit(on_event, Started(request, timer))
        saver = asyncio.create_task(self._keep_saving(parts, sinks)) if sinks else None
        tap = tee(*taps)
        try:
            events = (
                self.provider.stream(request)
                if tap is None
                else self.provider.stream(request, tap=tap)
            )
            usage = await _consume(events, reply, timer, on_event)
        except asyncio.CancelledError:
            await self._end(reply.ended("stopped", timer.finish()), sinks, on_event)
            raise
        except ProviderError as error:
            ended = reply.ended("error", timer.finish(), error=error.message, error_kind=error.kind)
        except Exception as error:  # a fault must never escape as a crash
            message = f"Unexpected error: {type(error).__name__}: {clean(str(error))}"
            ended = reply.ended("error", timer.finish(), error=message)
        else:
            metrics = timer.finish(
                usage.output_tokens if usage else None, usage.input_tokens if usage else None
            )
            ended = reply.ended("complete", metrics, usage=usage)
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


@dataclass(slots=True)
class _Reply:
    """What one reply has received so far: answer, reasoning, and whether it refused."""

    parts: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    refusal: bool = False
    think: ThinkSplitter = field(default_factory=ThinkSplitter)

    def ended(
        self,
        status: EndStatus,
        metrics: ReplyMetrics,
        *,
        error: str | None = None,
        error_kind: ErrorKind | None = None,
        usage: Usage | None = None,
    ) -> Ended:
        return Ended(
            status,
            "".join(self.parts),
            metrics,
            error,
            error_kind=error_kind,
            usage=usage,
            reasoning="".join(self.reasoning),
            refusal=self.refusal,
        )


async def _consume(
    events: AsyncIterator[Event],
    reply: _Reply,
    timer: ReplyTimer,
    on_event: OnEvent | None,
) -> Usage | None:
    """The loop over one stream; the stream is closed as soon as the loop ends, however
    it ends, so a stopped reply closes its HTTP connection now, not at garbage collection."""
    usage: Usage | None = None
    try:
        async for event in events:
            if isinstance(event, TextDelta):
                if event.refusal:
                    reply.refusal = True
                    await _answer(clean(event.text), reply, timer, on_event, refusal=True)
                else:
                    thought, text = reply.think.feed(event.text)
                    await _think(clean(thought), reply, timer, on_event)
                    await _answer(clean(text), reply, timer, on_event)
            elif isinstance(event, ReasoningDelta):
                await _think(clean(event.text), reply, timer, on_event)
            elif isinstance(event, Retrying):
                await _emit(on_event, event)
            elif isinstance(event, Done):
                usage = event.usage
        thought, text = reply.think.flush()  # text held back in case it was a tag
        await _think(clean(thought), reply, timer, on_event)
        await _answer(clean(text), reply, timer, on_event)
    finally:
        thought, text = reply.think.flush()  # a reply cut short keeps it, unshown
        if thought := clean(thought):
            reply.reasoning.append(thought)
        if text := clean(text):
            reply.parts.append(text)
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()
    return usage


async def _answer(
    text: str, reply: _Reply, timer: ReplyTimer, on_event: OnEvent | None, *, refusal: bool = False
) -> None:
    if text:
        reply.parts.append(text)
        await _emit(on_event, Delta(text, refusal))
        timer.on_text()  # after the front end has it: on screen, written out


async def _think(text: str, reply: _Reply, timer: ReplyTimer, on_event: OnEvent | None) -> None:
    if text:
        reply.reasoning.append(text)
        await _emit(on_event, Reasoning(text))
        timer.on_reasoning()


async def _emit(on_event: OnEvent | None, event: ReplyEvent) -> None:
    if on_event is not None:
        result = on_event(event)
        if inspect.isawaitable(result):
            await result
