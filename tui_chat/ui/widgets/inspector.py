"""The raw event inspector: the current (or last) reply's wire events with relative
timestamps.

Bounded, and cheap when hidden: every reply is tapped, so F3 pressed after a surprising
reply shows that reply, but while the pane is closed an event is only a deque append,
and at most `MAX_EVENTS` are kept; the log is drawn when the pane opens.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import RichLog, Static

from tui_chat.core.protocol import WireEvent
from tui_chat.core.sanitize import clean

#: Events kept per reply; older ones scroll away (a 5,000-token reply has 5,000 events).
MAX_EVENTS = 500
#: Longest payload shown on one line.
MAX_PAYLOAD = 160


#: Keys that are the same on every event of a reply (or bookkeeping): hidden so the line
#: starts with what changed. Recordings keep the whole payload.
NOISE = frozenset(
    {
        "id",
        "object",
        "created",
        "created_at",
        "model",
        "system_fingerprint",
        "sequence_number",
        "item_id",
        "output_index",
        "content_index",
        "index",
        "logprobs",
        "obfuscation",
        "type",
    }
)
#: What a whole response object (Responses API lifecycle events) is reduced to.
RESPONSE_KEYS = ("id", "status", "usage", "error", "incomplete_details")


def brief(payload: Any) -> Any:
    """The payload without noise: no constant keys, no nulls or empty lists, and a whole
    `response` object cut to its id, status, usage and error."""
    if isinstance(payload, list):
        return [brief(item) for item in payload]
    if not isinstance(payload, dict):
        return payload
    out: dict[str, Any] = {}
    for key, value in payload.items():
        if key in NOISE or value is None or value == []:
            continue
        if key == "response" and isinstance(value, dict):
            out[key] = {k: value[k] for k in RESPONSE_KEYS if value.get(k) is not None}
        else:
            out[key] = brief(value)
    return out


def describe(payload: Any) -> str:
    """A one-line, length-capped rendering of a payload; text chunks keep their quotes so
    chunk boundaries (and any spaces or newlines at them) stay visible."""
    if isinstance(payload, str):
        shown = json.dumps(payload, ensure_ascii=False)
    else:
        try:
            shown = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)
        except (TypeError, ValueError):
            shown = repr(payload)
    shown = clean(shown)  # JSON escapes C0 controls, not C1: strip whatever is left
    return shown if len(shown) <= MAX_PAYLOAD else shown[: MAX_PAYLOAD - 1] + "…"


class EventInspector(Vertical):
    """Shows what crossed the wire, so a person can see why a reply looks as it does."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._events: deque[tuple[float, str, str, Any]] = deque(maxlen=MAX_EVENTS)
        self._started = 0.0
        self._shown = 0  # how many buffered events the log already has
        self.dropped = 0

    def compose(self) -> ComposeResult:
        yield Static(
            "Wire events of the last reply  (F3 hides)",
            classes="inspector-title",
        )
        yield RichLog(max_lines=MAX_EVENTS, wrap=False, markup=False, id="events")

    def begin(self, started: float) -> None:
        """A new reply: forget the last one's events."""
        self._events.clear()
        self._started = started
        self._shown = 0
        self.dropped = 0
        if self.display:
            self.query_one(RichLog).clear()

    def add(self, event: WireEvent) -> None:
        """The WireTap for a reply: a deque append while hidden, a log line when shown."""
        if len(self._events) == self._events.maxlen:
            self.dropped += 1
            self._shown = max(0, self._shown - 1)
        self._events.append((event.at, event.protocol, event.kind, event.payload))
        if self.display:
            self._flush()

    def on_show(self) -> None:
        log = self.query_one(RichLog)
        log.clear()
        self._shown = 0
        self._flush()

    def _flush(self) -> None:
        log = self.query_one(RichLog)
        pending = list(self._events)[self._shown :]
        for at, protocol, kind, payload in pending:
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append(f"+{at - self._started:8.3f}s ", style="dim")
            line.append(clean(f"{protocol}:{kind} "), style="bold")
            line.append(describe(brief(payload)))
            log.write(line)
        self._shown = len(self._events)
