"""Play a recording (`tui-chat --record`) back as if the server were answering again.

Each `stream()` plays the next recorded reply, cycling back to the first after the last,
so a demo never dead-ends. The prompt is ignored: a replay is about reproducing what
a server sent (its text, chunking and timing), not about answering a new prompt.

Text is reproduced exactly, delta for delta, at the recorded times divided by `speed`.
Times count from the start of the replayed request, on one absolute schedule, so timer
overshoot does not add up over a long reply. The tap sees the recorded wire events
under their original protocol, so the raw-event inspector looks as it did live.

A completed reply whose payloads carry text but whose events have none to play is an
error, not an empty reply: the file was damaged (older versions masked a key such as
"x" letter by letter, turning every "text" field into "te***t"), and an exit status of
0 with nothing printed would hide that.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, get_args

from tui_chat.core.protocol import (
    ChatRequest,
    Done,
    ErrorKind,
    Event,
    ProviderError,
    ReasoningDelta,
    TextDelta,
    WireEvent,
    WireTap,
)
from tui_chat.recordings.recording import RecordedReply, RecordingError, read_recording

_ERROR_KINDS = frozenset(get_args(ErrorKind))
#: Payload fields that hold reply text in some protocol (deltas, chunks, tokens).
_TEXT_FIELDS = frozenset({"text", "delta", "content", "output_text", "response"})


def _carries_text(payload: Any) -> bool:
    """Whether a recorded payload holds reply text (reasoning is not reply text)."""
    if isinstance(payload, str):
        return bool(payload)
    if isinstance(payload, list):
        return any(_carries_text(item) for item in payload)
    if isinstance(payload, dict):
        for name, value in payload.items():
            if "reasoning" in str(name) or "reasoning" in str(payload.get("type", "")):
                continue
            if name in _TEXT_FIELDS and isinstance(value, str) and value:
                return True
            if isinstance(value, dict | list) and _carries_text(value):
                return True
    return False


def _chat_delta(kind: str, payload: Any) -> dict[str, Any]:
    """A recorded chat chunk's `choices[0].delta`, or {} for any other event."""
    if kind != "chunk" or not isinstance(payload, dict):
        return {}
    choices = payload.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return {}
    delta = choices[0].get("delta")
    return delta if isinstance(delta, dict) else {}


def _reasoning_in(kind: str, payload: Any) -> str:
    """Reasoning a recorded event carried (recorded as payload, not as reply text)."""
    if kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
        delta = payload.get("delta") if isinstance(payload, dict) else None
        return delta if isinstance(delta, str) else ""
    delta = _chat_delta(kind, payload)
    for name in ("reasoning_content", "reasoning"):
        if isinstance(value := delta.get(name), str) and value:
            return value
    return ""


def _refusal_in(kind: str, payload: Any) -> str:
    """A chat chunk's refusal text (a Responses refusal is recorded as its text)."""
    refusal = _chat_delta(kind, payload).get("refusal")
    return refusal if isinstance(refusal, str) else ""


def _is_refusal(kind: str) -> bool:
    return kind == "response.refusal.delta"


def _text_lost(reply: RecordedReply) -> bool:
    """A completed reply with text in its payloads and none in its events to play."""
    if reply.end is None or reply.end.status != "complete" or reply.text:
        return False
    return any(
        "reasoning" not in event.kind and _carries_text(event.payload) for event in reply.events
    )


class ReplayProvider:
    name = "replay"

    def __init__(self, path: str | os.PathLike[str], speed: float = 1.0) -> None:
        if math.isnan(speed) or speed < 0:
            raise ValueError(f"replay speed must be positive, not {speed}")
        self.path = Path(path)
        #: 2.0 plays twice as fast; 0 or inf plays as fast as possible.
        self.speed = speed
        self._replies: list[RecordedReply] | None = None
        self._calls = 0

    def stream(self, request: ChatRequest, *, tap: WireTap | None = None) -> AsyncIterator[Event]:
        # The reply is chosen now, so replies follow the order of stream() calls.
        index = self._calls
        self._calls += 1
        return self._play(index, tap, stream=request.stream)

    async def aclose(self) -> None:
        pass

    def replies(self) -> list[RecordedReply]:
        """The recording, read once; ProviderError(kind="protocol") names a bad line."""
        if self._replies is None:
            try:
                replies = read_recording(self.path)
            except RecordingError as error:
                raise ProviderError(
                    f"Cannot replay {error.path}: line {error.line}: {error.problem}.",
                    kind="protocol",
                ) from None
            except OSError as error:
                reason = error.strerror or str(error)
                raise ProviderError(
                    f"Cannot read the recording {self.path}: {reason}.", kind="bad_request"
                ) from None
            if not replies:
                raise ProviderError(
                    f"The recording {self.path} holds no replies to play.", kind="protocol"
                )
            self._replies = replies
        return self._replies

    async def _play(self, index: int, tap: WireTap | None, *, stream: bool) -> AsyncIterator[Event]:
        """With `stream` false the text is held back and given whole when the recorded
        reply ended, as a non-streaming request would get it: compare mode replays too."""
        replies = self.replies()
        reply = replies[index % len(replies)]
        if _text_lost(reply):
            raise ProviderError(
                f"Cannot replay {self.path}: the reply at line {reply.line} has text in its "
                "payloads but none in its 'text' fields (damaged by masking?); record it again.",
                kind="protocol",
            )
        fast = self.speed == 0 or math.isinf(self.speed)
        start = time.monotonic()

        async def until(t: float) -> None:
            if fast:
                await asyncio.sleep(0)  # still let the UI draw between events
            else:
                await asyncio.sleep(max(0.0, start + t / self.speed - time.monotonic()))

        played: list[str] = []
        for event in reply.events:
            await until(event.t)
            if tap is not None:
                at = time.monotonic()
                tap(WireEvent(reply.protocol, event.kind, event.payload, at, event.text))
            if stream and (thought := _reasoning_in(event.kind, event.payload)):
                yield ReasoningDelta(thought)
            refused = _refusal_in(event.kind, event.payload)
            if text := event.text or refused:
                played.append(text)
                if stream:
                    yield TextDelta(text, refusal=bool(refused) or _is_refusal(event.kind))

        end = reply.end
        whole = "".join(played)
        partial = whole if stream else ""  # a failed non-streaming request shows nothing
        if end is None:
            raise ProviderError(
                f"The recording of this reply (line {reply.line}) stops before it ended.",
                kind="connection",
                partial=partial,
            )
        await until(end.t)
        if end.status == "complete":
            if not stream and whole:
                yield TextDelta(whole)
            yield Done(end.usage)
        elif end.status == "error":
            kind: ErrorKind = end.error_kind if end.error_kind in _ERROR_KINDS else "server"  # type: ignore[assignment]
            raise ProviderError(
                end.error or "The recorded reply failed.", kind=kind, partial=partial
            )
        else:
            raise ProviderError(
                f"The recorded reply was stopped here, {end.t:.1f} s in.",
                kind="connection",
                partial=partial,
            )
