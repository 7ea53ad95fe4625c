"""The typing indicator shown from send until the first words arrive."""

from __future__ import annotations

import time
from dataclasses import replace

from textual.widgets import Static

from tui_chat.core.protocol import Retrying, seconds

_FRAMES = ("●  ", "●● ", "●●●", " ●●", "  ●", "   ")
#: Seconds without data before the indicator says so (and that Esc stops).
STALL_NOTICE_SECONDS = 10.0


class TypingIndicator(Static):
    """Dots plus elapsed seconds; ticks at 5 Hz so it stays cheap over SSH.

    It lives only until the first words, so its timer is the "still waiting" clock: once
    `stall_after` seconds have passed since the send (or the last retry) it says so, and
    while the provider waits to retry it counts that down instead, so a silent server
    never looks like a slow one. Bytes that carry no text (a Responses stream's opening
    events) are not seen here; they do hold off the provider's idle timeout.
    """

    DEFAULT_CSS = """
    TypingIndicator { height: 1; }
    """

    def __init__(
        self,
        label: str = "thinking",
        *,
        stall_after: float = STALL_NOTICE_SECONDS,
        id: str | None = None,
    ) -> None:
        super().__init__("", id=id, markup=False)
        self._label = label
        self._stall_after = stall_after
        self._started = time.monotonic()
        #: When the current wait for data began: the send, or the end of a retry's pause.
        self._waiting_since = self._started
        self._retry: Retrying | None = None
        self._frame = 0

    def on_mount(self) -> None:
        self._tick()
        self.set_interval(0.2, self._tick)

    def show_retry(self, retry: Retrying) -> None:
        """Count down to the retry; the wait for data starts again when it is made."""
        self._retry = retry
        self._waiting_since = time.monotonic() + retry.delay
        if self.is_mounted:
            self._tick()

    @property
    def line(self) -> str:
        """What the indicator says now (also what it shows)."""
        now = time.monotonic()
        dots = _FRAMES[self._frame]
        retry = self._retry
        if retry is not None and now < self._waiting_since:
            return f"{dots} {replace(retry, delay=self._waiting_since - now).describe()}"
        parts = [f"{dots} {self._label}… {now - self._started:.1f}s"]
        if retry is not None:
            parts.append(f"retry {retry.attempt}/{retry.of}")
        idle = now - self._waiting_since
        if idle >= self._stall_after:
            parts.append(f"no data for {seconds(idle)} · Esc stops")
        return " · ".join(parts)

    def _tick(self) -> None:
        self._frame = (self._frame + 1) % len(_FRAMES)
        self.update(self.line)
