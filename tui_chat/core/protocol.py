"""The one event stream every provider speaks.

Providers turn a wire protocol into `TextDelta`s followed by one `Done`, or raise
`ProviderError`. Before any text, a `Retrying` may come: the server said to try again
and the provider is waiting to. A reasoning model's thinking comes as `ReasoningDelta`s
(shown apart, never sent back), and a refusal as `TextDelta(refusal=True)`, so it is
shown as what it is rather than as an empty reply. They import nothing from Textual, so the TUI, `ask`
and `serve` share them unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Role = Literal["user", "assistant", "system"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One turn of context, as the provider sends it."""

    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One reply to produce: the conversation so far ends with the new user prompt."""

    messages: tuple[ChatMessage, ...]
    model: str
    system: str | None = None
    stream: bool = True
    temperature: float | None = None
    max_tokens: int | None = None
    #: Ask a reasoning model for summaries of its thinking (Responses `reasoning.summary`);
    #: off unless asked, since models that do not reason reject the parameter.
    reasoning_summary: bool = False

    @property
    def prompt(self) -> str:
        return self.messages[-1].content if self.messages else ""

    @property
    def history(self) -> tuple[ChatMessage, ...]:
        """Turns before the prompt."""
        return self.messages[:-1]


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts as the server reported them; None where it did not."""

    input_tokens: int | None = None
    output_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the reply as the provider got it, not yet cleaned (the runner cleans)."""

    text: str
    #: The model declined: this text is its refusal (Responses `response.refusal.delta`,
    #: Chat Completions `delta.refusal`), not an answer.
    refusal: bool = False


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """Text of the model's thinking (or a summary of it): shown, saved, never context."""

    text: str


@dataclass(frozen=True, slots=True)
class Done:
    """Last event of a successful reply; usage and id only where the protocol reports them."""

    usage: Usage | None = None
    response_id: str | None = None


@dataclass(frozen=True, slots=True)
class Retrying:
    """The server said "try again" (429 or 5xx) before any text; the provider waits
    `delay` seconds, then makes attempt `attempt` of `of` retries. Said out loud so a
    person sees why nothing is arriving, instead of a silent minute."""

    attempt: int
    of: int
    delay: float
    reason: str  # e.g. "server said 503"

    def describe(self) -> str:
        """One line for a person: "retrying 1/2 in 2 s · server said 503"."""
        return f"retrying {self.attempt}/{self.of} in {seconds(self.delay)} · {self.reason}"


def seconds(value: float) -> str:
    """A short duration as people read it: "2 s", "0.5 s"."""
    return f"{value:.0f} s" if value >= 1 or value == 0 else f"{value:.1f} s"


Event = TextDelta | ReasoningDelta | Done | Retrying


@dataclass(frozen=True, slots=True)
class WireEvent:
    """One event as it crossed the wire: for the raw-event inspector and recordings.

    The typed stream above hides what the server actually sent; this keeps it, so a
    person can see why a reply looks the way it does and a recording can replay it.
    """

    #: "responses" | "chat" | "backend" | "local" | "replay" (a replay reports the
    #: protocol it was recorded from).
    protocol: str
    #: Responses: the SSE event type; chat: "chunk"; backend: "text" (and "end" for text
    #: held back until the body ended); local: "token"; non-streaming: "response".
    kind: str
    #: JSON-serialisable: the event or chunk as a dict, the raw text chunk for backend.
    payload: Any
    #: `time.monotonic()` when it arrived.
    at: float
    #: The text this event contributed to the reply (what its TextDelta carried), or "".
    text: str = ""


#: Called once per wire event, in wire order, before the event's TextDelta is yielded.
WireTap = Callable[[WireEvent], None]


def tee(*taps: WireTap | None) -> WireTap | None:
    """One tap feeding several (a recording and the inspector); None when none is set,
    so a reply nobody watches still takes the provider's fast path."""
    chosen = [tap for tap in taps if tap is not None]
    if len(chosen) <= 1:
        return chosen[0] if chosen else None

    def both(event: WireEvent) -> None:
        for tap in chosen:
            tap(event)

    return both


ErrorKind = Literal[
    "auth",  # bad or missing key
    "connection",  # server unreachable / connection dropped
    "rate_limit",
    "server",  # 5xx or a server-reported failure
    "bad_request",  # 4xx other than auth / rate limit (e.g. unknown model)
    "timeout",
    "protocol",  # malformed stream
    "model",  # the local model cannot be loaded
]


class ProviderError(Exception):
    """The single error type providers raise; `message` is for a person and says what to do."""

    def __init__(
        self,
        message: str,
        *,
        kind: ErrorKind = "server",
        status: int | None = None,
        partial: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind: ErrorKind = kind
        self.status = status
        #: Text received before the failure (kept on screen and in history).
        self.partial = partial
        #: Seconds the server asked us to wait (its Retry-After), if it said.
        self.retry_after = retry_after


class Provider(Protocol):
    """A wire protocol behind one method.

    `stream()` yields `TextDelta`s then exactly one `Done`, with `Retrying`s possible
    before the first `TextDelta` (a consumer that ignores them loses nothing). With `request.stream`
    false it makes one non-streaming call and yields the whole text as a single
    delta. Cancelling the iteration (the app's Escape) must close the connection.

    With a `tap`, every wire event is also handed to it as it arrives, before the
    TextDelta it produced; without one, no event is converted to a dict, so the
    common case pays nothing.
    """

    #: Short protocol name shown in the UI: "responses", "chat", "backend", "local", "replay".
    name: str

    def stream(
        self, request: ChatRequest, *, tap: WireTap | None = None
    ) -> AsyncIterator[Event]: ...

    async def aclose(self) -> None: ...
